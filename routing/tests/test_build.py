"""Model building against small hand-checked cases: what goes into the Problem."""

import datetime

import pytest

from orders.tests.factories import at
from routing import build
from routing.models import Kind, RoutingProfile

pytestmark = pytest.mark.django_db


def _built(rw, **kw):
    return build.build(kind=Kind.CARE, day=rw.tomorrow, organisation=rw.org, **kw)


def _stop(built, order):
    return next(s for s in built.problem.stops if s.key == build.order_key(order.pk))


def test_window_is_the_promised_start_plus_the_evv_grace(rw, settings):
    settings.EVV_LATE_GRACE_MINUTES = 15
    order = rw.visit(9, 30)
    stop = _stop(_built(rw), order)
    assert (stop.earliest, stop.latest) == (9 * 3600 + 1800, 9 * 3600 + 1800 + 15 * 60)


def test_duration_comes_from_the_catalogue_item(rw):
    order = rw.visit(9, quantity=2)  # cleaning: an hour item of 120 minutes
    assert _stop(_built(rw), order).duration == 120 * 60


def test_skills_and_certificates_are_required_and_held(rw):
    order = rw.visit(9)
    built = _built(rw)
    stop = _stop(built, order)
    skills = {f"skill:{s.pk}" for s in rw.item.required_skills.all()}
    certs = {f"cert:{k.pk}" for k in rw.item.required_certificates.all()}
    assert stop.skills == frozenset(skills | certs) and certs
    anna = next(w for w in built.problem.workers if w.key == build.caregiver_key(rw.anna.pk))
    assert stop.skills <= anna.skills


def test_an_expired_certificate_does_not_count(rw):
    from providers.models import Certificate

    Certificate.objects.filter(caregiver=rw.bo).update(expires_on=rw.tomorrow - datetime.timedelta(days=1))
    rw.visit(9)
    built = _built(rw)
    bo = next(w for w in built.problem.workers if w.key == build.caregiver_key(rw.bo.pk))
    assert not any(s.startswith("cert:") for s in bo.skills)


def test_shift_day_off_and_leave(rw):
    from providers.services import absence_create, caregiver_update

    rw.visit(9)
    caregiver_update(by=rw.admin, caregiver=rw.anna, data={"work_start": datetime.time(9), "work_end": datetime.time(13)})
    absence_create(by=rw.admin, caregiver=rw.bo, data={"starts_on": rw.tomorrow, "reason": "sick"})
    built = _built(rw)
    assert [(w.key, w.shift_start, w.shift_end) for w in built.problem.workers] == [
        (build.caregiver_key(rw.anna.pk), 9 * 3600, 13 * 3600)
    ]
    caregiver_update(
        by=rw.admin, caregiver=rw.anna, data={"work_days": [d for d in range(1, 8) if d != rw.tomorrow.isoweekday()]}
    )
    assert _built(rw).problem.workers == []


def test_the_accepted_caregiver_keeps_the_visit_and_the_dispatched_one_is_preferred(rw):
    kept = rw.accepted(rw.visit(9), rw.anna)
    sent = rw.dispatched(rw.visit(11), caregiver=rw.bo)
    built = _built(rw)
    assert _stop(built, kept).worker == build.caregiver_key(rw.anna.pk)
    assert _stop(built, sent).worker is None and _stop(built, sent).preferred == build.caregiver_key(rw.bo.pk)
    assert built.problem.continuity_weight == 900


def test_continuity_prefers_the_last_caregiver_of_the_elder(rw):
    elder = rw.elder_at(2)
    rw.delivered(_past(rw, elder), rw.bo)
    order = rw.visit(10, elder=elder)
    assert _stop(_built(rw), order).preferred == build.caregiver_key(rw.bo.pk)


def _past(rw, elder):
    from orders.services import order_create

    return order_create(by=rw.desk, elder=elder, item=rw.item, scheduled_start=at(rw.tomorrow - datetime.timedelta(days=3), 9))


def test_a_visit_under_way_is_fixed_and_the_route_restarts_after_it(rw):
    from django.db import transaction

    from orders.services import order_move

    order = rw.accepted(rw.visit(9), rw.anna)
    with transaction.atomic():
        order_move(by=rw.anna.user, order=order, action="check_in")
    built = _built(rw, now=at(rw.tomorrow, 9, 10))
    assert [f.key for f in built.fixed] == [build.order_key(order.pk)]
    assert not built.problem.stops
    anna = next(w for w in built.problem.workers if w.key == build.caregiver_key(rw.anna.pk))
    assert anna.shift_start == 11 * 3600  # 09:00 + the item's 120 minutes (not checked out yet)
    assert (anna.start.x, anna.start.y) == (order.elder.home_lat, order.elder.home_lng)
    bo = next(w for w in built.problem.workers if w.key == build.caregiver_key(rw.bo.pk))
    assert bo.shift_start == 9 * 3600 + 600  # nobody leaves before now


def test_a_pinned_visit_keeps_its_person(rw):
    order = rw.visit(9)
    key = build.order_key(order.pk)
    built = _built(rw, pins={key: build.caregiver_key(rw.bo.pk)})
    stop = _stop(built, order)
    assert stop.worker == build.caregiver_key(rw.bo.pk) and stop.pinned


def test_an_elder_without_coordinates_is_listed_unplanned(rw):
    from elders.tests.factories import ElderFactory

    order = rw.visit(9, elder=ElderFactory(region=rw.tree.grid))
    built = _built(rw)
    assert [(u.key, u.code) for u in built.unplanned] == [(build.order_key(order.pk), "no_place")]


def test_profile_sets_mode_start_and_break(rw):
    RoutingProfile.objects.create(
        caregiver=rw.anna,
        region=rw.org.region,
        organisation=rw.org,
        mode="foot",
        start_at="base",
        end_at="home",
        break_minutes=30,
        break_from=datetime.time(11, 30),
        break_to=datetime.time(13),
    )
    rw.anna.home_lat, rw.anna.home_lng = 30.7, 120.6
    rw.anna.save()
    rw.visit(9)
    anna = next(w for w in _built(rw).problem.workers if w.key == build.caregiver_key(rw.anna.pk))
    assert anna.mode == "foot"
    assert (anna.start.x, anna.start.y) == (rw.base.lat, rw.base.lng) and (anna.end.x, anna.end.y) == (30.7, 120.6)
    assert [(b.earliest, b.latest, b.duration) for b in anna.breaks] == [(41400, 46800, 1800)]


def test_meal_round_takes_deliveries_with_the_lunch_window_and_couriers_per_round(rw):
    from catalogue.models import ServiceItem
    from merchants.models import Merchant

    meal = ServiceItem.objects.get(code="meal_delivery")
    canteen = Merchant.objects.create(region=rw.tree.community, name="老年食堂", kind="canteen", lat=30.64, lng=120.58)
    rw.base.canteen = canteen
    rw.base.save()
    RoutingProfile.objects.create(caregiver=rw.bo, region=rw.org.region, organisation=rw.org, does_meals=True, capacity=12)
    lunch = rw.visit(11, item=meal, quantity=2)
    rw.visit(9)  # a care visit: not in the round
    built = build.build(kind=Kind.MEALS, day=rw.tomorrow, organisation=rw.org)
    assert [s.key for s in built.problem.stops] == [build.order_key(lunch.pk)]
    stop = built.problem.stops[0]
    assert (stop.earliest, stop.latest, stop.demand) == (10 * 3600 + 1800, 12 * 3600 + 1800, 2)
    assert sorted(w.key for w in built.problem.workers) == [f"caregiver:{rw.bo.pk}#dinner", f"caregiver:{rw.bo.pk}#lunch"]
    w = built.problem.workers[0]
    assert w.capacity == 12 and (w.start.x, w.start.y) == (30.64, 120.58)
