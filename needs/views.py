"""Pages of the needs ledger: the list of open and overdue needs, a need, adding and moving."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from catalogue.selectors import category_list, item_list
from core.access import requires
from core.pagination import CappedPaginator
from elders.selectors import elder_get
from needs import selectors, services
from needs.forms import MoveForm, NeedForm
from needs.models import NEED_ACTIONS, NEED_MACHINE, REASON_REQUIRED, Kind, Need, State
from regions.selectors import region_get, region_list, regions_in_tree_order


def region_options(user, *, max_level: int) -> list[tuple[int, str]]:
    """(id, indented name) of the user's subtree down to `max_level`, as the tree reads."""
    top = user.region.level
    nodes = region_list(user=user).filter(level__gte=top, level__lte=max_level).order_by("level", "path")[:500]
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions_in_tree_order(nodes)]


PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


@login_required
@requires("view", Need)
def need_list(request):
    """Open and overdue needs of the user's subtree (a community's list), by follow-up date."""
    params = request.GET
    region = None
    region_id = _int(params.get("region"))
    if region_id:
        region = region_get(user=request.user, region_id=region_id)  # 404 outside the scope
    state = params.get("state") or "pending"
    if state not in {"pending", "all", *State.values}:
        state = "pending"
    kind = params.get("kind") if params.get("kind") in Kind.values else ""
    filters = selectors.NeedFilter(
        region=region, kind=kind, state=state, overdue=params.get("overdue") == "1", category=_int(params.get("category"))
    )
    page = CappedPaginator(selectors.need_list(user=request.user, filters=filters), PAGE_SIZE).get_page(params.get("page"))
    today = timezone.localdate()
    rows = [{"need": n, "overdue": selectors.is_overdue(n, today)} for n in page.object_list]
    regions = region_options(request.user, max_level=5)
    context = {
        "page": page,
        "rows": rows,
        "values": {
            "region": region_id or "",
            "kind": kind,
            "state": state,
            "overdue": filters.overdue,
            "category": filters.category or "",
        },
        "regions": regions,
        "kinds": Kind.choices,
        "states": [("pending", _("待处理和已安排")), *State.choices, ("all", _("全部"))],
        "categories": category_list(user=request.user, scheme="service")
        if request.user.may_code("catalogue.view_serviceitem")
        else [],
        "figures": selectors.need_desk_figures(user=request.user),
    }
    return render(request, "needs/need_list.html", context)


def _form(user, elder, data=None, initial=None):
    items = item_list(user=user, active_only=True) if user.may_code("catalogue.view_serviceitem") else []
    return NeedForm(data, items=items, people=selectors.responsible_choices(user=user, elder=elder), initial=initial)


@login_required
@require_http_methods(["GET", "POST"])
@requires("add", Need)
def need_create(request, elder_id):
    elder = elder_get(user=request.user, elder_id=elder_id)
    form = _form(
        request.user, elder, request.POST or None, initial={"follow_up_on": timezone.localdate() + datetime.timedelta(days=7)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        people = {u.pk: u for u in selectors.responsible_choices(user=request.user, elder=elder)}
        chosen = {i.pk: i for i in item_list(user=request.user, active_only=True)}
        try:
            services.need_create(
                by=request.user,
                elder=elder,
                kind=data["kind"],
                source=data["source"],
                description=data["description"],
                items=[chosen[i] for i in data["items"] if i in chosen],
                follow_up_on=data["follow_up_on"],
                responsible=people.get(data["responsible"]),
            )
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error(field if field in form.fields else None, msg)
        else:
            messages.success(request, _("已登记需求"))
            return redirect("elders:detail", elder.pk)
    return render(request, "needs/need_form.html", {"form": form, "elder": elder})


@login_required
@requires("view", Need)
def need_detail(request, need_id):
    need = selectors.need_get(user=request.user, need_id=need_id)
    return render(request, "needs/need_detail.html", _detail_context(request, need, MoveForm()))


def _detail_context(request, need, move_form):
    return {
        "need": need,
        "overdue": selectors.is_overdue(need),
        "move_form": move_form,
        "actions": [(a, NEED_ACTIONS[a], a in REASON_REQUIRED) for a in NEED_MACHINE.actions_from(need.state)],
        "can_change": request.user.may("change", Need),
        "can_history": request.user.may_code("audit.view_changerecord"),
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=need, whole=True)[:50], model=Need
        ),
    }


@login_required
@require_POST
@requires("change", Need)
def need_move(request, need_id):
    need = selectors.need_get(user=request.user, need_id=need_id, action="change")
    form = MoveForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.need_move(
                by=request.user, need=need, action=data["action"], reason=data["reason"], follow_up_on=data["follow_up_on"]
            )
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error(field if field in form.fields else None, msg)
        else:
            messages.success(request, _("已更新需求状态：%(state)s") % {"state": need.get_state_display()})
            back = request.POST.get("next", "")
            if back == "elder":
                return redirect("elders:detail", need.elder_id)
            return redirect("needs:detail", need.pk)
    need.refresh_from_db()
    return render(request, "needs/need_detail.html", _detail_context(request, need, form), status=422)
