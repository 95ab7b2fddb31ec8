"""Planning, re-planning, moving and applying a day through the services."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from conftest import make_user
from orders.tests.factories import at
from routing import build
from routing.check import plan_violations
from routing.models import Kind, PlannedStop, PlanStatus
from routing.services import day_plan_apply, day_plan_create, day_plan_replan, planned_stop_move

pytestmark = pytest.mark.django_db


def _plan(rw, **kw):
    return day_plan_create(by=rw.desk, owner=rw.org, day=rw.tomorrow, kind=Kind.CARE, **kw)


def test_plan_puts_every_visit_on_a_route_in_its_window(rw):
    orders = [rw.visit(9), rw.visit(9, elder=rw.elder_at(3)), rw.visit(13, elder=rw.elder_at(0, 2))]
    plan = _plan(rw)
    assert plan.planned_count == 3 and plan.unplanned_count == 0 and plan.version == 1
    starts = {s.order_id: s.start_at for s in plan.stops.all()}
    for o in orders:
        assert o.scheduled_start <= starts[o.pk] <= o.scheduled_start + datetime.timedelta(minutes=15)
    # two visits at 09:00 need two people
    assert {s.caregiver_id for s in plan.stops.filter(order__in=orders[:2])} == {rw.anna.pk, rw.bo.pk}
    assert plan_violations(plan) == []


def test_a_visit_nobody_qualified_for_is_unplanned_with_the_reason(rw):
    from catalogue.models import ServiceItem

    bathing = ServiceItem.objects.get(code="bathing")  # needs 助浴 and 养老护理员（中级）
    order = rw.visit(10, item=bathing)
    plan = _plan(rw)
    missing = plan.unplanned.get()
    assert missing.order_id == order.pk and missing.code == "skills" and missing.reason


def test_plan_refuses_an_organisation_outside_the_scope(rw, tree):
    other = make_user("other_desk", "community", tree.community2)
    with pytest.raises(Http404):
        day_plan_create(by=other, owner=rw.org, day=rw.tomorrow, kind=Kind.CARE)


def test_replan_keeps_done_visits_and_hand_moves(rw):
    done = rw.accepted(rw.visit(9), rw.anna)
    later = rw.visit(14, elder=rw.elder_at(2))
    plan = _plan(rw)
    stop = plan.stops.get(order=later)
    other = rw.bo if stop.caregiver_id == rw.anna.pk else rw.anna
    planned_stop_move(by=rw.desk, stop=stop, person=other)
    from orders.services import order_move

    with transaction.atomic():
        order_move(by=rw.anna.user, order=done, action="check_in", update_fields=[])
        order_move(by=rw.anna.user, order=done, action="check_out", update_fields=[])
    new = day_plan_replan(by=rw.desk, plan=plan, now=at(rw.tomorrow, 12))
    plan.refresh_from_db()
    assert plan.status == PlanStatus.SUPERSEDED and new.version == 2 and new.previous_id == plan.pk
    kept = new.stops.get(order=done)
    assert kept.fixed and kept.caregiver_id == rw.anna.pk
    moved = new.stops.get(order=later)
    assert moved.caregiver_id == other.pk and moved.pinned
    with pytest.raises(ValidationError):
        day_plan_replan(by=rw.desk, plan=plan)


def test_move_refuses_a_person_without_the_skill(rw):
    from providers.tests.factories import caregiver

    rw.visit(9)
    plan = _plan(rw)
    novice = caregiver(rw.tree, rw.org, name="新手")
    with pytest.raises(ValidationError) as exc:
        planned_stop_move(by=rw.desk, stop=plan.stops.get(), person=novice)
    assert "新手不具备" in exc.value.message_dict["person"][0]


def test_move_refuses_a_person_off_shift(rw):
    from providers.services import caregiver_update

    rw.visit(14)
    plan = _plan(rw)
    stop = plan.stops.get()
    other = rw.bo if stop.caregiver_id == rw.anna.pk else rw.anna
    caregiver_update(by=rw.admin, caregiver=other, data={"work_start": datetime.time(8), "work_end": datetime.time(12)})
    with pytest.raises(ValidationError) as exc:
        planned_stop_move(by=rw.desk, stop=stop, person=other)
    assert "08:00–12:00" in exc.value.message_dict["person"][0]


def test_move_retimes_both_routes(rw):
    rw.visit(9)
    rw.visit(11, 5, elder=rw.elder_at(1.2))
    plan = _plan(rw)
    stop = plan.stops.order_by("start_at").last()
    other = rw.bo if stop.caregiver_id == rw.anna.pk else rw.anna
    moved = planned_stop_move(by=rw.desk, stop=stop, person=other)
    assert moved.caregiver_id == other.pk and moved.pinned and moved.late_after_move == 0
    assert list(plan.stops.filter(caregiver=other).values_list("seq", flat=True)) == list(
        range(1, plan.stops.filter(caregiver=other).count() + 1)
    )


def test_apply_dispatches_to_the_planned_caregivers(rw):
    orders = [rw.visit(9), rw.visit(9, elder=rw.elder_at(3))]
    plan = _plan(rw)
    result = day_plan_apply(by=rw.desk, plan=plan)
    assert result["dispatched"] == 2 and not result["failed"]
    for s in PlannedStop.objects.filter(plan=plan):
        s.order.refresh_from_db()
        assert s.order.status == "dispatched" and s.order.caregiver_id == s.caregiver_id
    plan.refresh_from_db()
    assert plan.status == PlanStatus.APPLIED
    assert {o.pk for o in orders} == set(plan.stops.values_list("order_id", flat=True))


def test_phone_page_lists_the_day_in_the_planned_order(rw, client):
    first = rw.visit(9, elder=rw.elder_at(1))
    second = rw.visit(9, 5, elder=rw.elder_at(1.1))
    for o in (first, second):
        rw.dispatched(o, caregiver=rw.anna)
    plan = _plan(rw)
    mine = list(plan.stops.filter(caregiver=rw.anna).order_by("seq"))
    client.force_login(rw.anna.user)
    page = client.get(f"/orders/my/?day={rw.tomorrow.isoformat()}")
    text = page.content.decode()
    assert "已按路线计划排序" in text
    positions = [text.index(f'data-testid="visit-{s.order_id}"') for s in mine]
    assert positions == sorted(positions)
    assert f'data-testid="planned-{mine[0].order_id}"' in text


def test_grid_visits_required_when_due_and_optional_later(tree):
    from django.utils import timezone

    from routing.tests.factories import RouteWorld
    from visits.models import VisitDue

    rw = RouteWorld.build(tree)
    grid_worker = make_user("gw", "grid", tree.grid)
    origin = build.day_origin(rw.tomorrow)
    due_now = VisitDue.objects.create(
        elder=rw.elder_at(1),
        region=tree.grid,
        opens_at=origin - datetime.timedelta(days=20),
        due_at=origin + datetime.timedelta(hours=20),
    )
    later = VisitDue.objects.create(
        elder=rw.elder_at(2),
        region=tree.grid,
        opens_at=origin - datetime.timedelta(days=1),
        due_at=origin + datetime.timedelta(days=10),
    )
    built = build.build(kind=Kind.GRID, day=rw.tomorrow, region=tree.community)
    stops = {s.key: s for s in built.problem.stops}
    assert stops[build.due_key(due_now.pk)].required
    assert not stops[build.due_key(later.pk)].required and 0 < stops[build.due_key(later.pk)].prize < 3600
    assert [w.key for w in built.problem.workers] == [build.user_key(grid_worker.pk)]
    plan = day_plan_create(
        by=make_user("gdesk", "community", tree.community), owner=tree.community, day=rw.tomorrow, kind=Kind.GRID
    )
    assert plan.stops.filter(due=due_now, user=grid_worker).exists()
    assert timezone.localtime(plan.stops.get(due=due_now).start_at).hour >= 8


def test_a_lunch_break_is_planned_and_not_written_as_a_visit(rw):
    from routing.models import RoutingProfile

    for person in (rw.anna, rw.bo):
        RoutingProfile.objects.create(
            caregiver=person,
            region=rw.org.region,
            organisation=rw.org,
            mode="ebike",
            break_minutes=30,
            break_from=datetime.time(11, 30),
            break_to=datetime.time(13),
        )
    orders = [rw.visit(9), rw.visit(11), rw.visit(14, elder=rw.elder_at(2))]
    plan = _plan(rw)
    assert plan.planned_count == 3 and plan.unplanned_count == 0
    assert {s.order_id for s in plan.stops.all()} == {o.pk for o in orders}
    assert plan_violations(plan) == []


def test_a_routing_server_that_does_not_answer_is_a_message_not_a_crash(rw, settings):
    settings.ROUTING = {**settings.ROUTING, "TRAVEL": "http://127.0.0.1:9", "OSRM_TIMEOUT_SECONDS": 1}
    rw.visit(9)
    with pytest.raises(ValidationError) as caught:
        _plan(rw)
    assert "ROUTING_TRAVEL" in " ".join(caught.value.messages)


def test_a_day_too_big_to_plan_is_a_message_not_a_dead_worker(rw, settings):
    settings.ROUTING = {**settings.ROUTING, "MAX_MATRIX_MB": 0}
    rw.visit(9)
    with pytest.raises(ValidationError) as caught:
        _plan(rw)
    assert "分开排" in " ".join(caught.value.messages)
