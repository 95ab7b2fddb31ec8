"""Issue 11, "done when", in the pages: a community worker takes a hotline call and orders a
cleaning for the caller's mother, dispatches it from the board to the best-ranked caregiver, who
accepts it and checks in and out on her phone (the check-out made with the network off and sent
once when it returns); the son rates the visit on the family portal; the month's statement shows
the order. Screenshots of the key steps in /tmp/loop-shots (or LOOP_SHOTS).

The visit must come out verified (docs/orders-visits.md): checked in on time (grace 15 min) and
25 m from the door (fence 200 m), and served at least 80 % of the window. A real visit lasts
hours; a test cannot wait them out, and the server trusts the phone's offline clock no further
than its own. So the catalogue's cleaning is given a one-minute window here, and the check-out is
tapped about a minute after the check-in (between 48 s, the 80 %, and 90 s, the over-run mark)."""

import datetime
import importlib.util
import os
import time
from pathlib import Path

import pytest
from django.utils import timezone

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("LOOP_SHOTS", "/tmp/loop-shots"))
SON_PHONE = "13988887777"
SERVE_SECONDS = 60  # check-in → check-out tap; the window is 60 s: 48 s ≤ clean ≤ 90 s


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def loop(tree):
    from catalogue.services import vocabulary_save
    from conftest import make_user
    from elders.services import elder_update
    from orders.tests.factories import HOME, LoopWorld, relative

    w = LoopWorld.build(tree)
    elder_update(
        by=w.admin,
        elder=w.elder,
        data={"contacts": [{"name": "王小明", "relation": "child", "phone": SON_PHONE, "is_primary": True}]},
    )
    platform = make_user("catalogue_admin", "admin", tree.root)
    w.item = vocabulary_save(by=platform, obj=w.item, data={"duration_minutes": 1})
    w.anna = w.qualify(w.anna, home_lat=HOME[0] + 0.002, home_lng=HOME[1])  # 220 m from the elder
    w.bo = w.qualify(w.bo, home_lat=HOME[0] + 0.05, home_lng=HOME[1])  # 5.5 km away
    w.son = relative(w, username="son")
    make_user("office", "aging_office", tree.district)
    return w


def _start_slot() -> datetime.datetime:
    """The last five-minute mark (the order form's time input steps by 5 minutes): on time."""
    now = timezone.localtime().replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=now.minute % 5)


def test_the_closed_loop_in_the_pages(live_server, browser, new_page, loop):
    from playwright.sync_api import expect

    from orders.models import Order
    from orders.tests.factories import north_of_home

    base = live_server.url
    start = _start_slot()

    # 1. 接线 → 制单: the son calls the hotline; the worker finds his mother and orders for her.
    desk = new_page()
    log_in(desk, base, loop.desk.username)
    desk.goto(f"{base}/orders/hotline/")
    desk.fill("#id_phone", SON_PHONE)
    desk.get_by_role("button", name="查找来电老人").click()
    match = desk.get_by_test_id("hotline-match")
    expect(match).to_contain_text(loop.elder.name)
    desk.get_by_test_id("order-for").click()
    desk.wait_for_url(f"**/orders/new/{loop.elder.pk}/")
    assert desk.input_value("#id_caller_name") == "王小明"
    desk.select_option("#id_item", str(loop.item.pk))
    desk.fill("#id_day", start.date().isoformat())
    desk.fill("#id_time", start.strftime("%H:%M"))
    desk.fill("#id_notes", "请敲门，老人耳背")
    shot(desk, "1_order_form")
    desk.get_by_test_id("order-submit").click()
    desk.wait_for_url("**/orders/*/")
    expect(desk.get_by_test_id("order-status")).to_have_text("待派单")
    order = Order.objects.get(elder=loop.elder)
    assert order.source == "hotline" and order.caller_name == "王小明"
    assert timezone.localtime(order.scheduled_start) == start

    # 2. 派单: on the day's board the nearby 王安娜 is ranked first; one click dispatches to her.
    desk.goto(f"{base}/orders/board/")
    desk.get_by_test_id(f"open-{order.pk}").click()
    first = desk.locator("[data-testid^=candidate-caregiver-]").first
    expect(first).to_have_attribute("data-testid", f"candidate-caregiver-{loop.anna.pk}")
    expect(first).to_contain_text("王安娜")
    shot(desk, "2_board_ranked")
    first.get_by_role("button", name="派单").click()
    desk.wait_for_url(f"{base}/orders/board/?day=*")
    desk.goto(f"{base}/orders/{order.pk}/")
    expect(desk.get_by_test_id("order-status")).to_have_text("已派单")
    expect(desk.locator("main")).to_contain_text("王安娜")

    # 3. 接单 on 王安娜's phone: the visit sent to her, one big button.
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    context.grant_permissions(["geolocation"], origin=base)
    lat, lng = north_of_home(25)
    context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": 12})
    phone = context.new_page()
    try:
        log_in(phone, base, loop.anna_user.username)
        phone.goto(f"{base}/orders/my/{order.pk}/")
        expect(phone.locator("[data-screen=not-accepted]")).to_be_visible()
        phone.click("[data-testid=accept]")
        expect(phone.locator("[data-screen=check-in]")).to_be_visible()
        phone.goto(f"{base}/orders/my/")
        card = phone.locator(f"[data-visit-card][data-order='{order.pk}']")
        expect(card).to_contain_text(loop.elder.name)
        expect(card).to_contain_text("已接单")
        shot(phone, "3_phone_day")

        # 4. 签到 at the door, online.
        card.locator("a.visit-card__main").click()
        phone.click("[data-testid=check-in]")
        expect(phone.locator("[data-screen=check-out]")).to_be_visible()
        order.refresh_from_db()
        assert order.status == "in_service" and order.checkin_distance_m == 25 and not order.flags
        shot(phone, "4_phone_in_service")

        # 5. 签退 with the network off, about a minute later; kept on the phone, sent once back online.
        wait = SERVE_SECONDS - (timezone.now() - order.checkin_at).total_seconds()
        if wait > 0:
            time.sleep(wait)
        context.set_offline(True)
        phone.check("input[name=outcome]")
        phone.fill("textarea[name=notes]", "厨房和卫生间已打扫")
        phone.click("[data-testid=check-out]")
        expect(phone.locator("[data-visit-status]")).to_have_text("已离线保存，联网后自动上传")
        expect(phone.locator("[data-screen=done]")).to_be_visible()
        shot(phone, "5_phone_offline_saved")
        order.refresh_from_db()
        assert order.status == "in_service"
        # Back online, the page still open sends its queue at once (its "online" handler), so the
        # message shows here; navigating first raced it and found the queue already empty.
        context.set_offline(False)
        expect(phone.locator("[data-visit-status]")).to_contain_text("离线记录已上传（1 条）")
        phone.goto(f"{base}/orders/my/")
        expect(phone.locator("[data-local-state]:visible")).to_have_count(0)  # nothing left waiting on the phone
        shot(phone, "6_phone_uploaded")
    finally:
        context.close()
    order.refresh_from_db()
    assert order.status == "completed" and order.checkout_delayed, order.flags
    assert order.verification == "verified" and order.flags == ["delayed_sync"], (
        order.flags,
        order.checkout_at - order.checkin_at,
    )

    # 6. 评价: the son rates the visit on his phone.
    son = new_page(PHONE)
    log_in(son, base, "son")
    son.goto(f"{base}/family/orders/{order.pk}/")
    expect(son.locator("main")).to_contain_text("王安娜")
    son.click("a.pt-btn:has-text('为这次服务打分')")
    son.click(".pt-rate--5")
    son.fill("#comment", "阿姨很细心，准时")
    son.click("text=提交评价")
    son.wait_for_url(f"**/family/orders/{order.pk}/")
    expect(son.locator("main")).to_contain_text("您评了 5 分")
    shot(son, "7_family_rated")
    order.refresh_from_db()
    assert order.status == "evaluated" and order.rating == 5

    # The worker's desk shows the order done and rated.
    desk.goto(f"{base}/orders/{order.pk}/")
    expect(desk.get_by_test_id("order-status")).to_have_text("已评价")
    shot(desk, "8_desk_evaluated")

    # 7. 结算: the district's aging office builds this month's statements; the elder's shows the order.
    if importlib.util.find_spec("settlements.views") is None:
        pytest.skip("the settlements pages are not in this branch yet: the statement step did not run")
    month = f"{timezone.localdate():%Y-%m}"
    office = new_page()
    log_in(office, base, "office")
    office.goto(f"{base}/settlements/?month={month}")
    office.select_option("#b-region", str(loop.tree.district.pk))
    office.get_by_role("button", name="生成结算单").click()
    office.wait_for_load_state("networkidle")
    expect(office.locator("main")).to_contain_text("安泰社区·老人自付")
    shot(office, "9_statements")
    office.get_by_role("link", name="安泰社区·老人自付").click()
    statement = office.locator("main")
    expect(statement).to_contain_text(loop.elder.name)
    expect(statement).to_contain_text("35.00")
    expect(statement).to_contain_text("打扫卫生")
    shot(office, "10_statement")
