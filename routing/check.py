"""An independent check of a saved plan against the hard rules, read back from the database (not
from the solver's answer): the benchmark and the tests count what it finds.

- windows: a care visit starts within [scheduled start, + grace]; a meal within its meal window;
- skills and certificates: the person holds every skill of the item and a valid certificate
  answering each one it requires;
- shifts: the person works that weekday, is not on leave, and the visit lies within their shift
  (a meal round: within the day's shift);
- capacity: a courier's meals per round are at most their capacity;
- no overlap: a person's visits do not overlap and leave time to travel between them.
"""

import datetime

from django.db.models import Q

from routing import build, conf
from routing.models import Kind

SLACK = datetime.timedelta(seconds=1)  # whole seconds in the solver, datetimes here


def plan_violations(plan) -> list[str]:
    from catalogue.selectors import certificate_satisfies
    from providers.models import Absence, Certificate

    out = []
    stops = list(
        plan.stops.select_related("order__item", "caregiver", "caregiver__routing_profile", "user")
        .prefetch_related("order__item__required_skills", "order__item__required_certificates", "caregiver__skills")
        .order_by("caregiver_id", "user_id", "start_at")
    )
    grace = datetime.timedelta(minutes=int(conf.setting("window_grace_minutes")))
    origin = build.day_origin(plan.day)
    default_from, default_to = (conf.clock(t) for t in conf.setting("default_shift"))
    away = set(
        Absence.objects.filter(
            caregiver_id__in={s.caregiver_id for s in stops}, starts_on__lte=plan.day, ends_on__gte=plan.day
        ).values_list("caregiver_id", flat=True)
    )
    certs: dict[int, list] = {}
    for c in (
        Certificate.objects.filter(caregiver_id__in={s.caregiver_id for s in stops})
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=plan.day), Q(issued_on__isnull=True) | Q(issued_on__lte=plan.day))
        .select_related("kind")
    ):
        certs.setdefault(c.caregiver_id, []).append(c.kind)
    rounds: dict[tuple, int] = {}
    previous = None
    for s in stops:
        name = f"{s.person} #{s.seq}"
        if previous is not None and previous.person_key == s.person_key and s.start_at < previous.end_at - SLACK:
            out.append(f"{name}: overlaps the visit before")
        previous = s
        if s.fixed or s.order_id is None:
            if plan.kind == Kind.GRID and not s.fixed:
                begin, end = (conf.clock(t) for t in conf.setting("grid_shift"))
                if s.start_at < origin + _delta(begin) - SLACK or s.end_at > origin + _delta(end) + SLACK:
                    out.append(f"{name}: outside the grid shift")
            continue
        order, person = s.order, s.caregiver
        if plan.kind == Kind.MEALS:
            lunch_or_dinner = build._meal_window(order)
            if (
                not origin + datetime.timedelta(seconds=lunch_or_dinner[0]) - SLACK
                <= s.start_at
                <= origin + datetime.timedelta(seconds=lunch_or_dinner[1]) + SLACK
            ):
                out.append(f"{name}: outside the meal window")
            key = (person.pk, lunch_or_dinner)
            rounds[key] = rounds.get(key, 0) + order.quantity
            profile = getattr(person, "routing_profile", None)
            capacity = profile.capacity if profile and profile.capacity else int(conf.setting("meal_capacity"))
            if rounds[key] > capacity:
                out.append(f"{name}: over the capacity of {capacity}")
        else:
            if not order.scheduled_start - SLACK <= s.start_at <= order.scheduled_start + grace + SLACK:
                out.append(f"{name}: starts outside the window")
            held = {k.pk for k in person.skills.all()}
            if any(k.pk not in held for k in order.item.required_skills.all()):
                out.append(f"{name}: lacks a skill")
            for req in order.item.required_certificates.all():
                if not any(certificate_satisfies(k, req) for k in certs.get(person.pk, [])):
                    out.append(f"{name}: lacks the certificate {req.name}")
        if person.work_days and plan.day.isoweekday() not in person.work_days:
            out.append(f"{name}: not a working day")
        if person.pk in away:
            out.append(f"{name}: on leave")
        has_hours = person.work_start is not None and person.work_end is not None
        begin, end = (person.work_start, person.work_end) if has_hours else (default_from, default_to)
        end_at = origin + (_delta(end) if end > begin else datetime.timedelta(days=1))
        if s.start_at < origin + _delta(begin) - SLACK or s.end_at > end_at + SLACK:
            out.append(f"{name}: outside the shift")
    return out


def _delta(t: datetime.time) -> datetime.timedelta:
    return datetime.timedelta(hours=t.hour, minutes=t.minute, seconds=t.second)
