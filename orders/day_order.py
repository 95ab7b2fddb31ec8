"""The order of a worker's day on the phone page (今日上门), as a higher app plans it.

The routing app (above orders in the layers) registers a planner in its AppConfig.ready:
`fn(user, day) -> {order id: (seq, planned start)}`. The phone page then lists the day's visits
in the planned order with the planned times; without a planner, or for an order the plan does
not hold, the window's order (orders.evv_selectors.my_day)."""

import datetime

DAY_PLANNERS: list = []


def register_day_planner(fn) -> None:
    """Register `fn(user, day)` answering {order id: (seq, planned start datetime)}."""
    if fn not in DAY_PLANNERS:
        DAY_PLANNERS.append(fn)


def planned_order(*, user, day: datetime.date) -> dict:
    """The first registered planner's answer that holds anything, else {}."""
    for fn in DAY_PLANNERS:
        found = fn(user, day)
        if found:
            return found
    return {}


def in_planned_order(visits: list, planned: dict) -> list:
    """`visits` (orders) with `planned_seq` and `planned_start` set, planned ones first in the
    plan's order, the rest by their window after them."""
    for v in visits:
        v.planned_seq, v.planned_start = planned.get(v.pk, (None, None))
    far = 10**6
    return sorted(visits, key=lambda v: (v.planned_seq if v.planned_seq is not None else far, v.scheduled_start, v.pk))
