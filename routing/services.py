"""Writes of day plans: plan a day, re-plan it, move a visit by hand, apply it (dispatch).

Each is keyword-only with `by=`, atomic, and records its change (audit.change_record). The solver
runs inside `day_plan_create` for settings.ROUTING plan_seconds (default 5 s: a station's day is a
few dozen visits, and the page waits for the answer; docs/routing.md "Plans in the app").
"""

import datetime
import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.scoping import in_scope
from routing import build, conf
from routing.model import Place
from routing.models import DayPlan, Kind, PlannedStop, PlanStatus, UnplannedStop
from routing.timeline import Leg, timeline

DAYS_AHEAD = 60  # a plan is for a day at most this far either way
WRITE_LOCK_KINDS = (Kind.CARE, Kind.MEALS)


def _owner_fields(*, by, owner, kind: str) -> dict:
    """The plan's region and organisation from its owner, checked against the user's scope."""
    from providers.models import Organisation, OrganisationStatus
    from regions.models import Region

    if kind not in Kind.values:
        raise ValidationError({"kind": _("请选择计划类型：上门服务、送餐或网格走访")})
    if kind == Kind.GRID:
        if not isinstance(owner, Region):
            raise ValidationError({"owner": _("网格走访计划请选择一个网格或社区")})
        if not in_scope(by, owner.path):
            raise Http404
        return {"region": owner, "organisation": None}
    if not isinstance(owner, Organisation):
        raise ValidationError({"owner": _("上门服务和送餐计划请选择一个服务机构")})
    if not in_scope(by, owner.region.path, owner.pk):
        raise Http404
    if owner.status != OrganisationStatus.ACTIVE:
        raise ValidationError({"owner": _("%(org)s当前不在服务状态，不能制定路线计划") % {"org": owner.name}})
    return {"region": owner.region, "organisation": owner}


def _check_day(day) -> None:
    if not isinstance(day, datetime.date):
        raise ValidationError({"day": _("请填写计划日期")})
    if abs((day - timezone.localdate()).days) > DAYS_AHEAD:
        raise ValidationError({"day": _("计划日期应在今天前后 %(n)d 天之内") % {"n": DAYS_AHEAD}})


def _solve(problem, seconds: float):
    from routing.solver import ProblemTooLarge, solve
    from routing.travel import TravelError

    try:
        return solve(problem, seconds=seconds, max_matrix_mb=conf.setting("max_matrix_mb"))
    except TravelError as exc:  # the deployment's routing server (ROUTING_TRAVEL) did not answer
        raise ValidationError({"plan": str(exc)}) from exc
    except ProblemTooLarge as exc:  # refused before the matrices are built: no worker runs out of memory
        raise ValidationError({"plan": str(exc)}) from exc


def _person_fields(key: str) -> dict:
    kind, pk = build.split_key(key)
    return {"caregiver_id": pk} if kind == "caregiver" else {"user_id": pk}


def _write(plan: DayPlan, built: build.Built, result, *, pinned_keys: set) -> None:
    """The plan's stops, unplanned visits and routes from the solver's answer."""
    problem = built.problem
    stops = {s.key: s for s in problem.stops}
    workers = {w.key: w for w in problem.workers}
    per_person: dict[str, list] = {}
    for f in built.fixed:
        per_person.setdefault(f.person, []).append(
            dict(key=f.key, place=f.place, arrive=f.start, start=f.start, end=f.end, travel=0, distance=0, fixed=True)
        )
    meta: dict[str, dict] = {}
    for route in result.routes:
        if not route.visits:
            continue
        person = route.worker.partition("#")[0]
        w = workers[route.worker]
        m = meta.setdefault(person, {"distance_m": 0, "travel_s": 0, "start": [w.start.x, w.start.y], "leave": route.leave})
        m["end"], m["back"] = [w.end.x, w.end.y], route.back
        m["leave"] = min(m["leave"], route.leave)
        m["distance_m"] += route.distance
        for v in route.visits:
            m["travel_s"] += v.travel_from_previous
            if v.key.startswith("break:"):
                continue  # a lunch break: kept in the route's times, not a stop of the plan
            per_person.setdefault(person, []).append(
                dict(
                    key=v.key,
                    place=stops[v.key].place,
                    arrive=built.at(v.arrive),
                    start=built.at(v.start),
                    end=built.at(v.end),
                    travel=v.travel_from_previous,
                    distance=v.distance_from_previous,
                    fixed=False,
                )
            )
        m["travel_s"] += route.back - route.visits[-1].end  # the way back to the end place
    rows = []
    for person, items in per_person.items():
        items.sort(key=lambda i: (i["start"], i["key"]))
        for seq, i in enumerate(items, start=1):
            kind, pk = build.split_key(i["key"])
            rows.append(
                PlannedStop(
                    plan=plan,
                    **_person_fields(person),
                    **({"order_id": pk} if kind == "order" else {"due_id": pk}),
                    seq=seq,
                    arrive_at=i["arrive"],
                    start_at=i["start"],
                    end_at=i["end"],
                    travel_minutes=min(32767, round(i["travel"] / 60)),
                    distance_m=i["distance"],
                    lat=i["place"].x,
                    lng=i["place"].y,
                    pinned=i["key"] in pinned_keys,
                    fixed=i["fixed"],
                )
            )
    PlannedStop.objects.bulk_create(rows, batch_size=500)
    # A break the solver could not fit names no order or due: it has no row (the times still hold).
    missing = [u for u in [*built.unplanned, *result.unplanned] if not u.key.startswith("break:")]
    UnplannedStop.objects.bulk_create(
        [
            UnplannedStop(
                plan=plan,
                **({"order_id": pk} if kind == "order" else {"due_id": pk}),
                code=u.code[:12],
                reason=str(u.reason)[:200],
            )
            for u in missing
            for kind, pk in [build.split_key(u.key)]
        ],
        batch_size=500,
    )
    routes = []
    for key, person in built.people.items():
        if key not in meta and key not in per_person:
            continue
        m = meta.get(key, {})
        first = min((i["start"] for i in per_person.get(key, [])), default=None)
        last = max((i["end"] for i in per_person.get(key, [])), default=None)
        start = m.get("start") or [per_person[key][0]["place"].x, per_person[key][0]["place"].y]
        routes.append(
            {
                "person": key,
                "name": getattr(person, "name", None) or getattr(person, "full_name", "") or str(person),
                "start": start,
                "end": m.get("end", start),
                "leave": (built.at(m["leave"]) if "leave" in m else first).isoformat(),
                "back": (built.at(m["back"]) if "back" in m else last).isoformat(),
                "distance_m": int(m.get("distance_m", 0)),
                "travel_minutes": round(m.get("travel_s", 0) / 60),
            }
        )
    routes.sort(key=lambda r: r["name"])
    plan.routes = routes
    plan.planned_count = len(rows)
    plan.unplanned_count = len(missing)
    plan.cost = int(result.cost)
    plan.distance_m = sum(r["distance_m"] for r in routes)
    plan.feasible = bool(result.feasible)


@transaction.atomic
def day_plan_create(
    *, by, owner, day: datetime.date, kind: str, now=None, seconds: float | None = None, previous=None
) -> DayPlan:
    """Plan `owner`'s `day` of `kind` (an organisation's care visits or meal round, a grid's
    visits): build the problem, solve it, keep the routes and what could not be planned."""
    check(by, "plan", DayPlan)
    fields = _owner_fields(by=by, owner=owner, kind=kind)
    _check_day(day)
    pins = {}
    if previous is not None:
        for s in previous.stops.filter(pinned=True, fixed=False):
            key = build.order_key(s.order_id) if s.order_id else build.due_key(s.due_id)
            pins[key] = s.person_key
    # A provider's own dispatcher plans what was sent to the organisation (they cannot dispatch
    # the station's waiting orders, nor read them).
    built = build.build(
        kind=kind,
        day=day,
        organisation=fields["organisation"],
        region=fields["region"],
        now=now,
        pins=pins,
        waiting=not by.organisation_id,
    )
    seconds = float(seconds if seconds is not None else conf.setting("plan_seconds"))
    began = time.monotonic()
    result = _solve(built.problem, seconds)
    plan = DayPlan(
        **fields,
        day=day,
        kind=kind,
        version=(previous.version + 1) if previous is not None else 1,
        previous=previous,
        solver_seconds=round(time.monotonic() - began, 2),
        created_by=by,
    )
    plan.full_clean(exclude=["previous", "created_by", "routes"])
    plan.save()
    _write(plan, built, result, pinned_keys={k for k, s in ((s.key, s) for s in built.problem.stops) if s.pinned})
    plan.save()
    change_record(
        obj=plan,
        action="create",
        changes={"planned_count": [None, plan.planned_count], "unplanned_count": [None, plan.unplanned_count]},
        by=by,
        region=plan.region,
        note=_("第 %(v)d 版") % {"v": plan.version},
    )
    return plan


@transaction.atomic
def day_plan_replan(*, by, plan: DayPlan, now=None, seconds: float | None = None) -> DayPlan:
    """A new version of `plan` from today's state of the orders: visits done or under way stay as
    they were, visits moved by hand keep their person; the old version is superseded."""
    check(by, "plan", DayPlan)
    plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status == PlanStatus.SUPERSEDED:
        raise ValidationError({"plan": _("这一版计划已被重排，请打开最新版本再重排")})
    owner = plan.organisation if plan.kind != Kind.GRID else plan.region
    if now is None and plan.day == timezone.localdate():
        now = timezone.now()
    new = day_plan_create(by=by, owner=owner, day=plan.day, kind=plan.kind, now=now, seconds=seconds, previous=plan)
    before = plan.status
    plan.status = PlanStatus.SUPERSEDED
    plan.save(update_fields=["status"])
    change_record(
        obj=plan, action="replan", changes={"status": [before, plan.status]}, by=by, region=plan.region, note=f"v{new.version}"
    )
    return new


# --- moving a visit by hand ---------------------------------------------------------------------


def _candidate(plan: DayPlan, stop: PlannedStop, person) -> build.Person:
    """The person as the plan sees them on its day, or a ValidationError naming what is wrong."""
    from accounts.roles import Role
    from providers.models import Caregiver

    if plan.kind == Kind.GRID:
        if getattr(person, "role", None) != Role.GRID or person.region is None or not person.is_active:
            raise ValidationError({"person": _("请选择本网格的网格员")})
        if not stop.due.region.path.startswith(person.region.path) or not person.region.path.startswith(plan.region.path):
            raise ValidationError({"person": _("%(name)s不负责这位老人所在的网格，请选择其他网格员") % {"name": person}})
        begin, end = (build._secs(conf.clock(t)) for t in conf.setting("grid_shift"))
        return build.Person(build.user_key(person.pk), person, str(person), None, (begin, end), frozenset(), None)
    if not isinstance(person, Caregiver) or person.organisation_id != plan.organisation_id:
        raise ValidationError({"person": _("请选择%(org)s的服务人员") % {"org": plan.organisation.name}})
    required = list(stop.order.item.required_certificates.all())
    found = next(
        (
            p
            for p in build.caregivers_of(organisation=plan.organisation, day=plan.day, required_certificates=required)
            if p.obj.pk == person.pk
        ),
        None,
    )
    if found is None:
        raise ValidationError({"person": _("%(name)s当前不在职，请选择其他服务人员") % {"name": person.name}})
    if found.shift is None:
        raise ValidationError({"person": _("%(name)s当天休息或请假，请选择其他服务人员") % {"name": person.name}})
    if plan.kind == Kind.MEALS and not (found.profile and found.profile.does_meals):
        raise ValidationError({"person": _("%(name)s不是送餐员，请在路线设置中勾选“送餐”或选择其他人员") % {"name": person.name}})
    order = stop.order
    lacking = [s.name for s in order.item.required_skills.all() if f"skill:{s.pk}" not in found.skills]
    lacking += [k.name for k in required if f"cert:{k.pk}" not in found.skills]
    if lacking:
        raise ValidationError(
            {
                "person": _("%(name)s不具备“%(what)s”，不能承担%(item)s，请选择其他服务人员")
                % {"name": person.name, "what": "、".join(lacking), "item": order.item.name}
            }
        )
    origin = build.day_origin(plan.day)
    start = int((stop.start_at - origin).total_seconds())
    end = start + int((stop.end_at - stop.start_at).total_seconds())
    if start < found.shift[0] or end > found.shift[1]:
        shift = f"{found.shift[0] // 3600:02d}:{found.shift[0] % 3600 // 60:02d}–{found.shift[1] // 3600:02d}:{found.shift[1] % 3600 // 60:02d}"
        raise ValidationError(
            {
                "person": _("%(name)s当天在班时间为 %(shift)s，这次服务 %(when)s 不在班内，请选择其他服务人员")
                % {"name": person.name, "shift": shift, "when": timezone.localtime(stop.start_at).strftime("%H:%M")}
            }
        )
    return found


def _retime(plan: DayPlan, person_key: str, *, leave_from: Place | None, leave_at: datetime.datetime | None) -> int:
    """Re-time one person's stops in their order (windows from the orders); returns how many
    now start after their window."""
    from routing.travel import TravelError, travel_from_settings

    rows = list(
        plan.stops.filter(**_person_fields(person_key)).select_related("order", "order__item").order_by("start_at", "seq")
    )
    if not rows:
        return 0
    origin = build.day_origin(plan.day)
    grace = int(conf.setting("window_grace_minutes")) * 60
    legs = []
    for r in rows:
        if r.fixed:
            s, e = (int((t - origin).total_seconds()) for t in (r.start_at, r.end_at))
            legs.append(Leg(Place(r.lat, r.lng), s, s, e - s, fixed_start=s, fixed_end=e))
            continue
        duration = int((r.end_at - r.start_at).total_seconds())
        if r.order_id and plan.kind == Kind.CARE:
            earliest = int((r.order.scheduled_start - origin).total_seconds())
            latest = earliest + grace
        else:
            earliest, latest = int((r.start_at - origin).total_seconds()) - 3600, 10**9
            if r.order_id:
                earliest, latest = build._meal_window(r.order)
        legs.append(Leg(Place(r.lat, r.lng), earliest, latest, duration))
    start = leave_from or Place(rows[0].lat, rows[0].lng)
    leave = int((leave_at - origin).total_seconds()) if leave_at else max(0, legs[0].earliest - 3600)
    mode = conf.setting("default_mode")
    first = rows[0].caregiver if rows[0].caregiver_id else rows[0].user
    profile = getattr(first, "routing_profile", None)
    if profile is not None:
        mode = profile.mode
    try:
        times = timeline(travel=travel_from_settings(), mode=mode, start=start, leave=leave, legs=legs)
    except TravelError as exc:  # the deployment's routing server (ROUTING_TRAVEL) did not answer
        raise ValidationError({"plan": str(exc)}) from exc
    late = 0
    for seq, (r, t) in enumerate(zip(rows, times, strict=True), start=1):
        r.seq = seq
        if not r.fixed:
            r.arrive_at, r.start_at, r.end_at = (origin + datetime.timedelta(seconds=x) for x in (t.arrive, t.start, t.end))
            r.travel_minutes, r.distance_m = round(t.travel / 60), t.distance
            late += t.late
    PlannedStop.objects.bulk_update(rows, ["seq", "arrive_at", "start_at", "end_at", "travel_minutes", "distance_m"])
    return late


def _route_start(plan: DayPlan, person_key: str, found: build.Person | None):
    meta = next((r for r in plan.routes if r["person"] == person_key), None)
    if meta:
        return Place(*meta["start"]), datetime.datetime.fromisoformat(meta["leave"])
    if found is not None and found.shift is not None:
        home = found.home
        return home, build.day_origin(plan.day) + datetime.timedelta(seconds=found.shift[0])
    return None, None


@transaction.atomic
def planned_stop_move(*, by, stop: PlannedStop, person) -> PlannedStop:
    """Give a planned visit to another person by hand (pinned: the next re-plan keeps it there);
    both routes are re-timed. Refused, with the reason, when the person cannot take it (skills,
    certificates, shift, leave)."""
    check(by, "plan", DayPlan)
    stop = (
        # OF: PostgreSQL locks no row on the nullable side of an outer join (the order or the due)
        PlannedStop.objects.select_for_update(of=("self", "plan"))
        .select_related("plan", "plan__organisation", "order__item", "due__region")
        .get(pk=stop.pk)
    )
    plan = stop.plan
    if plan.status != PlanStatus.DRAFT:
        message = (
            _("这一版计划已被重排，请在最新版本上调整")
            if plan.status == PlanStatus.SUPERSEDED
            else _("计划已派单，请重排后再调整")
        )
        raise ValidationError({"plan": message})
    if stop.fixed:
        raise ValidationError({"stop": _("这次服务已开始或已完成，不能改派")})
    found = _candidate(plan, stop, person)
    before = stop.person_key
    if before == found.key:
        raise ValidationError({"person": _("这次服务已经排给%(name)s，请选择其他人员") % {"name": found.label}})
    stop.caregiver_id = stop.user_id = None
    for k, v in _person_fields(found.key).items():
        setattr(stop, k, v)
    stop.pinned = True
    stop.seq = 999
    stop.save(update_fields=["caregiver", "user", "pinned", "seq"])
    old_start, old_leave = _route_start(plan, before, None)
    _retime(plan, before, leave_from=old_start, leave_at=old_leave)
    new_start, new_leave = _route_start(plan, found.key, found)
    if not any(r["person"] == found.key for r in plan.routes):
        plan.routes = sorted(
            [
                *plan.routes,
                {
                    "person": found.key,
                    "name": found.label,
                    "start": [new_start.x, new_start.y] if new_start else [stop.lat, stop.lng],
                    "end": [new_start.x, new_start.y] if new_start else [stop.lat, stop.lng],
                    "leave": (new_leave or stop.arrive_at).isoformat(),
                    "back": stop.end_at.isoformat(),
                    "distance_m": 0,
                    "travel_minutes": 0,
                },
            ],
            key=lambda r: r["name"],
        )
        plan.save(update_fields=["routes"])
    late = _retime(plan, found.key, leave_from=new_start, leave_at=new_leave)
    note = _("已改派给%(name)s") % {"name": found.label}
    if late:
        note += _("；调整后有 %(n)d 次服务晚于预约时段，建议重排") % {"n": late}
    what = f"order:{stop.order_id}" if stop.order_id else f"due:{stop.due_id}"
    change_record(obj=plan, action="move", changes={what: [before, found.key]}, by=by, region=plan.region, note=note)
    stop.refresh_from_db()
    stop.late_after_move = late
    return stop


# --- apply: dispatch through the orders app ----------------------------------------------------------


@transaction.atomic
def day_plan_apply(*, by, plan: DayPlan) -> dict:
    """派单 by the plan: every planned order not yet with its planned caregiver is dispatched to
    them (orders.services.order_dispatch: the state machine, its history); an order another
    caregiver has already is re-assigned with the plan as the reason. The planned times stay in
    the plan (orders keep their promised window). Returns {"dispatched", "kept", "failed": [(label, message)]}."""
    from orders.models import Status
    from orders.services import order_dispatch

    check(by, "plan", DayPlan)
    plan = DayPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.kind == Kind.GRID:
        raise ValidationError({"plan": _("网格走访计划无需派单，网格员按计划顺序走访即可")})
    if plan.status == PlanStatus.SUPERSEDED:
        raise ValidationError({"plan": _("这一版计划已被重排，请打开最新版本再派单")})
    dispatched, kept, failed = 0, 0, []
    reason = _("按 %(day)s 路线计划（第 %(v)d 版）派单") % {"day": plan.day.isoformat(), "v": plan.version}
    stops = plan.stops.filter(fixed=False, order__isnull=False).select_related(
        "order", "order__elder", "order__item", "caregiver", "caregiver__organisation"
    )
    for s in stops.order_by("caregiver_id", "seq"):
        order = s.order
        if order.caregiver_id == s.caregiver_id and order.status != Status.CREATED:
            kept += 1
            continue
        if order.status not in (Status.CREATED, Status.DISPATCHED, Status.ACCEPTED):
            kept += 1
            continue
        try:
            order_dispatch(by=by, order=order, caregiver=s.caregiver, reason=reason if order.status != Status.CREATED else "")
            dispatched += 1
        except ValidationError as exc:
            failed.append((f"{order.elder.name} · {order.item.name}", "；".join(exc.messages)))
    before = plan.status
    plan.status = PlanStatus.APPLIED
    plan.applied_at = timezone.now()
    plan.save(update_fields=["status", "applied_at"])
    change_record(
        obj=plan,
        action="apply",
        changes={"status": [before, plan.status]},
        by=by,
        region=plan.region,
        note=_("派单 %(d)d 张，保持 %(k)d 张，未能派单 %(f)d 张") % {"d": dispatched, "k": kept, "f": len(failed)},
    )
    return {"dispatched": dispatched, "kept": kept, "failed": failed}
