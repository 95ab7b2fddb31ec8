"""Pages of the visit (EVV): the caregiver's phone (the day, one visit, a stray check-in) and the
community's queues (exceptions, stray check-ins). Check-in and check-out themselves go from the
phone page's script to the API (/api/orders/{id}/check-in, …), online or from its offline queue
(orders/static/orders/visit.js), so there is one write path with its idempotency keys."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.access import requires
from core.geo import haversine_m
from core.pagination import CappedPaginator
from orders import evv, evv_selectors
from orders.models import ExceptionCode, Order, Status, StrayCheckin, VisitException
from orders.selectors import order_get, order_scope

PAGE_SIZE = 30
# The phone pages ask for the position: they alone lift the platform's geolocation=() policy,
# for this site only (settings.PERMISSIONS_POLICY stays the default everywhere else).
PHONE_PERMISSIONS = "camera=(), microphone=(), geolocation=(self), payment=(), usb=()"


def _phone(response):
    response.headers["Permissions-Policy"] = PHONE_PERMISSIONS
    return response


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _day(value) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


# --- the caregiver's phone -------------------------------------------------------------------------


@login_required
@requires("serve", Order)
def my_day_page(request):
    """今日上门: the worker's visits of the day in order, each with its address, map link, item
    and required outcomes; a tap opens the visit (one action a screen)."""
    day = _day(request.GET.get("day"))
    from orders.day_order import in_planned_order, planned_order

    visits = list(evv_selectors.my_day(user=request.user, day=day)[:100])
    planned = planned_order(user=request.user, day=day)
    visits = in_planned_order(visits, planned)
    for v in visits:
        v.map_uri = evv_selectors.map_uri(v)
    today = timezone.localdate()
    context = {
        "day": day,
        "is_today": day == today,
        "prev_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
        "visits": visits,
        "planned": bool(planned),
        "done": sum(1 for v in visits if v.status not in (Status.DISPATCHED, Status.ACCEPTED, Status.IN_SERVICE)),
    }
    return _phone(render(request, "orders/visit/my_day.html", context))


@login_required
@requires("serve", Order)
def my_visit_page(request, order_id: int):
    """One visit on the phone: the one action its state allows (check in; record the outcomes and
    check out; done). The elder's full phone only while the visit is in service (logged)."""
    order = evv_selectors.my_visit_get(user=request.user, order_id=order_id)
    # The service worker keeps the day's pages for use offline (orders/static/orders/sw.js): its
    # copies are asked with X-Visit-Precache and never reveal the phone; a page that does is no-store.
    precache = request.headers.get("X-Visit-Precache") == "1"
    phone = (
        None if precache else evv_selectors.visit_elder_phone(user=request.user, order=order, ip=request.META.get("REMOTE_ADDR"))
    )
    screen = {Status.ACCEPTED: "check-in", Status.IN_SERVICE: "check-out"}.get(order.status, "done")
    if order.status == Status.DISPATCHED:
        screen = "not-accepted"
    context = {
        "order": order,
        "elder": order.elder,
        "phone": phone,
        "map_uri": evv_selectors.map_uri(order),
        "screen": screen,
        "outcomes": [{"name": name, "done": bool((order.outcomes or {}).get(name))} for name in order.item.outcomes or []],
        "flags": [str(dict(ExceptionCode.choices).get(f, f)) for f in order.flags or []],
        "day_url": reverse("orders:visit_my_day") + f"?day={timezone.localtime(order.scheduled_start).date().isoformat()}",
    }
    response = render(request, "orders/visit/my_visit.html", context)
    if phone:
        response.headers["Cache-Control"] = "no-store, private"
    return _phone(response)


@login_required
@requires("serve", Order)
@require_POST
def my_visit_accept_page(request, order_id: int):
    """接单 from the phone: one big button on a visit sent to the worker (or to their
    organisation, untaken). Two colleagues tapping at once: one gets it, the other is told."""
    from orders.services import order_accept

    order = order_get(user=request.user, order_id=order_id, action="serve")
    try:
        order_accept(by=request.user, order=order)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orders:visit_my_day")
    messages.success(request, _("已接单，请按时上门。"))
    return redirect("orders:visit_my_visit", order_id=order.pk)


@login_required
@requires("serve", Order)
@require_POST
def my_visit_reject_page(request, order_id: int):
    """拒单 from the phone, with a reason: the visit goes back to the station to be dispatched again."""
    from orders.services import order_reject

    order = order_get(user=request.user, order_id=order_id, action="serve")
    try:
        order_reject(by=request.user, order=order, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("orders:visit_my_visit", order_id=order.pk)
    messages.success(request, _("已拒单，社区将重新派单。"))
    return redirect("orders:visit_my_day")


@login_required
@requires("serve", Order)
@require_http_methods(["GET", "POST"])
def my_stray_page(request):
    """临时签到: the worker is at a door with no visit in the list; the community resolves it."""
    worker_elders = (
        order_scope(request.user, "serve")
        .filter(scheduled_start__gte=timezone.now() - datetime.timedelta(days=30))
        .select_related("elder")
        .order_by("elder_id")
        .distinct()
    )
    elders = {o.elder_id: o.elder for o in worker_elders[:200]}
    errors, values = {}, {}
    if request.method == "POST":
        values = request.POST
        elder = elders.get(_int(values.get("elder"))) if values.get("elder") else None
        try:
            if values.get("elder") and elder is None:
                raise ValidationError({"elder": _("只能选择您服务过的老人，不确定时请留空并在说明中写明")})
            evv.stray_checkin_record(
                by=request.user,
                lat=_float(values.get("lat")),
                lng=_float(values.get("lng")),
                accuracy_m=_int(values.get("accuracy_m")),
                elder=elder,
                note=values.get("note", ""),
                device_at=_datetime(values.get("device_at")),
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("临时签到已登记，社区工作人员会尽快核实。"))
            return redirect("orders:visit_my_day")
    context = {"elders": sorted(elders.values(), key=lambda e: e.name), "errors": errors, "values": values}
    return _phone(render(request, "orders/visit/my_stray.html", context, status=422 if errors else 200))


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN is no position


def _datetime(value):
    if not value:
        return None
    try:
        at = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if timezone.is_aware(at) else timezone.make_aware(at)


def service_worker_response(scope: str) -> HttpResponse:
    """The phone pages' service worker (orders/static/orders/sw.js) allowed for `scope`: shared by
    the caregiver's pages (/orders/my/) and the grid worker's visit form (/visits/new/)."""
    path = finders.find("orders/sw.js")
    if not path:
        raise Http404
    with open(path, encoding="utf-8") as f:
        body = f.read()
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = scope
    return response


def service_worker(request):
    """The phone pages' service worker, served under /orders/my/ so its scope is those pages and
    nothing else. Public: it is code, it holds no data."""
    return service_worker_response(reverse("orders:visit_my_day"))


# --- the community's queues ---------------------------------------------------------------------------


STATES = [("open", _("待处理")), ("accepted", _("已认可")), ("rejected", _("不认可")), ("all", _("全部"))]


@login_required
@requires("view", VisitException)
def exception_list_page(request):
    """核验异常: visits outside the grace or the geofence, for a person to resolve, the oldest first."""
    params = request.GET
    state = params.get("state") if params.get("state") in {s for s, _label in STATES} else "open"
    code = params.get("code") if params.get("code") in ExceptionCode.values else ""
    f = evv_selectors.ExceptionFilter(state=state, code=code)
    page = CappedPaginator(evv_selectors.exception_list(user=request.user, filters=f), PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "rows": page.object_list,
        "state": state,
        "code": code,
        "states": STATES,
        "codes": [(c, label) for c, label in ExceptionCode.choices if c not in evv.FLAG_ONLY],
        "may_resolve": request.user.may_code("orders.resolve_visitexception"),
    }
    return render(request, "orders/visit/exception_list.html", context)


@login_required
@requires("resolve", VisitException)
@require_POST
def exception_resolve_page(request, exception_id: int):
    """Accept or reject one exception with a note; htmx swaps the card, a plain post comes back."""
    exception = evv_selectors.exception_get(user=request.user, exception_id=exception_id, action="resolve")
    errors = {}
    try:
        evv.visit_exception_resolve(
            by=request.user,
            exception=exception,
            resolution=request.POST.get("resolution", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        errors = exc.message_dict
    exception = evv_selectors.exception_get(user=request.user, exception_id=exception_id, action="resolve")
    if request.headers.get("HX-Request"):
        context = {"e": exception, "errors": errors, "may_resolve": True, "values": request.POST}
        return render(request, "orders/visit/exception_list.html#card", context, status=422 if errors else 200)
    if errors:
        for message_list in errors.values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("已处理：%(code)s") % {"code": exception.get_code_display()})
    return redirect(reverse("orders:visit_exceptions"))


@login_required
@requires("view", VisitException)
def stray_list_page(request):
    """未匹配签到: check-ins that matched no scheduled visit, to link to an order or dismiss."""
    params = request.GET
    states = [("open", _("待处理")), ("matched", _("已关联")), ("dismissed", _("已驳回")), ("all", _("全部"))]
    state = params.get("state") if params.get("state") in {s for s, _label in states} else "open"
    page = CappedPaginator(evv_selectors.stray_list(user=request.user, state=state), PAGE_SIZE).get_page(params.get("page"))
    may_resolve = request.user.may_code("orders.resolve_visitexception")
    rows = []
    for s in page.object_list:
        distance = None
        if s.elder and s.lat is not None and s.elder.home_lat is not None:
            distance = round(haversine_m(s.lat, s.lng, s.elder.home_lat, s.elder.home_lng))
        candidates = (
            evv_selectors.stray_candidates(user=request.user, stray=s)
            if may_resolve and s.state == StrayCheckin.State.OPEN and request.user.may_code("orders.view_order")
            else []
        )
        rows.append({"s": s, "distance": distance, "candidates": candidates})
    context = {"page": page, "rows": rows, "state": state, "states": states, "may_resolve": may_resolve}
    return render(request, "orders/visit/stray_list.html", context)


@login_required
@requires("resolve", VisitException)
@require_POST
def stray_resolve_page(request, stray_id: int):
    """Link a stray check-in to an order of the resolver's scope, or dismiss it, with a note."""
    stray = evv_selectors.stray_get(user=request.user, stray_id=stray_id, action="resolve")
    choice = request.POST.get("order", "")
    try:
        order = None
        if choice and choice != "dismiss":
            order_id = _int(choice)
            if order_id is None:
                raise ValidationError({"order": _("请选择要关联的工单，或选择驳回")})
            order = order_get(user=request.user, order_id=order_id)
        evv.stray_checkin_resolve(
            by=request.user, stray=stray, order=order, dismiss=choice == "dismiss", note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        for message_list in exc.message_dict.values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("临时签到已处理。"))
    return redirect(reverse("orders:visit_stray_checkins"))
