"""Pages of the community worker's order desk (docs/orders.md): the order list and an order with
its moves, the hotline (find the caller by phone number, order for them), and a new order for
an elder or from a need. Thin: parse, read through selectors, call one service, render."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.pagination import CappedPaginator
from core.request import client_address
from orders import selectors, services
from orders.forms_desk import DispatchForm, OrderForm, PhoneForm, ReasonForm
from orders.models import OPEN, ORDER_ACTIONS, ORDER_MACHINE, Order, Source, Status, Verification, VisitException

PAGE_SIZE = 30
CHOICES_MAX = 300  # people and organisations in a plain select; more: the dispatch board


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _date(value):
    try:
        return datetime.date.fromisoformat(str(value or "").strip()) if value else None
    except ValueError:
        return None


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def form_errors(form, exc: ValidationError) -> None:
    """A service's errors beside the form's fields (or above the form)."""
    for field, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


def region_options(user, *, max_level: int = 5) -> list[tuple[int, str]]:
    """(id, indented name) of the user's subtree down to `max_level`, as the tree reads (the
    region picker of every list); nothing for an organisation's account (no region)."""
    from regions.selectors import region_list, regions_in_tree_order

    if user.region is None:
        return []
    top = user.region.level
    nodes = region_list(user=user).filter(level__gte=top, level__lte=max_level).order_by("level", "path")[:500]
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions_in_tree_order(nodes)]


def _items(user):
    from catalogue.selectors import item_list

    return list(item_list(user=user, active_only=True)) if user.may_code("catalogue.view_serviceitem") else []


def _modes():
    from catalogue.selectors import payment_mode_choices

    return payment_mode_choices()


# --- the list --------------------------------------------------------------------------------------


STATUS_CHOICES = [("open", gettext_lazy("未完成（待派单至服务中）")), *Status.choices, ("", gettext_lazy("全部状态"))]


@login_required
@requires("view", Order)
def order_list(request):
    """Orders of the user's subtree (an organisation: those sent to it), the latest window first;
    filters by status (default: open), days, item, organisation, source and region."""
    from providers.selectors import organisation_choices
    from regions.selectors import region_get

    params = request.GET
    region_id = _int(params.get("region"))
    region = region_get(user=request.user, region_id=region_id) if region_id else None  # 404 outside the scope
    status = params.get("status", "open")
    if status not in {"", "open", *Status.values}:
        status = "open"
    source = params.get("source") if params.get("source") in Source.values else ""
    day_from, day_to = _date(params.get("day_from")), _date(params.get("day_to"))
    if day_from and day_to and day_to < day_from:
        day_from, day_to = day_to, day_from
    filters = selectors.OrderFilter(
        region=region,
        status=status,
        organisation_id=_int(params.get("organisation")),
        item_id=_int(params.get("item")),
        source=source,
        day_from=day_from,
        day_to=day_to,
    )
    page = CappedPaginator(selectors.order_list(user=request.user, filters=filters), PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "orders": page.object_list,
        "values": {
            "region": region_id or "",
            "status": status,
            "source": source,
            "item": filters.item_id or "",
            "organisation": filters.organisation_id or "",
            "day_from": day_from.isoformat() if day_from else "",
            "day_to": day_to.isoformat() if day_to else "",
        },
        "n_filters": sum(bool(v) for v in (region_id, source, filters.item_id, filters.organisation_id, day_from, day_to)),
        "regions": region_options(request.user),
        "statuses": STATUS_CHOICES,
        "sources": Source.choices,
        "items": _items(request.user),
        "organisations": list(organisation_choices(user=request.user)[:CHOICES_MAX])
        if request.user.may_code("providers.view_organisation")
        else [],
        "can_add": request.user.may("add", Order),
        "open_statuses": OPEN,
    }
    if _htmx(request) and params.get("partial"):
        response = render(request, "orders/desk/order_list.html#results", context)
        shown = params.copy()
        for key in ("partial", "page"):
            shown.pop(key, None)
        response["HX-Push-Url"] = request.path + ("?" + shown.urlencode() if shown else "")
        return response
    return render(request, "orders/desk/order_list.html", context)


# --- one order and its moves --------------------------------------------------------------------------


def _dispatch_form(user, data=None):
    from providers.selectors import caregiver_list, organisation_choices, volunteer_list

    organisations = caregivers = volunteers = []
    if user.may_code("providers.view_organisation"):
        organisations = list(organisation_choices(user=user).filter(status="active")[:CHOICES_MAX])
    if user.may_code("providers.view_caregiver"):
        caregivers = list(caregiver_list(user=user, status="active")[:CHOICES_MAX])
    if user.may_code("providers.view_volunteer"):
        volunteers = list(volunteer_list(user=user, status="approved")[:CHOICES_MAX])
    return DispatchForm(data, organisations=organisations, caregivers=caregivers, volunteers=volunteers)


def _detail_context(request, order, *, dispatch_form=None, reject_form=None, cancel_form=None, dispute_form=None) -> dict:
    user = request.user
    allowed = ORDER_MACHINE.actions_from(order.status)
    may_dispatch = user.may("dispatch", Order) and ({"dispatch", "reassign"} & set(allowed))
    may_reject = user.may("serve", Order) and "reject" in allowed and order.status != Status.CREATED
    may_cancel = user.may("cancel", Order) and "cancel" in allowed
    may_dispute = (
        user.may("resolve", VisitException) and order.checkout_at is not None and order.verification != Verification.DISPUTED
    )
    return {
        "order": order,
        "actions": [(a, ORDER_ACTIONS[a]) for a in allowed],
        "may_dispatch": bool(may_dispatch),
        "is_reassign": order.status != Status.CREATED,
        "may_reject": may_reject,
        "may_cancel": may_cancel,
        "may_dispute": may_dispute,
        "dispute_form": dispute_form or ReasonForm(label=_("异议内容")),
        "perms_follow_up": user.may_code("orders.change_followup"),
        "dispatch_form": dispatch_form or (_dispatch_form(user) if may_dispatch else None),
        "reject_form": reject_form or ReasonForm(label=_("拒单原因")),
        "cancel_form": cancel_form or ReasonForm(label=_("取消原因")),
        "required_outcomes": list(order.item.outcomes or []),
        "payment_label": dict(_modes()).get(order.payment_mode, order.payment_mode),
        "can_view_elder": user.may_code("elders.view_elder"),
        "can_view_need": user.may_code("needs.view_need"),
        "exceptions": list(order.exceptions.all()[:20]),
        "history": history_rows(
            user=user, records=change_records_for(user=user, obj=order, whole=True).select_related("by")[:50], model=Order
        ),
    }


@login_required
@requires("view", Order)
def order_detail(request, order_id):
    """Everything about an order, its status and the moves the table allows now."""
    order = selectors.order_get(user=request.user, order_id=order_id)
    return render(request, "orders/desk/order_detail.html", _detail_context(request, order))


def _after_move(request, order, message):
    messages.success(request, message)
    return redirect("orders:order_detail", order.pk)


def _refused(request, order_id, **forms):
    """The detail page again with the move's errors on its form (422)."""
    try:
        order = selectors.order_get(user=request.user, order_id=order_id)
    except Http404:
        messages.info(request, _("工单已转出您的办理范围。"))
        return redirect("orders:order_list")
    return render(request, "orders/desk/order_detail.html", _detail_context(request, order, **forms), status=422)


@login_required
@require_POST
@requires("dispatch", Order)
def order_dispatch(request, order_id):
    """派单 (or 改派 with a reason) to an organisation, a caregiver or a volunteer."""
    from providers.selectors import caregiver_get, organisation_get, volunteer_get

    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    form = _dispatch_form(request.user, request.POST)
    if form.is_valid():
        data, user = form.cleaned_data, request.user
        try:
            organisation = organisation_get(user=user, organisation_id=data["organisation"]) if data["organisation"] else None
            caregiver = caregiver_get(user=user, caregiver_id=data["caregiver"]) if data["caregiver"] else None
            volunteer = volunteer_get(user=user, volunteer_id=data["volunteer"]) if data["volunteer"] else None
            services.order_dispatch(
                by=user, order=order, organisation=organisation, caregiver=caregiver, volunteer=volunteer, reason=data["reason"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            order = selectors.order_after_move(order_id=order.pk)
            who = order.caregiver or order.volunteer or order.organisation
            return _after_move(request, order, _("已派单给%(who)s") % {"who": who})
    return _refused(request, order_id, dispatch_form=form)


@login_required
@require_POST
@requires("serve", Order)
def order_reject(request, order_id):
    """拒单, with a reason: the order goes back to be dispatched again."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="serve")
    form = ReasonForm(request.POST, label=_("拒单原因"))
    if form.is_valid():
        try:
            services.order_reject(by=request.user, order=order, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已拒单，工单退回待派单"))
            try:
                selectors.order_get(user=request.user, order_id=order.pk)
            except Http404:  # an organisation's user no longer reaches it
                return redirect("orders:order_list")
            return redirect("orders:order_detail", order.pk)
    return _refused(request, order_id, reject_form=form)


@login_required
@require_POST
@requires("cancel", Order)
def order_cancel(request, order_id):
    """取消, with who (the signed-in user) and why."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="cancel")
    form = ReasonForm(request.POST, label=_("取消原因"))
    if form.is_valid():
        try:
            services.order_cancel(by=request.user, order=order, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            return _after_move(request, order, _("工单已取消"))
    return _refused(request, order_id, cancel_form=form)


@login_required
@require_POST
@requires("resolve", VisitException)
def order_dispute(request, order_id):
    """提出异议: the elder or a relative says the visit did not happen as recorded (a complaint
    taken at the desk); the visit is not paid until the dispute is resolved in the queue."""
    from orders.evv import order_dispute as dispute

    order = selectors.order_get(user=request.user, order_id=order_id)
    form = ReasonForm(request.POST, label=_("异议内容"))
    if form.is_valid():
        try:
            dispute(by=request.user, order=order, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            return _after_move(request, order, _("已登记异议：核验结果改为“有争议”，待在核验异常中处理"))
    return _refused(request, order_id, dispute_form=form)


# --- the hotline ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@requires("add", Order)
def hotline(request):
    """服务热线: the worker types the caller's number (POSTed: never in a URL or a log line), sees
    the elders it belongs to — their own phone or an emergency contact's — with masked numbers,
    and picks one to order for (the new-order page, the caller's name and relation carried)."""
    from audit.services import SearchThrottled
    from elders.selectors import elders_by_phone

    form = PhoneForm(request.POST or None)
    matches = None
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            matches = elders_by_phone(user=request.user, phone=form.cleaned_data["phone"], ip=client_address(request))
        except ValidationError as exc:
            form_errors(form, exc)
            status = 422
        except SearchThrottled as exc:
            form.add_error("phone", exc.message)
            status = 429
    elif request.method == "POST":
        status = 422
    rows = []
    for m in matches or []:
        contact = m.contacts[0] if m.contacts else None
        rows.append(
            {
                "elder": m.elder,
                "is_own": m.is_own,
                "contacts": m.contacts,
                "caller_name": m.elder.name if m.is_own else (contact.name if contact else ""),
                "caller_relation": _("本人") if m.is_own else (contact.get_relation_display() if contact else ""),
                "can_order": m.elder.status == "active",
            }
        )
    context = {"form": form, "rows": rows, "searched": matches is not None}
    if _htmx(request) and request.method == "POST":
        return render(request, "orders/desk/hotline.html#matches", context, status=status)
    return render(request, "orders/desk/hotline.html", context, status=status)


# --- a new order ------------------------------------------------------------------------------------------


def _order_form(user, elder, data=None, initial=None):
    from needs.selectors import needs_of_elder

    needs = []
    if user.may_code("needs.view_need"):
        needs = [n for n in needs_of_elder(user=user, elder=elder)[:30] if n.state in ("open", "planned")]
    return OrderForm(data, items=_items(user), modes=_modes(), needs=needs, initial=initial)


@login_required
@require_GET
@requires("add", Order)
def order_new(request):
    """New order: from a need (?need=<id>: its elder, item and source), or pick the elder first."""
    from needs.selectors import need_get

    need_id = _int(request.GET.get("need"))
    if need_id:
        need = need_get(user=request.user, need_id=need_id)  # 404 outside the scope
        return redirect(f"{_new_url(need.elder_id)}?need={need.pk}")
    return render(request, "orders/desk/elder_pick.html", elder_pick_context(request, purpose="order"))


def _new_url(elder_id: int) -> str:
    from django.urls import reverse

    return reverse("orders:order_new_for_elder", args=[elder_id])


def elder_pick_context(request, *, purpose: str) -> dict:
    """The small elder picker of the "new" pages: a name (or initials) typed in the box, GET; a
    number is refused there (numbers go by POST on the hotline and the elder list)."""
    from audit.services import SearchThrottled
    from elders.selectors import ElderFilter, elder_list, elder_search_guard, holds_personal_number

    q = (request.GET.get("q") or "").strip()[:32]
    error, elders = "", []
    if q and holds_personal_number(q):
        error, q = _("电话、身份证号请在服务热线页或老年人信息库中查找，不要放在网址里"), ""
    if q:
        try:
            elder_search_guard(user=request.user, q=q)
            elders = list(elder_list(user=request.user, filters=ElderFilter(q=q))[:20])
        except SearchThrottled as exc:
            error = exc.message
    return {"q": q, "elders": elders, "error": error, "purpose": purpose}


@login_required
@require_http_methods(["GET", "POST"])
@requires("add", Order)
def order_new_for_elder(request, elder_id):
    """制单 for one elder: item, window, payment mode, notes, and where the request came from
    (the hotline's caller, a need). POST with `prefill` only fills the form (the hotline's pick)."""
    from catalogue.selectors import item_get
    from elders.selectors import elder_get
    from needs.selectors import need_get

    elder = elder_get(user=request.user, elder_id=elder_id)
    need = None
    need_id = _int(request.GET.get("need") or request.POST.get("need"))
    if need_id:
        need = need_get(user=request.user, need_id=need_id)
        if need.elder_id != elder.pk:
            raise Http404
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    initial = {"day": tomorrow, "time": datetime.time(9, 0), "quantity": 1, "source": Source.HOTLINE}
    if need is not None:
        first_item = need.items.first()
        initial.update({"source": Source.NEED, "need": need.pk, "item": first_item.pk if first_item else None})
    prefill = request.method == "POST" and request.POST.get("prefill")
    if prefill:
        initial.update(
            {
                "caller_name": request.POST.get("caller_name", "")[:32],
                "caller_relation": request.POST.get("caller_relation", "")[:16],
                "source": Source.HOTLINE,
            }
        )
    form = _order_form(request.user, elder, None if (request.method == "GET" or prefill) else request.POST, initial)
    status = 200
    if request.method == "POST" and not prefill:
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            try:
                item = item_get(user=request.user, item_id=data["item"])
                chosen_need = need_get(user=request.user, need_id=data["need"]) if data["need"] else None
                if chosen_need is not None and chosen_need.elder_id != elder.pk:
                    raise ValidationError({"need": _("该需求不是这位老人的，请重新选择")})
                start = timezone.make_aware(datetime.datetime.combine(data["day"], data["time"]))
                if start < timezone.now() - datetime.timedelta(hours=1):
                    raise ValidationError({"day": _("服务时间已过，请选择今天以后的时间")})
                order = services.order_create(
                    by=request.user,
                    elder=elder,
                    item=item,
                    scheduled_start=start,
                    quantity=data["quantity"],
                    payment_mode=data["payment_mode"],
                    source=Source.NEED if chosen_need is not None else data["source"],
                    notes=data["notes"],
                    need=chosen_need,
                    caller_name=data["caller_name"],
                    caller_relation=data["caller_relation"],
                )
            except Http404:
                form.add_error("item", _("服务项目不存在，请从服务清单中选择"))
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("已为%(name)s下单：%(item)s") % {"name": elder.name, "item": item.name})
                return redirect("orders:order_detail", order.pk)
    context = {"form": form, "elder": elder, "need": need, "items": _items(request.user)}
    return render(request, "orders/desk/order_form.html", context, status=status)


@login_required
@requires("view", Order)
def elder_orders(request, elder_id):
    """An elder's orders, recurring plans and agreements, with the buttons to add each."""
    from elders.selectors import elder_get
    from orders.agreements import agreement_list
    from orders.models import Agreement, OrderPlan
    from orders.plans import plan_is_running, plan_list

    elder = elder_get(user=request.user, elder_id=elder_id)
    filters = selectors.OrderFilter(
        elder=elder, status=request.GET.get("status", "") if request.GET.get("status") in {"open", *Status.values} else ""
    )
    page = CappedPaginator(selectors.order_list(user=request.user, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    user = request.user
    plans = list(plan_list(user=user, elder=elder)[:30]) if user.may("view", OrderPlan) else []
    today = timezone.localdate()
    context = {
        "elder": elder,
        "page": page,
        "orders": page.object_list,
        "status": filters.status,
        "plans": [{"plan": p, "running": plan_is_running(p, today)} for p in plans],
        "agreements": list(agreement_list(user=user, elder=elder)[:30]) if user.may("view", Agreement) else [],
        "can_add": user.may("add", Order),
        "can_plan": user.may("change", OrderPlan),
        "can_agree": user.may("change", Agreement),
        "show_plans": user.may("view", OrderPlan),
        "show_agreements": user.may("view", Agreement),
    }
    return render(request, "orders/desk/elder_orders.html", context)
