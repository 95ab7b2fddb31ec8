"""The caregiver's phone (issue 11, items 3 and 7): 王安娜 opens today's visits, checks in at the
door with the network on, loses the network in the stairwell, records the outcome and checks out
offline ("已离线保存，联网后自动上传"), opens her day again with no network (the service worker's
copy), and when the network returns the check-out arrives once, marked delayed. The community
worker then sees the queues. Screenshots at phone and laptop size (e2e/screenshots/)."""

import datetime

import pytest
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """() => { window.__csp = []; document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


@pytest.fixture
def loop(tree):
    from orders.tests.factories import LoopWorld

    return LoopWorld.build(tree)


def _today_visit(loop, minutes_from_now: int):
    from orders.services import order_create

    start = (timezone.localtime() + datetime.timedelta(minutes=minutes_from_now)).replace(second=0, microsecond=0)
    order = order_create(by=loop.desk, elder=loop.elder, item=loop.item, scheduled_start=start)
    return loop.accepted(order, loop.anna)


def test_a_caregiver_checks_in_online_and_out_offline_and_it_arrives_once(live_server, browser, shot, loop):
    from playwright.sync_api import expect

    from audit.models import ChangeRecord
    from orders.models import Order
    from orders.tests.factories import north_of_home

    visit = _today_visit(loop, -5)  # started five minutes ago: on time
    later = _today_visit(loop, 180)
    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    context.grant_permissions(["geolocation"], origin=base)
    lat, lng = north_of_home(25)
    context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": 12})
    page = context.new_page()
    page.add_init_script(f"({WATCH})()")
    try:
        log_in(page, base, loop.anna_user.username)

        # the day: her visits in order, each with the address and a map link on the phone
        page.goto(f"{base}/orders/my/")
        cards = page.locator("[data-visit-card]")
        expect(cards).to_have_count(2)
        expect(cards.nth(0)).to_contain_text(loop.elder.name)
        assert cards.nth(0).get_attribute("data-order") == str(visit.pk)
        assert cards.nth(1).get_attribute("data-order") == str(later.pk)
        assert page.locator(".visit-map").first.get_attribute("href").startswith("geo:30.630000,120.570000?q=")
        expect(page.locator("[data-visit-app]")).to_have_attribute("data-cached", "1")  # the service worker kept the day
        shot(page, "phone_1_day")

        # the visit: one action, check in (the network is on)
        cards.nth(0).locator("a.visit-card__main").click()
        expect(page.locator("[data-testid=elder-phone-masked]")).to_be_visible()
        shot(page, "phone_2_check_in")
        page.click("[data-testid=check-in]")
        expect(page.locator("[data-screen=check-out]")).to_be_visible()
        expect(page.locator("[data-testid=elder-phone]")).to_contain_text("139")  # only now, in service
        visit.refresh_from_db()
        assert visit.status == "in_service" and visit.checkin_delayed is False and visit.checkin_distance_m == 25
        expect(page.locator("[data-visit-app]")).to_have_attribute("data-cached", "1")
        shot(page, "phone_3_in_service")

        # the stairwell: no network; the outcome is ticked and the check-out kept on the phone
        context.set_offline(True)
        page.click("[data-testid=check-out]")
        expect(page.locator("[data-form-error]")).to_contain_text("签退前请先记录：清洁已完成")
        page.check("input[name=outcome]")
        page.fill("textarea[name=notes]", "老人精神好")
        page.click("[data-testid=check-out]")
        expect(page.locator("[data-visit-status]")).to_have_text("已离线保存，联网后自动上传")
        expect(page.locator("[data-screen=done]")).to_be_visible()
        shot(page, "phone_4_offline_saved")
        visit.refresh_from_db()
        assert visit.status == "in_service"

        # her day opens with no network, the check-out waiting on the card
        page.goto(f"{base}/orders/my/")
        expect(page.locator(f"[data-order='{visit.pk}'] [data-local-state]")).to_have_text("离线签退，待上传")
        shot(page, "phone_5_day_offline")

        # the network returns: the queue is sent, once
        context.set_offline(False)
        expect(page.locator("[data-visit-status]")).to_contain_text("离线记录已上传（1 条）")
        expect(page.locator(f"[data-order='{visit.pk}'] [data-local-state]")).to_be_hidden()
        shot(page, "phone_6_uploaded")
        visit = Order.objects.get(pk=visit.pk)
        assert visit.status == "completed" and visit.checkout_delayed is True and "delayed_sync" in visit.flags
        assert visit.outcomes == {"清洁已完成": True} and visit.worker_notes == "老人精神好"
        assert visit.checkout_device_at is not None
        # a visit of a few seconds against two planned hours is short: pending until a person looks
        assert "short" in visit.flags and visit.verification == "pending"
        check_outs = ChangeRecord.objects.filter(
            object_id=str(visit.pk), action="status", changes__status=["in_service", "completed"]
        )
        assert check_outs.count() == 1
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second round finds nothing to send
        page.wait_for_timeout(500)
        assert check_outs.count() == 1
        assert page.evaluate("() => window.__csp || []") == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_community_resolves_a_late_visit_in_the_queue(live_server, new_page, shot, loop, viewport):
    from playwright.sync_api import expect

    from orders.evv import order_check_in
    from orders.models import VisitException
    from orders.tests.factories import north_of_home

    size = "phone" if viewport == PHONE else "laptop"
    visit = _today_visit(loop, -40)  # 40 minutes late
    lat, lng = north_of_home(350)
    order_check_in(by=loop.anna_user, order=visit, lat=lat, lng=lng, accuracy_m=20)
    page = new_page(viewport)
    log_in(page, live_server.url, loop.desk.username)
    page.goto(f"{live_server.url}/orders/exceptions/")
    cards = page.locator(".exception-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(loop.elder.name)
    shot(page, f"queue_{size}_1_exceptions")

    late = VisitException.objects.get(order=visit, code="late")
    card = page.locator(f"#exception-{late.pk}")
    card.locator("button[type=submit]").click()
    expect(card.locator(".field__error").first).to_be_visible()
    card = page.locator(f"#exception-{late.pk}")
    card.locator("input[value=accepted]").check()
    card.locator("input[name=note]").fill("电梯停运，已电话核实老人")
    card.locator("button[type=submit]").click()
    expect(page.locator(f"#exception-{late.pk} .exception-card__result")).to_contain_text("认可，可结算")
    late.refresh_from_db()
    assert late.resolution == "accepted" and late.resolved_by == loop.desk
    shot(page, f"queue_{size}_2_resolved")

    page.goto(f"{live_server.url}/orders/stray-checkins/")
    expect(page.locator("h1")).to_have_text("未匹配签到")
    shot(page, f"queue_{size}_3_stray")


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_the_phone_pages_read_at_both_sizes(live_server, new_page, shot, loop, viewport):
    """The day, a visit and the stray check-in form, at phone and laptop size: large type, the
    visit's one action, no policy violation."""
    from playwright.sync_api import expect

    size = "phone" if viewport == PHONE else "laptop"
    visit = _today_visit(loop, 10)
    page = new_page(viewport)
    page.add_init_script(f"({WATCH})()")
    log_in(page, live_server.url, loop.anna_user.username)
    page.goto(f"{live_server.url}/orders/my/")
    expect(page.locator("[data-visit-card]")).to_have_count(1)
    assert float(page.locator(".visit-card__name").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 20
    shot(page, f"pages_{size}_1_day")
    page.goto(f"{live_server.url}/orders/my/{visit.pk}/")
    expect(page.locator("[data-testid=check-in]")).to_be_visible()
    expect(page.locator("[data-testid=check-out]")).to_be_hidden()
    shot(page, f"pages_{size}_2_visit")
    page.goto(f"{live_server.url}/orders/my/stray/")
    expect(page.locator("h1")).to_have_text("临时签到")
    shot(page, f"pages_{size}_3_stray")
    assert page.evaluate("() => window.__csp || []") == []
