"""The order desk in a browser (issue 11): a worker takes a hotline call, finds the elder by the
son's number, orders for her and dispatches the order; makes a recurring plan (the preview
marks the make-up working day) and drafts an agreement. Every desk page at laptop and phone
width, with no sideways scrolling on the phone."""

import datetime

import pytest

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SON_PHONE = "13988887777"


@pytest.fixture
def loop(tree):
    from elders.services import elder_update
    from orders.tests.factories import LoopWorld

    world = LoopWorld.build(tree)
    elder_update(
        by=world.admin,
        elder=world.elder,
        data={"contacts": [{"name": "王小明", "relation": "child", "phone": SON_PHONE, "is_primary": True}]},
    )
    return world


def _no_sideways_scroll(page):
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, page.url


def test_a_hotline_call_becomes_a_dispatched_order(live_server, new_page, shot, loop):
    page = new_page()
    log_in(page, live_server.url, loop.desk.username)

    page.goto(f"{live_server.url}/orders/hotline/")
    page.fill("#id_phone", SON_PHONE)
    page.get_by_role("button", name="查找来电老人").click()
    match = page.get_by_test_id("hotline-match")
    match.wait_for()
    assert loop.elder.name in match.inner_text() and "139****7777" in match.inner_text()
    assert SON_PHONE not in page.url and SON_PHONE not in page.content()
    shot(page, "journey_hotline_1366")

    page.get_by_test_id("order-for").click()
    page.wait_for_url(f"**/orders/new/{loop.elder.pk}/")
    assert page.input_value("#id_caller_name") == "王小明"
    page.select_option("#id_item", str(loop.item.pk))
    page.fill("#id_notes", "请敲门，老人耳背")
    shot(page, "journey_order_form_1366")
    page.get_by_test_id("order-submit").click()
    page.wait_for_url("**/orders/*/")
    assert page.get_by_test_id("order-status").inner_text() == "待派单"

    page.select_option("#id_caregiver", str(loop.anna.pk))
    page.get_by_test_id("dispatch-submit").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("order-status").inner_text() == "已派单"
    assert loop.anna.name in page.locator("main").inner_text()
    shot(page, "journey_order_detail_1366")

    page.goto(f"{live_server.url}/orders/")
    assert loop.elder.name in page.locator("#results").inner_text()
    shot(page, "journey_order_list_1366")


def test_a_plan_with_its_preview_and_an_agreement(live_server, new_page, shot, loop):
    page = new_page()
    log_in(page, live_server.url, loop.desk.username)

    page.goto(f"{live_server.url}/orders/plans/new/{loop.elder.pk}/")
    page.select_option("#id_item", label="送餐")
    page.fill("#id_starts_on", "2026-09-28")
    page.locator("#id_starts_on").dispatch_event("change")
    preview = page.get_by_test_id("plan-preview")
    preview.get_by_text("调休上班日").wait_for()
    assert "10-10" in preview.inner_text() and "10-01" not in preview.inner_text()
    shot(page, "journey_plan_form_1366")
    page.fill("#id_starts_on", (loop.tomorrow).isoformat())
    page.get_by_test_id("plan-submit").click()
    page.wait_for_url("**/orders/plans/*/")
    assert "执行中" in page.get_by_test_id("plan-state").inner_text()
    shot(page, "journey_plan_detail_1366")

    page.goto(f"{live_server.url}/orders/agreements/new/{loop.elder.pk}/")
    page.select_option("#id_lines-0-item", label="送餐")
    page.fill("#id_lines-0-quantity", "22")
    shot(page, "journey_agreement_form_1366")
    page.get_by_test_id("agreement-submit").click()
    page.wait_for_url("**/orders/agreements/*/")
    assert "草拟" in page.get_by_test_id("agreement-status").inner_text()
    shot(page, "journey_agreement_detail_1366")


PAGES = [
    ("orders", "/orders/?status="),
    ("order", "/orders/{order}/"),
    ("hotline", "/orders/hotline/"),
    ("order_form", "/orders/new/{elder}/"),
    ("elder_orders", "/orders/elder/{elder}/"),
    ("elder_pick", "/orders/new/?q={name}"),
    ("plans", "/orders/plans/"),
    ("plan_form", "/orders/plans/new/{elder}/"),
    ("plan", "/orders/plans/{plan}/"),
    ("agreements", "/orders/agreements/"),
    ("agreement_form", "/orders/agreements/new/{elder}/"),
    ("agreement", "/orders/agreements/{agreement}/"),
    ("elder", "/elders/{elder}/"),
]


@pytest.mark.parametrize("size", ["laptop", "phone"])
def test_every_desk_page_at_laptop_and_phone_width(live_server, new_page, shot, loop, size):
    from orders.agreements import LineIn, agreement_create
    from orders.plans import order_plan_create

    order = loop.dispatched(loop.order(caller_name="王小明", caller_relation="子女"))
    plan = order_plan_create(
        by=loop.desk,
        elder=loop.elder,
        item=loop.item,
        data={
            "rrule": "FREQ=WEEKLY;BYDAY=FR",
            "starts_on": loop.tomorrow,
            "start_time": datetime.time(10),
            "duration_minutes": 60,
        },
    )
    agreement = agreement_create(
        by=loop.desk,
        elder=loop.elder,
        lines=[LineIn(loop.item, 4, "month", "elder")],
        valid_from=loop.tomorrow,
        organisation=loop.org,
    )
    page = new_page(PHONE if size == "phone" else LAPTOP)
    log_in(page, live_server.url, loop.desk.username)
    ids = {"order": order.pk, "elder": loop.elder.pk, "plan": plan.pk, "agreement": agreement.pk, "name": loop.elder.name}
    for name, path in PAGES:
        response = page.goto(live_server.url + path.format(**ids))
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        if size == "phone":
            _no_sideways_scroll(page)
        shot(page, f"desk_{name}_{'390' if size == 'phone' else '1366'}")
