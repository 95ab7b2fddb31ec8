"""The app's settings, read from settings.ROUTING (the same names in capitals) with the defaults below (docs/routing.md
"Plans in the app"; docs/configuration.md). One place, so a missing key never fails a page."""

import datetime

from django.conf import settings

DEFAULTS = {
    # Seconds the solver may take per plan (a station's day: a few dozen visits; the page waits).
    "plan_seconds": 5,
    # A visit must START within [scheduled start, scheduled start + this] — the EVV late grace
    # (orders/evv.py: a check-in later than EVV_LATE_GRACE_MINUTES after the start is late).
    "window_grace_minutes": None,  # None: settings.EVV_LATE_GRACE_MINUTES
    # Cost, in seconds of travel, of giving a visit to someone else than the caregiver the elder
    # knows (the dispatched one, the plan's, the elder's named one, or the last who served).
    "continuity_seconds": 900,
    # A caregiver with no working hours filled in works these.
    "default_shift": ("08:00", "17:30"),
    "default_mode": "ebike",
    # Meal rounds: deliveries of these catalogue items, in the lunch or dinner window (an order
    # before `dinner_after` is lunch), handed over in `meal_handover_minutes`; a courier's round
    # leaves the canteen from `meal_lead_minutes` before the window and carries `meal_capacity`
    # meals unless their profile says otherwise.
    "meal_items": ("meal_delivery",),
    "lunch": ("10:30", "12:30"),
    "dinner": ("16:30", "18:30"),
    "dinner_after": "15:00",
    "meal_handover_minutes": 3,
    "meal_lead_minutes": 30,
    "meal_capacity": 20,
    # Grid visits: a due visit takes `grid_visit_minutes`; one due by the end of the day (or
    # overdue) must be planned; a later one is optional, worth `grid_prize_seconds` of travel when
    # due in a day, falling evenly to a tenth of it at `grid_horizon_days`.
    "grid_shift": ("08:30", "17:30"),
    "grid_visit_minutes": 20,
    "grid_prize_seconds": 3600,
    "grid_horizon_days": 30,
    # A day whose solver matrices would take more memory than this is refused with a message
    # (routing.solver.ProblemTooLarge) rather than planned: split it per station, grid or half-day.
    "max_matrix_mb": 2048,
}


def setting(name: str):
    value = getattr(settings, "ROUTING", {}).get(name.upper(), DEFAULTS[name])
    if name == "window_grace_minutes" and value is None:
        return settings.EVV_LATE_GRACE_MINUTES
    return value


def clock(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)
