"""Pages of recurring plans (/orders/plans/) and service agreements (/orders/agreements/):
lists, new (for an elder), detail with the next dates or the lines, edit and end, sign, the PDF."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.pagination import CappedPaginator
from core.request import client_address
from orders import agreements, plans
from orders.forms_desk import AgreementForm, AgreementLineFormSet, PlanEndForm, PlanForm, ReasonForm, SignForm
from orders.models import Agreement, OrderPlan
from orders.views_desk import _int, _items, _modes, elder_pick_context, form_errors, region_options

PAGE_SIZE = 30
CHOICES_MAX = 300


def _region(request):
    from regions.selectors import region_get

    region_id = _int(request.GET.get("region"))
    return region_id, (region_get(user=request.user, region_id=region_id) if region_id else None)


# --- plans ----------------------------------------------------------------------------------------------


@login_required
@requires("view", OrderPlan)
def plan_list(request):
    """Recurring plans of the user's subtree (an organisation: those it serves)."""
    region_id, region = _region(request)
    state = request.GET.get("state", "active")
    if state not in ("active", "ended", ""):
        state = "active"
    page = CappedPaginator(plans.plan_list(user=request.user, state=state, region=region), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    today = timezone.localdate()
    context = {
        "page": page,
        "rows": [{"plan": p, "running": plans.plan_is_running(p, today)} for p in page.object_list],
        "values": {"region": region_id or "", "state": state},
        "regions": region_options(request.user),
        "states": [("active", _("执行中")), ("ended", _("已结束")), ("", _("全部"))],
        "can_add": request.user.may("change", OrderPlan),
        "known_until": plans.calendar_known_until(),
    }
    return render(request, "orders/desk/plan_list.html", context)


@login_required
@require_GET
@requires("change", OrderPlan)
def plan_new(request):
    """Pick the elder a new plan is for."""
    return render(request, "orders/desk/elder_pick.html", elder_pick_context(request, purpose="plan"))


def _plan_choices(user, elder):
    from providers.selectors import caregiver_list, organisation_choices

    organisations = caregivers = []
    if user.may_code("providers.view_organisation"):
        organisations = list(organisation_choices(user=user).filter(status="active")[:CHOICES_MAX])
    if user.may_code("providers.view_caregiver"):
        caregivers = list(caregiver_list(user=user, status="active")[:CHOICES_MAX])
    signed = list(agreements.agreements_signed_for(user=user, elder=elder)[:30]) if user.may("view", Agreement) else []
    return {
        "items": _items(user),
        "modes": _modes(),
        "organisations": organisations,
        "caregivers": caregivers,
        "agreements": signed,
    }


def _plan_data(user, form) -> dict:
    """The service's data from a valid plan form: ids read back through the user's scope."""
    from providers.selectors import caregiver_get, organisation_get

    data = form.cleaned_data
    rrule, calendar = form.rule()
    out = {
        "rrule": rrule,
        "calendar": calendar,
        "starts_on": data["starts_on"],
        "ends_on": data["ends_on"],
        "start_time": data["start_time"],
        "duration_minutes": data["duration_minutes"],
        "quantity": data["quantity"],
        "payment_mode": data["payment_mode"],
        "auto_dispatch": data["auto_dispatch"],
        "notes": data["notes"],
        "organisation": organisation_get(user=user, organisation_id=data["organisation"]) if data["organisation"] else None,
        "caregiver": caregiver_get(user=user, caregiver_id=data["caregiver"]) if data["caregiver"] else None,
        "agreement": agreements.agreement_get(user=user, agreement_id=data["agreement"]) if data["agreement"] else None,
    }
    if form.data.get("pattern") == "weekly" and not rrule:
        raise ValidationError({"weekdays": _("请至少选择一天")})
    return out


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", OrderPlan)
def plan_new_for_elder(request, elder_id):
    """制定周期计划 for one elder; its orders for the next days are created at once."""
    from catalogue.selectors import item_get
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=elder_id)
    choices = _plan_choices(request.user, elder)
    initial = {
        "pattern": "workdays",
        "starts_on": timezone.localdate() + datetime.timedelta(days=1),
        "start_time": datetime.time(11, 0),
        "duration_minutes": 30,
        "quantity": 1,
        "auto_dispatch": True,
    }
    form = PlanForm(request.POST or None, initial=initial, **choices)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                item = item_get(user=request.user, item_id=form.cleaned_data["item"])
                plan = plans.order_plan_create(by=request.user, elder=elder, item=item, data=_plan_data(request.user, form))
            except Http404:
                form.add_error(None, _("所选的服务项目、机构、人员或协议不存在，请重新选择"))
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                n = plan.orders.count()
                messages.success(request, _("已制定周期计划，并生成了 %(n)d 张工单") % {"n": n})
                return redirect("orders:plan_detail", plan.pk)
    context = {"form": form, "elder": elder, "known_until": plans.calendar_known_until(), "plan": None}
    return render(request, "orders/desk/plan_form.html", context, status=status)


@login_required
@require_POST
@requires("change", OrderPlan)
def plan_preview(request):
    """The next dates of the rule the form holds (htmx, as the worker types)."""
    form = PlanForm(request.POST, with_item=False)
    context = {"preview": None, "error": "", "from_start": True}
    if form.is_valid():
        rrule, calendar = form.rule()
        try:
            rule = plans.parse_rule(rrule, form.cleaned_data["starts_on"])
            context["preview"] = plans.preview(
                rule=rule,
                calendar=calendar,
                after=form.cleaned_data["starts_on"],
                ends_on=form.cleaned_data["ends_on"],
            )
        except ValidationError as exc:
            context["error"] = "；".join(m for msgs in exc.message_dict.values() for m in msgs)
    else:
        context["error"] = _("填好开始日期、上门时间和重复规则后显示最近的服务日期")
    return render(request, "orders/desk/_plan_preview.html", context)


def _plan_context(request, plan, **extra) -> dict:
    user = request.user
    today = timezone.localdate()
    orders = plans.plan_orders(user=user, plan=plan)
    upcoming = list(orders.filter(scheduled_start__gte=timezone.now() - datetime.timedelta(hours=12))[:20])
    return {
        "plan": plan,
        "running": plans.plan_is_running(plan, today),
        "preview": plans.plan_preview(plan),
        "orders": upcoming,
        "can_change": user.may("change", OrderPlan),
        "end_form": extra.get("end_form") or PlanEndForm(initial={"ends_on": today}),
        "history": history_rows(
            user=user, records=change_records_for(user=user, obj=plan, whole=True).select_related("by")[:50], model=OrderPlan
        ),
    }


@login_required
@requires("view", OrderPlan)
def plan_detail(request, plan_id):
    plan = plans.plan_get(user=request.user, plan_id=plan_id)
    return render(request, "orders/desk/plan_detail.html", _plan_context(request, plan))


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", OrderPlan)
def plan_edit(request, plan_id):
    """修改周期计划: a new schedule cancels the future orders it no longer has and adds its own."""
    plan = plans.plan_get(user=request.user, plan_id=plan_id, action="change")
    choices = _plan_choices(request.user, plan.elder)
    initial = {
        "pattern": "custom",
        "rrule": plan.rrule,
        "calendar": plan.calendar,
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "start_time": plan.start_time,
        "duration_minutes": plan.duration_minutes,
        "quantity": plan.quantity,
        "payment_mode": plan.payment_mode,
        "organisation": plan.organisation_id,
        "caregiver": plan.caregiver_id,
        "auto_dispatch": plan.auto_dispatch,
        "agreement": plan.agreement_id,
        "notes": plan.notes,
        "item": plan.item_id,
    }
    if plan.rrule == "FREQ=DAILY" and plan.calendar == OrderPlan.Calendar.WORKING_DAYS:
        initial["pattern"] = "workdays"
    form = PlanForm(request.POST or None, initial=initial, **choices)
    form.fields["item"].disabled = True
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                plans.order_plan_update(by=request.user, plan=plan, data=_plan_data(request.user, form))
            except Http404:
                form.add_error(None, _("所选的机构、人员或协议不存在，请重新选择"))
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("已保存周期计划"))
                return redirect("orders:plan_detail", plan.pk)
    context = {"form": form, "elder": plan.elder, "plan": plan, "known_until": plans.calendar_known_until()}
    return render(request, "orders/desk/plan_form.html", context, status=status)


@login_required
@require_POST
@requires("change", OrderPlan)
def plan_end(request, plan_id):
    """结束周期计划 on a day, with the reason; its later open orders are cancelled."""
    plan = plans.plan_get(user=request.user, plan_id=plan_id, action="change")
    form = PlanEndForm(request.POST)
    if form.is_valid():
        try:
            plans.order_plan_end(
                by=request.user, plan=plan, reason=form.cleaned_data["reason"], ends_on=form.cleaned_data["ends_on"]
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("周期计划将于 %(day)s 后停止") % {"day": form.cleaned_data["ends_on"]})
            return redirect("orders:plan_detail", plan.pk)
    plan.refresh_from_db()
    return render(request, "orders/desk/plan_detail.html", _plan_context(request, plan, end_form=form), status=422)


# --- agreements ------------------------------------------------------------------------------------------


@login_required
@requires("view", Agreement)
def agreement_list(request):
    region_id, region = _region(request)
    status = request.GET.get("status", "")
    if status not in ("", *Agreement.Status.values):
        status = ""
    page = CappedPaginator(agreements.agreement_list(user=request.user, status=status, region=region), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "agreements": page.object_list,
        "values": {"region": region_id or "", "status": status},
        "regions": region_options(request.user),
        "statuses": [("", _("全部状态")), *Agreement.Status.choices],
        "can_add": request.user.may("change", Agreement),
    }
    return render(request, "orders/desk/agreement_list.html", context)


@login_required
@require_GET
@requires("change", Agreement)
def agreement_new(request):
    """Pick the elder a new agreement is for."""
    return render(request, "orders/desk/elder_pick.html", elder_pick_context(request, purpose="agreement"))


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Agreement)
def agreement_new_for_elder(request, elder_id):
    """草拟服务协议: the parties, items with the elder's prices and who pays, the terms."""
    from catalogue.selectors import entitlements_for
    from elders.selectors import elder_get
    from providers.selectors import organisation_choices, organisation_get

    elder = elder_get(user=request.user, elder_id=elder_id)
    items = _items(request.user)
    by_id = {i.pk: i for i in items}
    organisations = []
    if request.user.may_code("providers.view_organisation"):
        organisations = list(organisation_choices(user=request.user).filter(status="active")[:CHOICES_MAX])
    form = AgreementForm(
        request.POST or None,
        organisations=organisations,
        initial={"valid_from": timezone.localdate(), "terms": str(agreements.DEFAULT_TERMS)},
    )
    lines = AgreementLineFormSet(request.POST or None, prefix="lines", form_kwargs={"items": items})
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid() and lines.is_valid():
            data = form.cleaned_data
            chosen = [
                agreements.LineIn(
                    by_id[row["item"]], row.get("quantity") or 1, row.get("frequency") or "month", row.get("payer") or "elder"
                )
                for row in lines.cleaned_data
                if row.get("item") in by_id
            ]
            try:
                organisation = (
                    organisation_get(user=request.user, organisation_id=data["organisation"]) if data["organisation"] else None
                )
                agreement = agreements.agreement_create(
                    by=request.user,
                    elder=elder,
                    lines=chosen,
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    organisation=organisation,
                    terms=data["terms"],
                )
            except Http404:
                form.add_error("organisation", _("服务机构不存在，请重新选择"))
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("已草拟服务协议 %(number)s，请打印后签字") % {"number": agreement.number})
                return redirect("orders:agreement_detail", agreement.pk)
    context = {
        "form": form,
        "lines": lines,
        "elder": elder,
        "entitlements": entitlements_for(elder) if request.user.may_code("catalogue.view_entitlementpackage") else None,
    }
    return render(request, "orders/desk/agreement_form.html", context, status=status)


def _agreement_context(request, agreement, **forms) -> dict:
    user = request.user
    allowed = agreements.AGREEMENT_MACHINE.actions_from(agreement.status)
    can_change = user.may("change", Agreement)
    from regions.selectors import region_community_of

    return {
        "agreement": agreement,
        "community": region_community_of(agreement.region) or agreement.region,
        "total_fen": agreements.lines_total_fen(agreement.lines),
        "may_sign": can_change and "sign" in allowed,
        "may_end": can_change and "end" in allowed,
        "sign_form": forms.get("sign_form")
        or SignForm(initial={"signatory": agreement.elder.name, "signed_on": timezone.localdate()}),
        "end_form": forms.get("end_form") or ReasonForm(label=_("终止原因")),
        "plans": list(plans.plan_list(user=user).filter(agreement=agreement)[:20]) if user.may("view", OrderPlan) else [],
        "history": history_rows(
            user=user, records=change_records_for(user=user, obj=agreement, whole=True).select_related("by")[:50], model=Agreement
        ),
    }


@login_required
@requires("view", Agreement)
def agreement_detail(request, agreement_id):
    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id)
    return render(request, "orders/desk/agreement_detail.html", _agreement_context(request, agreement))


@login_required
@require_POST
@requires("change", Agreement)
def agreement_sign(request, agreement_id):
    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id, action="change")
    form = SignForm(request.POST)
    if form.is_valid():
        try:
            agreements.agreement_sign(
                by=request.user,
                agreement=agreement,
                signatory=form.cleaned_data["signatory"],
                signed_on=form.cleaned_data["signed_on"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("协议已签订"))
            return redirect("orders:agreement_detail", agreement.pk)
    agreement.refresh_from_db()
    return render(
        request, "orders/desk/agreement_detail.html", _agreement_context(request, agreement, sign_form=form), status=422
    )


@login_required
@require_POST
@requires("change", Agreement)
def agreement_end(request, agreement_id):
    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id, action="change")
    form = ReasonForm(request.POST, label=_("终止原因"))
    if form.is_valid():
        try:
            agreements.agreement_end(by=request.user, agreement=agreement, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("协议已终止"))
            return redirect("orders:agreement_detail", agreement.pk)
    agreement.refresh_from_db()
    return render(request, "orders/desk/agreement_detail.html", _agreement_context(request, agreement, end_form=form), status=422)


@login_required
@requires("view", Agreement)
def agreement_pdf(request, agreement_id):
    """The printable agreement; each download is in the access log (it names the elder)."""
    from orders.agreement_pdf import agreement_response

    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id)
    agreements.agreement_pdf_log(user=request.user, agreement=agreement, ip=client_address(request))
    return agreement_response(agreement)
