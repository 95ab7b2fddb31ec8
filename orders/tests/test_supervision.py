"""The supervision board on a small world counted by hand, and the scorecard's arithmetic."""

import datetime
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from audit.models import ChangeRecord
from conftest import make_user
from core.access import NotPermitted
from orders.models import FollowUp, Order, VisitException
from orders.quality import call_back_record, call_backs_draw, follow_up_create, order_rate
from orders.supervision import (
    Scorecard,
    board,
    board_orders,
    parse_month,
    percent_text,
    score_of,
    scorecard,
    scorecard_apply,
    star_for,
)
from orders.tests.factories import at, delivered, relative

pytestmark = pytest.mark.django_db

OCTOBER = datetime.date(2026, 10, 1)


def _flag(order, *flags):
    Order.objects.filter(pk=order.pk).update(flags=list(flags))


@pytest.fixture
def world(loop, tree):
    """October 2026 in 安泰社区 (by hand):

    o1 王安娜 delivered late, rated 2 → late, low_rating (its follow-up is not overdue)
    o2 王安娜 delivered, rated 5 → nothing
    o3 李波 accepted, flagged no_show → missed
    o4 sent to the organisation, nobody accepted, deadline passed → unaccepted
    o5 李波 delivered with an open visit exception → exceptions
    o6 王安娜 delivered, a complaint whose deadline passed → follow_ups_overdue
    o7 驻春路社区's order, delivered late by 王安娜 → only a city user counts it
    o8 November, late → not October
    """
    from elders.tests.factories import ElderFactory
    from orders.services import order_create, order_dispatch

    day = lambda d, h=9: at(datetime.date(2026, 10, d), h)  # noqa: E731
    son = relative(loop)
    w = type("W", (), {})()
    w.o1 = delivered(loop, start=day(5), flags=["late"])
    order_rate(by=son, order=w.o1, rating=2, via="portal")
    w.o2 = delivered(loop, start=day(6))
    order_rate(by=son, order=w.o2, rating=5, via="portal")
    w.o3 = loop.accepted(loop.order(start=day(7)), loop.bo)
    _flag(w.o3, "no_show")
    w.o4 = loop.dispatched(loop.order(start=day(8)))
    Order.objects.filter(pk=w.o4.pk).update(accept_by=timezone.now() - datetime.timedelta(hours=1))
    w.o5 = delivered(loop, start=day(9), person=loop.bo)
    VisitException.objects.create(order=w.o5, code="short", detail="服务 20 分钟")
    w.o6 = delivered(loop, start=day(10))
    follow_up = follow_up_create(by=loop.desk, order=w.o6, note="家属来电投诉")
    FollowUp.objects.filter(pk=follow_up.pk).update(due_on=datetime.date(2026, 10, 20))
    desk2 = make_user("desk2", "community", tree.community2)
    far = ElderFactory(region=tree.community2)
    o7 = order_create(by=desk2, elder=far, item=loop.item, scheduled_start=day(11))
    order_dispatch(by=desk2, order=o7, organisation=loop.org, caregiver=loop.anna)
    w.o7 = delivered(loop, order=Order.objects.get(pk=o7.pk), flags=["late"])
    w.o8 = delivered(loop, start=at(datetime.date(2026, 11, 3), 9), flags=["late"])
    w.city = make_user("city_q", "aging_office", tree.city)
    return w


EXPECTED = {"unaccepted": 1, "late": 1, "missed": 1, "exceptions": 1, "low_rating": 1, "follow_ups_overdue": 1}


def test_the_community_board_counts_its_month(loop, world):
    b = board(user=loop.desk, month=OCTOBER)

    assert b.totals == EXPECTED
    assert b.orders == 6
    assert [(r.label, r.counts) for r in b.organisations] == [(loop.org.name, EXPECTED)]
    assert [(r.label, r.total) for r in b.areas] == [(loop.tree.grid.name, 6)]


def test_the_board_counts_by_worker(loop, world):
    rows = {r.label: r.counts for r in board(user=loop.desk, month=OCTOBER).workers}

    assert rows[loop.anna.name] == {**dict.fromkeys(EXPECTED, 0), "late": 1, "low_rating": 1, "follow_ups_overdue": 1}
    assert rows[loop.bo.name] == {**dict.fromkeys(EXPECTED, 0), "missed": 1, "exceptions": 1}
    assert rows["未指派服务人员"] == {**dict.fromkeys(EXPECTED, 0), "unaccepted": 1}


def test_a_city_user_sees_every_community_by_district(loop, world):
    b = board(user=world.city, month=OCTOBER)

    assert b.totals == {**EXPECTED, "late": 2}
    assert [(r.label, r.counts["late"]) for r in b.areas] == [(loop.tree.district.name, 2)]
    street_rows = {r.label: r.counts["late"] for r in board(user=world.city, month=OCTOBER, region=loop.tree.district).areas}
    assert street_rows == {loop.tree.street.name: 1, loop.tree.street2.name: 1}


def test_another_month_is_another_count(loop, world):
    assert board(user=loop.desk, month=datetime.date(2026, 11, 1)).totals["late"] == 1
    assert board(user=loop.desk, month=datetime.date(2026, 9, 1)).totals == dict.fromkeys(EXPECTED, 0)


def test_another_community_sees_none_of_it(loop, world):
    other = make_user("c2", "community", loop.tree.community2)
    b = board(user=other, month=OCTOBER)
    assert b.totals == {**dict.fromkeys(EXPECTED, 0), "late": 1}  # only its own o7
    assert b.orders == 1


def test_each_count_lists_its_orders(loop, world):
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="late")) == [world.o1]
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="missed", caregiver_id=loop.bo.pk)) == [world.o3]
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="missed", caregiver_id=loop.anna.pk)) == []
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="unaccepted", unassigned=True)) == [world.o4]
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="exceptions")) == [world.o5]
    assert list(board_orders(user=loop.desk, month=OCTOBER, metric="follow_ups_overdue")) == [world.o6]
    assert set(board_orders(user=world.city, month=OCTOBER, metric="late")) == {world.o1, world.o7}


def test_the_board_is_a_few_queries_whatever_the_rows(loop, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        board(user=world.city, month=OCTOBER)


def test_a_resolved_exception_and_a_closed_follow_up_leave_the_board(loop, world):
    from orders.quality import follow_up_close

    VisitException.objects.filter(order=world.o5).update(resolution="accepted")
    follow_up = FollowUp.objects.get(order=world.o1)
    follow_up_close(by=loop.desk, follow_up=follow_up, outcome="已回访致歉")

    totals = board(user=loop.desk, month=OCTOBER).totals
    assert totals["exceptions"] == 0 and totals["low_rating"] == 1  # the rating stays what it was


def test_a_month_is_written_2026_11():
    assert parse_month("2026-11") == datetime.date(2026, 11, 1)
    with pytest.raises(ValidationError):
        parse_month("2026-13")
    with pytest.raises(ValidationError):
        parse_month("十一月")


# --- the scorecard --------------------------------------------------------------------------------


@pytest.fixture
def month_of_work(loop):
    """October 2026 of 康乃馨: 8 delivered (2 late), 2 missed; ratings 5 5 4 3 1; 4 call-backs
    reached (3 passed); 1 complaint; 2 exceptions (1 open)."""
    son = relative(loop)
    day = lambda d: at(datetime.date(2026, 10, d), 9)  # noqa: E731
    done = [delivered(loop, start=day(d), flags=["late"] if d in (2, 3) else []) for d in range(1, 9)]
    _flag(done[2], "late", "no_show")  # arrived after the no-show time: late, still delivered
    for d in (20, 21):
        _flag(loop.accepted(loop.order(start=day(d))), "no_show")
    for order, rating in zip(done, (5, 5, 4, 3, 1), strict=False):
        order_rate(by=son, order=order, rating=rating, via="portal")
    for order in done:
        Order.objects.filter(pk=order.pk).update(payment_mode="government")
    call_backs_draw(now=timezone.now(), lookback_days=400, percent=100)
    from orders.models import CallBack

    yes = {"received": True, "on_time": True, "full_duration": True, "same_worker": True}
    calls = list(CallBack.objects.filter(order__in=done).order_by("order_id"))
    for cb in calls[:3]:
        call_back_record(by=loop.desk, call_back=cb, reached=True, **yes)
    call_back_record(by=loop.desk, call_back=calls[3], reached=True, **{**yes, "on_time": False})
    call_back_record(by=loop.desk, call_back=calls[4], reached=False)  # not reached: not counted
    follow_up_create(by=loop.desk, order=done[5], note="家属投诉")
    VisitException.objects.create(order=done[6], code="short")
    VisitException.objects.create(order=done[7], code="late", resolution="accepted")
    return done


def test_the_scorecard_arithmetic(loop, month_of_work):
    card = scorecard(user=loop.desk, organisation=loop.org, month=OCTOBER)

    assert (card.delivered, card.late, card.missed) == (8, 2, 2)
    assert card.on_time == Fraction(6, 10)
    assert (card.rated, card.rating_sum, card.average_rating) == (5, 18, Fraction(18, 5))
    assert (card.call_backs, card.call_backs_passed, card.pass_rate) == (4, 3, Fraction(3, 4))
    assert (card.complaints, card.exceptions, card.exceptions_open, card.low_rated) == (1, 2, 1, 1)
    # 40 × 0.6 + 30 × (3.6 − 1) ÷ 4 + 30 × 0.75 = 24 + 19.5 + 22.5 = 66 (of 100)
    assert card.score == 66
    assert card.as_dict()["on_time_percent"] == "60.0%" and card.as_dict()["average_rating"] == "3.6"


def test_too_few_deliveries_give_no_suggestion(loop, month_of_work):
    card = scorecard(user=loop.desk, organisation=loop.org, month=OCTOBER)
    assert card.suggestion == "" and "不足 20 单" in card.why_no_suggestion


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=5)
def test_the_score_suggests_a_star(loop, month_of_work):
    assert scorecard(user=loop.desk, organisation=loop.org, month=OCTOBER).suggestion == "2A"  # 66: at least 60


@override_settings(ORDERS_SCORECARD_STARS=[95, 85, 65, 50])
def test_the_star_thresholds_are_a_setting():
    assert [star_for(s) for s in (100, 95, 94, 66, 65, 50, 49)] == ["5A", "5A", "4A", "3A", "3A", "2A", "1A"]


def test_the_score_rounds_half_up_over_what_was_measured():
    only_calls = Scorecard(organisation=None, month=OCTOBER, call_backs=8, call_backs_passed=1)
    assert score_of(only_calls) == 13  # 12.5 → 13 (not banker's 12)
    assert score_of(Scorecard(organisation=None, month=OCTOBER)) is None
    perfect = Scorecard(organisation=None, month=OCTOBER, delivered=3, rated=3, rating_sum=15, call_backs=1, call_backs_passed=1)
    assert score_of(perfect) == 100
    worst = Scorecard(organisation=None, month=OCTOBER, delivered=2, late=2, rated=2, rating_sum=2, call_backs=1)
    assert score_of(worst) == 0


def test_percentages_show_one_decimal_half_up():
    assert percent_text(Fraction(2, 3)) == "66.7%"
    assert percent_text(Fraction(1, 16)) == "6.3%"  # 6.25 → 6.3
    assert percent_text(Fraction(1)) == "100.0%"
    assert percent_text(None) == "—"


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=5)
def test_the_aging_office_applies_the_suggestion_with_history(loop, month_of_work):
    office = make_user("office_q", "aging_office", loop.tree.city)

    org, card = scorecard_apply(by=office, organisation=loop.org, month=OCTOBER)

    loop.org.refresh_from_db()
    assert (loop.org.rating, loop.org.rated_on) == ("2A", timezone.localdate()) and card.score == 66
    record = ChangeRecord.objects.filter(object_id=str(loop.org.pk), action="update").latest("id")
    assert record.by == office and record.changes["rating"] == ["", "2A"]


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=5)
def test_the_organisation_cannot_rate_itself(loop, month_of_work):
    with pytest.raises(NotPermitted):
        scorecard_apply(by=loop.dispatcher, organisation=loop.org, month=OCTOBER)
    loop.org.refresh_from_db()
    assert loop.org.rating == ""


def test_no_suggestion_nothing_to_apply(loop, month_of_work):
    office = make_user("office_q2", "aging_office", loop.tree.city)
    with pytest.raises(ValidationError) as refused:
        scorecard_apply(by=office, organisation=loop.org, month=OCTOBER)
    assert "rating" in refused.value.message_dict
    loop.org.refresh_from_db()
    assert loop.org.rating == ""
