"""Pages of day routes (日路线): the plans of the user's scope, "plan a day", and the board — every
person's route as an ordered list with times and an SVG schematic of the coordinates, what could
not be planned and why, "move to …" per visit, re-plan and apply (派单). docs/routing.md."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.access import requires
from core.pagination import CappedPaginator
from routing import selectors, services
from routing.forms import PlanForm
from routing.models import DayPlan, Kind, PlanStatus

PAGE_SIZE = 30


def _add_errors(form, exc) -> None:
    for field, errors in exc.message_dict.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


@login_required
@requires("view", DayPlan)
def plan_list(request):
    """The current plans of the user's scope, the newest day first."""
    page = CappedPaginator(selectors.day_plan_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "routing/plan_list.html",
        {"page": page, "plans": page.object_list, "can_plan": request.user.may("plan", DayPlan)},
    )


def _owner(user, value: str, owners: dict):
    kind, _sep, pk = (value or "").partition(":")
    pool = owners["organisations"] if kind == "org" else owners["regions"] if kind == "region" else []
    found = next((o for o in pool if str(o.pk) == pk), None)
    if found is None:
        raise ValidationError({"owner": _("请从列表中选择服务机构或区域")})
    return found


@login_required
@requires("plan", DayPlan)
@require_http_methods(["GET", "POST"])
def plan_create(request):
    """排一天: choose the owner, the day and the kind; the solver answers within seconds."""
    owners = selectors.plan_owners(user=request.user)
    form = PlanForm(request.POST or None, owners=owners)
    if request.method == "POST" and form.is_valid():
        try:
            owner = _owner(request.user, form.cleaned_data["owner"], owners)
            plan = services.day_plan_create(
                by=request.user, owner=owner, day=form.cleaned_data["day"], kind=form.cleaned_data["kind"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(
                request,
                _("已排好：%(p)d 次上门排入路线，%(u)d 次未能排入。") % {"p": plan.planned_count, "u": plan.unplanned_count},
            )
            return redirect("routing:board", plan_id=plan.pk)
    return render(request, "routing/plan_create.html", {"form": form})


@login_required
@requires("view", DayPlan)
def plan_board(request, plan_id: int):
    """The board of one plan."""
    plan = selectors.day_plan_get(user=request.user, plan_id=plan_id)
    may_plan = request.user.may("plan", DayPlan)
    context = {
        "plan": plan,
        "board": selectors.board(plan, user=request.user),
        "newer": selectors.latest_version(plan),
        "may_change": may_plan and plan.status == PlanStatus.DRAFT,
        "may_replan": may_plan and plan.status != PlanStatus.SUPERSEDED,
        "may_apply": may_plan and plan.status == PlanStatus.DRAFT and plan.kind != Kind.GRID,
        "people": selectors.move_choices(plan=plan) if may_plan and plan.status == PlanStatus.DRAFT else [],
    }
    return render(request, "routing/board.html", context)


@login_required
@requires("plan", DayPlan)
@require_POST
def plan_replan(request, plan_id: int):
    plan = selectors.day_plan_get(user=request.user, plan_id=plan_id, action="plan")
    try:
        new = services.day_plan_replan(by=request.user, plan=plan)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("routing:board", plan_id=plan.pk)
    messages.success(request, _("已重排为第 %(v)d 版，人工调整和已开始的服务保持不变。") % {"v": new.version})
    return redirect("routing:board", plan_id=new.pk)


@login_required
@requires("plan", DayPlan)
@require_POST
def plan_apply(request, plan_id: int):
    plan = selectors.day_plan_get(user=request.user, plan_id=plan_id, action="plan")
    try:
        result = services.day_plan_apply(by=request.user, plan=plan)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return redirect("routing:board", plan_id=plan.pk)
    messages.success(request, _("已按计划派单 %(d)d 张，%(k)d 张保持不变。") % {"d": result["dispatched"], "k": result["kept"]})
    for label, why in result["failed"]:
        messages.error(request, _("%(what)s未能派单：%(why)s") % {"what": label, "why": why})
    return redirect("routing:board", plan_id=plan.pk)


@login_required
@requires("plan", DayPlan)
@require_POST
def stop_move(request, stop_id: int):
    """改派 one visit by hand to the person chosen (kept by the next re-plan)."""
    stop = selectors.planned_stop_get(user=request.user, stop_id=stop_id)
    people = {str(p.pk): p for p in selectors.move_choices(plan=stop.plan)}
    person = people.get(request.POST.get("person", ""))
    try:
        if person is None:
            raise ValidationError({"person": _("请从列表中选择要改派的人员")})
        moved = services.planned_stop_move(by=request.user, stop=stop, person=person)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        text = _("已改派给%(name)s，下次重排会保持。") % {"name": moved.person}
        if moved.late_after_move:
            text += _("调整后有 %(n)d 次服务晚于预约时段，建议重排。") % {"n": moved.late_after_move}
        messages.success(request, text)
    return redirect("routing:board", plan_id=stop.plan_id)
