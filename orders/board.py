"""Reads of the dispatch board (派单台, /orders/board/): the orders waiting for someone to
dispatch them on a chosen day, through order_scope (restrict() and the organisation axis).

- A station (a user without an organisation): orders created and not yet dispatched — new ones
  and those rejected back —, and those dispatched but not accepted by their `accept_by`.
- An organisation's dispatcher (User.organisation): the orders sent to the organisation with
  nobody named yet, and those of its staff not accepted in time; they assign their own staff.

The day and the status are the leading columns of the orders' indexes ((region, status,
scheduled_start, id) for a community, (status, scheduled_start, id, region) for a city).
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from core.access import check
from orders.models import Order, Status
from orders.selectors import order_scope

SHOW = ("all", "waiting", "late")
COUNT_CAP = 999


def _day_range(day: datetime.date):
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def _conditions(user, now) -> dict[str, Q]:
    late = Q(status=Status.DISPATCHED, accept_by__lt=now)
    if user.organisation_id:
        waiting = Q(
            status=Status.DISPATCHED, organisation_id=user.organisation_id, caregiver__isnull=True, volunteer__isnull=True
        )
        late &= Q(organisation_id=user.organisation_id)
    else:
        waiting = Q(status=Status.CREATED)
    return {"waiting": waiting, "late": late & ~waiting}


def board_orders(*, user, day: datetime.date, show: str = "all"):
    """The orders of `day` waiting for `user` to dispatch them, the earliest window first."""
    check(user, "dispatch", Order)
    start, end = _day_range(day)
    parts = _conditions(user, timezone.now())
    wanted = parts.get(show) or (parts["waiting"] | parts["late"])
    return (
        order_scope(user, "dispatch")
        .filter(scheduled_start__gte=start, scheduled_start__lt=end)
        .filter(wanted)
        .select_related("elder", "region", "item", "organisation", "caregiver", "volunteer")
        .order_by("scheduled_start", "id")
    )


def board_counts(*, user, day: datetime.date) -> dict[str, int]:
    """How many orders of the day wait and how many are late (each counted up to COUNT_CAP + 1)."""
    start, end = _day_range(day)
    qs = order_scope(user, "dispatch").filter(scheduled_start__gte=start, scheduled_start__lt=end)
    return {name: qs.filter(q).order_by()[: COUNT_CAP + 1].count() for name, q in _conditions(user, timezone.now()).items()}


def rejected_reasons(order_ids) -> dict[int, str]:
    """{order id: the reason} for the orders whose last move was a reject (back to the station)."""
    from audit.models import ChangeRecord

    latest: dict[int, tuple] = {}
    records = ChangeRecord.objects.filter(model="orders.order", object_id__in=list(order_ids), action="status").order_by(
        "object_id", "-at", "-id"
    )
    for object_id, changes, note in records.values_list("object_id", "changes", "note"):
        latest.setdefault(object_id, (changes, note))
    out = {}
    for object_id, (changes, note) in latest.items():
        status = (changes or {}).get("status") or [None, None]
        if status[1] == Status.CREATED and status[0] in (Status.DISPATCHED, Status.ACCEPTED):
            out[object_id] = note
    return out
