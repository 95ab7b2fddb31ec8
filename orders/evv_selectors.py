"""Reads of visit verification: the worker's day, the elder's phone during a visit (logged), the
exceptions queue and the stray check-ins queue. Each begins with restrict() / order_scope()
(stray check-ins with the scope rule itself: their permission is the exceptions' one)."""

import datetime
from dataclasses import dataclass
from urllib.parse import quote

from django.http import Http404
from django.utils import timezone

from accounts.roles import Role
from audit.services import access_log
from core import crypto
from core.access import check
from core.scoping import Scope
from orders.models import Order, Status, StrayCheckin, VisitException
from orders.selectors import order_scope, worker_of


def _day_bounds(day: datetime.date):
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, start + datetime.timedelta(days=1)


def my_day(*, user, day: datetime.date):
    """The worker's own visits of `day`, in the order of their windows (cancelled ones left out).
    Other roles have no day of visits: nothing."""
    worker = worker_of(user)
    qs = order_scope(user, "serve")
    if worker is None:
        return qs.none()
    mine = {"caregiver": worker} if user.role == Role.CAREGIVER else {"volunteer": worker}
    start, end = _day_bounds(day)
    return (
        qs.filter(**mine, scheduled_start__gte=start, scheduled_start__lt=end)
        .exclude(status=Status.CANCELLED)
        .select_related("elder", "item", "region")
        .order_by("scheduled_start", "id")
    )


def my_visit_get(*, user, order_id: int) -> Order:
    """One visit of the worker's own (any day): 404 for anything else."""
    check(user, "serve", Order)
    worker = worker_of(user)
    if worker is None:
        raise Http404
    mine = {"caregiver": worker} if user.role == Role.CAREGIVER else {"volunteer": worker}
    order = order_scope(user, "serve").filter(pk=order_id, **mine).select_related("elder", "item", "region").first()
    if order is None:
        raise Http404
    return order


def map_uri(order: Order) -> str:
    """A geo: URI (RFC 5870) for the phone's own map app, the address as its label; no web map
    service is involved (and none is sent the address)."""
    elder = order.elder
    label = quote(elder.address or elder.name, safe="")
    if elder.home_lat is not None and elder.home_lng is not None:
        point = f"{elder.home_lat:.6f},{elder.home_lng:.6f}"
        return f"geo:{point}?q={point}({label})"
    return f"geo:0,0?q={label}"


def visit_elder_phone(*, user, order: Order, ip=None) -> str | None:
    """The elder's full phone for the worker of an order in service, and only then; each read is
    written to the access log (as elders.selectors.elder_reveal does). None otherwise."""
    worker = worker_of(user)
    if order.status != Status.IN_SERVICE or worker is None:
        return None
    if (user.role == Role.CAREGIVER and order.caregiver_id != worker.pk) or (
        user.role == Role.VOLUNTEER and order.volunteer_id != worker.pk
    ):
        return None
    elder = order.elder
    phone = crypto.decrypt(elder.phone_enc) if elder.phone_enc else ""
    access_log(
        kind="reveal",
        model="elders.elder",
        object_id=elder.pk,
        fields=("phone",),
        detail={"reason": "上门服务中联系老人", "order": order.pk},
        by=user,
        region=elder.region,
        ip=ip,
    )
    return phone


@dataclass
class ExceptionFilter:
    state: str = "open"  # open, accepted, rejected, or all
    code: str = ""
    region: object = None  # a region already checked to be in scope
    order_id: int | None = None


def exception_list(*, user, filters: ExceptionFilter | None = None):
    """Exceptions in the user's scope (by the order's region or organisation), the oldest open
    first: the queue is worked from the front."""
    f = filters or ExceptionFilter()
    qs = VisitException.objects.restrict(user, "view")
    if f.state and f.state != "all":
        qs = qs.filter(resolution=f.state)
    if f.code:
        qs = qs.filter(code=f.code)
    if f.region is not None:
        qs = qs.within(f.region)
    if f.order_id:
        qs = qs.filter(order_id=f.order_id)
    return qs.select_related(
        "order__elder", "order__item", "order__caregiver", "order__volunteer", "order__region", "resolved_by"
    ).order_by("opened_at", "id")


def exception_get(*, user, exception_id: int, action: str = "view") -> VisitException:
    check(user, action, VisitException)
    found = (
        VisitException.objects.restrict(user, action)
        .select_related("order__elder", "order__item", "order__caregiver", "order__region")
        .filter(pk=exception_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def _stray_scope(user, action: str):
    # A stray check-in's permission is the exceptions' (orders.view_visitexception / resolve_…);
    # its scope, its own region or organisation (the same rule restrict() applies).
    check(user, action, VisitException)
    return StrayCheckin.objects.filter(Scope.of(user).q(StrayCheckin))


def stray_list(*, user, state: str = "open", region=None):
    qs = _stray_scope(user, "view")
    if state and state != "all":
        qs = qs.filter(state=state)
    if region is not None:
        qs = qs.within(region)
    return qs.select_related("caregiver", "organisation", "region", "elder", "order", "resolved_by").order_by("at", "id")


def stray_get(*, user, stray_id: int, action: str = "view") -> StrayCheckin:
    found = _stray_scope(user, action).select_related("caregiver", "organisation", "region", "elder").filter(pk=stray_id).first()
    if found is None:
        raise Http404
    return found


def stray_candidates(*, user, stray: StrayCheckin, limit: int = 20):
    """Orders a stray check-in may belong to: the resolver's scope, the same caregiver or elder,
    windows within a day of it, the nearest first."""
    from django.db.models import Q

    near = Q(caregiver=stray.caregiver_id)
    if stray.elder_id:
        near |= Q(elder=stray.elder_id)
    day = datetime.timedelta(days=1)
    qs = (
        order_scope(user, "view")
        .filter(near, scheduled_start__gte=stray.at - day, scheduled_start__lte=stray.at + day)
        .exclude(status=Status.CANCELLED)
        .select_related("elder", "item", "caregiver")
        .order_by("scheduled_start", "id")
    )
    return list(qs[:limit])
