"""Recurring plans: RFC 5545 rules with China's calendar (National Day 2026 and the make-up
working Saturday of 2026-10-10), every Friday, skipping holidays, a year chinese-calendar does not
know, the generator's idempotence and auto-dispatch, and the rules a plan refuses."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audit.models import ChangeRecord
from catalogue.models import ServiceItem
from orders import plans
from orders.models import Order, OrderPlan, Status
from orders.plans import order_plan_create, order_plan_end, order_plan_update, order_plans_generate
from orders.tests.factories import at

pytestmark = pytest.mark.django_db

D = datetime.date
SEPT_28 = D(2026, 9, 28)  # a Monday before National Day
NATIONAL_DAY = [D(2026, 10, d) for d in range(1, 8)]


def _plan(loop, *, item="meal_delivery", rrule="FREQ=DAILY", calendar="working_days", starts_on=SEPT_28, **data):
    meal = ServiceItem.objects.get(code=item)
    data = {
        "rrule": rrule,
        "calendar": calendar,
        "starts_on": starts_on,
        "start_time": datetime.time(11, 0),
        "duration_minutes": 30,
        "auto_dispatch": False,
        **data,
    }
    return order_plan_create(by=loop.desk, elder=loop.elder, item=meal, data=data, generate=False)


def _days(plan):
    return [o.scheduled_start.astimezone(at(SEPT_28, 0).tzinfo).date() for o in plan.orders.order_by("scheduled_start")]


def test_meal_delivery_every_working_day_serves_the_make_up_saturday_and_skips_national_day(loop):
    plan = _plan(loop)

    result = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 12))

    days = _days(plan)
    assert D(2026, 10, 10) in days  # 调休上班的周六：照常送餐
    assert not set(NATIONAL_DAY) & set(days)
    assert D(2026, 10, 11) not in days  # an ordinary Sunday
    assert days == [
        D(2026, 9, 28),
        D(2026, 9, 29),
        D(2026, 9, 30),
        D(2026, 10, 8),
        D(2026, 10, 9),
        D(2026, 10, 10),
        D(2026, 10, 12),
    ]
    assert result.created == 7
    order = plan.orders.order_by("scheduled_start").first()
    assert order.source == "plan" and order.status == Status.CREATED and order.item.code == "meal_delivery"
    assert order.scheduled_start == at(SEPT_28, 11) and order.scheduled_end == at(SEPT_28, 11, 30)


def test_every_friday_with_all_days_keeps_the_friday_in_the_holiday(loop):
    plan = _plan(loop, item="cleaning", rrule="FREQ=WEEKLY;BYDAY=FR", calendar="all_days")
    order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 31))

    assert _days(plan) == [D(2026, 10, 2), D(2026, 10, 9), D(2026, 10, 16), D(2026, 10, 23), D(2026, 10, 30)]
    assert all(d.weekday() == 4 for d in _days(plan))


def test_every_friday_skipping_holidays_drops_the_friday_of_national_day_only(loop):
    plan = _plan(loop, item="cleaning", rrule="FREQ=WEEKLY;BYDAY=FR", calendar="skip_holidays")
    order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 31))

    assert _days(plan) == [D(2026, 10, 9), D(2026, 10, 16), D(2026, 10, 23), D(2026, 10, 30)]


def test_skip_holidays_keeps_an_ordinary_weekend(loop):
    plan = _plan(loop, item="cleaning", rrule="FREQ=WEEKLY;BYDAY=SA,SU", calendar="skip_holidays")
    order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 18))

    # 10-03 and 10-04 fall inside National Day; 10-10 (make-up) and 10-11, 10-17, 10-18 do not.
    assert _days(plan) == [D(2026, 10, 10), D(2026, 10, 11), D(2026, 10, 17), D(2026, 10, 18)]


def test_a_year_beyond_the_calendar_falls_back_to_monday_to_friday_and_says_so(loop):
    assert plans.calendar_known_until() == 2026
    plan = _plan(loop, starts_on=D(2026, 12, 28))
    order_plans_generate(plans=[plan], today=D(2026, 12, 28), until=D(2027, 1, 10))

    days = _days(plan)
    assert [d for d in days if d.year == 2027] == [D(2027, 1, d) for d in (1, 4, 5, 6, 7, 8)]
    preview = plans.plan_preview(plan, after=D(2027, 1, 1))
    assert preview.falls_back and "2027" in preview.fallback_note and "周一至周五" in preview.fallback_note
    assert [d["date"].weekday() for d in preview.dates] == [4, 0, 1, 2, 3, 4, 0, 1, 2, 3]


def test_regenerating_never_doubles_an_order(loop):
    plan = _plan(loop)
    first = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 12))
    plan.generated_until = None  # as if the run had not been recorded: the orders themselves decide
    plan.save(update_fields=["generated_until"])

    again = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 12))
    later = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 10, 14))

    assert first.created == 7 and again.created == 0 and later.created == 2
    assert plan.orders.count() == 9
    assert len(set(plan.orders.values_list("scheduled_start", flat=True))) == 9


def test_each_generated_order_has_its_history_record(loop):
    plan = _plan(loop)
    result = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 9, 30))

    records = ChangeRecord.objects.filter(model="orders.order", action="create", object_id__in=plan.orders.values("pk"))
    assert result.created == 3 and records.count() == 3
    record = records.first()
    assert record.changes["source"] == [None, "plan"] and record.changes["plan"] == [None, plan.pk]
    assert record.region_id == loop.elder.region_id and record.by_id is None and "周期计划" in record.note


def test_generated_orders_carry_the_price_at_the_elders_region(loop):
    from catalogue.services import price_entry_set

    meal = ServiceItem.objects.get(code="meal_delivery")
    price_entry_set(by=loop.admin, region=loop.tree.community, item=meal, price_fen=1250, valid_from=D(2026, 1, 1))
    plan = _plan(loop, payment_mode="paid", quantity=2)
    order_plans_generate(plans=[plan], today=SEPT_28, until=SEPT_28)

    order = plan.orders.get()
    assert order.unit_price_fen == 1250 and order.amount_fen == 2500 and order.payment_mode == "paid"


def test_the_daily_run_generates_every_active_plan_ahead(loop, settings):
    settings.ORDERS_PLAN_DAYS_AHEAD = 3
    plan = _plan(loop, calendar="all_days", starts_on=D(2026, 12, 1))
    ended = _plan(loop, calendar="all_days", starts_on=D(2026, 12, 1))
    OrderPlan.objects.filter(pk=ended.pk).update(is_active=False)

    result = order_plans_generate(today=D(2026, 12, 1))

    assert plan.orders.count() == 4  # today and the 3 days ahead
    assert ended.orders.count() == 0 and result.plans == 1
    plan.refresh_from_db()
    assert plan.generated_until == D(2026, 12, 4)


def test_the_schedule_runs_the_generator_daily():
    from jobs.schedule import periodic_get

    entry = periodic_get("order_plans_generate")
    assert entry.every == datetime.timedelta(days=1)
    assert entry.function == "orders.plans.order_plans_generate_daily"


def test_auto_dispatch_falls_back_to_the_plans_caregiver(loop, monkeypatch):
    monkeypatch.setattr(plans, "_auto_dispatcher", lambda: None)  # no orders.dispatch.auto_dispatch
    plan = _plan(loop, auto_dispatch=True, caregiver=loop.anna)
    result = order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 9, 30), by=loop.desk)

    assert result.dispatched == 3 and result.not_dispatched == 0
    assert set(plan.orders.values_list("status", "caregiver", "organisation")) == {(Status.DISPATCHED, loop.anna.pk, loop.org.pk)}


def test_auto_dispatch_calls_the_ranking_when_it_exists(loop, monkeypatch):
    calls = []

    def ranking(*, by, order):
        calls.append((by, order.pk))
        from orders.services import order_dispatch

        return order_dispatch(by=by, order=order, caregiver=loop.bo)

    monkeypatch.setattr(plans, "_auto_dispatcher", lambda: ranking)
    plan = _plan(loop, auto_dispatch=True)
    order_plans_generate(plans=[plan], today=SEPT_28, until=D(2026, 9, 29), by=loop.desk)

    assert len(calls) == 2 and {by for by, _pk in calls} == {loop.desk}
    assert set(plan.orders.values_list("caregiver", flat=True)) == {loop.bo.pk}


def test_the_daily_run_dispatches_as_the_plans_author_and_leaves_refusals_to_the_station(loop, monkeypatch):
    from providers.services import caregiver_change_status

    monkeypatch.setattr(plans, "_auto_dispatcher", lambda: None)
    plan = _plan(loop, auto_dispatch=True, caregiver=loop.anna, calendar="all_days", starts_on=D(2026, 12, 1))
    caregiver_change_status(by=loop.admin, caregiver=loop.anna, action="leave")

    result = order_plans_generate(today=D(2026, 12, 1), until=D(2026, 12, 2))

    assert result.created == 2 and result.dispatched == 0 and result.not_dispatched == 2
    assert set(plan.orders.values_list("status", flat=True)) == {Status.CREATED}


def test_a_plan_is_created_with_its_orders_for_the_next_days(loop, settings):
    settings.ORDERS_PLAN_DAYS_AHEAD = 2
    meal = ServiceItem.objects.get(code="meal_delivery")
    data = {
        "rrule": "FREQ=DAILY",
        "calendar": "all_days",
        "starts_on": loop.tomorrow,
        "start_time": datetime.time(11),
        "duration_minutes": 30,
    }
    plan = order_plan_create(by=loop.desk, elder=loop.elder, item=meal, data=data)

    assert plan.orders.count() == 2  # tomorrow and the day after (today + 2)
    assert ChangeRecord.objects.filter(model="orders.orderplan", object_id=plan.pk, action="create").exists()


@pytest.mark.parametrize(
    ("rrule", "field", "words"),
    [
        ("FREQ=HOURLY", "rrule", "最多每天一次"),
        ("FREQ=MINUTELY;INTERVAL=30", "rrule", "最多每天一次"),
        ("FREQ=DAILY;BYHOUR=9,15", "rrule", "上门时间"),
        ("FREQ=DAILY;COUNT=5000", "rrule", "COUNT"),
        ("FREQ=DAILY;UNTIL=20400101", "rrule", "UNTIL"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "rrule", "不会产生任何服务"),
        ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "rrule", "不会产生任何服务"),
        ("每天一次", "rrule", "格式不正确"),
        ("FREQ=WEEKLY;BYDAY=XY", "rrule", "BYDAY"),
        ("", "rrule", "请填写重复规则"),
        ("FREQ=DAILY;DTSTART=20260101", "rrule", "开始日期"),
    ],
)
def test_a_bad_rule_is_refused_with_a_chinese_message(loop, rrule, field, words):
    with pytest.raises(ValidationError) as refused:
        _plan(loop, rrule=rrule, calendar="all_days")
    message = " ".join(refused.value.message_dict[field])
    assert words in message
    assert not OrderPlan.objects.exists()


def test_a_rule_the_calendar_leaves_empty_is_refused(loop):
    # Only the National Day holiday itself, and working days only: nothing is ever served.
    with pytest.raises(ValidationError) as refused:
        _plan(loop, rrule="FREQ=DAILY", starts_on=D(2026, 10, 1), ends_on=D(2026, 10, 7))
    assert "没有任何一天需要服务" in refused.value.message_dict["rrule"][0]


def test_a_rule_is_stored_normalised(loop):
    plan = _plan(loop, rrule="rrule:freq=weekly; byday=fr", calendar="all_days")
    assert plan.rrule == "FREQ=WEEKLY;BYDAY=FR"


def test_ending_a_plan_cancels_its_later_open_orders_with_the_reason(loop):
    plan = _plan(loop, calendar="all_days", starts_on=loop.tomorrow)
    order_plans_generate(plans=[plan], until=loop.tomorrow + datetime.timedelta(days=5))
    last = loop.tomorrow + datetime.timedelta(days=1)

    order_plan_end(by=loop.desk, plan=plan, reason="老人住院", ends_on=last)

    plan.refresh_from_db()
    assert plan.ends_on == last and plan.is_active  # runs until its last day
    kept = plan.orders.exclude(status=Status.CANCELLED).order_by("scheduled_start")
    assert [timezone.localtime(o.scheduled_start).date() for o in kept] == [loop.tomorrow, last]
    cancelled = plan.orders.filter(status=Status.CANCELLED)
    assert cancelled.count() == 4 and all("老人住院" in o.cancel_reason for o in cancelled)
    assert order_plans_generate(plans=[plan], until=loop.tomorrow + datetime.timedelta(days=9)).created == 0


def test_ending_needs_a_reason(loop):
    plan = _plan(loop, calendar="all_days", starts_on=loop.tomorrow)
    with pytest.raises(ValidationError) as refused:
        order_plan_end(by=loop.desk, plan=plan, reason=" ")
    assert "reason" in refused.value.message_dict


def test_changing_the_schedule_cancels_the_orders_it_no_longer_has(loop):
    monday = loop.tomorrow + datetime.timedelta(days=(7 - loop.tomorrow.weekday()) % 7)
    plan = _plan(loop, item="cleaning", rrule="FREQ=WEEKLY;BYDAY=MO,FR", calendar="all_days", starts_on=monday)
    order_plans_generate(plans=[plan], until=monday + datetime.timedelta(days=13))
    assert plan.orders.count() == 4

    order_plan_update(by=loop.desk, plan=plan, data={"rrule": "FREQ=WEEKLY;BYDAY=MO"})

    open_days = sorted(timezone.localtime(o.scheduled_start).weekday() for o in plan.orders.exclude(status=Status.CANCELLED))
    assert open_days == [0, 0]
    assert plan.orders.filter(status=Status.CANCELLED).count() == 2
    assert all(o.cancel_reason == "周期计划已修改" for o in plan.orders.filter(status=Status.CANCELLED))


def test_a_plan_for_an_elder_who_moved_out_generates_nothing(loop):
    from elders.services import elder_change_status

    plan = _plan(loop, calendar="all_days", starts_on=loop.tomorrow)
    elder_change_status(
        by=loop.admin,
        elder=loop.elder,
        action="move_out",
        effective_on=loop.tomorrow - datetime.timedelta(days=1),
        reason="随子女",
    )

    assert order_plans_generate(plans=[plan]).created == 0
    assert not Order.objects.filter(plan=plan).exists()


def test_a_plan_follows_its_elder_to_another_community(loop):
    plan = _plan(loop, calendar="all_days", starts_on=loop.tomorrow)
    type(loop.elder).objects.filter(pk=loop.elder.pk).update(region=loop.tree.community2)

    order_plans_generate(plans=[plan], until=loop.tomorrow)

    plan.refresh_from_db()
    assert plan.region == loop.tree.community2
    assert plan.orders.get().region == loop.tree.community2
