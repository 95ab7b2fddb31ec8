"""Day routes in a browser (issue 14): the community worker plans tomorrow for the station, sees
every caregiver's route with times on the board, moves one visit to another caregiver by hand,
re-plans — the moved visit stays with the chosen caregiver — and dispatches by the plan; that
caregiver's phone (今日上门, 390 px) then lists their visits in the planned order with the planned
times. Screenshots of the list, the form, the board at laptop and phone width and the phone page."""

import pytest
from django.utils import timezone

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(tree, settings):
    from routing.tests.factories import RouteWorld

    settings.ROUTING = {**settings.ROUTING, "PLAN_SECONDS": 1}  # a handful of visits: a second finds the optimum
    w = RouteWorld.build(tree)
    # two visits at 09:00 need both caregivers; a late morning and an afternoon one to move
    w.visits = [
        w.visit(9, elder=w.elder_at(1)),
        w.visit(9, elder=w.elder_at(3)),
        w.visit(11, elder=w.elder_at(0, 2)),
        w.visit(14, elder=w.elder_at(2, 1)),
    ]
    return w


def _overflow(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _hhmm(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def test_a_dispatcher_plans_moves_replans_and_the_caregiver_sees_the_order(live_server, new_page, shot, world):
    from playwright.sync_api import expect

    from routing.models import DayPlan, PlanStatus

    base = live_server.url
    page = new_page()
    log_in(page, base, world.desk.username)

    # the plans of the scope: none yet, and the way to make one
    page.goto(f"{base}/routing/")
    expect(page.locator("main")).to_contain_text("还没有路线计划")
    shot(page, "routing_1_list_empty")
    page.get_by_test_id("plan-new").click()
    expect(page.get_by_test_id("plan-form")).to_be_visible()
    assert page.input_value("#id_day") == world.tomorrow.isoformat()
    page.select_option("#id_owner", f"org:{world.org.pk}")
    page.select_option("#id_kind", "care")
    shot(page, "routing_2_form")
    page.get_by_test_id("plan-submit").click()
    page.wait_for_url(f"{base}/routing/*/")
    expect(page.locator("main")).to_contain_text("已排好：4 次上门排入路线，0 次未能排入。")

    # the board: both caregivers' routes, each visit with its planned time
    plan = DayPlan.objects.get(organisation=world.org, day=world.tomorrow, version=1)
    for stop in plan.stops.all():
        row = page.get_by_test_id(f"stop-order-{stop.order_id}")
        expect(row).to_contain_text(_hhmm(stop.start_at))
        expect(page.get_by_test_id(f"route-caregiver:{stop.caregiver_id}")).to_contain_text(stop.order.elder.name)
    expect(page.get_by_test_id("route-map").locator("polyline")).to_have_count(2)
    shot(page, "routing_3_board_laptop")

    # move the afternoon visit to the other caregiver by hand
    moving = plan.stops.get(order=world.visits[3])
    chosen = world.bo if moving.caregiver_id == world.anna.pk else world.anna
    page.select_option(f"[data-testid=move-{moving.pk}]", str(chosen.pk))
    page.get_by_test_id(f"move-go-{moving.pk}").click()
    expect(page.locator("main")).to_contain_text(f"已改派给{chosen.name}，下次重排会保持。")
    moved_row = page.get_by_test_id(f"route-caregiver:{chosen.pk}").get_by_test_id(f"stop-order-{world.visits[3].pk}")
    expect(moved_row.get_by_test_id("pinned")).to_be_visible()

    # re-plan: a new version, the hand move kept
    page.get_by_test_id("replan").click()
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1] != str(plan.pk))
    expect(page.locator("main")).to_contain_text("已重排为第 2 版")
    new = DayPlan.objects.get(organisation=world.org, day=world.tomorrow, version=2)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED and new.status == PlanStatus.DRAFT
    kept = new.stops.get(order=world.visits[3])
    assert kept.caregiver_id == chosen.pk and kept.pinned
    expect(
        page.get_by_test_id(f"route-caregiver:{chosen.pk}").get_by_test_id(f"stop-order-{world.visits[3].pk}")
    ).to_contain_text(_hhmm(kept.start_at))

    # dispatch by the plan: each order goes to its planned caregiver
    page.get_by_test_id("apply").click()
    expect(page.locator("main")).to_contain_text("已按计划派单 4 张")
    expect(page.get_by_test_id("plan-status")).to_have_text("已派单")
    shot(page, "routing_4_board_applied_laptop")
    page.goto(f"{base}/routing/")
    expect(page.get_by_test_id(f"plan-{new.pk}")).to_be_visible()
    shot(page, "routing_5_list")

    # the board on a phone fits its width
    phone_desk = new_page(PHONE)
    log_in(phone_desk, base, world.desk.username)
    phone_desk.goto(f"{base}/routing/{new.pk}/")
    shot(phone_desk, "routing_6_board_phone")
    assert _overflow(phone_desk) <= 0
    phone_desk.goto(f"{base}/routing/")
    shot(phone_desk, "routing_7_list_phone")
    assert _overflow(phone_desk) <= 0
    phone_desk.goto(f"{base}/routing/new/")
    shot(phone_desk, "routing_8_form_phone")
    assert _overflow(phone_desk) <= 0

    # the chosen caregiver's phone: their visits of tomorrow in the planned order, with the times
    mine = list(new.stops.filter(caregiver=chosen).order_by("seq"))
    assert len(mine) >= 2
    phone = new_page(PHONE)
    log_in(phone, base, chosen.user.username)
    phone.goto(f"{base}/orders/my/?day={world.tomorrow.isoformat()}")
    expect(phone.get_by_test_id("planned-note")).to_be_visible()
    cards = phone.locator("[data-visit-card]")
    expect(cards).to_have_count(len(mine))
    assert [cards.nth(i).get_attribute("data-order") for i in range(len(mine))] == [str(s.order_id) for s in mine]
    for i, s in enumerate(mine):
        expect(cards.nth(i).get_by_test_id(f"planned-{s.order_id}")).to_have_text(f"计划 {_hhmm(s.start_at)} 开始")
    shot(phone, "routing_9_caregiver_phone")
    assert _overflow(phone) <= 0
