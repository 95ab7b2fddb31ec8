"""Builders for settlements tests: visits checked out in a past month through the orders
services (the EVV helper's orders.evv.order_check_out will do the same after the merge)."""

import datetime

from django.db import transaction

from orders.tests.factories import at
from settlements.selectors import previous_month


def last_month_day(day: int = 10) -> datetime.date:
    return previous_month() + datetime.timedelta(days=day - 1)


@transaction.atomic
def check_out(order, *, by, verification: str = "verified"):
    """Check an accepted order in and out at its window (the shares are written by the hook)."""
    from orders.models import Order
    from orders.services import order_move

    order = Order.objects.select_for_update().get(pk=order.pk)
    order.checkin_at = order.scheduled_start
    order_move(by=by, order=order, action="check_in", update_fields=["checkin_at", "updated_at"])
    order.checkout_at = order.scheduled_end
    order.verification = verification
    order_move(by=by, order=order, action="check_out", update_fields=["checkout_at", "verification", "updated_at"])
    return order


def visit(loop, *, day: datetime.date | None = None, hour: int = 9, verification: str = "verified", worker=None, **kw):
    """An order of `loop`'s elder on `day` (the 10th of last month), accepted by `worker` (Anna)
    and checked out; `kw` goes to order_create (quantity, payment_mode, merchant …)."""
    worker = worker or loop.anna
    order = loop.order(start=at(day or last_month_day(), hour), **kw)
    loop.accepted(order, worker)
    return check_out(order, by=worker.user, verification=verification)


def resolve(order, verification: str = "verified"):
    """A person resolves the visit's exceptions (the EVV helper's service will do this)."""
    from orders.models import Order

    Order.objects.filter(pk=order.pk).update(verification=verification)
    order.refresh_from_db()
    return order
