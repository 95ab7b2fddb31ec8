"""Reads of day plans; each begins with restrict() (the region subtree, or the organisation)."""

import datetime
import math
from dataclasses import dataclass

from django.http import Http404

from core.access import check
from routing.models import DayPlan, Kind, PlannedStop, PlanStatus

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]


@dataclass
class PlanFilter:
    day: datetime.date | None = None
    kind: str = ""
    status: str = ""  # "" : the current versions (not superseded); "all"; or a status code


def day_plan_list(*, user, filters: PlanFilter | None = None):
    """Plans in the user's scope, the newest day first."""
    f = filters or PlanFilter()
    qs = DayPlan.objects.restrict(user, "view")
    if f.status == "":
        qs = qs.exclude(status=PlanStatus.SUPERSEDED)
    elif f.status != "all":
        qs = qs.filter(status=f.status)
    if f.day:
        qs = qs.filter(day=f.day)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    return qs.select_related("region", "organisation", "created_by").order_by("-day", "-id")


def day_plan_get(*, user, plan_id: int, action: str = "view") -> DayPlan:
    """One plan: 403 when the role may not, 404 outside the scope."""
    check(user, action, DayPlan)
    plan = DayPlan.objects.restrict(user, action).select_related("region", "organisation").filter(pk=plan_id).first()
    if plan is None:
        raise Http404
    return plan


def planned_stop_get(*, user, stop_id: int, action: str = "plan") -> PlannedStop:
    check(user, action, DayPlan)
    # The permission is the plan's (routing.plan_dayplan): a stop is reached through its plan's scope.
    stop = (
        PlannedStop.objects.filter(plan__in=DayPlan.objects.restrict(user, action))
        .select_related("plan", "plan__organisation", "plan__region", "order__item", "order__elder", "caregiver", "user")
        .filter(pk=stop_id)
        .first()
    )
    if stop is None:
        raise Http404
    return stop


def latest_version(plan: DayPlan) -> DayPlan | None:
    """The newest version of the same owner, day and kind (None: `plan` is the newest)."""
    if plan.status != PlanStatus.SUPERSEDED:
        return None
    return (
        DayPlan.objects.filter(region=plan.region, organisation=plan.organisation, day=plan.day, kind=plan.kind)
        .exclude(status=PlanStatus.SUPERSEDED)
        .order_by("-version", "-id")
        .first()
    )


def board(plan: DayPlan, *, user) -> dict:
    """The plan as the board shows it: each person's route (ordered stops with times) with a
    colour, and what could not be planned; and the SVG schematic's points in a 0–1000 box.
    A stop's order the user may not read (a provider's user: an order not sent to their
    organisation) shows no elder: `s.hidden` is set and the template says so."""
    from orders.selectors import order_scope

    stops = list(
        plan.stops.select_related("order__elder", "order__item", "due__elder", "caregiver", "user").order_by(
            "caregiver_id", "user_id", "seq"
        )
    )
    unplanned = list(plan.unplanned.select_related("order__elder", "order__item", "due__elder").order_by("id"))
    ids = {s.order_id for s in stops if s.order_id} | {u.order_id for u in unplanned if u.order_id}
    visible = set(order_scope(user, "view").filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    for row in [*stops, *unplanned]:
        row.hidden = bool(row.order_id) and row.order_id not in visible
    by_person: dict[str, list] = {}
    for s in stops:
        by_person.setdefault(s.person_key, []).append(s)
    routes = []
    for i, meta in enumerate(plan.routes):
        routes.append({**meta, "colour": PALETTE[i % len(PALETTE)], "stops": by_person.get(meta["person"], [])})
    known = {r["person"] for r in routes}
    for key, rows in by_person.items():  # a person moved in after the meta was written
        if key not in known:
            name = str(rows[0].person)
            start = [rows[0].lat, rows[0].lng]
            routes.append({"person": key, "name": name, "start": start, "end": start, "colour": "#444", "stops": rows})
    for r in routes:
        r["km"] = round(r.get("distance_m", 0) / 1000, 1)
    return {
        "routes": routes,
        "unplanned": unplanned,
        "svg": _schematic(routes, unplanned),
        "km": round(plan.distance_m / 1000, 1),
        "travel_minutes": sum(r.get("travel_minutes") or 0 for r in routes),
    }


def _schematic(routes, unplanned) -> dict:
    """Points in a box 1000 wide (longitude → x, latitude → y, north up), metres the same both ways
    (a degree of longitude is cos(latitude) of a degree of latitude), the box's height following
    the points' spread (260–640), so a day spread east–west is not a tall empty picture."""
    points = []
    for r in routes:
        points += [r["start"], r["end"]] + [[s.lat, s.lng] for s in r["stops"]]
    for u in unplanned:
        elder = None if u.hidden else u.order.elder if u.order_id else (u.due.elder if u.due_id else None)
        if elder is not None and elder.home_lat is not None:
            points.append([elder.home_lat, elder.home_lng])
    if not points:
        return {"routes": [], "missed": [], "width": 1000, "height": 260}
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    east = math.cos(math.radians((max(lats) + min(lats)) / 2))  # a degree of longitude, in degrees of latitude
    span_x, span_y = (max(lngs) - min(lngs)) * east, max(lats) - min(lats)
    w, pad = 1000, 40
    scale = (w - 2 * pad) / max(span_x, span_y * (w - 2 * pad) / (640 - 2 * pad), 1e-4)
    h = round(min(640, max(260, span_y * scale + 2 * pad)))
    left = pad + ((w - 2 * pad) - span_x * scale) / 2  # centred both ways
    bottom = h - pad - ((h - 2 * pad) - span_y * scale) / 2

    def xy(lat, lng):
        return (round(left + (lng - min(lngs)) * east * scale, 1), round(bottom - (lat - min(lats)) * scale, 1))

    lines = []
    for r in routes:
        sx, sy = xy(*r["start"])
        ex, ey = xy(*r["end"])
        marks = [
            {"n": s.seq, "x": xy(s.lat, s.lng)[0], "y": xy(s.lat, s.lng)[1], "fixed": s.fixed, "pinned": s.pinned}
            for s in r["stops"]
        ]
        path = [(sx, sy)] + [(m["x"], m["y"]) for m in marks] + [(ex, ey)]
        lines.append(
            {
                "colour": r["colour"],
                "name": r["name"],
                "points": " ".join(f"{x},{y}" for x, y in path),
                "box": (round(sx - 9, 1), round(sy - 9, 1)),
                "marks": marks,
            }
        )
    missed = []
    for u in unplanned:
        elder = None if u.hidden else u.order.elder if u.order_id else (u.due.elder if u.due_id else None)
        if elder is not None and elder.home_lat is not None:
            missed.append(dict(zip(("x", "y"), xy(elder.home_lat, elder.home_lng), strict=True)))
    return {"routes": lines, "missed": missed, "width": w, "height": h}


def move_choices(*, plan: DayPlan) -> list:
    """The people a stop of `plan` may be moved to (the service checks each move)."""
    from accounts.models import User
    from accounts.roles import Role
    from providers.models import Caregiver, StaffStatus

    if plan.kind == Kind.GRID:
        return list(User.objects.filter(role=Role.GRID, is_active=True, region__path__startswith=plan.region.path).order_by("pk"))
    return list(Caregiver.objects.filter(organisation=plan.organisation, status=StaffStatus.ACTIVE).order_by("name", "id"))


def plan_owners(*, user) -> dict:
    """What `user` may plan: organisations in their scope and, for grid visits, regions."""
    from providers.models import Organisation, OrganisationStatus
    from regions.models import Level, Region

    check(user, "plan", DayPlan)
    orgs = (
        Organisation.objects.restrict(user, "view")
        if user.may_code("providers.view_organisation")
        else Organisation.objects.none()
    )
    if not user.may_code("providers.view_organisation") and user.organisation_id:
        orgs = Organisation.objects.filter(pk=user.organisation_id)
    orgs = orgs.filter(status=OrganisationStatus.ACTIVE).order_by("name", "id")[:200]
    regions = Region.objects.none()
    if user.region_id:
        regions = Region.objects.filter(path__startswith=user.region.path, level__in=(Level.COMMUNITY, Level.GRID)).order_by(
            "path"
        )[:200]
    return {"organisations": list(orgs), "regions": list(regions)}


def planned_for_caregiver(*, user, day: datetime.date) -> dict:
    """{order id: (seq, planned start)} of the caregiver's stops in the newest plan of `day` that
    is not superseded (orders.day_order's hook: the phone page sorts by it)."""
    from orders.selectors import worker_of

    worker = worker_of(user)
    if worker is None or getattr(user, "role", None) != "caregiver":
        return {}
    stops = (
        PlannedStop.objects.filter(caregiver=worker, plan__day=day, order__isnull=False)
        .exclude(plan__status=PlanStatus.SUPERSEDED)
        .order_by("plan__kind", "-plan__version", "-plan_id", "seq")
        .values_list("plan_id", "plan__kind", "order_id", "start_at")
    )
    out, seen_plan = {}, {}
    for plan_id, kind, order_id, start in stops:
        if seen_plan.setdefault(kind, plan_id) != plan_id:
            continue  # an older plan of the same kind
        out.setdefault(order_id, start)
    ranked = sorted(out.items(), key=lambda kv: kv[1])
    return {order_id: (i, start) for i, (order_id, start) in enumerate(ranked, start=1)}
