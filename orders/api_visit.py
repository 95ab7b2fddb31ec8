"""/api/orders: the visit at the door (EVV) — check-in, check-out, the worker's day, the
exceptions and stray check-ins queues (docs/orders-visits.md). Mounted by orders/api.py."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

router = Router(tags=["orders"])

# Below the router: orders.api mounts this module at its end, and this module reads its schemas.
from core.access import requires  # noqa: E402
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate  # noqa: E402
from core.schemas import ErrorOut  # noqa: E402
from orders import evv, evv_selectors  # noqa: E402
from orders.api import OrderOut, fresh  # noqa: E402
from orders.models import ExceptionCode, Order, StrayCheckin, VisitException  # noqa: E402
from orders.selectors import order_get  # noqa: E402

ID = Field(ge=1, le=2**62)


class PositionIn(Schema):
    lat: float | None = Field(None, ge=-90, le=90, description="WGS-84 latitude from the phone; null: no position")
    lng: float | None = Field(None, ge=-180, le=180, description="WGS-84 longitude; null with lat")
    accuracy_m: int | None = Field(None, ge=0, le=100_000, description="the position's accuracy in metres, as the phone reports")
    device_at: datetime.datetime | None = Field(None, description="the phone's clock when the worker tapped")
    device_sent_at: datetime.datetime | None = Field(
        None, description="the phone's clock when it sent this request (measures the phone clock's skew)"
    )
    offline: bool = Field(False, description="made offline and sent later: device_at becomes the visit time if trusted")
    idempotency_key: str | None = Field(None, max_length=200, description="the client's key: a retry returns the first answer")


class CheckOutIn(PositionIn):
    outcomes: dict[str, bool | str] = Field(
        default_factory=dict, description="each of the item's required outcomes: true (ticked) or a short text"
    )
    notes: str = Field("", max_length=2000)


class ExceptionOrderOut(Schema):
    id: int
    elder: IdName
    item: IdName
    region: IdName
    scheduled_start: datetime.datetime
    worker: str | None
    status: str
    status_label: str
    verification: str


class ExceptionOut(Schema):
    id: int
    order: ExceptionOrderOut
    code: str
    code_label: str
    detail: str
    opened_at: datetime.datetime
    resolution: str
    resolution_label: str
    resolution_note: str
    resolved_at: datetime.datetime | None
    resolved_by: str | None


class ExceptionListOut(Paginated[ExceptionOut]):
    """A page of visit exceptions, the oldest first (the queue is worked from the front)."""


class ExceptionFilterIn(Schema):
    state: Literal["open", "accepted", "rejected", "all"] = Field("open", description="open (the queue), a resolution, or all")
    code: Literal[tuple(["", *ExceptionCode.values])] = ""
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    order: int | None = Field(None, ge=1, le=2**62)


class ResolveIn(Schema):
    resolution: Literal["accepted", "rejected"] = Field(description="accepted: the visit stands; rejected: not paid")
    note: str = Field(max_length=2000, description="why (required)")


class DisputeIn(Schema):
    reason: str = Field(max_length=2000, description="what the elder or relative says (required)")


class StrayIn(Schema):
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    accuracy_m: int | None = Field(None, ge=0, le=100_000)
    device_at: datetime.datetime | None = None
    elder: int | None = Field(None, ge=1, le=2**62, description="the elder of one of your orders, if known")
    note: str = Field(max_length=2000, description="where you are and why (required)")


class StrayOut(Schema):
    id: int
    caregiver: IdName
    organisation: IdName
    region: IdName
    elder: IdName | None
    at: datetime.datetime
    device_at: datetime.datetime | None
    lat: float | None
    lng: float | None
    accuracy_m: int | None
    note: str
    state: str
    state_label: str
    order: int | None
    resolved_at: datetime.datetime | None


class StrayListOut(Paginated[StrayOut]):
    """A page of stray check-ins, the oldest first."""


class StrayFilterIn(Schema):
    state: Literal[tuple(["all", *StrayCheckin.State.values])] = "open"
    region: int | None = Field(None, ge=1, le=2**62)


class StrayResolveIn(Schema):
    action: Literal["match", "dismiss"] = Field(description="match: link to `order`; dismiss: not a visit")
    order: int | None = Field(None, ge=1, le=2**62, description="the order it belongs to (match)")
    note: str = Field(max_length=2000, description="why (required)")


class VisitOut(Schema):
    id: int
    status: str
    status_label: str
    scheduled_start: datetime.datetime
    scheduled_end: datetime.datetime
    elder: IdName
    address: str
    map_uri: str = Field(description="geo: URI for the phone's map app")
    phone_masked: str
    item: IdName
    required_outcomes: list[str]
    outcomes: dict
    checkin_at: datetime.datetime | None
    checkout_at: datetime.datetime | None
    flags: list[str]


class MyDayOut(Paginated[VisitOut]):
    """The worker's visits of a day, in the order of their windows."""


class MyDayIn(Schema):
    day: datetime.date | None = Field(None, description="default: today (Asia/Shanghai)")


# --- check-in, check-out ---------------------------------------------------------------------------


def _position(data: PositionIn) -> dict:
    return {
        "lat": data.lat,
        "lng": data.lng,
        "accuracy_m": data.accuracy_m,
        "device_at": data.device_at,
        "device_sent_at": data.device_sent_at,
        "offline": data.offline,
        "idempotency_key": data.idempotency_key,
    }


@router.post("/{int:order_id}/check-in", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def order_check_in_api(request, order_id: int, data: PositionIn):
    """签到 at the elder's door with the phone's position. Late, outside the geofence or with a
    poor position: the visit gets an exception for a person to resolve. A retry with the same
    `idempotency_key` answers the first result (200), never a second check-in."""
    order = order_get(user=request.user, order_id=order_id, action="serve")
    evv.order_check_in(by=request.user, order=order, **_position(data))
    return fresh(request, order.pk)


@router.post("/{int:order_id}/check-out", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def order_check_out_api(request, order_id: int, data: CheckOutIn):
    """签退 with the item's required outcomes (refused, naming the missing ones) and notes; the
    visit's verification is decided. Idempotent like the check-in."""
    order = order_get(user=request.user, order_id=order_id, action="serve")
    evv.order_check_out(by=request.user, order=order, outcomes=data.outcomes, notes=data.notes, **_position(data))
    return fresh(request, order.pk)


def visit_item(order: Order) -> dict:
    return {
        "id": order.pk,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "scheduled_start": order.scheduled_start,
        "scheduled_end": order.scheduled_end,
        "elder": id_name(order.elder),
        "address": order.elder.address,
        "map_uri": evv_selectors.map_uri(order),
        "phone_masked": order.elder.phone_masked,
        "item": id_name(order.item),
        "required_outcomes": list(order.item.outcomes or []),
        "outcomes": order.outcomes or {},
        "checkin_at": order.checkin_at,
        "checkout_at": order.checkout_at,
        "flags": list(order.flags or []),
    }


@router.get("/my-day", response={200: MyDayOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def my_day_api(request, filters: Query[MyDayIn], paging: Query[PageIn]):
    """The signed-in worker's own visits of a day (default today), in order. Other roles: none."""
    day = filters.day or timezone.localdate()
    out = paginate(evv_selectors.my_day(user=request.user, day=day), paging)
    out["items"] = [visit_item(o) for o in out["items"]]
    return out


# --- the exceptions queue ----------------------------------------------------------------------------


def _worker_name(order: Order) -> str | None:
    worker = order.caregiver or order.volunteer
    return worker.name if worker else None


def exception_item(e: VisitException) -> dict:
    o = e.order
    return {
        "id": e.pk,
        "order": {
            "id": o.pk,
            "elder": id_name(o.elder),
            "item": id_name(o.item),
            "region": id_name(o.region),
            "scheduled_start": o.scheduled_start,
            "worker": _worker_name(o),
            "status": o.status,
            "status_label": str(o.get_status_display()),
            "verification": o.verification,
        },
        "code": e.code,
        "code_label": str(e.get_code_display()),
        "detail": e.detail,
        "opened_at": e.opened_at,
        "resolution": e.resolution,
        "resolution_label": str(e.get_resolution_display()),
        "resolution_note": e.resolution_note,
        "resolved_at": e.resolved_at,
        "resolved_by": (e.resolved_by.full_name or e.resolved_by.username) if e.resolved_by else None,
    }


def _region(request, region_id):
    if not region_id:
        return None
    from regions.selectors import region_get

    return region_get(user=request.user, region_id=region_id)


@router.get("/exceptions", response={200: ExceptionListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", VisitException)
def exception_list_api(request, filters: Query[ExceptionFilterIn], paging: Query[PageIn]):
    """Visit exceptions of your subtree (a provider: of the orders sent to it), open ones by default."""
    f = evv_selectors.ExceptionFilter(
        state=filters.state, code=filters.code, region=_region(request, filters.region), order_id=filters.order
    )
    out = paginate(evv_selectors.exception_list(user=request.user, filters=f), paging)
    out["items"] = [exception_item(e) for e in out["items"]]
    return out


@router.post("/exceptions/{int:exception_id}/resolve", response={200: ExceptionOut, 403: ErrorOut, 422: ErrorOut})
@requires("resolve", VisitException)
def exception_resolve_api(request, exception_id: int, data: ResolveIn):
    """A person's decision: accepted (the visit stands) or rejected (not paid), with a note; the
    order's verification follows (all accepted → verified; any rejected → rejected)."""
    exception = evv_selectors.exception_get(user=request.user, exception_id=exception_id, action="resolve")
    evv.visit_exception_resolve(by=request.user, exception=exception, resolution=data.resolution, note=data.note)
    return exception_item(evv_selectors.exception_get(user=request.user, exception_id=exception_id, action="resolve"))


@router.post("/{int:order_id}/dispute", response={201: ExceptionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("resolve", VisitException)
def order_dispute_api(request, order_id: int, data: DisputeIn):
    """The elder or a relative disputes a checked-out visit (a complaint taken at the desk): the
    visit becomes disputed — not paid, its time coins taken back — until a person resolves the
    dispute in the exceptions queue (`POST /api/orders/exceptions/{id}/resolve`)."""
    order = order_get(user=request.user, order_id=order_id)
    exception = evv.order_dispute(by=request.user, order=order, reason=data.reason)
    return Status(
        201, exception_item(evv_selectors.exception_get(user=request.user, exception_id=exception.pk, action="resolve"))
    )


# --- stray check-ins ---------------------------------------------------------------------------------


def stray_item(s: StrayCheckin) -> dict:
    return {
        "id": s.pk,
        "caregiver": id_name(s.caregiver),
        "organisation": id_name(s.organisation),
        "region": id_name(s.region),
        "elder": id_name(s.elder),
        "at": s.at,
        "device_at": s.device_at,
        "lat": s.lat,
        "lng": s.lng,
        "accuracy_m": s.accuracy_m,
        "note": s.note,
        "state": s.state,
        "state_label": str(s.get_state_display()),
        "order": s.order_id,
        "resolved_at": s.resolved_at,
    }


def stray_elder(request, elder_id):
    """The elder a caregiver names: one of their own orders' elders, else refused on the field."""
    if not elder_id:
        return None
    from orders.selectors import order_scope

    order = order_scope(request.user, "serve").filter(elder_id=elder_id).select_related("elder__region").first()
    if order is None:
        raise ValidationError({"elder": _("只能选择您服务过的老人，不确定时请留空并在说明中写明")})
    return order.elder


@router.post("/stray-checkins", response={201: StrayOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def stray_checkin_create_api(request, data: StrayIn):
    """A check-in that matches none of your scheduled visits: kept for the community to resolve."""
    stray = evv.stray_checkin_record(
        by=request.user,
        lat=data.lat,
        lng=data.lng,
        accuracy_m=data.accuracy_m,
        elder=stray_elder(request, data.elder),
        note=data.note,
        device_at=data.device_at,
    )
    return Status(201, stray_item(stray))


@router.get("/stray-checkins", response={200: StrayListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", VisitException)
def stray_list_api(request, filters: Query[StrayFilterIn], paging: Query[PageIn]):
    """Stray check-ins of your subtree or organisation, open ones by default, the oldest first."""
    qs = evv_selectors.stray_list(user=request.user, state=filters.state, region=_region(request, filters.region))
    out = paginate(qs, paging)
    out["items"] = [stray_item(s) for s in out["items"]]
    return out


@router.post("/stray-checkins/{int:stray_id}/resolve", response={200: StrayOut, 403: ErrorOut, 422: ErrorOut})
@requires("resolve", VisitException)
def stray_resolve_api(request, stray_id: int, data: StrayResolveIn):
    """Link a stray check-in to the order it belongs to, or dismiss it, with a note."""
    stray = evv_selectors.stray_get(user=request.user, stray_id=stray_id, action="resolve")
    order = None
    if data.action == "match":
        if not data.order:
            raise ValidationError({"order": _("请选择要关联的工单")})
        order = order_get(user=request.user, order_id=data.order)
    evv.stray_checkin_resolve(by=request.user, stray=stray, order=order, dismiss=data.action == "dismiss", note=data.note)
    return stray_item(evv_selectors.stray_get(user=request.user, stray_id=stray_id))
