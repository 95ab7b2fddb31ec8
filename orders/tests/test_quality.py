"""评单 and 回访: who may rate which order, the 1–5 rule, the follow-up a low rating or a failed
call-back opens with its deadline, and the reproducible call-back sample."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import override_settings
from django.utils import timezone

from audit.models import ChangeRecord
from conftest import make_user
from core.access import NotPermitted
from orders.family import family_link_end
from orders.models import CallBack, FamilyLink, FollowUp, Order, Status
from orders.quality import (
    call_back_list,
    call_back_record,
    call_backs_draw,
    follow_up_close,
    follow_up_create,
    in_callback_sample,
    order_rate,
    working_days_after,
)
from orders.tests.factories import at, delivered, relative

pytestmark = pytest.mark.django_db


# --- ratings --------------------------------------------------------------------------------------


def test_a_linked_relative_rates_a_delivered_order(loop):
    son = relative(loop)
    order = delivered(loop)

    order_rate(by=son, order=order, rating=4, comment="阿姨很细心", via="portal")

    order.refresh_from_db()
    assert (order.status, order.rating, order.rating_comment) == (Status.EVALUATED, 4, "阿姨很细心")
    assert (order.rated_by, order.rated_via) == (son, "portal") and order.rated_at is not None
    move = ChangeRecord.objects.filter(object_id=str(order.pk), action="status").latest("id")
    assert move.by == son and move.changes["status"] == ["completed", "evaluated"] and move.changes["rating"] == [None, 4]
    assert not FollowUp.objects.filter(order=order).exists()


@pytest.mark.parametrize("state", ["created", "dispatched", "accepted"])
def test_an_order_not_yet_delivered_cannot_be_rated(loop, state):
    son = relative(loop)
    order = loop.order()
    if state != "created":
        order = loop.dispatched(order, caregiver=loop.anna)
    if state == "accepted":
        order = loop.accepted(order, loop.anna)

    with pytest.raises(ValidationError) as refused:
        order_rate(by=son, order=order, rating=5, via="portal")

    assert "服务完成后才能评价" in refused.value.message_dict["action"][0]
    order.refresh_from_db()
    assert order.rating is None and order.status == state


def test_an_order_is_rated_once(loop):
    son = relative(loop)
    order = delivered(loop)
    order_rate(by=son, order=order, rating=5, via="portal")

    with pytest.raises(ValidationError) as refused:
        order_rate(by=son, order=order, rating=1, via="portal")

    assert "已评价（5 分）" in refused.value.message_dict["action"][0]
    order.refresh_from_db()
    assert order.rating == 5 and not FollowUp.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, -1, "4", 3.5, True, None])
def test_a_rating_is_a_whole_number_from_1_to_5(loop, rating):
    son = relative(loop)
    order = delivered(loop)

    with pytest.raises(ValidationError) as refused:
        order_rate(by=son, order=order, rating=rating, via="portal")

    assert "1 至 5" in refused.value.message_dict["rating"][0]
    order.refresh_from_db()
    assert order.status == Status.COMPLETED and order.rating is None


@pytest.mark.parametrize("rating", [1, 2])
def test_a_rating_of_2_or_less_opens_a_follow_up_due_in_three_working_days(loop, rating):
    son = relative(loop)
    order = delivered(loop)

    order_rate(by=son, order=order, rating=rating, comment="没打扫厨房", via="portal")

    follow_up = FollowUp.objects.get(order=order)
    assert follow_up.reason == FollowUp.Reason.LOW_RATING and follow_up.state == FollowUp.State.OPEN
    assert follow_up.due_on == working_days_after(timezone.localdate(), 3)
    assert "没打扫厨房" in follow_up.note and f"{rating} 分" in follow_up.note


def test_a_rating_of_3_opens_no_follow_up(loop):
    order = delivered(loop)
    order_rate(by=relative(loop), order=order, rating=3, via="portal")
    assert not FollowUp.objects.exists()


def test_the_deadline_counts_china_working_days_across_national_day():
    # 2026: 10-01…10-07 off, Saturday 10-10 a make-up working day (调休).
    assert working_days_after(datetime.date(2026, 9, 30), 3) == datetime.date(2026, 10, 10)
    assert working_days_after(datetime.date(2026, 10, 10), 1) == datetime.date(2026, 10, 12)


def test_a_year_the_calendar_does_not_know_counts_monday_to_friday():
    assert working_days_after(datetime.date(2031, 1, 3), 1) == datetime.date(2031, 1, 6)  # Friday → Monday


@override_settings(ORDERS_FOLLOW_UP_WORKING_DAYS=5)
def test_the_deadline_is_a_setting(loop):
    order = delivered(loop)
    order_rate(by=relative(loop), order=order, rating=1, via="portal")
    assert FollowUp.objects.get(order=order).due_on == working_days_after(timezone.localdate(), 5)


def test_a_relative_of_another_elder_cannot_rate(loop):
    from elders.tests.factories import ElderFactory

    neighbour = relative(loop, elder=ElderFactory(region=loop.tree.grid))
    order = delivered(loop)

    with pytest.raises(Http404):
        order_rate(by=neighbour, order=order, rating=1, via="portal")

    order.refresh_from_db()
    assert order.rating is None and not FollowUp.objects.exists()


def test_a_relative_whose_link_ended_cannot_rate(loop):
    son = relative(loop)
    family_link_end(by=loop.desk, link=FamilyLink.objects.get(user=son), reason="老人撤回同意")
    order = delivered(loop)

    with pytest.raises(Http404):
        order_rate(by=son, order=order, rating=5, via="portal")
    order.refresh_from_db()
    assert order.rating is None


def test_a_second_relative_rates_only_while_the_first_has_not(loop):
    son, daughter = relative(loop), relative(loop)
    order = delivered(loop)
    order_rate(by=daughter, order=order, rating=5, via="portal")

    with pytest.raises(ValidationError):
        order_rate(by=son, order=order, rating=2, via="portal")
    order.refresh_from_db()
    assert order.rated_by == daughter and order.rating == 5


def test_a_worker_enters_a_rating_on_a_call_back(loop):
    order = delivered(loop)
    order_rate(by=loop.desk, order=order, rating=2, comment="电话回访代录", via="callback")

    order.refresh_from_db()
    assert (order.rating, order.rated_via, order.rated_by) == (2, "callback", loop.desk)
    assert FollowUp.objects.get(order=order).reason == FollowUp.Reason.LOW_RATING


def test_a_worker_without_rate_order_cannot_enter_a_rating(loop):
    grid = make_user("grid_q", "grid", loop.tree.grid)
    order = delivered(loop)
    with pytest.raises(NotPermitted):
        order_rate(by=grid, order=order, rating=5, via="callback")


def test_a_relative_cannot_pose_as_a_call_back(loop):
    son = relative(loop)
    order = delivered(loop)
    with pytest.raises(NotPermitted):
        order_rate(by=son, order=order, rating=5, via="callback")


def test_a_community_worker_is_not_a_relative(loop):
    order = delivered(loop)
    with pytest.raises(NotPermitted):
        order_rate(by=loop.desk, order=order, rating=5, via="portal")


# --- call-backs -----------------------------------------------------------------------------------


def test_the_sample_is_reproducible_and_near_the_percentage():
    ids = range(1, 20_001)
    first = [i for i in ids if in_callback_sample(i, 10)]
    again = [i for i in ids if in_callback_sample(i, 10)]

    assert first == again
    assert 1_800 <= len(first) <= 2_200  # 10 % of 20,000, within ±1 %
    assert not any(in_callback_sample(i, 0) for i in range(1, 500))
    assert all(in_callback_sample(i, 100) for i in range(1, 500))
    assert set(i for i in ids if in_callback_sample(i, 5)) <= set(first)  # a smaller sample is inside a larger one


def test_a_different_secret_draws_a_different_sample(settings):
    before = [i for i in range(1, 2_001) if in_callback_sample(i, 10)]
    settings.SECRET_KEY = "another-deployment-" + "x" * 40
    after = [i for i in range(1, 2_001) if in_callback_sample(i, 10)]
    assert before != after


def test_the_daily_draw_takes_the_sampled_government_orders_and_every_low_rating(loop):
    government = [delivered(loop, payment_mode="government", start=at(loop.tomorrow, 8 + i)) for i in range(6)]
    paid = delivered(loop, payment_mode="paid", start=at(loop.tomorrow, 15))
    low = delivered(loop, payment_mode="paid", start=at(loop.tomorrow, 16))
    order_rate(by=relative(loop), order=low, rating=1, via="portal")
    open_order = loop.order(payment_mode="government", start=at(loop.tomorrow, 18))
    now = timezone.now() + datetime.timedelta(days=2)  # after the visits' check-outs

    added = call_backs_draw(now=now, percent=50)

    expected = {o.pk for o in government if in_callback_sample(o.pk, 50)} | {low.pk}
    assert set(CallBack.objects.values_list("order_id", flat=True)) == expected
    assert added == len(expected)
    assert paid.pk not in expected and open_order.pk not in expected
    assert call_backs_draw(now=now, percent=50) == 0  # drawn again: nothing doubles
    assert CallBack.objects.count() == len(expected)


def test_the_draw_looks_back_only_its_window(loop):
    order = delivered(loop, payment_mode="government")
    later = timezone.now() + datetime.timedelta(days=30)
    assert call_backs_draw(now=later, percent=100, lookback_days=7) == 0
    assert call_backs_draw(now=later, percent=100, lookback_days=40) == 1
    assert CallBack.objects.get().order == order


def _call_back(loop, **kw):
    order = delivered(loop, payment_mode="government", **kw)
    call_backs_draw(now=timezone.now() + datetime.timedelta(days=2), percent=100)
    return CallBack.objects.get(order=order)


YES = {"received": True, "on_time": True, "full_duration": True, "same_worker": True}


def test_a_passed_call_back_opens_nothing(loop):
    cb = _call_back(loop)
    call_back_record(by=loop.desk, call_back=cb, reached=True, note="老人很满意", **YES)

    cb.refresh_from_db()
    assert cb.passed is True and cb.called_by == loop.desk and cb.called_at is not None
    assert not FollowUp.objects.exists()
    assert list(call_back_list(user=loop.desk)) == []  # nothing left to call


def test_a_failed_check_opens_a_follow_up(loop):
    cb = _call_back(loop)
    call_back_record(by=loop.desk, call_back=cb, reached=True, **{**YES, "same_worker": False, "full_duration": False})

    follow_up = FollowUp.objects.get(order=cb.order)
    assert follow_up.reason == FollowUp.Reason.CALLBACK
    assert "服务时长足够" in follow_up.note and "是约定的服务人员" in follow_up.note
    assert follow_up.due_on == working_days_after(timezone.localdate(), 3)
    assert list(call_back_list(user=loop.desk, state="failed")) == [cb]


def test_an_elder_not_reached_is_called_again(loop):
    cb = _call_back(loop)
    call_back_record(by=loop.desk, call_back=cb, reached=False, note="无人接听")

    cb.refresh_from_db()
    assert cb.reached is False and cb.received is None and not FollowUp.objects.exists()
    assert list(call_back_list(user=loop.desk)) == [cb]  # still to do
    call_back_record(by=loop.desk, call_back=cb, reached=True, **YES)
    cb.refresh_from_db()
    assert cb.passed is True


def test_a_call_back_is_recorded_once(loop):
    cb = _call_back(loop)
    call_back_record(by=loop.desk, call_back=cb, reached=True, **YES)
    with pytest.raises(ValidationError) as refused:
        call_back_record(by=loop.desk, call_back=cb, reached=True, **{**YES, "received": False})
    assert "reached" in refused.value.message_dict
    assert not FollowUp.objects.exists()


def test_a_reached_call_back_answers_every_check(loop):
    cb = _call_back(loop)
    with pytest.raises(ValidationError) as refused:
        call_back_record(by=loop.desk, call_back=cb, reached=True, received=True, on_time=None, full_duration=True)
    assert set(refused.value.message_dict) == {"on_time", "same_worker"}
    cb.refresh_from_db()
    assert cb.reached is None


def test_the_call_back_form_enters_the_rating_on_the_elders_behalf(loop):
    cb = _call_back(loop)
    call_back_record(by=loop.desk, call_back=cb, reached=True, rating=2, comment="嫌时间短", **{**YES, "full_duration": False})

    order = Order.objects.get(pk=cb.order_id)
    assert (order.status, order.rating, order.rated_via) == (Status.EVALUATED, 2, "callback")
    assert sorted(FollowUp.objects.filter(order=order).values_list("reason", flat=True)) == ["callback", "low_rating"]


def test_a_bad_rating_on_the_call_back_form_writes_nothing(loop):
    cb = _call_back(loop)
    with pytest.raises(ValidationError):
        call_back_record(by=loop.desk, call_back=cb, reached=True, rating=9, **{**YES, "on_time": False})
    cb.refresh_from_db()
    assert cb.reached is None and not FollowUp.objects.exists()


# --- follow-ups -----------------------------------------------------------------------------------


def test_a_follow_up_is_closed_with_its_outcome_once(loop):
    order = delivered(loop)
    order_rate(by=relative(loop), order=order, rating=1, via="portal")
    follow_up = FollowUp.objects.get()

    with pytest.raises(ValidationError) as refused:
        follow_up_close(by=loop.desk, follow_up=follow_up, outcome=" ")
    assert "outcome" in refused.value.message_dict

    follow_up_close(by=loop.desk, follow_up=follow_up, outcome="已约谈机构，重新上门打扫")
    follow_up.refresh_from_db()
    assert follow_up.state == "closed" and follow_up.closed_by == loop.desk and follow_up.outcome.startswith("已约谈")
    with pytest.raises(ValidationError):
        follow_up_close(by=loop.desk, follow_up=follow_up, outcome="再次办结")


def test_a_worker_takes_a_complaint(loop):
    order = delivered(loop)
    follow_up = follow_up_create(by=loop.desk, order=order, note="家属来电：服务人员迟到一小时")
    assert follow_up.reason == "complaint" and follow_up.due_on == working_days_after(timezone.localdate(), 3)
    with pytest.raises(ValidationError):
        follow_up_create(by=loop.desk, order=order, note="又来电")


def test_an_elder_who_says_the_service_never_came_disputes_the_visit_until_a_person_decides(loop):
    from orders.evv import visit_exception_resolve
    from orders.models import ExceptionCode, VisitException

    cb = _call_back(loop)
    assert cb.order.verification == "verified"
    call_back_record(by=loop.desk, call_back=cb, reached=True, note="老人说那天没人来", **{**YES, "received": False})

    order = Order.objects.get(pk=cb.order_id)
    assert order.verification == "disputed" and "disputed" in order.flags
    dispute = VisitException.objects.get(order=order)
    assert dispute.code == ExceptionCode.DISPUTED and dispute.resolution == "open"
    assert "没有接受服务" in dispute.detail and "那天没人来" in dispute.detail
    assert FollowUp.objects.get(order=order).reason == FollowUp.Reason.CALLBACK
    assert ChangeRecord.objects.filter(model="orders.order", object_id=order.pk, action="verify").get().changes == {
        "verification": ["verified", "disputed"]
    }
    # the caregiver's record holds after all (a neighbour saw her come): the visit stands
    visit_exception_resolve(by=loop.desk, exception=dispute, resolution="accepted", note="邻居证实当天上门，老人记错了日子")
    order.refresh_from_db()
    assert order.verification == "verified"


def test_a_dispute_upheld_leaves_the_visit_unpaid(loop):
    from orders.evv import order_dispute, visit_exception_resolve
    from orders.models import VisitException

    order = delivered(loop)
    grid = make_user("grid_d", "grid", loop.tree.grid)
    with pytest.raises(NotPermitted):
        order_dispute(by=grid, order=order, reason="家属来电说没人上门")
    with pytest.raises(ValidationError) as exc:
        order_dispute(by=loop.desk, order=order, reason="  ")
    assert "reason" in exc.value.message_dict
    order_dispute(by=loop.desk, order=order, reason="家属来电说没人上门")
    visit_exception_resolve(
        by=loop.desk, exception=VisitException.objects.get(order=order), resolution="rejected", note="核实未上门，不予结算"
    )
    order.refresh_from_db()
    assert order.verification == "rejected"


def test_a_visit_not_yet_checked_out_cannot_be_disputed(loop):
    from orders.evv import order_dispute

    order = loop.accepted(loop.order(), loop.anna)
    with pytest.raises(ValidationError) as exc:
        order_dispute(by=loop.desk, order=order, reason="没人来")
    assert "尚未签退" in str(exc.value)


def test_a_long_call_back_note_is_kept_whole_and_the_dispute_takes_what_fits(loop):
    from orders.models import VisitException

    cb = _call_back(loop)
    note = "老人说那天没人来。" * 33  # 297 characters: the call-back's limit is 300, a dispute's 200
    call_back_record(by=loop.desk, call_back=cb, reached=True, note=note, **{**YES, "received": False})

    cb.refresh_from_db()
    assert cb.note == note
    dispute = VisitException.objects.get(order=cb.order, code="disputed")
    assert len(dispute.detail) == 200 and dispute.detail.endswith("…")
    assert Order.objects.get(pk=cb.order_id).verification == "disputed"
