"""/api/orders: the closed loop through the API, with the same rules as the pages.

`POST /api/orders`, `GET /api/orders`, `GET /api/orders/{id}` and one `POST
/api/orders/{id}/<action>` per move. This module holds the order itself and the moves of
dispatch (dispatch, accept, reject, cancel); the visit (check-in, check-out), candidates,
plans, agreements, ratings and the family portal mount their routers below, from their own
modules.
"""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from audit.selectors import change_records_for, changes_shown
from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from orders import selectors, services
from orders.models import ORDER_MACHINE, Order, Source
from orders.models import Status as OrderStatus

router = Router(tags=["orders"])

ID = Field(ge=1, le=2**62)


class OrderFilterIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    status: Literal[tuple(["", "open", *OrderStatus.values])] = Field("", description="a status, or open (not yet delivered)")
    elder: int | None = Field(None, ge=1, le=2**62)
    organisation: int | None = Field(None, ge=1, le=2**62)
    caregiver: int | None = Field(None, ge=1, le=2**62)
    item: int | None = Field(None, ge=1, le=2**62)
    source: Literal[tuple(["", *Source.values])] = ""
    day_from: datetime.date | None = Field(None, description="windows starting on or after this day")
    day_to: datetime.date | None = Field(None, description="windows starting on or before this day")


class OrderItemOut(Schema):
    id: int
    elder: IdName
    region: IdName
    item: IdName
    quantity: int
    status: str
    status_label: str
    source: str
    source_label: str
    scheduled_start: datetime.datetime
    scheduled_end: datetime.datetime
    organisation: IdName | None
    caregiver: IdName | None
    volunteer: IdName | None
    amount_fen: int
    payment_mode: str
    verification: str
    flags: list[str]
    rating: int | None


class OrderOut(OrderItemOut):
    unit_price_fen: int
    notes: str
    need: int | None
    plan: int | None
    agreement: int | None
    caller_name: str
    caller_relation: str
    dispatched_at: datetime.datetime | None
    accept_by: datetime.datetime | None
    accepted_at: datetime.datetime | None
    cancel_reason: str
    checkin_at: datetime.datetime | None
    checkin_delayed: bool
    checkin_distance_m: int | None
    checkout_at: datetime.datetime | None
    checkout_delayed: bool
    checkout_distance_m: int | None
    outcomes: dict
    required_outcomes: list[str] = Field(description="what the catalogue asks the worker to record before check-out")
    worker_notes: str
    rating_comment: str
    actions: list[str] = Field(description="the moves the status allows now")
    created_at: datetime.datetime


class OrderListOut(Paginated[OrderItemOut]):
    """A page of orders, the latest window first."""


class OrderIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    item: int = Field(ge=1, le=2**62, description="a catalogue item")
    scheduled_start: datetime.datetime = Field(description="when the visit starts (Asia/Shanghai when no offset is given)")
    scheduled_end: datetime.datetime | None = Field(None, description="default: the start + the item's duration")
    quantity: int = Field(1, ge=1, le=99)
    payment_mode: str = Field("", max_length=12, description="one of the item's payment modes; default its first")
    source: Literal[tuple(Source.values)] = Source.HOTLINE
    notes: str = Field("", max_length=2000)
    need: int | None = Field(None, ge=1, le=2**62, description="the need in the ledger this order answers")
    caller_name: str = Field("", max_length=200)
    caller_relation: str = Field("", max_length=200)
    idempotency_key: str | None = Field(
        None, max_length=200, description="the client's key: a retry with it returns the first order"
    )


class DispatchIn(Schema):
    organisation: int | None = Field(None, ge=1, le=2**62, description="send to an organisation: its dispatcher assigns")
    caregiver: int | None = Field(None, ge=1, le=2**62, description="send to (or, for an organisation, assign) a caregiver")
    volunteer: int | None = Field(None, ge=1, le=2**62, description="send to a volunteer")
    reason: str = Field("", max_length=2000, description="required when the order is taken from someone (reassign)")


class ReasonIn(Schema):
    reason: str = Field(max_length=2000)


class HistoryOut(Schema):
    at: datetime.datetime
    action: str
    by: str | None
    changes: dict
    note: str


class OrderHistoryListOut(Paginated[HistoryOut]):
    """A page of an order's history, newest first."""


def _named(obj):
    return None if obj is None else id_name(obj)


def order_item(order) -> dict:
    return {
        "id": order.pk,
        "elder": id_name(order.elder),
        "region": id_name(order.region),
        "item": id_name(order.item),
        "quantity": order.quantity,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "source": order.source,
        "source_label": str(order.get_source_display()),
        "scheduled_start": order.scheduled_start,
        "scheduled_end": order.scheduled_end,
        "organisation": _named(order.organisation),
        "caregiver": _named(order.caregiver),
        "volunteer": _named(order.volunteer),
        "amount_fen": order.amount_fen,
        "payment_mode": order.payment_mode,
        "verification": order.verification,
        "flags": list(order.flags or []),
        "rating": order.rating,
    }


def order_detail(order) -> dict:
    return {
        **order_item(order),
        "unit_price_fen": order.unit_price_fen,
        "notes": order.notes,
        "need": order.need_id,
        "plan": order.plan_id,
        "agreement": order.agreement_id,
        "caller_name": order.caller_name,
        "caller_relation": order.caller_relation,
        "dispatched_at": order.dispatched_at,
        "accept_by": order.accept_by,
        "accepted_at": order.accepted_at,
        "cancel_reason": order.cancel_reason,
        "checkin_at": order.checkin_at,
        "checkin_delayed": order.checkin_delayed,
        "checkin_distance_m": order.checkin_distance_m,
        "checkout_at": order.checkout_at,
        "checkout_delayed": order.checkout_delayed,
        "checkout_distance_m": order.checkout_distance_m,
        "outcomes": order.outcomes or {},
        "required_outcomes": list(order.item.outcomes or []),
        "worker_notes": order.worker_notes,
        "rating_comment": order.rating_comment,
        "actions": ORDER_MACHINE.actions_from(order.status),
        "created_at": order.created_at,
    }


def fresh(request, order_id: int) -> dict:
    """The order after a move made by this request (a worker who rejected it no longer reaches it)."""
    return order_detail(selectors.order_after_move(order_id=order_id))


@router.get("", response={200: OrderListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Order)
def order_list_api(request, filters: Query[OrderFilterIn], paging: Query[PageIn]):
    """Orders of your subtree (a provider: those sent to it; a worker: their own), latest first."""
    from elders.selectors import elder_get
    from regions.selectors import region_get

    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    elder = elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    f = selectors.OrderFilter(
        region=region,
        status=filters.status,
        elder=elder,
        organisation_id=filters.organisation,
        caregiver_id=filters.caregiver,
        item_id=filters.item,
        source=filters.source,
        day_from=filters.day_from,
        day_to=filters.day_to,
    )
    out = paginate(selectors.order_list(user=request.user, filters=f), paging)
    out["items"] = [order_item(o) for o in out["items"]]
    return out


@router.post("", response={201: OrderOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("add", Order)
def order_create_api(request, data: OrderIn):
    """制单: an order for an elder of your subtree. With `idempotency_key`, a retry returns the
    order the first request made (201 both times), never a second one."""
    from catalogue.selectors import item_get
    from elders.selectors import elder_get
    from needs.selectors import need_get

    elder = elder_get(user=request.user, elder_id=data.elder)
    item = item_get(user=request.user, item_id=data.item) if request.user.may_code("catalogue.view_serviceitem") else None
    if item is None:
        raise ValidationError({"item": _("服务项目不存在，请从服务清单中选择")})
    need = need_get(user=request.user, need_id=data.need) if data.need else None
    if need is not None and need.elder_id != elder.pk:
        raise ValidationError({"need": _("该需求不是这位老人的，请重新选择")})
    start = data.scheduled_start if timezone.is_aware(data.scheduled_start) else timezone.make_aware(data.scheduled_start)
    end = data.scheduled_end
    if end is not None and timezone.is_naive(end):
        end = timezone.make_aware(end)
    order = services.order_create(
        by=request.user,
        elder=elder,
        item=item,
        scheduled_start=start,
        scheduled_end=end,
        quantity=data.quantity,
        payment_mode=data.payment_mode,
        source=data.source if need is None else "need",
        notes=data.notes,
        need=need,
        caller_name=data.caller_name,
        caller_relation=data.caller_relation,
        idempotency_key=data.idempotency_key,
    )
    return Status(201, order_detail(selectors.order_get(user=request.user, order_id=order.pk)))


@router.get("/{int:order_id}", response={200: OrderOut, 403: ErrorOut})
@requires("view", Order)
def order_get_api(request, order_id: int):
    return order_detail(selectors.order_get(user=request.user, order_id=order_id))


@router.post("/{int:order_id}/dispatch", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("dispatch", Order)
def order_dispatch_api(request, order_id: int, data: DispatchIn):
    """派单 to an organisation, a caregiver or a volunteer; from an organisation's dispatcher, the
    assignment of one of its staff; from the station, a reassignment (with a reason)."""
    from orders.dispatch_targets import dispatch_caregiver_get, dispatch_organisation_get, dispatch_volunteer_get

    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    user = request.user
    # Who serves the order's elder, not only who is in the user's scope (orders/dispatch_targets.py).
    organisation = (
        dispatch_organisation_get(user=user, order=order, organisation_id=data.organisation) if data.organisation else None
    )
    caregiver = dispatch_caregiver_get(user=user, order=order, caregiver_id=data.caregiver) if data.caregiver else None
    volunteer = dispatch_volunteer_get(user=user, order=order, volunteer_id=data.volunteer) if data.volunteer else None
    services.order_dispatch(
        by=user, order=order, organisation=organisation, caregiver=caregiver, volunteer=volunteer, reason=data.reason
    )
    return fresh(request, order.pk)


@router.post("/{int:order_id}/accept", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def order_accept_api(request, order_id: int):
    """接单. Two workers accepting the same order at once: one wins, the other gets 422."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="serve")
    services.order_accept(by=request.user, order=order)
    return fresh(request, order.pk)


@router.post("/{int:order_id}/reject", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("serve", Order)
def order_reject_api(request, order_id: int, data: ReasonIn):
    """拒单, with a reason: the order goes back to be dispatched again."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="serve")
    services.order_reject(by=request.user, order=order, reason=data.reason)
    return fresh(request, order.pk)


@router.post("/{int:order_id}/cancel", response={200: OrderOut, 403: ErrorOut, 422: ErrorOut})
@requires("cancel", Order)
def order_cancel_api(request, order_id: int, data: ReasonIn):
    """取消, with who and why."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="cancel")
    services.order_cancel(by=request.user, order=order, reason=data.reason)
    return order_detail(selectors.order_get(user=request.user, order_id=order.pk))


@router.get("/{int:order_id}/history", response={200: OrderHistoryListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Order)
def order_history_api(request, order_id: int, paging: Query[PageIn]):
    """Every move of the order: actor, time, reason, before and after."""
    order = selectors.order_get(user=request.user, order_id=order_id)
    out = paginate(change_records_for(user=request.user, obj=order, whole=True).select_related("by"), paging)
    out["items"] = [
        {
            "at": r.at,
            "action": r.action,
            "by": (r.by.full_name or r.by.username) if r.by else None,
            "changes": changes_shown(user=request.user, model=Order, changes=r.changes),
            "note": r.note,
        }
        for r in out["items"]
    ]
    return out


# The rest of the loop, each area in its own module (docs/orders.md).
def _mount_areas():
    from orders import api_dispatch, api_plans, api_portal, api_quality, api_visit

    for module in (api_visit, api_dispatch, api_plans, api_quality, api_portal):
        router.add_router("", module.router)


_mount_areas()
