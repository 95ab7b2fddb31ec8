"""Reads of orders; each begins with restrict(), narrowed for the worker roles.

A caregiver's or volunteer's account reaches, of what restrict() gives its organisation or
community, only the orders that are theirs and the ones sent to their organisation that nobody
has taken yet (they may take them): never a colleague's elders.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.http import Http404

from accounts.roles import Role
from core.access import check
from orders.models import OPEN, FamilyLink, Order

WORKER_ROLES = (Role.CAREGIVER, Role.VOLUNTEER)


def worker_of(user):
    """The Caregiver or Volunteer row of a worker's account, or None."""
    from providers.models import Caregiver, Volunteer

    if not getattr(user, "is_authenticated", False):
        return None
    if user.role == Role.CAREGIVER:
        return Caregiver.objects.filter(user=user).select_related("organisation").first()
    if user.role == Role.VOLUNTEER:
        return Volunteer.objects.filter(user=user).first()
    return None


def order_scope(user, action: str = "view"):
    """Orders `user` may `action`: restrict(), then the worker roles' narrowing."""
    qs = Order.objects.restrict(user, action)
    if getattr(user, "role", None) in WORKER_ROLES:
        worker = worker_of(user)
        if worker is None:
            return qs.none()
        if user.role == Role.CAREGIVER:
            return qs.filter(
                Q(caregiver=worker) | Q(caregiver__isnull=True, volunteer__isnull=True, organisation=worker.organisation_id)
            )
        return qs.filter(volunteer=worker)
    return qs


@dataclass
class OrderFilter:
    region: object = None  # a region in the user's scope (already checked): its subtree
    status: str = ""  # a status code, "open", or "" for all
    elder: object = None
    organisation_id: int | None = None
    caregiver_id: int | None = None
    item_id: int | None = None
    source: str = ""
    day_from: datetime.date | None = None
    day_to: datetime.date | None = None


def order_list(*, user, filters: OrderFilter | None = None):
    """Orders in the user's scope, the latest window first (the (region, status, start, id) and
    (status, start, id, region) indexes serve a community's and a city's list alike)."""
    from django.utils import timezone

    f = filters or OrderFilter()
    qs = order_scope(user, "view")
    if f.region is not None:
        qs = qs.within(f.region)
    if f.status == "open":
        qs = qs.filter(status__in=OPEN)
    elif f.status:
        qs = qs.filter(status=f.status)
    if f.elder is not None:
        qs = qs.filter(elder=f.elder)
    if f.organisation_id:
        qs = qs.filter(organisation_id=f.organisation_id)
    if f.caregiver_id:
        qs = qs.filter(caregiver_id=f.caregiver_id)
    if f.item_id:
        qs = qs.filter(item_id=f.item_id)
    if f.source:
        qs = qs.filter(source=f.source)
    tz = timezone.get_current_timezone()
    if f.day_from:
        qs = qs.filter(scheduled_start__gte=datetime.datetime.combine(f.day_from, datetime.time.min, tzinfo=tz))
    if f.day_to:
        qs = qs.filter(
            scheduled_start__lt=datetime.datetime.combine(f.day_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
        )
    return qs.select_related("elder", "region", "item", "organisation", "caregiver", "volunteer").order_by(
        "-scheduled_start", "-id"
    )


def order_get(*, user, order_id: int, action: str = "view") -> Order:
    """One order for `action`: 403 when the role cannot at all, 404 outside the scope (and, for a
    worker, when it is not theirs to see)."""
    check(user, action, Order)
    order = (
        order_scope(user, action)
        .select_related(
            "elder", "region", "item", "item__category", "organisation", "caregiver", "volunteer", "merchant", "need", "plan"
        )
        .filter(pk=order_id)
        .first()
    )
    if order is None:
        raise Http404
    return order


def order_after_move(*, order_id: int) -> Order:
    """The order a service has just moved for the caller (who was checked before the move): the
    answer of that one request, even when the move took it out of a worker's reach (a reject)."""
    return Order.objects.select_related("elder", "region", "item", "organisation", "caregiver", "volunteer").get(pk=order_id)


def family_elders(*, user):
    """The elders a relative's account is linked to (active links), for the family portal."""
    from elders.models import Elder

    if not getattr(user, "is_authenticated", False) or not user.may_code("orders.portal_order"):
        return Elder.objects.none()
    linked = FamilyLink.objects.filter(user=user, ended_at__isnull=True).values("elder_id")
    return Elder.objects.filter(pk__in=linked)


def family_orders(*, user):
    """Orders of the elders a relative is linked to: the family portal's only way to orders."""
    return Order.objects.filter(elder__in=family_elders(user=user)).select_related(
        "item", "caregiver", "volunteer", "organisation"
    )


def family_items(*, user):
    """The catalogue a relative orders from on the family portal: active items of the service
    list (not the time bank's) whose `orderable_by` includes the 老人/家属 role, in the
    catalogue's order. The catalogue is one vocabulary for the whole platform (catalogue.selectors),
    read here without a region, which a relative's account does not have."""
    from catalogue.models import ServiceItem

    if not getattr(user, "is_authenticated", False) or not user.may_code("orders.portal_order"):
        return ServiceItem.objects.none()
    return (
        ServiceItem.objects.filter(is_active=True, category__is_active=True, category__scheme="service")
        .filter(orderable_by__icontains='"elder"')  # a JSON list of role codes (SQLite and PostgreSQL alike)
        .select_related("category")
        .order_by("category__position", "category__code", "position", "code")
    )
