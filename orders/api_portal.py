"""The family portal under /api/orders/family (docs/orders-quality.md): a relative's account
(role 老人/家属, usually no region) reads its linked elders and their orders, orders from the
catalogue and — through `POST /api/orders/{id}/rate` (orders/api_quality.py) — rates.

Guarded by `orders.family.portal_check` (signed in + orders.portal_order), not core.access.requires,
which would refuse an account without a region; every read goes through the family links
(orders.selectors.family_elders / family_orders): an elder or order the account is not linked
to is a 404, and the account gets nothing from the rest of /api/orders (no orders.view_order).
"""

import datetime

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from orders import family

router = Router(tags=["family portal"])


class FamilyElderOut(Schema):
    id: int
    name: str
    relation: str
    relation_label: str
    community: str = Field(description="the elder's community (or grid)")


class FamilyElderListOut(Paginated[FamilyElderOut]):
    """The elders your account is linked to."""


class PortalItemOut(Schema):
    id: int
    name: str
    category: str
    unit_label: str
    duration_minutes: int
    payment_mode: str = Field(description="what a portal order of it is: paid, free or low_cost")
    price_fen: int = Field(description="the price at the elder's community today, in fen (0: free)")


class PortalItemListOut(Paginated[PortalItemOut]):
    """What you may order for the elder, in the catalogue's order."""


class PortalOrderOut(Schema):
    id: int
    elder: IdName
    item: IdName
    status: str
    status_label: str
    status_words: str = Field(description="where the order is, in a sentence (已收到，社区正在安排服务人员 …)")
    scheduled_start: datetime.datetime
    scheduled_end: datetime.datetime
    worker: str = Field(description="who comes (a name), once dispatched")
    organisation: str
    amount_fen: int
    payment_mode: str
    notes: str
    can_rate: bool
    rating: int | None
    rating_comment: str
    cancel_reason: str
    created_at: datetime.datetime


class PortalOrderListOut(Paginated[PortalOrderOut]):
    """A page of the linked elders' orders."""


class PortalOrdersIn(Schema):
    elder: int | None = Field(None, ge=1, le=2**62, description="one of your elders")
    upcoming: bool | None = Field(
        None, description="true: still to be served, soonest first; false: done or cancelled; empty: all, latest first"
    )


class PortalItemsIn(Schema):
    elder: int | None = Field(
        None, ge=1, le=2**62, description="the elder you order for (prices are their community's); default your first"
    )


class PortalOrderIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="one of your elders")
    item: int = Field(ge=1, le=2**62, description="an item of GET /api/orders/family/items")
    scheduled_start: datetime.datetime = Field(description="at least two hours from now, at most 30 days ahead")
    notes: str = Field("", max_length=2000)
    idempotency_key: str | None = Field(None, max_length=200, description="a retry with the same key returns the first order")


def portal_order_out(order) -> dict:
    return {
        "id": order.pk,
        "elder": id_name(order.elder),
        "item": id_name(order.item),
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "status_words": family.status_words(order),
        "scheduled_start": order.scheduled_start,
        "scheduled_end": order.scheduled_end,
        "worker": family.worker_name(order),
        "organisation": order.organisation.name if order.organisation else "",
        "amount_fen": order.amount_fen,
        "payment_mode": order.payment_mode,
        "notes": order.notes,
        "can_rate": order.status == "completed",
        "rating": order.rating,
        "rating_comment": order.rating_comment,
        "cancel_reason": order.cancel_reason,
        "created_at": order.created_at,
    }


@router.get("/family/elders", response={200: FamilyElderListOut, 403: ErrorOut, 422: ErrorOut})
def family_elders_api(request, paging: Query[PageIn]):
    """我的老人: the elders your account is linked to."""
    family.portal_check(request.user)
    links = family.portal_links(user=request.user)
    out = paginate(links, paging)
    out["items"] = [
        {
            "id": link.elder_id,
            "name": link.elder.name,
            "relation": link.relation,
            "relation_label": str(link.get_relation_display()),
            "community": link.elder.region.name,
        }
        for link in out["items"]
    ]
    return out


@router.get("/family/items", response={200: PortalItemListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def family_items_api(request, filters: Query[PortalItemsIn], paging: Query[PageIn]):
    """What a relative may order for one of their elders (items orderable by 老人/家属), with its price."""
    family.portal_check(request.user)
    if filters.elder:
        elder = family.portal_elder_get(user=request.user, elder_id=filters.elder)
    else:
        first = family.portal_links(user=request.user).first()
        elder = first.elder if first else None
    items = family.portal_item_queryset(user=request.user)
    out = paginate(items if elder is not None else items.none(), paging)
    out["items"] = [
        {
            "id": i.pk,
            "name": i.name,
            "category": i.category.name,
            "unit_label": str(i.get_unit_display()),
            "duration_minutes": i.duration_minutes,
            "payment_mode": i.portal_mode,
            "price_fen": i.portal_price_fen,
        }
        for i in family.portal_priced(out["items"], elder)
    ]
    return out


@router.get("/family/orders", response={200: PortalOrderListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def family_orders_api(request, filters: Query[PortalOrdersIn], paging: Query[PageIn]):
    """The linked elders' orders (one elder's with `elder`)."""
    family.portal_check(request.user)
    elder = family.portal_elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    out = paginate(family.portal_orders(user=request.user, elder=elder, upcoming=filters.upcoming), paging)
    out["items"] = [portal_order_out(o) for o in out["items"]]
    return out


@router.get("/family/orders/{int:order_id}", response={200: PortalOrderOut, 403: ErrorOut, 404: ErrorOut})
def family_order_get_api(request, order_id: int):
    """Follow one order: its status in words, who comes when."""
    family.portal_check(request.user)
    return portal_order_out(family.portal_order_get(user=request.user, order_id=order_id))


@router.post("/family/orders", response={201: PortalOrderOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def family_order_create_api(request, data: PortalOrderIn):
    """Order a service for one of your elders (source 家属, or 老人本人 for a 本人 link)."""
    family.portal_check(request.user)
    start = data.scheduled_start if timezone.is_aware(data.scheduled_start) else timezone.make_aware(data.scheduled_start)
    order = family.portal_order_create(
        by=request.user,
        elder_id=data.elder,
        item_id=data.item,
        scheduled_start=start,
        notes=data.notes,
        idempotency_key=data.idempotency_key,
    )
    return Status(201, portal_order_out(family.portal_order_get(user=request.user, order_id=order.pk)))
