"""Service agreements (签订协议): lines priced at the elder's region with who pays what (the
elder, government purchase, the elder's subsidy quota), drafted, signed, ended; the PDF holds
the parties, items and prices, and each download is in the access log."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError

from audit.models import AccessLog, ChangeRecord
from catalogue.models import ServiceItem
from conftest import make_user
from orders.agreements import LineIn, agreement_create, agreement_end, agreement_sign
from orders.models import Agreement, OrderPlan
from orders.plans import order_plan_create

pytestmark = pytest.mark.django_db

FIRST = datetime.date(2026, 11, 1)


@pytest.fixture
def priced(loop):
    """安泰社区's prices: cleaning 31.00 yuan a visit, meals 12.50."""
    from catalogue.services import price_entry_set

    meal = ServiceItem.objects.get(code="meal_delivery")
    price_entry_set(
        by=loop.admin, region=loop.tree.community, item=loop.item, price_fen=3100, valid_from=datetime.date(2026, 1, 1)
    )
    price_entry_set(by=loop.admin, region=loop.tree.community, item=meal, price_fen=1250, valid_from=datetime.date(2026, 1, 1))
    return meal


@pytest.fixture
def subsidy(loop):
    """A government package for severe disability granting 8 cleanings a month, and the elder in it."""
    from catalogue.models import EntitlementPackage
    from catalogue.services import package_save

    package_save(
        by=loop.admin,
        package=EntitlementPackage(),
        data={
            "region": loop.tree.community,
            "code": "severe_home",
            "name": "重度失能居家服务包",
            "ability_levels": ["severe"],
            "payment_mode": "government",
            "valid_from": datetime.date(2026, 1, 1),
        },
        grants=[{"item": loop.item, "category": None, "quantity": 8, "unit": "hour"}],
    )
    loop.elder.ability_level = "severe"
    loop.elder.save(update_fields=["ability_level"])


def _draft(loop, meal, **kw):
    lines = kw.pop(
        "lines",
        [LineIn(meal, 22, "month", "elder"), LineIn(loop.item, 4, "month", "elder")],
    )
    return agreement_create(by=loop.desk, elder=loop.elder, lines=lines, valid_from=FIRST, organisation=loop.org, **kw)


def test_a_draft_prices_its_lines_at_the_elders_region(loop, priced):
    agreement = _draft(loop, priced)

    assert agreement.status == Agreement.Status.DRAFT and agreement.region_id == loop.elder.region_id
    meal, cleaning = agreement.lines
    assert (meal["name"], meal["unit_price_fen"], meal["quantity"], meal["amount_fen"]) == ("送餐", 1250, 22, 27500)
    assert (cleaning["unit_price_fen"], cleaning["amount_fen"]) == (3100, 12400)
    assert meal["payers"] == [{"kind": "elder", "label": "老人自付", "share": "全额"}]
    assert agreement.number.startswith("FW2026-") and agreement.number.endswith("-0001")
    assert "乙方" in agreement.terms
    assert ChangeRecord.objects.filter(model="orders.agreement", object_id=agreement.pk, action="create").exists()


def test_numbers_count_up_within_the_region(loop, priced):
    first, second = _draft(loop, priced), _draft(loop, priced)
    assert first.number[:-4] == second.number[:-4] and second.number.endswith("-0002")


def test_the_subsidy_quota_pays_within_it_and_the_elder_beyond(loop, priced, subsidy):
    agreement = _draft(loop, priced, lines=[LineIn(loop.item, 10, "month", "subsidy")])

    (line,) = agreement.lines
    assert [p["kind"] for p in line["payers"]] == ["subsidy", "elder"]
    assert "重度失能居家服务包" in line["payers"][0]["label"] and "8" in line["payers"][0]["share"]
    assert line["payers"][1]["share"] == "超出额度的部分"


def test_a_subsidy_the_elder_does_not_have_is_refused_naming_the_line(loop, priced):
    with pytest.raises(ValidationError) as refused:
        _draft(loop, priced, lines=[LineIn(priced, 22, "month", "elder"), LineIn(loop.item, 4, "month", "subsidy")])
    message = refused.value.message_dict["lines"][0]
    assert "第 2 项" in message and "没有覆盖此项目的补贴额度" in message
    assert not Agreement.objects.exists()


def test_a_payer_the_item_does_not_allow_is_refused(loop, priced):
    modes = loop.item.payment_modes
    payer = "free" if "free" not in modes else "government"
    if payer == "government" and "government" in modes:
        pytest.skip("the cleaning item allows every payer")
    with pytest.raises(ValidationError) as refused:
        _draft(loop, priced, lines=[LineIn(loop.item, 4, "month", payer)])
    assert "不能选择" in refused.value.message_dict["lines"][0]


def test_signing_fixes_the_lines_and_records_who_signed(loop, priced):
    agreement = _draft(loop, priced)
    agreement_sign(by=loop.desk, agreement=agreement, signatory="王秀兰之子 王小明", signed_on=FIRST - datetime.timedelta(days=1))

    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.SIGNED and agreement.elder_signatory == "王秀兰之子 王小明"
    record = ChangeRecord.objects.filter(model="orders.agreement", object_id=agreement.pk, action="status").get()
    assert record.changes["status"] == ["draft", "signed"] and record.by == loop.desk
    with pytest.raises(ValidationError) as again:
        agreement_sign(by=loop.desk, agreement=agreement, signatory="再签")
    assert "已签订" in again.value.message_dict["action"][0]


def test_ending_an_agreement_ends_its_plans(loop, priced):
    agreement = _draft(loop, priced)
    agreement_sign(by=loop.desk, agreement=agreement, signatory="王秀兰")
    plan = order_plan_create(
        by=loop.desk,
        elder=loop.elder,
        item=priced,
        data={
            "rrule": "FREQ=DAILY",
            "starts_on": loop.tomorrow,
            "start_time": datetime.time(11),
            "duration_minutes": 30,
            "agreement": agreement,
            "auto_dispatch": False,
        },
    )
    assert plan.orders.exists()
    order = plan.orders.order_by("scheduled_start").first()
    assert order.unit_price_fen == 1250 and order.agreement == agreement  # the signed price

    agreement_end(by=loop.desk, agreement=agreement, reason="老人入住养老院")

    agreement.refresh_from_db()
    plan = OrderPlan.objects.get(pk=plan.pk)
    assert agreement.status == Agreement.Status.ENDED and agreement.valid_to is not None
    assert not plan.is_active
    assert not plan.orders.exclude(status="cancelled").exists()


def test_the_pdf_holds_the_parties_items_prices_and_signature_lines(client, loop, priced):
    from pypdf import PdfReader

    agreement = _draft(loop, priced)
    client.force_login(loop.desk)
    response = client.get(f"/orders/agreements/{agreement.pk}/agreement.pdf")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages).replace(" ", "")
    for words in (
        "居家养老服务协议",
        agreement.number,
        loop.elder.name,
        loop.org.name,
        "安泰社区",
        "送餐",
        "12.50",
        "275.00",
        "打扫卫生" if "打扫卫生" in loop.item.name else loop.item.name,
        "31.00",
        "老人自付",
        "甲方（或代理人）签字",
        "乙方（盖章）",
        "丙方（盖章）",
    ):
        assert words.replace(" ", "") in text, words
    assert loop.elder.id_number_masked in text
    log = AccessLog.objects.get(kind="export", model="orders.agreement")
    assert log.object_id == agreement.pk and log.by == loop.desk and log.detail["elder"] == loop.elder.pk


def test_the_pages_draft_sign_and_end(client, loop, priced):
    client.force_login(loop.desk)
    form = client.get(f"/orders/agreements/new/{loop.elder.pk}/").content.decode()
    assert loop.elder.name in form and "约定事项" in form

    data = {
        "organisation": loop.org.pk,
        "valid_from": FIRST.isoformat(),
        "terms": "一、按时上门。",
        "lines-TOTAL_FORMS": "4",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "20",
        "lines-0-item": priced.pk,
        "lines-0-quantity": "22",
        "lines-0-frequency": "month",
        "lines-0-payer": "elder",
        "lines-1-frequency": "month",
        "lines-1-payer": "elder",
    }
    response = client.post(f"/orders/agreements/new/{loop.elder.pk}/", data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    agreement = Agreement.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/agreements/{agreement.pk}/"
    assert [line["name"] for line in agreement.lines] == ["送餐"]

    page = client.get(f"/orders/agreements/{agreement.pk}/").content.decode()
    assert "275.00" in page and "草拟" in page and f"/orders/agreements/{agreement.pk}/agreement.pdf" in page

    refused = client.post(f"/orders/agreements/{agreement.pk}/sign/", {"signatory": "", "signed_on": FIRST.isoformat()})
    assert refused.status_code == 422
    client.post(f"/orders/agreements/{agreement.pk}/sign/", {"signatory": "王秀兰", "signed_on": "2026-11-30"})
    agreement.refresh_from_db()
    assert agreement.status == "signed"

    client.post(f"/orders/agreements/{agreement.pk}/end/", {"reason": "老人去外地"})
    agreement.refresh_from_db()
    assert agreement.status == "ended"


def test_a_page_with_no_line_says_so(client, loop, priced):
    client.force_login(loop.desk)
    data = {
        "valid_from": FIRST.isoformat(),
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "0",
        "lines-0-frequency": "month",
        "lines-0-payer": "elder",
    }
    response = client.post(f"/orders/agreements/new/{loop.elder.pk}/", data)
    assert response.status_code == 422 and "请至少添加一个服务项目" in response.content.decode()


def test_another_community_cannot_read_the_agreement_or_its_pdf(client, loop, priced, tree):
    agreement = _draft(loop, priced)
    client.force_login(make_user("w2", "community", tree.community2))
    assert client.get(f"/orders/agreements/{agreement.pk}/").status_code == 404
    assert client.get(f"/orders/agreements/{agreement.pk}/agreement.pdf").status_code == 404
    assert not AccessLog.objects.filter(model="orders.agreement").exists()


def test_the_access_log_page_names_the_agreement(client, loop, priced, tree):
    agreement = _draft(loop, priced)
    client.force_login(loop.desk)
    client.get(f"/orders/agreements/{agreement.pk}/agreement.pdf")
    auditor = make_user("aud", "admin", tree.community)
    client.force_login(auditor)
    page = client.get("/audit/access/").content.decode()
    assert "服务协议" in page and agreement.number in page
