"""Pages of dispatch (派单): the board, an order's ranked candidates with one-click dispatch,
the elder's preferences, and caregivers' absences (docs/orders-dispatch.md)."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.access import requires
from core.pagination import CappedPaginator
from orders import board, dispatch, dispatch_targets, selectors, services
from orders.forms_dispatch import AbsenceForm, PreferenceForm, add_errors
from orders.models import Order, Status
from providers.models import Absence, Caregiver

PAGE_SIZE = 30
DAYS_AHEAD = 60  # the board's day picker reaches this far either way


def _day(value) -> datetime.date:
    today = timezone.localdate()
    try:
        day = datetime.date.fromisoformat(str(value or ""))
    except ValueError:
        return today
    return day if abs((day - today).days) <= DAYS_AHEAD else today


def _board_url(day: datetime.date, show: str = "all") -> str:
    return f"{reverse('orders:board')}?day={day.isoformat()}" + (f"&show={show}" if show != "all" else "")


@login_required
@requires("dispatch", Order)
def dispatch_board(request):
    """The orders of a day waiting to be dispatched (a station) or assigned (an organisation)."""
    day = _day(request.GET.get("day"))
    show = request.GET.get("show") if request.GET.get("show") in board.SHOW else "all"
    page = CappedPaginator(board.board_orders(user=request.user, day=day, show=show), PAGE_SIZE).get_page(request.GET.get("page"))
    orders = list(page.object_list)
    rejected = board.rejected_reasons([o.pk for o in orders if o.status == Status.CREATED])
    now = timezone.now()
    rows = [
        {
            "order": o,
            "rejected": rejected.get(o.pk),
            "late": o.status == Status.DISPATCHED and o.accept_by is not None and o.accept_by < now,
        }
        for o in orders
    ]
    context = {
        "page": page,
        "rows": rows,
        "day": day,
        "show": show,
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
        "today": timezone.localdate(),
        "counts": board.board_counts(user=request.user, day=day),
        "cap": board.COUNT_CAP,
        "is_organisation": bool(request.user.organisation_id),
        "can_absences": request.user.may("change", Caregiver),
    }
    return render(request, "orders/dispatch/board.html", context)


def _preference_summary(pref) -> list[str]:
    out = []
    if pref.caregiver_sex:
        out.append(_("女性服务人员") if pref.caregiver_sex == "F" else _("男性服务人员"))
    if pref.languages:
        out.append(_("用%(lang)s交流") % {"lang": pref.languages})
    if pref.preferred_caregiver_id:
        out.append(_("指定%(name)s") % {"name": pref.preferred_caregiver.name})
    if pref.notes:
        out.append(pref.notes)
    return out


def _order_context(request, order, *, show: str = "all") -> dict:
    ranking = dispatch.rank(user=request.user, order=order, limit=20)
    is_org = bool(request.user.organisation_id)
    organisations = []
    if not is_org and order.status == Status.CREATED:
        organisations = list(
            dispatch_targets.dispatch_organisations(user=request.user, order=order)
            .select_related("region")
            .order_by("name", "id")[:100]
        )
    preference = None
    if request.user.may_code("elders.view_elder"):  # the form reads the elder through the register's scope
        preference = dispatch.elder_preference_get(user=request.user, elder=order.elder)
    return {
        "order": order,
        "ranking": ranking,
        "organisations": organisations,
        "is_organisation": is_org,
        "needs_reason": order.status != Status.CREATED and not (is_org and order.organisation_id == request.user.organisation_id),
        "may_dispatch": order.status in (Status.CREATED, Status.DISPATCHED, Status.ACCEPTED),
        "preference": preference,
        "preference_summary": _preference_summary(preference) if preference is not None else [],
        "payment_label": dispatch.payment_mode_label(order.payment_mode),
        "back": _board_url(timezone.localtime(order.scheduled_start).date(), show),
        "rejected": board.rejected_reasons([order.pk]).get(order.pk) if order.status == Status.CREATED else None,
    }


@login_required
@requires("dispatch", Order)
def dispatch_order(request, order_id):
    """One order's ranked candidates with their reasons and a 派单 button each; from the board
    (htmx) the candidates partial, else the whole page (a phone, or without JavaScript)."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    show = request.GET.get("show") if request.GET.get("show") in board.SHOW else "all"
    context = _order_context(request, order, show=show)
    if request.headers.get("HX-Request"):
        return render(request, "orders/dispatch/order.html#candidates", context)
    return render(request, "orders/dispatch/order.html", context)


@login_required
@require_POST
@requires("dispatch", Order)
def dispatch_order_send(request, order_id):
    """派单 from a candidate's button (pick = caregiver:<id> / volunteer:<id>) or to the chosen
    organisation (pick = organisation), through orders.services.order_dispatch."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    user = request.user
    kind, _sep, value = (request.POST.get("pick") or "").partition(":")
    try:
        organisation = caregiver = volunteer = None
        if kind == "caregiver":
            caregiver = dispatch_targets.dispatch_caregiver_get(user=user, order=order, caregiver_id=value)
            who = caregiver.name
        elif kind == "volunteer":
            volunteer = dispatch_targets.dispatch_volunteer_get(user=user, order=order, volunteer_id=value)
            who = volunteer.name
        elif kind == "organisation" and request.POST.get("organisation"):
            organisation = dispatch_targets.dispatch_organisation_get(
                user=user, order=order, organisation_id=request.POST.get("organisation")
            )
            who = organisation.name
        else:
            raise ValidationError({"pick": _("请选择派给哪位服务人员、志愿者或哪个机构")})
        services.order_dispatch(
            by=user,
            order=order,
            organisation=organisation,
            caregiver=caregiver,
            volunteer=volunteer,
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        for messages_ in exc.message_dict.values():
            for message in messages_:
                messages.error(request, message)
        return redirect("orders:dispatch_order", order.pk)
    messages.success(
        request,
        _("已派单：%(item)s（%(elder)s，%(when)s）派给%(who)s")
        % {
            "item": order.item.name,
            "elder": order.elder.name,
            "when": timezone.localtime(order.scheduled_start).strftime("%m-%d %H:%M"),
            "who": who,
        },
    )
    return redirect(_board_url(timezone.localtime(order.scheduled_start).date()))


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@login_required
@require_http_methods(["GET", "POST"])
@requires("dispatch", Order)
def elder_preference(request, elder_id):
    """What the elder asked for in who serves them (a woman, a dialect, a known caregiver)."""
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=elder_id)
    pref = dispatch.elder_preference_get(user=request.user, elder=elder)
    people = dispatch_targets.nameable_caregivers(user=request.user, elder=elder, current_id=pref.preferred_caregiver_id)
    initial = {
        "caregiver_sex": pref.caregiver_sex,
        "languages": pref.languages,
        "preferred_caregiver": pref.preferred_caregiver_id,
        "notes": pref.notes,
    }
    form = PreferenceForm(request.POST or None, initial=initial, people=people)
    back = _safe_next(request, reverse("orders:board"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = {p.pk: p for p in people}.get(data["preferred_caregiver"])
        try:
            dispatch.elder_preference_set(
                by=request.user,
                elder=elder,
                caregiver_sex=data["caregiver_sex"],
                languages=data["languages"],
                preferred_caregiver=chosen,
                notes=data["notes"],
            )
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            messages.success(request, _("已保存%(elder)s的服务偏好，派单时按此排序") % {"elder": elder.name})
            return redirect(back)
    return render(request, "orders/dispatch/preference.html", {"form": form, "elder": elder, "back": back})


def _absence_form(request, data=None):
    from providers.selectors import caregiver_list

    people = caregiver_list(user=request.user, action="change")
    chosen = request.GET.get("caregiver")
    if chosen and str(chosen).isdigit():
        people = people.filter(pk=int(chosen))
    return AbsenceForm(
        data,
        people=list(people.select_related("organisation")[:300]),
        reasons=Absence.Reason.choices,
        initial={"starts_on": timezone.localdate(), "caregiver": chosen if chosen and chosen.isdigit() else None},
    )


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Caregiver)
def absence_list(request):
    """Caregivers' leave, current and coming, and a form to record one (a provider's dispatcher
    keeps their staff's; dispatch does not offer them over those days)."""
    from providers.selectors import absence_list as absences
    from providers.selectors import caregiver_get
    from providers.services import absence_create

    form = _absence_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            person = caregiver_get(user=request.user, caregiver_id=data["caregiver"], action="change")
            absence_create(by=request.user, caregiver=person, data=data)
        except ValidationError as exc:
            add_errors(form, exc)
        else:
            a, b = data["starts_on"], data["ends_on"] or data["starts_on"]
            days = a.isoformat() if a == b else _("%(a)s 至 %(b)s") % {"a": a.isoformat(), "b": b.isoformat()}
            messages.success(
                request,
                _("已登记%(name)s %(days)s 的%(reason)s，这期间派单不再推荐此人")
                % {"name": person.name, "days": days, "reason": dict(Absence.Reason.choices)[data["reason"]]},
            )
            return redirect("orders:absences")
    page = CappedPaginator(absences(user=request.user, action="change"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "orders/dispatch/absences.html", {"form": form, "page": page, "today": timezone.localdate()})


@login_required
@require_POST
@requires("change", Caregiver)
def absence_remove(request, absence_id):
    from providers.selectors import absence_get
    from providers.services import absence_delete

    absence = absence_get(user=request.user, absence_id=absence_id, action="change")
    absence_delete(by=request.user, absence=absence)
    messages.success(request, _("已删除%(name)s的请假记录") % {"name": absence.caregiver.name})
    return redirect("orders:absences")
