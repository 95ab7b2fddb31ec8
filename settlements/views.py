"""Pages of settlements: the statements of a month (list, build, issue), one statement with its
lines (issue, export), the shares of an order and a correction."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.pagination import CappedPaginator
from settlements import selectors, services
from settlements.models import Statement
from settlements.payers import payer_choices
from settlements.split import visit_day

PAGE_SIZE = 30
LINES_PAGE_SIZE = 50


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _region_options(user) -> list[tuple[int, str]]:
    """(id, indented name) of the user's subtree down to communities, as the tree reads."""
    from regions.selectors import region_list, regions_in_tree_order

    if user.region is None or not user.may_code("regions.view_region"):
        return []
    top = user.region.level
    nodes = region_list(user=user).filter(level__gte=top, level__lte=5).order_by("level", "path")[:500]
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions_in_tree_order(nodes)]


def _region(user, region_id):
    from regions.selectors import region_get

    return region_get(user=user, region_id=region_id)  # 404 outside the scope


def _month_or_none(text):
    try:
        return selectors.month_parse(text) if text else None
    except ValidationError:
        return None


@login_required
@requires("view", Statement)
def statement_list(request):
    """The statements of a month (by default last month), by kind; build and issue for those who may."""
    params = request.GET
    month = _month_or_none(params.get("month")) if "month" in params else selectors.previous_month()
    kind = params.get("kind") if params.get("kind") in Statement.Kind.values else ""
    state = params.get("state") if params.get("state") in Statement.State.values else ""
    codes = dict(payer_choices())
    payer_kind = params.get("payer_kind") if params.get("payer_kind") in codes else ""
    region_id = _int(params.get("region"))
    region = _region(request.user, region_id) if region_id else None
    filters = selectors.StatementFilter(
        month=month, kind=kind, state=state, payer_kind=payer_kind, region=region, q=(params.get("q") or "")[:40]
    )
    page = CappedPaginator(selectors.statement_list(user=request.user, filters=filters), PAGE_SIZE).get_page(params.get("page"))
    can_issue = request.user.may("issue", Statement)
    context = {
        "page": page,
        "values": {
            "month": f"{month:%Y-%m}" if month else "",
            "kind": kind,
            "state": state,
            "payer_kind": payer_kind,
            "region": region_id or "",
            "q": filters.q,
        },
        "months": selectors.month_choices(),
        "kinds": Statement.Kind.choices,
        "states": Statement.State.choices,
        "payer_kinds": list(codes.items()),
        "regions": _region_options(request.user),
        "can_issue": can_issue,
        "build_month": f"{(month or selectors.previous_month()):%Y-%m}",
        "build_region": region_id or (request.user.region_id if request.user.region_id else ""),
    }
    return render(request, "settlements/statement_list.html", context)


class BuildForm(forms.Form):
    month = forms.CharField(label=_l("月份"), max_length=7)
    region = forms.IntegerField(label=_l("区域"), min_value=1, max_value=2**62)


def _back_to_list(data) -> str:
    from django.urls import reverse

    return f"{reverse('settlements:list')}?month={data.get('month', '')}&region={data.get('region', '')}"


@login_required
@require_POST
@requires("issue", Statement)
def statement_build(request):
    """生成 (or regenerate) the draft statements of a month for a region's subtree."""
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择月份和区域后再生成"))
        return redirect("settlements:list")
    region = _region(request.user, form.cleaned_data["region"])
    try:
        month = selectors.month_parse(form.cleaned_data["month"])
        result = services.statements_build(by=request.user, month=month, region=region)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for msg in msgs:
                messages.error(request, msg)
    else:
        made = sum(result.statements.values())
        messages.success(
            request,
            _("已生成%(month)s %(region)s的结算单 %(n)d 份（明细 %(lines)d 笔，其中补记 %(late)d 笔）。")
            % {"month": f"{month:%Y-%m}", "region": region.name, "n": made, "lines": result.lines, "late": result.late_lines},
        )
    return redirect(_back_to_list(request.POST))


@login_required
@require_POST
@requires("issue", Statement)
def statements_issue(request):
    """出具 every draft of a month in a region's subtree at once."""
    form = BuildForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择月份和区域后再出具"))
        return redirect("settlements:list")
    region = _region(request.user, form.cleaned_data["region"])
    try:
        month = selectors.month_parse(form.cleaned_data["month"])
        result = services.statements_issue(by=request.user, month=month, region=region)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for msg in msgs:
                messages.error(request, msg)
    else:
        messages.success(
            request,
            _("已出具结算单 %(n)d 份，%(orders)d 张工单已结算。") % {"n": result.statements, "orders": result.orders_settled},
        )
    return redirect(_back_to_list(request.POST))


@login_required
@requires("view", Statement)
def statement_detail(request, statement_id):
    statement = selectors.statement_get(user=request.user, statement_id=statement_id)
    page = CappedPaginator(selectors.statement_lines(statement=statement), LINES_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"line": ln, "share": ln.share, "order": ln.share.order, "day": visit_day(ln.share.order)} for ln in page.object_list]
    context = {
        "statement": statement,
        "page": page,
        "rows": rows,
        "figures": selectors.statement_figures(statement=statement),
        "can_issue": request.user.may("issue", Statement) and statement.state == Statement.State.DRAFT,
        "can_correct": request.user.may("issue", Statement),
        "can_export": request.user.may("export", Statement),
        "is_over": statement.month < selectors.this_month(),
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=statement, whole=True)[:20], model=Statement
        )
        if request.user.may_code("audit.view_changerecord")
        else [],
    }
    return render(request, "settlements/statement_detail.html", context)


@login_required
@require_POST
@requires("issue", Statement)
def statement_issue(request, statement_id):
    statement = selectors.statement_get(user=request.user, statement_id=statement_id, action="issue")
    try:
        result = services.statement_issue(by=request.user, statement=statement)
    except ValidationError as exc:
        for msgs in exc.message_dict.values():
            for msg in msgs:
                messages.error(request, msg)
    else:
        messages.success(request, _("结算单已出具，此后不再修改。%(n)d 张工单已结算。") % {"n": result.orders_settled})
    return redirect("settlements:detail", statement.pk)


@login_required
@require_POST
@requires("export", Statement)
def statement_export(request, statement_id):
    statement = selectors.statement_get(user=request.user, statement_id=statement_id, action="export")
    job = services.statement_export_start(by=request.user, statement=statement)
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@requires("view", Statement)
def order_shares(request, order_id):
    """Who pays what of one order: its shares, corrections and statements."""
    order, shares = selectors.shares_of_order(user=request.user, order_id=order_id)
    shares = list(shares)
    context = {
        "order": order,
        "shares": shares,
        "total": sum(s.amount_fen for s in shares),
        "day": visit_day(order),
        "can_correct": request.user.may("issue", Statement),
    }
    return render(request, "settlements/order_shares.html", context)


class CorrectForm(forms.Form):
    amount = forms.DecimalField(
        label=_l("更正后应付金额（元）"), min_value=0, max_value=10_000_000, decimal_places=2, max_digits=12
    )
    note = forms.CharField(label=_l("更正说明"), max_length=200, widget=forms.Textarea(attrs={"rows": 3}))


@login_required
@require_http_methods(["GET", "POST"])
@requires("issue", Statement)
def share_correct(request, share_id):
    """更正 one payer's part of an order: a new share holds the difference (a late line later)."""
    share = selectors.share_get(user=request.user, share_id=share_id, action="issue")
    original = share.corrects or share
    current = selectors.share_effective_fen(original)
    form = CorrectForm(request.POST or None, initial={"amount": f"{current / 100:.2f}"})
    if request.method == "POST" and form.is_valid():
        fen = int(form.cleaned_data["amount"] * 100)
        try:
            services.share_correct(by=request.user, share=share, amount_fen=fen, note=form.cleaned_data["note"])
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error({"amount_fen": "amount", "note": "note"}.get(field), msg)
        else:
            messages.success(request, _("已记录更正，将记入以后月份的结算单。"))
            return redirect("settlements:order_shares", share.order_id)
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "settlements/share_correct.html",
        {"share": original, "current": current, "form": form, "day": visit_day(share.order)},
        status=status,
    )
