"""Evaluation and the family portal in the browser (issue 11, items 5 and 7): a son orders a
cleaning for his mother on his phone, follows it and rates the last visit; the community worker
calls back, closes a follow-up, reads the supervision board and links another relative; the
aging office applies a scorecard's suggestion. Screenshots of every page at 1366 and 390 px
(/tmp/quality_shots, or QUALITY_SHOTS), and no page scrolls sideways on the phone."""

import datetime
import os
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("QUALITY_SHOTS", "/tmp/quality_shots"))


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def no_sideways_scroll(page):
    page.wait_for_load_state("load")
    overflow = page.evaluate(
        """() => [document.documentElement, ...document.querySelectorAll('main .table-wrap')]
            .filter(el => el.offsetParent !== null || el === document.documentElement)
            .map(el => el.scrollWidth - el.clientWidth)"""
    )
    assert max(overflow) <= 0, (page.url, overflow)


@pytest.fixture
def world(tree):
    from conftest import make_user
    from orders.models import CallBack, Order, VisitException
    from orders.quality import call_backs_draw, order_rate
    from orders.tests.factories import LoopWorld, at, delivered, relative

    loop = LoopWorld.build(tree)
    type(loop.elder).objects.filter(pk=loop.elder.pk).update(name="王秀兰")
    loop.elder.refresh_from_db()
    loop.son = relative(loop, username="son")
    loop.son.full_name = "李建国"
    loop.son.save()
    first = timezone.localdate().replace(day=1)  # this month's problems show on the board's default month
    loop.done = delivered(loop, start=at(first, 8), payment_mode="government")
    loop.late = delivered(loop, start=at(first, 10), person=loop.bo, flags=["late"])
    order_rate(by=loop.son, order=loop.late, rating=2, comment="迟到了一小时，厨房没打扫", via="portal")
    loop.coming = loop.accepted(loop.order(start=at(loop.tomorrow, 9)), loop.anna)
    missed = loop.accepted(loop.order(start=at(first, 14)), loop.bo)
    Order.objects.filter(pk=missed.pk).update(flags=["no_show"])
    VisitException.objects.create(order=loop.late, code="late", detail="签到晚 58 分钟")
    call_backs_draw(now=timezone.now() + datetime.timedelta(days=1), lookback_days=30, percent=100)
    loop.call_back = CallBack.objects.get(order=loop.done)
    make_user("daughter", "elder", None)
    loop.office = make_user("office", "aging_office", tree.city)
    return loop


def test_a_son_orders_follows_and_rates_on_his_phone(live_server, new_page, world):
    from orders.models import Order

    page = new_page(PHONE)
    log_in(page, live_server.url, "son")
    page.click("text=进入家属服务")
    page.wait_for_url(f"{live_server.url}/family/")
    assert "王秀兰" in page.inner_text("main")
    no_sideways_scroll(page)
    shot(page, "portal_home_390")

    page.click("text=预约服务")
    page.wait_for_selector(".pt-tile")
    no_sideways_scroll(page)
    shot(page, "portal_order_new_390")
    page.click(".pt-tile:has-text('打扫卫生')")
    page.wait_for_selector(".pt-slot")
    no_sideways_scroll(page)
    shot(page, "portal_order_when_390")
    page.locator(".pt-slot").nth(1).click()
    page.fill("#notes", "请带拖把")
    page.click("text=确认预约")
    page.wait_for_url("**/family/orders/*/")
    assert "已收到，社区正在安排服务人员" in page.inner_text("main")
    no_sideways_scroll(page)
    shot(page, "portal_order_created_390")
    assert Order.objects.filter(created_by=world.son, source="relative", notes="请带拖把").count() == 1

    page.goto(f"{live_server.url}/family/orders/{world.coming.pk}/")
    assert "王安娜已接单" in page.inner_text("main")
    shot(page, "portal_order_accepted_390")

    page.goto(f"{live_server.url}/family/elders/{world.elder.pk}/")
    no_sideways_scroll(page)
    shot(page, "portal_elder_390")
    page.click(f"a[href='/family/orders/{world.done.pk}/']")
    page.click("a.pt-btn:has-text('为这次服务打分')")
    page.wait_for_url(f"**/family/orders/{world.done.pk}/rate/")  # measured on the new page, not mid-navigation
    no_sideways_scroll(page)
    shot(page, "portal_rate_390")
    page.click(".pt-rate--4")
    page.fill("#comment", "阿姨很细心")
    page.click("text=提交评价")
    page.wait_for_url(f"**/family/orders/{world.done.pk}/")
    assert "谢谢" in page.inner_text("main")
    shot(page, "portal_rated_390")
    assert Order.objects.get(pk=world.done.pk).rating == 4


def test_the_portal_at_laptop_width(live_server, new_page, world):
    page = new_page(LAPTOP)
    log_in(page, live_server.url, "son")
    for name, path in (
        ("portal_home", "/family/"),
        ("portal_elder", f"/family/elders/{world.elder.pk}/"),
        ("portal_order_new", f"/family/elders/{world.elder.pk}/order/"),
        ("portal_order_when", f"/family/elders/{world.elder.pk}/order/{world.item.pk}/"),
        ("portal_order", f"/family/orders/{world.coming.pk}/"),
        ("portal_rate", f"/family/orders/{world.done.pk}/rate/"),
    ):
        page.goto(live_server.url + path)
        assert page.inner_text("main").strip()
        shot(page, f"{name}_1366")


@pytest.mark.parametrize("viewport,size", [(LAPTOP, "1366"), (PHONE, "390")])
def test_the_community_worker_calls_back_and_supervises(live_server, new_page, world, viewport, size):
    from orders.models import FamilyLink, FollowUp

    page = new_page(viewport)
    log_in(page, live_server.url, world.desk.username)

    page.goto(f"{live_server.url}/orders/call-backs/")
    assert "王秀兰" in page.inner_text("main")
    shot(page, f"call_backs_{size}")
    page.goto(f"{live_server.url}/orders/call-backs/{world.call_back.pk}/")
    no_sideways_scroll(page)
    shot(page, f"call_back_form_{size}")
    if size == "1366":
        page.click("label.qa-choice:has-text('联系上了')")
        for name in ("received", "full_duration", "same_worker"):
            page.click(f"input[name='{name}'][value='yes'] + span")
        page.click("input[name='on_time'][value='no'] + span")
        page.click("text=保存回访")
        page.wait_for_url("**/orders/call-backs/")
        assert FollowUp.objects.filter(order=world.done, reason="callback").exists()

    page.goto(f"{live_server.url}/orders/follow-ups/")
    no_sideways_scroll(page)
    shot(page, f"follow_ups_{size}")
    low = FollowUp.objects.get(order=world.late, reason="low_rating")
    page.goto(f"{live_server.url}/orders/follow-ups/{low.pk}/")
    shot(page, f"follow_up_{size}")

    page.goto(f"{live_server.url}/orders/supervision/")
    board = page.inner_text("main")
    assert "李波" in board and "王秀兰" not in board
    no_sideways_scroll(page)
    shot(page, f"supervision_{size}")
    page.goto(f"{live_server.url}/orders/supervision/orders/?metric=late")
    assert "王秀兰" in page.inner_text("main")
    no_sideways_scroll(page)
    shot(page, f"supervision_orders_{size}")

    # the son's complaint by phone: the visit is disputed from the order page and waits in the queue
    page.goto(f"{live_server.url}/orders/{world.late.pk}/")
    if size == "1366":
        page.click("summary:has-text('老人或家属有异议')")
        page.fill("form[action$='/dispute/'] input[name=reason]", "儿子来电：那天阿姨迟到一个多小时，厨房也没打扫")
        page.click("[data-testid=dispute-submit]")
        page.wait_for_url(f"**/orders/{world.late.pk}/")
        assert "有争议" in page.inner_text("main")
        world.late.refresh_from_db()
        assert world.late.verification == "disputed"
    no_sideways_scroll(page)
    shot(page, f"order_dispute_{size}")
    page.goto(f"{live_server.url}/orders/exceptions/")
    if size == "1366":
        assert "老人或家属有异议" in page.inner_text("main") and "厨房也没打扫" in page.inner_text("main")
    no_sideways_scroll(page)
    shot(page, f"exceptions_dispute_{size}")

    page.goto(f"{live_server.url}/orders/family-links/?q=王秀兰")
    no_sideways_scroll(page)
    shot(page, f"family_links_{size}")
    page.goto(f"{live_server.url}/orders/family-links/elder/{world.elder.pk}/new/")
    shot(page, f"family_link_form_{size}")
    if size == "1366":
        page.fill("#id_account", "daughter")
        page.select_option("#id_relation", "child")
        page.fill("#id_consent_note", "本人签字同意书，编号 2026-018")
        page.click("button:has-text('关联')")
        page.wait_for_url("**/orders/family-links/?elder=*")
        assert FamilyLink.objects.filter(user__username="daughter", ended_at__isnull=True).exists()


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=1)
@pytest.mark.parametrize("viewport,size", [(LAPTOP, "1366"), (PHONE, "390")])
def test_the_aging_office_reads_a_scorecard(live_server, new_page, world, viewport, size):
    page = new_page(viewport)
    log_in(page, live_server.url, "office")
    page.goto(f"{live_server.url}/orders/scorecard/{world.org.pk}/")
    assert "综合得分" in page.inner_text("main")
    no_sideways_scroll(page)
    shot(page, f"scorecard_{size}")
