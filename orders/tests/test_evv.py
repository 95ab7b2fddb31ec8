"""Visit verification (EVV) at the door: the grace and geofence edges with a controlled clock,
required outcomes, offline records and their phone clock, idempotent retries, exceptions and
their resolution, stray check-ins and the no-show sweep (orders/evv.py, docs/orders-visits.md)."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from audit.models import AccessLog, ChangeRecord
from orders.evv import (
    no_show_sweep,
    order_check_in,
    order_check_out,
    stray_checkin_record,
    stray_checkin_resolve,
    visit_exception_resolve,
)
from orders.evv_selectors import map_uri, my_day, visit_elder_phone
from orders.models import ExceptionCode, Order, Status, StrayCheckin, Verification, VisitException
from orders.tests.factories import HOME, at, checked_in, north_of_home, outcomes_of

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)
MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def visit(loop):
    """An order for tomorrow 09:00–11:00 (cleaning), accepted by 王安娜."""
    return loop.accepted(loop.order())


def codes(order) -> set[str]:
    return set(VisitException.objects.filter(order=order).values_list("code", flat=True))


def check_in(order, *, now=None, metres=20, accuracy_m=15, **kw):
    lat, lng = north_of_home(metres)
    return order_check_in(
        by=order.caregiver.user,
        order=order,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        now=now or order.scheduled_start,
        **kw,
    )


def check_out(order, *, now=None, metres=20, accuracy_m=15, outcomes=None, **kw):
    lat, lng = north_of_home(metres)
    return order_check_out(
        by=order.caregiver.user,
        order=order,
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        outcomes=outcomes_of(order) if outcomes is None else outcomes,
        now=now or order.scheduled_end,
        **kw,
    )


# --- the six things, on time and in place -----------------------------------------------------------


def test_a_visit_on_time_at_the_door_records_the_six_things_and_is_verified(visit, loop):
    check_in(visit, now=visit.scheduled_start + 5 * MINUTE, metres=30)
    check_out(visit, now=visit.scheduled_end, metres=40, notes="老人精神很好")

    visit.refresh_from_db()
    assert visit.status == Status.COMPLETED
    assert (visit.item, visit.elder, visit.caregiver) == (loop.item, loop.elder, loop.anna)
    assert visit.checkin_at == visit.scheduled_start + 5 * MINUTE and visit.checkout_at == visit.scheduled_end
    assert (visit.checkin_distance_m, visit.checkin_accuracy_m) == (30, 15)
    assert visit.checkout_distance_m == 40 and visit.checkin_lat == pytest.approx(north_of_home(30)[0])
    assert visit.outcomes == {"清洁已完成": True} and visit.worker_notes == "老人精神很好"
    assert visit.flags == [] and codes(visit) == set()
    assert visit.verification == Verification.VERIFIED


def test_the_check_in_is_one_recorded_move_by_the_worker(visit, loop):
    check_in(visit)

    record = ChangeRecord.objects.filter(object_id=str(visit.pk), action="status").latest("id")
    assert record.by == loop.anna_user
    assert record.changes["status"] == ["accepted", "in_service"]
    assert record.changes["checkin_distance_m"] == [None, 20]


# --- the grace -----------------------------------------------------------------------------------------


def test_exactly_fifteen_minutes_late_is_within_the_grace(visit):
    check_in(visit, now=visit.scheduled_start + 15 * MINUTE)

    visit.refresh_from_db()
    assert codes(visit) == set() and "late" not in visit.flags


def test_fifteen_minutes_and_one_second_late_is_a_late_exception(visit):
    check_in(visit, now=visit.scheduled_start + 15 * MINUTE + SECOND)

    visit.refresh_from_db()
    assert codes(visit) == {ExceptionCode.LATE} and visit.flags == ["late"]
    late = VisitException.objects.get(order=visit)
    assert late.resolution == VisitException.Resolution.OPEN and "晚 15 分钟" in late.detail


def test_the_grace_is_a_setting(visit, settings):
    settings.EVV_LATE_GRACE_MINUTES = 5
    check_in(visit, now=visit.scheduled_start + 6 * MINUTE)

    assert codes(visit) == {ExceptionCode.LATE}


def test_a_check_in_long_before_the_window_is_refused_pointing_to_a_stray_check_in(visit):
    with pytest.raises(ValidationError) as refused:
        check_in(visit, now=visit.scheduled_start - 61 * MINUTE)

    assert "临时签到" in refused.value.message_dict["action"][0]
    visit.refresh_from_db()
    assert visit.status == Status.ACCEPTED and visit.checkin_at is None


def test_an_hour_early_is_still_a_check_in(visit):
    check_in(visit, now=visit.scheduled_start - 60 * MINUTE)

    visit.refresh_from_db()
    assert visit.status == Status.IN_SERVICE and codes(visit) == set()


# --- the geofence and the position -------------------------------------------------------------------------


def test_exactly_200_m_from_home_is_inside_the_geofence(visit):
    check_in(visit, metres=200)

    visit.refresh_from_db()
    assert visit.checkin_distance_m == 200 and codes(visit) == set()


def test_201_m_from_home_is_outside_the_geofence(visit):
    check_in(visit, metres=201)

    visit.refresh_from_db()
    assert visit.checkin_distance_m == 201 and codes(visit) == {ExceptionCode.OUTSIDE_GEOFENCE}
    assert "201 米" in VisitException.objects.get(order=visit).detail


def test_a_check_out_outside_the_geofence_has_its_own_code(visit):
    check_in(visit)
    check_out(visit, metres=450)

    visit.refresh_from_db()
    assert codes(visit) == {ExceptionCode.CHECKOUT_OUTSIDE} and visit.verification == Verification.PENDING


def test_a_position_less_accurate_than_required_is_an_exception(visit):
    check_in(visit, accuracy_m=101)

    assert codes(visit) == {ExceptionCode.LOW_ACCURACY}


def test_an_accuracy_of_exactly_the_minimum_passes(visit):
    check_in(visit, accuracy_m=100)

    assert codes(visit) == set()


def test_no_position_from_the_phone_is_a_no_location_exception(visit):
    order_check_in(by=visit.caregiver.user, order=visit, lat=None, lng=None, accuracy_m=None, now=visit.scheduled_start)

    visit.refresh_from_db()
    assert visit.status == Status.IN_SERVICE and codes(visit) == {ExceptionCode.NO_LOCATION}


def test_an_elder_without_a_home_position_is_a_no_location_exception(visit, loop):
    loop.elder.home_lat = loop.elder.home_lng = None
    loop.elder.save(update_fields=["home_lat", "home_lng"])
    check_in(visit)

    visit.refresh_from_db()
    assert codes(visit) == {ExceptionCode.NO_LOCATION} and visit.checkin_distance_m is None
    assert "老人住址未标注坐标" in VisitException.objects.get(order=visit).detail


def test_only_the_worker_of_the_order_checks_in(visit, loop):
    lat, lng = HOME
    with pytest.raises(ValidationError) as refused:
        order_check_in(by=loop.bo_user, order=visit, lat=lat, lng=lng, accuracy_m=10, now=visit.scheduled_start)
    assert "本人" in refused.value.message_dict["action"][0]
    visit.refresh_from_db()
    assert visit.status == Status.ACCEPTED


def test_a_check_in_of_an_order_not_accepted_is_refused_by_the_table(loop):
    order = loop.dispatched(loop.order(), caregiver=loop.anna)
    with pytest.raises(ValidationError) as refused:
        checked_in(order, person=loop.anna)
    assert "已派单" in refused.value.message_dict["action"][0]


# --- check-out: outcomes, short, over-run -------------------------------------------------------------------


def test_check_out_is_refused_until_every_required_outcome_is_recorded(loop):
    from catalogue.models import ServiceItem
    from orders.services import order_create

    bathing = ServiceItem.objects.get(code="bathing")  # 助浴已完成, 皮肤状况已查看
    order = order_create(by=loop.desk, elder=loop.elder, item=bathing, scheduled_start=at(loop.tomorrow, 9))
    visit = loop.accepted(order)
    check_in(visit)

    with pytest.raises(ValidationError) as refused:
        check_out(visit, outcomes={"助浴已完成": True, "皮肤状况已查看": "  "})
    assert refused.value.message_dict["outcomes"] == ["签退前请先记录：皮肤状况已查看"]
    with pytest.raises(ValidationError) as refused:
        check_out(visit, outcomes={})
    assert "助浴已完成、皮肤状况已查看" in refused.value.message_dict["outcomes"][0]
    visit.refresh_from_db()
    assert visit.status == Status.IN_SERVICE and visit.checkout_at is None

    check_out(visit, outcomes={"助浴已完成": True, "皮肤状况已查看": "背部皮肤正常"})
    visit.refresh_from_db()
    assert visit.status == Status.COMPLETED and visit.outcomes["皮肤状况已查看"] == "背部皮肤正常"


def test_an_outcome_the_item_does_not_ask_for_is_refused(visit):
    check_in(visit)
    with pytest.raises(ValidationError) as refused:
        check_out(visit, outcomes={"清洁已完成": True, "顺便理发": True})
    assert "顺便理发" in refused.value.message_dict["outcomes"][0]


def test_a_visit_under_80_percent_of_the_plan_is_short(visit):
    planned = visit.scheduled_end - visit.scheduled_start  # 120 minutes
    check_in(visit)
    check_out(visit, now=visit.scheduled_start + planned * 0.8)  # exactly 80 %: not short
    assert codes(visit) == set()


def test_a_visit_just_under_80_percent_is_a_short_exception(loop):
    visit = loop.accepted(loop.order())
    check_in(visit)
    check_out(visit, now=visit.scheduled_start + 96 * MINUTE - SECOND)

    visit.refresh_from_db()
    assert codes(visit) == {ExceptionCode.SHORT} and visit.verification == Verification.PENDING


def test_an_over_running_visit_is_flagged_not_held(visit):
    check_in(visit)
    check_out(visit, now=visit.scheduled_start + 181 * MINUTE)  # 151 % of 120 minutes

    visit.refresh_from_db()
    assert visit.flags == ["over_run"] and codes(visit) == set()
    assert visit.verification == Verification.VERIFIED


# --- resolution by a person ------------------------------------------------------------------------------------


def test_an_open_exception_keeps_the_visit_pending_until_a_person_accepts_it(visit, loop):
    check_in(visit, now=visit.scheduled_start + 20 * MINUTE)
    check_out(visit)
    visit.refresh_from_db()
    assert visit.verification == Verification.PENDING

    late = VisitException.objects.get(order=visit)
    with pytest.raises(ValidationError) as refused:
        visit_exception_resolve(by=loop.desk, exception=late, resolution="accepted", note=" ")
    assert "note" in refused.value.message_dict
    visit_exception_resolve(by=loop.desk, exception=late, resolution="accepted", note="电梯故障，已电话告知老人")

    visit.refresh_from_db()
    late.refresh_from_db()
    assert visit.verification == Verification.VERIFIED
    assert (late.resolution, late.resolved_by, late.resolution_note) == ("accepted", loop.desk, "电梯故障，已电话告知老人")
    verify = ChangeRecord.objects.filter(object_id=str(visit.pk), action="verify").get()
    assert verify.changes["verification"] == ["pending", "verified"] and verify.by == loop.desk


def test_any_rejected_exception_rejects_the_visit(visit, loop):
    check_in(visit, now=visit.scheduled_start + 20 * MINUTE, metres=500)
    check_out(visit)
    late, outside = VisitException.objects.filter(order=visit).order_by("code")
    visit_exception_resolve(by=loop.desk, exception=late, resolution="accepted", note="交通管制")
    visit.refresh_from_db()
    assert visit.verification == Verification.PENDING  # one still open

    visit_exception_resolve(by=loop.desk, exception=outside, resolution="rejected", note="老人说当天没有人来")
    visit.refresh_from_db()
    assert visit.verification == Verification.REJECTED


def test_an_exception_is_resolved_once(visit, loop):
    check_in(visit, accuracy_m=500)
    exception = VisitException.objects.get(order=visit)
    visit_exception_resolve(by=loop.desk, exception=exception, resolution="accepted", note="楼内信号差")

    with pytest.raises(ValidationError) as refused:
        visit_exception_resolve(by=loop.desk, exception=exception, resolution="rejected", note="改主意")
    assert "已处理" in refused.value.message_dict["resolution"][0]


def test_an_exception_resolved_during_the_visit_leaves_it_pending_until_check_out(visit, loop):
    check_in(visit, accuracy_m=500)
    visit_exception_resolve(by=loop.desk, exception=VisitException.objects.get(order=visit), resolution="accepted", note="信号差")
    visit.refresh_from_db()
    assert visit.verification == Verification.PENDING

    check_out(visit)
    visit.refresh_from_db()
    assert visit.verification == Verification.VERIFIED


def test_the_same_problem_again_at_check_out_reopens_a_resolved_exception(visit, loop):
    check_in(visit, accuracy_m=500)
    exception = VisitException.objects.get(order=visit)
    visit_exception_resolve(by=loop.desk, exception=exception, resolution="accepted", note="信号差")
    check_out(visit, accuracy_m=400)

    exception.refresh_from_db()
    visit.refresh_from_db()
    assert exception.resolution == "open" and "400 米" in exception.detail
    assert visit.verification == Verification.PENDING


def test_a_worker_may_not_resolve_exceptions(visit, loop):
    from core.access import NotPermitted

    check_in(visit, accuracy_m=500)
    with pytest.raises(NotPermitted):
        visit_exception_resolve(
            by=loop.anna_user, exception=VisitException.objects.get(order=visit), resolution="accepted", note="我到了"
        )


# --- idempotency: a retry never doubles ------------------------------------------------------------------------


def test_the_same_check_in_key_twice_makes_one_check_in_and_one_record(visit):
    first = check_in(visit, idempotency_key="ci-1", now=visit.scheduled_start)
    again = check_in(visit, idempotency_key="ci-1", now=visit.scheduled_start + 40 * MINUTE, metres=900)

    assert again.pk == first.pk and again.checkin_at == visit.scheduled_start and again.checkin_distance_m == 20
    moves = ChangeRecord.objects.filter(object_id=str(visit.pk), action="status", changes__status=["accepted", "in_service"])
    assert moves.count() == 1 and codes(visit) == set()


def test_the_same_check_out_key_twice_makes_one_check_out(visit):
    check_in(visit)
    check_out(visit, idempotency_key="co-1")
    again = check_out(visit, idempotency_key="co-1", outcomes={})

    assert again.status == Status.COMPLETED
    moves = ChangeRecord.objects.filter(object_id=str(visit.pk), action="status", changes__status=["in_service", "completed"])
    assert moves.count() == 1


def test_a_key_used_for_another_order_is_refused(loop):
    first = loop.accepted(loop.order())
    second = loop.accepted(loop.order(start=at(loop.tomorrow, 14)))
    check_in(first, idempotency_key="k-1")
    with pytest.raises(ValidationError) as refused:
        check_in(second, idempotency_key="k-1")
    assert "idempotency_key" in refused.value.message_dict
    second.refresh_from_db()
    assert second.status == Status.ACCEPTED


# --- offline records and the phone's clock ------------------------------------------------------------------


def test_an_offline_check_in_keeps_the_phones_time_and_is_marked_delayed(visit):
    tapped = visit.scheduled_start + 3 * MINUTE
    received = tapped + 2 * datetime.timedelta(hours=1)  # the basement had no network for two hours
    check_in(visit, now=received, device_at=tapped, device_sent_at=received + 30 * SECOND, offline=True)

    visit.refresh_from_db()
    assert visit.checkin_at == tapped and visit.checkin_device_at == tapped
    assert visit.checkin_delayed is True and visit.flags == ["delayed_sync"]
    assert codes(visit) == set()  # a trusted delayed record is a flag, nothing to resolve


def test_an_offline_record_needs_the_phones_time(visit):
    with pytest.raises(ValidationError) as refused:
        check_in(visit, offline=True)
    assert "device_at" in refused.value.message_dict


def test_a_phone_clock_30_minutes_off_is_a_clock_skew_exception_and_the_time_is_corrected(visit):
    skew = 30 * MINUTE
    true_tap = visit.scheduled_start + 2 * MINUTE
    received = true_tap + datetime.timedelta(hours=1)
    check_in(visit, now=received, device_at=true_tap + skew, device_sent_at=received + skew, offline=True)

    visit.refresh_from_db()
    assert visit.checkin_at == true_tap and visit.checkin_device_at == true_tap + skew
    assert codes(visit) == {ExceptionCode.CLOCK_SKEW} and "相差 30 分钟" in VisitException.objects.get(order=visit).detail
    assert set(visit.flags) == {"clock_skew", "delayed_sync"}


def test_a_phone_time_in_the_future_is_not_trusted(visit):
    received = visit.scheduled_start + 5 * MINUTE
    check_in(visit, now=received, device_at=received + 11 * MINUTE, offline=True)

    visit.refresh_from_db()
    assert visit.checkin_at == received and codes(visit) == {ExceptionCode.CLOCK_SKEW}


def test_a_skew_of_exactly_the_allowance_is_trusted(visit):
    tapped = visit.scheduled_start
    received = tapped + 20 * MINUTE
    check_in(visit, now=received, device_at=tapped + 10 * MINUTE, device_sent_at=received + 10 * MINUTE, offline=True)

    visit.refresh_from_db()
    assert visit.checkin_at == tapped + 10 * MINUTE and codes(visit) == set()


def test_an_offline_check_in_and_check_out_replayed_in_order_keep_their_times(visit):
    start, end = visit.scheduled_start + MINUTE, visit.scheduled_end - MINUTE
    back_online = visit.scheduled_end + 30 * MINUTE
    check_in(visit, now=back_online, device_at=start, offline=True, idempotency_key="a")
    check_out(visit, now=back_online + SECOND, device_at=end, offline=True, idempotency_key="b")
    # the phone did not hear the answers and sends both again
    check_in(visit, now=back_online + MINUTE, device_at=start, offline=True, idempotency_key="a")
    check_out(visit, now=back_online + MINUTE, device_at=end, offline=True, idempotency_key="b")

    visit.refresh_from_db()
    assert (visit.checkin_at, visit.checkout_at) == (start, end)
    assert visit.checkin_delayed and visit.checkout_delayed
    assert visit.status == Status.COMPLETED and visit.verification == Verification.VERIFIED
    assert ChangeRecord.objects.filter(object_id=str(visit.pk), action="status").count() == 4  # dispatch, accept, in, out


# --- the no-show sweep ---------------------------------------------------------------------------------------------


def test_the_sweep_flags_accepted_visits_past_the_no_show_grace_once(loop):
    late = loop.accepted(loop.order(start=at(loop.tomorrow, 9)))
    not_yet = loop.accepted(loop.order(start=at(loop.tomorrow, 9, 1)))
    served = loop.accepted(loop.order(start=at(loop.tomorrow, 8)))
    check_in(served)
    unaccepted = loop.dispatched(loop.order(start=at(loop.tomorrow, 8)))
    now = at(loop.tomorrow, 9, 30) + SECOND

    assert no_show_sweep(now=now) == 1
    assert no_show_sweep(now=now) == 0  # idempotent: nothing new

    late.refresh_from_db()
    assert codes(late) == {ExceptionCode.NO_SHOW} and late.flags == ["no_show"]
    assert codes(not_yet) == codes(served) == codes(unaccepted) == set()
    assert ChangeRecord.objects.filter(object_id=str(late.pk), action="flag").count() == 1


def test_exactly_thirty_minutes_without_check_in_is_not_yet_a_no_show(visit):
    assert no_show_sweep(now=visit.scheduled_start + 30 * MINUTE) == 0


def test_a_no_show_worker_who_comes_late_leaves_both_for_a_person(visit):
    no_show_sweep(now=visit.scheduled_start + 31 * MINUTE)
    check_in(visit, now=visit.scheduled_start + 40 * MINUTE)
    check_out(visit, now=visit.scheduled_end + 40 * MINUTE)

    visit.refresh_from_db()
    assert codes(visit) == {ExceptionCode.NO_SHOW, ExceptionCode.LATE}
    assert visit.verification == Verification.PENDING


# --- stray check-ins -------------------------------------------------------------------------------------------------


def test_a_stray_check_in_waits_for_a_community_worker_who_links_it(loop):
    lat, lng = north_of_home(10)
    stray = stray_checkin_record(by=loop.anna_user, lat=lat, lng=lng, accuracy_m=12, elder=loop.elder, note="老人临时来电求助")
    assert (stray.state, stray.caregiver, stray.region) == ("open", loop.anna, loop.elder.region)

    order = loop.order()
    with pytest.raises(ValidationError):
        stray_checkin_resolve(by=loop.desk, stray=stray, order=order, note="")
    stray_checkin_resolve(by=loop.desk, stray=stray, order=order, note="补录为今日工单")

    stray.refresh_from_db()
    assert (stray.state, stray.order, stray.resolved_by) == ("matched", order, loop.desk)
    assert ChangeRecord.objects.filter(object_id=str(order.pk), action="stray_checkin").exists()
    with pytest.raises(ValidationError) as refused:
        stray_checkin_resolve(by=loop.desk, stray=stray, dismiss=True, note="再处理")
    assert "已处理" in refused.value.message_dict["action"][0]


def test_a_stray_check_in_may_be_dismissed_and_needs_a_note(loop):
    with pytest.raises(ValidationError) as refused:
        stray_checkin_record(by=loop.anna_user, lat=None, lng=None, accuracy_m=None, note="")
    assert "note" in refused.value.message_dict
    stray = stray_checkin_record(by=loop.anna_user, lat=None, lng=None, accuracy_m=None, note="找不到单子")
    assert stray.region == loop.org.region

    stray_checkin_resolve(by=loop.desk, stray=stray, dismiss=True, note="误操作")
    stray.refresh_from_db()
    assert stray.state == StrayCheckin.State.DISMISSED and stray.order is None


def test_only_a_caregiver_records_a_stray_check_in(loop):
    with pytest.raises(ValidationError):
        stray_checkin_record(by=loop.dispatcher, lat=None, lng=None, accuracy_m=None, note="试试")
    assert not StrayCheckin.objects.exists()


# --- the worker's day and the elder's phone --------------------------------------------------------------------------


def test_my_day_lists_the_workers_own_visits_in_order(loop):
    afternoon = loop.accepted(loop.order(start=at(loop.tomorrow, 14)))
    morning = loop.accepted(loop.order(start=at(loop.tomorrow, 9)))
    loop.accepted(loop.order(start=at(loop.tomorrow, 10)), loop.bo)  # a colleague's
    loop.accepted(loop.order(start=at(loop.tomorrow + datetime.timedelta(days=1), 9)))  # another day

    assert list(my_day(user=loop.anna_user, day=loop.tomorrow)) == [morning, afternoon]
    assert list(my_day(user=loop.desk, day=loop.tomorrow)) == []


def test_the_elders_phone_is_revealed_only_during_the_visit_and_logged(visit, loop):
    from core.crypto import decrypt

    assert visit_elder_phone(user=loop.anna_user, order=visit) is None
    check_in(visit)
    visit.refresh_from_db()
    assert visit_elder_phone(user=loop.bo_user, order=visit) is None  # not bo's visit
    phone = visit_elder_phone(user=loop.anna_user, order=visit)
    assert phone == decrypt(loop.elder.phone_enc) and len(phone) == 11
    log = AccessLog.objects.get(by=loop.anna_user)
    assert (log.kind, log.model, log.object_id, log.fields) == ("reveal", "elders.elder", loop.elder.pk, "phone")

    check_out(visit)
    visit.refresh_from_db()
    assert visit_elder_phone(user=loop.anna_user, order=visit) is None
    assert AccessLog.objects.filter(by=loop.anna_user).count() == 1


def test_the_map_link_is_a_geo_uri_with_the_address(visit):
    assert map_uri(visit) == "geo:30.630000,120.570000?q=30.630000,120.570000(1%E5%8F%B7%E6%A5%BC1%E5%8D%95%E5%85%83101)"


def test_orders_are_never_doubled_by_the_evv(visit):
    check_in(visit, idempotency_key="x")
    check_in(visit, idempotency_key="x")
    assert Order.objects.count() == 1


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs concurrent connections (PostgreSQL)"
)
@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_twice_at_the_same_moment_checks_in_once_without_an_error(tree):
    """On PostgreSQL with two connections: the phone's queue and a retry race; the row lock makes
    the second wait, find the key and answer the first result."""
    import threading

    from orders.tests.factories import LoopWorld

    loop = LoopWorld.build(tree)
    visit = loop.accepted(loop.order())
    start = threading.Barrier(2)
    results = []

    def send():
        from django.db import connections

        try:
            start.wait()
            results.append(check_in(Order.objects.get(pk=visit.pk), idempotency_key="race").checkin_at)
        except Exception as exc:  # noqa: BLE001 - any error is the failure this test looks for
            results.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert results == [visit.scheduled_start, visit.scheduled_start]
    moves = ChangeRecord.objects.filter(object_id=str(visit.pk), action="status", changes__status=["accepted", "in_service"])
    assert moves.count() == 1
