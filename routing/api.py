"""/api/routing: day plans — list, plan a day, read one (routes and what could not be planned),
re-plan, move a visit by hand, apply (派单). The same services as the pages (docs/routing.md)."""

import datetime

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from routing import selectors, services
from routing.models import DayPlan

router = Router(tags=["routing"])

E = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID = Field(ge=1, le=2**62)


class DayPlanFilterIn(Schema):
    day: datetime.date | None = Field(None, description="one day")
    kind: str = Field("", description="care, meals or grid; empty: all")
    status: str = Field("", description="draft, applied, superseded, all; empty: the current versions")


class DayPlanItemOut(Schema):
    id: int
    day: datetime.date
    kind: str
    kind_label: str
    status: str
    status_label: str
    version: int
    organisation: IdName | None
    region: IdName
    planned_count: int
    unplanned_count: int
    cost: int = Field(
        description="the solver's objective: the seconds of every route from leaving to coming back (travel, waiting and service)"
    )
    travel_minutes: int = Field(description="minutes on the road over all routes, the way back included")
    distance_m: int
    solver_seconds: float
    created_at: datetime.datetime


class PlannedStopOut(Schema):
    id: int
    seq: int
    order_id: int | None
    due_id: int | None
    label: str = Field(description="the elder and the item")
    arrive_at: datetime.datetime
    start_at: datetime.datetime
    end_at: datetime.datetime
    travel_minutes: int
    distance_m: int
    pinned: bool = Field(description="moved by hand: the next re-plan keeps its person")
    fixed: bool = Field(description="done or under way: kept as it was")


class PlannedRouteOut(Schema):
    person: str = Field(description="caregiver:<id> or user:<id> (a grid worker)")
    name: str
    travel_minutes: int = Field(description="minutes on the road, the way back included")
    distance_m: int
    stops: list[PlannedStopOut]


class UnplannedStopOut(Schema):
    order_id: int | None
    due_id: int | None
    code: str = Field(description="skills, window, capacity, reach, no_room, optional, no_place, no_worker")
    reason: str


class DayPlanOut(DayPlanItemOut):
    routes: list[PlannedRouteOut]
    unplanned: list[UnplannedStopOut]


class DayPlanIn(Schema):
    day: datetime.date
    kind: str = Field(description="care (an organisation's visits), meals (its meal round), grid (a region's due visits)")
    organisation: int | None = Field(None, ge=1, le=2**62, description="for care and meals")
    region: int | None = Field(None, ge=1, le=2**62, description="for grid: a community or grid")


class StopMoveIn(Schema):
    person: int = Field(ge=1, le=2**62, description="a caregiver id (care, meals) or a grid worker's user id (grid)")


class ApplyFailureOut(Schema):
    label: str
    message: str


class DayPlanApplyOut(Schema):
    dispatched: int
    kept: int
    failed: list[ApplyFailureOut]


def _item(p: DayPlan) -> dict:
    return {
        "id": p.pk,
        "day": p.day,
        "kind": p.kind,
        "kind_label": p.get_kind_display(),
        "status": p.status,
        "status_label": p.get_status_display(),
        "version": p.version,
        "organisation": id_name(p.organisation),
        "region": id_name(p.region),
        "planned_count": p.planned_count,
        "unplanned_count": p.unplanned_count,
        "cost": p.cost,
        "travel_minutes": sum(r.get("travel_minutes") or 0 for r in p.routes or []),
        "distance_m": p.distance_m,
        "solver_seconds": p.solver_seconds,
        "created_at": p.created_at,
    }


def _label(s) -> str:
    if getattr(s, "hidden", False):
        return _("（未派给本机构的工单）")
    if s.order_id:
        return f"{s.order.elder.name} · {s.order.item.name}"
    return f"{s.due.elder.name} · {s.due.get_source_display()}" if s.due_id else ""


def _plan_out(plan: DayPlan, user) -> dict:
    board = selectors.board(plan, user=user)
    routes = [
        {
            "person": r["person"],
            "name": r["name"],
            "travel_minutes": r.get("travel_minutes") or 0,
            "distance_m": r.get("distance_m") or 0,
            "stops": [
                {
                    "id": s.pk,
                    "seq": s.seq,
                    "order_id": s.order_id,
                    "due_id": s.due_id,
                    "label": _label(s),
                    "arrive_at": s.arrive_at,
                    "start_at": s.start_at,
                    "end_at": s.end_at,
                    "travel_minutes": s.travel_minutes,
                    "distance_m": s.distance_m,
                    "pinned": s.pinned,
                    "fixed": s.fixed,
                }
                for s in r["stops"]
            ],
        }
        for r in board["routes"]
    ]
    unplanned = [{"order_id": u.order_id, "due_id": u.due_id, "code": u.code, "reason": u.reason} for u in board["unplanned"]]
    return {**_item(plan), "routes": routes, "unplanned": unplanned}


@router.get("", response={200: Paginated[DayPlanItemOut], **E})
@requires("view", DayPlan)
def day_plan_list_api(request, filters: Query[DayPlanFilterIn], paging: Query[PageIn]):
    """The plans of your scope, the newest day first (the current versions unless `status`)."""
    qs = selectors.day_plan_list(user=request.user, filters=selectors.PlanFilter(**filters.dict()))
    page = paginate(qs, paging)
    page["items"] = [_item(p) for p in page["items"]]
    return page


@router.post("", response={201: DayPlanOut, **E})
@requires("plan", DayPlan)
def day_plan_create_api(request, data: DayPlanIn):
    """Plan a day: the solver runs for settings.ROUTING PLAN_SECONDS (5 s by default) and the
    answer holds every route and what could not be planned, with the reason."""
    owners = selectors.plan_owners(user=request.user)
    if data.kind == "grid":
        owner = next((r for r in owners["regions"] if r.pk == data.region), None)
        if owner is None:
            raise Http404  # not in your scope: its existence is not told
    else:
        owner = next((o for o in owners["organisations"] if o.pk == data.organisation), None)
        if owner is None:
            raise Http404
    plan = services.day_plan_create(by=request.user, owner=owner, day=data.day, kind=data.kind)
    return 201, _plan_out(plan, request.user)


@router.get("/{int:plan_id}", response={200: DayPlanOut, **E})
@requires("view", DayPlan)
def day_plan_get_api(request, plan_id: int):
    """One plan: each person's route in order with the planned times, and the unplanned visits."""
    return _plan_out(selectors.day_plan_get(user=request.user, plan_id=plan_id), request.user)


@router.post("/{int:plan_id}/replan", response={201: DayPlanOut, **E})
@requires("plan", DayPlan)
def day_plan_replan_api(request, plan_id: int):
    """A new version from the orders as they are now: done or under-way visits and hand moves kept."""
    plan = selectors.day_plan_get(user=request.user, plan_id=plan_id, action="plan")
    return 201, _plan_out(services.day_plan_replan(by=request.user, plan=plan), request.user)


@router.post("/stops/{int:stop_id}/move", response={200: PlannedStopOut, **E})
@requires("plan", DayPlan)
def planned_stop_move_api(request, stop_id: int, data: StopMoveIn):
    """Give one visit to another person by hand (the next re-plan keeps it there)."""
    stop = selectors.planned_stop_get(user=request.user, stop_id=stop_id)
    person = next((p for p in selectors.move_choices(plan=stop.plan) if p.pk == data.person), None)
    if person is None:
        raise ValidationError({"person": _("请选择本计划中的服务人员或网格员")})
    s = services.planned_stop_move(by=request.user, stop=stop, person=person)
    return {
        "id": s.pk,
        "seq": s.seq,
        "order_id": s.order_id,
        "due_id": s.due_id,
        "label": _label(s),
        "arrive_at": s.arrive_at,
        "start_at": s.start_at,
        "end_at": s.end_at,
        "travel_minutes": s.travel_minutes,
        "distance_m": s.distance_m,
        "pinned": s.pinned,
        "fixed": s.fixed,
    }


@router.post("/{int:plan_id}/apply", response={200: DayPlanApplyOut, **E})
@requires("plan", DayPlan)
def day_plan_apply_api(request, plan_id: int):
    """派单 by the plan, through the orders' state machine (each order's history says so)."""
    plan = selectors.day_plan_get(user=request.user, plan_id=plan_id, action="plan")
    result = services.day_plan_apply(by=request.user, plan=plan)
    return {**result, "failed": [{"label": label, "message": m} for label, m in result["failed"]]}
