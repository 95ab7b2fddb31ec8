"""The month's statements in a browser (issue 11, item 6): the district's aging office builds last
month's statements, opens the elders' statement, issues it (the order is settled), corrects a share
and exports the statement; the pages fit a phone."""

import pytest

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def data(tree):
    from conftest import make_user
    from orders.tests.factories import LoopWorld
    from settlements.tests.helpers import last_month_day, visit

    loop = LoopWorld.build(tree)
    orders = [visit(loop, quantity=2), visit(loop, payment_mode="government", day=last_month_day(12), worker=loop.bo)]
    make_user("office", "aging_office", tree.district)
    return loop, orders


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0


def test_the_office_builds_issues_corrects_and_exports_last_month(live_server, new_page, shot, data):
    from orders.models import Order
    from settlements.models import Share

    loop, orders = data
    page = new_page()
    log_in(page, live_server.url, "office")

    page.goto(f"{live_server.url}/settlements/")
    page.select_option("#b-region", str(loop.tree.district.pk))
    page.get_by_role("button", name="生成结算单").click()
    page.wait_for_load_state("networkidle")
    main = page.locator("main").inner_text()
    assert "结算单 5 份" in main and "安泰社区·老人自付" in main and "锦山区·政府购买" in main
    shot(page, "settlements_list")

    page.get_by_role("link", name="安泰社区·老人自付").click()
    assert loop.elder.name in page.locator("main").inner_text() and "70.00" in page.locator("main").inner_text()
    shot(page, "settlements_statement")
    page.get_by_role("button", name="出具结算单").click()
    page.wait_for_load_state("networkidle")
    assert "结算单已出具" in page.locator("main").inner_text()
    assert Order.objects.get(pk=orders[0].pk).status == "settled"

    page.get_by_role("link", name="分担明细").first.click()
    shot(page, "settlements_order_shares")
    page.get_by_role("link", name="更正").first.click()
    page.fill("#id_amount", "60.00")
    page.fill("#id_note", "核实服务时长不足")
    shot(page, "settlements_correct")
    page.get_by_role("button", name="保存更正").click()
    page.wait_for_load_state("networkidle")
    assert "已记录更正" in page.locator("main").inner_text()
    assert Share.objects.get(corrects__isnull=False).amount_fen == -1000

    page.goto(f"{live_server.url}/settlements/?kind=payer")
    page.get_by_role("link", name="锦山区·政府购买").click()
    page.get_by_role("button", name="导出 Excel").click()
    page.wait_for_url("**/jobs/**")
    shot(page, "settlements_export_job")


def test_the_statement_pages_fit_a_phone(live_server, new_page, shot, data):
    from settlements.models import Statement
    from settlements.selectors import previous_month
    from settlements.services import statements_build

    loop, orders = data
    from accounts.models import User

    statements_build(by=User.objects.get(username="office"), month=previous_month(), region=loop.tree.district)
    page = new_page(PHONE)
    log_in(page, live_server.url, "office")
    page.goto(f"{live_server.url}/settlements/")
    assert no_sideways_scroll(page)
    shot(page, "settlements_list_phone")
    payer = Statement.objects.get(kind="payer", payer_kind="elder")
    page.goto(f"{live_server.url}/settlements/{payer.pk}/")
    assert no_sideways_scroll(page) and loop.elder.name in page.locator("main").inner_text()
    shot(page, "settlements_statement_phone")
    page.goto(f"{live_server.url}/settlements/orders/{orders[0].pk}/")
    assert no_sideways_scroll(page)
    shot(page, "settlements_order_shares_phone")
    share = orders[0].shares.first()
    page.goto(f"{live_server.url}/settlements/shares/{share.pk}/correct/")
    assert no_sideways_scroll(page)
    shot(page, "settlements_correct_phone")
