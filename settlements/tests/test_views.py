"""The pages: a month's statements (build, issue), a statement and its lines, an order's shares,
a correction."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order
from settlements.models import Share, Statement
from settlements.selectors import previous_month
from settlements.tests.helpers import visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, office):
    client.force_login(office)
    return client


def build(browser, loop, month=None):
    return browser.post(
        "/settlements/build/", {"month": f"{month or previous_month():%Y-%m}", "region": loop.tree.district.pk}, follow=True
    )


def test_the_office_builds_last_month_and_sees_its_statements(browser, loop):
    visit(loop, quantity=2)

    page = build(browser, loop)

    text = page.content.decode()
    assert page.status_code == 200 and "已生成" in text and "结算单 3 份" in text
    assert "安泰社区·老人自付" in text and loop.org.name in text and loop.anna.name in text
    assert "70.00" in text


def test_the_list_reads_a_fixed_number_of_queries_however_many_statements(browser, loop):
    from providers.tests.factories import caregiver

    for n in range(6):
        worker = caregiver(loop.tree, loop.org, name=f"护理员{n}")
        from orders.tests.factories import worker_account

        worker_account(worker)
        visit(loop, worker=worker, hour=8 + n)
    build(browser, loop)
    assert Statement.objects.count() == 8
    with CaptureQueriesContext(connection) as few:
        browser.get("/settlements/?kind=worker")
    with CaptureQueriesContext(connection) as many:
        browser.get("/settlements/")
    assert len(many) == len(few) and len(many) <= 15


def test_a_statement_page_shows_its_lines_and_issues_it(browser, loop):
    order = visit(loop)
    build(browser, loop)
    payer = Statement.objects.get(kind="payer")

    page = browser.get(f"/settlements/{payer.pk}/")
    text = page.content.decode()
    assert loop.elder.name in text and "35.00" in text and "出具结算单" in text

    issued = browser.post(f"/settlements/{payer.pk}/issue/", follow=True)
    text = issued.content.decode()
    assert "结算单已出具" in text and "1 张工单已结算" in text and "出具结算单" not in text
    assert Order.objects.get(pk=order.pk).status == "settled"


def test_issuing_the_whole_month_from_the_list(browser, loop):
    visit(loop)
    build(browser, loop)
    page = browser.post(
        "/settlements/issue/", {"month": f"{previous_month():%Y-%m}", "region": loop.tree.district.pk}, follow=True
    )
    assert "已出具结算单 3 份" in page.content.decode()
    assert not Statement.objects.filter(state="draft").exists()


def test_the_export_button_starts_a_job(browser, loop, django_capture_on_commit_callbacks):
    visit(loop)
    build(browser, loop)
    payer = Statement.objects.get(kind="payer")
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"/settlements/{payer.pk}/export/")
    assert response.status_code == 302 and response["Location"].startswith("/jobs/")


def test_an_order_shares_page_and_a_correction(browser, loop):
    order = visit(loop)
    share = Share.objects.get(order=order)

    page = browser.get(f"/settlements/orders/{order.pk}/")
    assert "安泰社区·老人自付" in page.content.decode() and "尚未记入" in page.content.decode()

    form = browser.get(f"/settlements/shares/{share.pk}/correct/")
    assert 'value="35.00"' in form.content.decode()
    bad = browser.post(f"/settlements/shares/{share.pk}/correct/", {"amount": "35.00", "note": "无变化"})
    assert bad.status_code == 422 and "无需更正" in bad.content.decode()
    done = browser.post(f"/settlements/shares/{share.pk}/correct/", {"amount": "30.50", "note": "少做半小时"}, follow=True)
    assert "已记录更正" in done.content.decode()
    correction = Share.objects.get(corrects=share)
    assert correction.amount_fen == -450 and correction.note == "少做半小时"


def test_a_worker_of_the_community_reads_but_sees_no_build_form(client, loop, tree):
    from conftest import make_user

    visit(loop)
    client.force_login(make_user("cw", "community", tree.community))
    page = client.get("/settlements/")
    assert page.status_code == 200 and "生成结算单" not in page.content.decode()
