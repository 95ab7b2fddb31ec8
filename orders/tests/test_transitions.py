"""The one transition table: every legal move, every illegal one refused with a message naming
the state, actor, time and reason on every move, and the concurrent accept (PostgreSQL)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from audit.models import ChangeRecord
from orders.models import ORDER_ACTIONS, ORDER_MACHINE, Order, Status
from orders.services import order_accept, order_cancel, order_dispatch, order_reject

pytestmark = pytest.mark.django_db

LEGAL = {
    (Status.CREATED, "dispatch"): Status.DISPATCHED,
    (Status.CREATED, "cancel"): Status.CANCELLED,
    (Status.DISPATCHED, "assign"): Status.DISPATCHED,
    (Status.DISPATCHED, "accept"): Status.ACCEPTED,
    (Status.DISPATCHED, "reject"): Status.CREATED,
    (Status.DISPATCHED, "reassign"): Status.DISPATCHED,
    (Status.DISPATCHED, "cancel"): Status.CANCELLED,
    (Status.ACCEPTED, "check_in"): Status.IN_SERVICE,
    (Status.ACCEPTED, "reject"): Status.CREATED,
    (Status.ACCEPTED, "reassign"): Status.DISPATCHED,
    (Status.ACCEPTED, "cancel"): Status.CANCELLED,
    (Status.IN_SERVICE, "check_out"): Status.COMPLETED,
    (Status.COMPLETED, "rate"): Status.EVALUATED,
    (Status.COMPLETED, "settle"): Status.SETTLED,
    (Status.EVALUATED, "settle"): Status.SETTLED,
}


def test_the_table_is_the_documented_loop():
    assert ORDER_MACHINE.transitions == LEGAL
    assert set(ORDER_ACTIONS) == {a for _, a in LEGAL}


@pytest.mark.parametrize("state", Status.values)
@pytest.mark.parametrize("action", sorted(ORDER_ACTIONS))
def test_every_move_not_in_the_table_is_refused_naming_the_state(state, action):
    order = Order(status=state)
    if (state, action) in LEGAL:
        assert ORDER_MACHINE.check(order, action) == LEGAL[(state, action)]
        return
    with pytest.raises(ValidationError) as refused:
        ORDER_MACHINE.check(order, action)
    message = refused.value.message_dict["action"][0]
    assert str(dict(Status.choices)[state]) in message and "状态" in message


def test_dispatch_accept_records_actor_time_and_state(loop):
    order = loop.order()
    loop.dispatched(order)
    order_accept(by=loop.anna_user, order=order)

    order.refresh_from_db()
    assert order.status == Status.ACCEPTED and order.caregiver == loop.anna and order.accepted_at is not None
    moves = ChangeRecord.objects.filter(object_id=str(order.pk), action="status").order_by("id")
    assert [(m.changes["status"], m.by) for m in moves] == [
        (["created", "dispatched"], loop.desk),
        (["dispatched", "accepted"], loop.anna_user),
    ]


def test_a_cancel_needs_a_reason_and_keeps_who_and_why(loop):
    order = loop.order()
    with pytest.raises(ValidationError) as refused:
        order_cancel(by=loop.desk, order=order, reason="  ")
    assert "reason" in refused.value.message_dict
    order_cancel(by=loop.desk, order=order, reason="老人住院")

    order.refresh_from_db()
    assert order.status == Status.CANCELLED and order.cancel_reason == "老人住院"
    record = ChangeRecord.objects.filter(object_id=str(order.pk), action="status").latest("id")
    assert record.by == loop.desk and "老人住院" in record.note


def test_a_cancelled_order_cannot_be_dispatched(loop):
    order = loop.order()
    order_cancel(by=loop.desk, order=order, reason="重复下单")
    with pytest.raises(ValidationError) as refused:
        order_dispatch(by=loop.desk, order=order, organisation=loop.org)
    assert "已取消" in refused.value.message_dict["action"][0]


def test_a_reject_sends_the_order_back_to_be_dispatched(loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    order_reject(by=loop.anna_user, order=order, reason="时间冲突")

    order.refresh_from_db()
    assert order.status == Status.CREATED and order.caregiver is None and order.organisation is None


def test_a_caregiver_cannot_take_an_order_sent_to_a_colleague(loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    with pytest.raises(ValidationError):
        order_accept(by=loop.bo_user, order=order)
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.caregiver == loop.anna


def test_the_organisations_dispatcher_assigns_its_own_staff_only(loop, tree):
    from providers.tests.factories import caregiver, organisation

    order = loop.order()
    loop.dispatched(order)
    outsider = caregiver(tree, organisation(tree, name="别家"))
    with pytest.raises(ValidationError):
        order_dispatch(by=loop.dispatcher, order=order, caregiver=outsider)
    order_dispatch(by=loop.dispatcher, order=order, caregiver=loop.bo)
    order.refresh_from_db()
    assert order.caregiver == loop.bo and order.status == Status.DISPATCHED


def test_reassign_needs_a_reason(loop):
    order = loop.order()
    loop.accepted(order, loop.anna)
    with pytest.raises(ValidationError) as refused:
        order_dispatch(by=loop.desk, order=order, caregiver=loop.bo)
    assert "reason" in refused.value.message_dict
    order_dispatch(by=loop.desk, order=order, caregiver=loop.bo, reason="王安娜请病假")
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.caregiver == loop.bo and order.accepted_at is None


@pytest.mark.django_db(transaction=True)
def test_two_caregivers_accepting_at_the_same_moment_exactly_one_wins(tree):
    """On PostgreSQL with two connections: the order sent to the organisation is taken once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    from orders.tests.factories import LoopWorld

    loop = LoopWorld.build(tree)
    order = loop.order()
    loop.dispatched(order)
    start = threading.Barrier(2)
    results = {}

    def take(user):
        from django.db import connections

        try:
            start.wait()
            mine = Order.objects.get(pk=order.pk)
            order_accept(by=user, order=mine)
            results[user.username] = "won"
        except ValidationError as exc:
            results[user.username] = exc.message_dict["action"][0]
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(u,)) for u in (loop.anna_user, loop.bo_user)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(r == "won" for r in results.values()) == [False, True]
    loser = next(r for r in results.values() if r != "won")
    assert "已接单" in loser
    order.refresh_from_db()
    assert order.status == Status.ACCEPTED
    winner = loop.anna if results[loop.anna_user.username] == "won" else loop.bo
    assert order.caregiver == winner
    assert (
        ChangeRecord.objects.filter(object_id=str(order.pk), action="status", changes__status=["dispatched", "accepted"]).count()
        == 1
    )
