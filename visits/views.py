"""Pages of visits (docs/visits.md): due and overdue lists, the phone visit form, visits, the
visit rate with its drill-down, rules, campaigns and major events."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.access import requires
from core.pagination import CappedPaginator
from regions.models import Level
from regions.selectors import region_get
from visits import duties, selectors, services
from visits.checklist import GROUPS, ITEMS, flags, rows
from visits.models import (
    CampaignReason,
    DueSource,
    EventKind,
    MissedReason,
    Outcome,
    Period,
    Via,
    Visit,
    VisitRule,
)
from visits.rules import CONDITIONS, criteria_label, rules_for_region, tier_of

PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _region(request, key="region"):
    region_id = _int(request.GET.get(key))
    return region_get(user=request.user, region_id=region_id) if region_id else None


def _month(value) -> datetime.date:
    try:
        return datetime.datetime.strptime(value or "", "%Y-%m").date()
    except ValueError:
        return timezone.localdate().replace(day=1)


def _recent_months(chosen: datetime.date) -> list[datetime.date]:
    """The last 24 months (and the chosen one, if older), newest first."""
    first = timezone.localdate().replace(day=1)
    months = []
    for _i in range(24):
        months.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    if chosen not in months:
        months.append(chosen)
    return months


def _region_options(user):
    from needs.views import region_options

    return region_options(user, max_level=Level.GRID) if user.region is not None else []


def _levels():
    return [(Level.STREET, _("街道/乡镇")), (Level.COMMUNITY, _("社区/村")), (Level.GRID, _("网格"))]


def _tiers(user):
    region = user.region
    return [(r.tier, r.label) for r in rules_for_region(region).rules] if region is not None else []


# --- dues --------------------------------------------------------------------------------------


def _due_page(request, template_title):
    tab = request.GET.get("tab") if request.GET.get("tab") in {"due", "overdue"} else "due"
    region = _region(request) if request.user.may("view", Visit) else None
    tier = request.GET.get("tier", "")[:20]
    source = request.GET.get("source") if request.GET.get("source") in DueSource.values else ""
    filters = selectors.DueFilter(tab=tab, region=region, tier=tier, source=source)
    page = CappedPaginator(selectors.due_list(user=request.user, filters=filters), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(
        request,
        "visits/due_list.html",
        {
            "title": template_title,
            "page": page,
            "tab": tab,
            "now": now,
            "values": {"region": region.pk if region else "", "tier": tier, "source": source},
            "regions": _region_options(request.user) if request.user.may("view", Visit) else [],
            "tiers": _tiers(request.user),
            "sources": DueSource.choices,
            "figures": selectors.due_figures(user=request.user),
            "can_add": request.user.may("add", Visit),
        },
    )


@login_required
@requires("view", Visit)
def due_list(request):
    """Open dues of the user's subtree: due now (tab due) or past due (tab overdue)."""
    return _due_page(request, _("应访名单"))


@login_required
@requires("add", Visit)
def my_dues(request):
    """A visitor's phone list: a watcher's paired elders, a grid worker's grid."""
    return _due_page(request, _("我的探访"))


# --- the visit form ----------------------------------------------------------------------------


def _form_values(post):
    return {
        "via": post.get("via", Via.HOME),
        "visited_at": post.get("visited_at", ""),
        "missed": post.get("missed") == "1",
        "missed_reason": post.get("missed_reason", ""),
        "outcome": post.get("outcome", Outcome.NORMAL),
        "notes": post.get("notes", ""),
        "referral": post.get("referral", ""),
        "open_need": post.get("open_need") == "1",
        "need_text": post.get("need_text", ""),
        "need_kind": post.get("need_kind", "general"),
        "open_order": post.get("open_order") == "1",
        "order_item": post.get("order_item", ""),
        "raise_alert": post.get("raise_alert") == "1",
        "alert_kind": post.get("alert_kind", "other"),
        "pairing": post.get("pairing", ""),
        "client_key": post.get("client_key", ""),
        "checklist": {i.code: post.get(f"c_{i.code}", "") for i in ITEMS},
    }


def _parse_local(value):
    try:
        return timezone.make_aware(datetime.datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return None


@login_required
@require_http_methods(["GET", "POST"])
@requires("add", Visit)
def visit_new(request):
    """The one-minute phone form: how, the checklist as chips, the outcome, follow-ups."""
    elder_id = _int(request.GET.get("elder") or request.POST.get("elder"))
    if not elder_id:
        raise Http404
    elder = selectors.visit_elder_get(user=request.user, elder_id=elder_id)
    pairings = list(selectors.pairings_of_elder(elder=elder, user=request.user))
    items = []
    if request.user.may_code("orders.add_order") and request.user.may_code("catalogue.view_serviceitem"):
        from catalogue.selectors import item_list

        items = list(item_list(user=request.user, active_only=True)[:200])
    errors = {}
    if request.method == "POST":
        v = _form_values(request.POST)
        visited_at = _parse_local(v["visited_at"]) or timezone.now()
        pairing = next((p for p in pairings if str(p.pk) == v["pairing"]), None)
        order_item = next((i for i in items if str(i.pk) == v["order_item"]), None) if v["open_order"] else None
        if v["open_order"] and order_item is None:
            errors["order_item"] = [_("请选择服务项目")]
        if v["open_need"] and not v["need_text"].strip():
            errors["need_text"] = [_("请填写需求描述")]
        if not errors:
            try:
                visit = services.visit_record(
                    by=request.user,
                    elder=elder,
                    visited_at=visited_at,
                    via=v["via"],
                    missed=v["missed"],
                    missed_reason=v["missed_reason"],
                    checklist={k: x for k, x in v["checklist"].items() if x},
                    outcome=v["outcome"],
                    notes=v["notes"],
                    pairing=pairing,
                    open_need=v["need_text"] if v["open_need"] else "",
                    need_kind=v["need_kind"] if v["need_kind"] in {"general", "special", "urgent"} else "general",
                    order_item=order_item,
                    raise_alert=v["alert_kind"] if v["raise_alert"] else "",
                    referral=v["referral"],
                    client_key=v["client_key"],
                    offline=request.POST.get("offline") == "1",
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("已记录探访：%(name)s") % {"name": elder.name})
                return redirect("visits:detail", visit.pk)
    else:
        v = _form_values({})
        v["visited_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    groups = [(code, label, [i for i in ITEMS if i.group == code]) for code, label in GROUPS.items()]
    return render(
        request,
        "visits/visit_form.html",
        {
            "elder": elder,
            "v": v,
            "errors": errors,
            "groups": groups,
            "vias": Via.choices,
            "reasons": MissedReason.choices,
            "outcomes": Outcome.choices,
            "pairings": pairings,
            "items": items,
            "can_need": request.user.may_code("needs.add_need"),
            "can_alert": request.user.may_code("alerts.add_alert"),
            "tier": _tier_label(elder),
        },
        status=422 if errors else 200,
    )


def service_worker(request):
    """The visit form's service worker: the caregiver's (orders/static/orders/sw.js), allowed for
    /visits/new/ so it keeps the form pages the worker opened and their assets. Public: it is
    code, it holds no data."""
    from django.urls import reverse

    from orders.views_visit import service_worker_response

    return service_worker_response(reverse("visits:new"))


def _tier_label(elder):
    rule = tier_of(elder)
    return rule.label if rule else ""


# --- visits ------------------------------------------------------------------------------------


@login_required
@requires("view", Visit)
def visit_list(request):
    region = _region(request)
    outcome = request.GET.get("outcome") if request.GET.get("outcome") in Outcome.values else ""
    missed = {"1": True, "0": False}.get(request.GET.get("missed", ""))
    month = _month(request.GET.get("month")) if request.GET.get("month") else None
    f = selectors.VisitFilter(region=region, outcome=outcome, missed=missed, month=month)
    page = CappedPaginator(selectors.visit_list(user=request.user, filters=f), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/visit_list.html",
        {
            "page": page,
            "rows": [{"visit": x, "flags": flags(x.checklist)} for x in page.object_list],
            "values": {
                "region": region.pk if region else "",
                "outcome": outcome,
                "missed": request.GET.get("missed", ""),
                "month": month.strftime("%Y-%m") if month else "",
            },
            "regions": _region_options(request.user),
            "outcomes": Outcome.choices,
            "can_export": request.user.may("export", Visit),
        },
    )


@login_required
@require_http_methods(["POST"])
@requires("export", Visit)
def visit_export(request):
    """Export the visit records as the list shows them (its filters, sent with the button) as a
    background job; the job's page has the file."""
    region_id = _int(request.POST.get("region"))
    region = region_get(user=request.user, region_id=region_id) if region_id else None
    outcome = request.POST.get("outcome") if request.POST.get("outcome") in Outcome.values else ""
    missed = {"1": True, "0": False}.get(request.POST.get("missed", ""))
    month = _month(request.POST.get("month")) if request.POST.get("month") else None
    f = selectors.VisitFilter(region=region, outcome=outcome, missed=missed, month=month)
    job = services.visit_export_start(by=request.user, filters=f)
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@requires("view", Visit)
def visit_detail(request, visit_id):
    from audit.selectors import change_records_for, history_rows

    visit = selectors.visit_get(user=request.user, visit_id=visit_id)
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "rows": rows(visit.checklist),
            "flags": flags(visit.checklist),
            "can_history": request.user.may_code("audit.view_changerecord"),
            "history": history_rows(user=request.user, records=change_records_for(user=request.user, obj=visit)[:20], model=Visit)
            if request.user.may_code("audit.view_changerecord")
            else [],
        },
    )


# --- the visit rate ----------------------------------------------------------------------------


@login_required
@requires("view", Visit)
def rate(request):
    month = _month(request.GET.get("month"))
    level = _int(request.GET.get("level")) or Level.COMMUNITY
    if level not in (Level.STREET, Level.COMMUNITY, Level.GRID):
        level = Level.COMMUNITY
    region = _region(request)
    rows_, total = selectors.visit_rate(user=request.user, month=month, level=level, region=region)
    return render(
        request,
        "visits/rate.html",
        {
            "rows": rows_,
            "total": total,
            "month": month,
            "level": level,
            "levels": _levels(),
            "region": region,
            "regions": _region_options(request.user),
            "months": _recent_months(month),
        },
    )


@login_required
@requires("view", Visit)
def rate_missed(request):
    month = _month(request.GET.get("month"))
    region = _region(request)
    qs = selectors.visit_rate_missed(user=request.user, month=month, region=region)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "visits/rate_missed.html", {"page": page, "month": month, "region": region or request.user.region})


# --- rules -------------------------------------------------------------------------------------


def _rule_rows(ruleset):
    return [{"rule": r, "clauses": criteria_label(r.criteria)} for r in ruleset.rules]


@login_required
@requires("view", Visit)
def rules(request):
    region = _region(request) or request.user.region
    ruleset = rules_for_region(region)
    return render(
        request,
        "visits/rules.html",
        {
            "region": region,
            "ruleset": ruleset,
            "rows": _rule_rows(ruleset),
            "own_regions": selectors.rule_region_list(user=request.user),
            "can_change": request.user.may("change", VisitRule),
        },
    )


def _category_options():
    from elders.categories import enabled_categories

    return [(c.code, c.label) for c in enabled_categories()]


def _field_reader(post, n):
    return lambda key: post.get(f"t{n}_{key}", "")


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", VisitRule)
def rules_edit(request):
    """A region's own rules as a form: per tier a label, a period, event hours and up to three
    clauses of checkboxes (categories, conditions) and a minimum age — never raw JSON."""
    region_id = _int(request.GET.get("region") or request.POST.get("region"))
    region = region_get(user=request.user, region_id=region_id) if region_id else request.user.region
    ruleset = rules_for_region(region)
    errors = []
    if request.method == "POST":
        data, n = [], 0
        while f"t{n}_tier" in request.POST and n < 10:
            p = _field_reader(request.POST, n)
            clauses = []
            for c in range(3):
                clause = {}
                age = _int(p(f"c{c}_min_age"))
                if age:
                    clause["min_age"] = age
                cats = request.POST.getlist(f"t{n}_c{c}_categories")
                if cats:
                    clause["categories"] = cats
                anys = request.POST.getlist(f"t{n}_c{c}_any")
                if anys:
                    clause["any_categories"] = anys
                conds = request.POST.getlist(f"t{n}_c{c}_conditions")
                if conds:
                    clause["conditions"] = conds
                if clause:
                    clauses.append(clause)
            if p("tier") and request.POST.get(f"t{n}_active") == "on":
                data.append(
                    {
                        "tier": p("tier"),
                        "label": p("label"),
                        "period": p("period"),
                        "event_hours": _int(p("event_hours")),
                        "criteria": clauses,
                        "priority": (n + 1) * 10,
                    }
                )
            n += 1
        try:
            services.rules_set(by=request.user, region=region, rules=data)
        except ValidationError as exc:
            errors = [m for msgs in exc.message_dict.values() for m in msgs]
        else:
            messages.success(request, _("已保存%(region)s的探访规则，自下一个周期起生效") % {"region": region.name})
            return redirect(f"{request.path.replace('edit/', '')}?region={region.pk}")
    tiers = []
    for n, r in enumerate(list(ruleset.rules) + [None]):
        clauses = list(r.criteria) if r else []
        clauses += [{}] * (3 - len(clauses))
        tiers.append({"n": n, "rule": r, "clauses": list(enumerate(clauses[:3]))})
    return render(
        request,
        "visits/rules_edit.html",
        {
            "region": region,
            "inherited": ruleset.region != region,
            "tiers": tiers,
            "periods": Period.choices,
            "categories": _category_options(),
            "conditions": [(c.code, c.label) for c in CONDITIONS.values()],
            "errors": errors,
        },
        status=422 if errors else 200,
    )


# --- campaigns and events ----------------------------------------------------------------------


@login_required
@requires("view", Visit)
def campaign_list(request):
    page = CappedPaginator(selectors.campaign_list(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "visits/campaign_list.html",
        {
            "page": page,
            "rows": [{"c": c, "p": selectors.campaign_progress(c)} for c in page.object_list],
            "can_change": request.user.may("change", VisitRule),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", VisitRule)
def campaign_new(request):
    errors, v = {}, {"name": "", "reason": "heat", "hours": 48, "categories": ["lives_alone"], "min_age": "", "region": ""}
    if request.method == "POST":
        v = {
            "name": request.POST.get("name", ""),
            "reason": request.POST.get("reason", "other"),
            "hours": _int(request.POST.get("hours")) or 0,
            "categories": request.POST.getlist("categories"),
            "min_age": request.POST.get("min_age", ""),
            "region": _int(request.POST.get("region")) or "",
        }
        region = region_get(user=request.user, region_id=v["region"]) if v["region"] else request.user.region
        clause = {"categories": v["categories"]} if v["categories"] else {}
        if _int(v["min_age"]):
            clause["min_age"] = _int(v["min_age"])
        try:
            campaign = duties.campaign_start(
                by=request.user,
                region=region,
                name=v["name"],
                reason=v["reason"] if v["reason"] in CampaignReason.values else "other",
                criteria=[clause] if clause else [],
                hours=v["hours"],
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("已发起专项探访，共 %(n)d 位探访对象") % {"n": campaign.target_count})
            return redirect("visits:campaign_detail", campaign.pk)
    return render(
        request,
        "visits/campaign_form.html",
        {
            "v": v,
            "errors": errors,
            "reasons": CampaignReason.choices,
            "categories": _category_options(),
            "regions": _region_options(request.user),
        },
        status=422 if errors else 200,
    )


@login_required
@requires("view", Visit)
def campaign_detail(request, campaign_id):
    campaign = selectors.campaign_get(user=request.user, campaign_id=campaign_id)
    open_dues = selectors.campaign_open_dues(user=request.user, campaign=campaign)
    page = CappedPaginator(open_dues.select_related("elder", "region").order_by("region__path", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "visits/campaign_detail.html",
        {"c": campaign, "p": selectors.campaign_progress(campaign), "page": page, "clauses": criteria_label(campaign.criteria)},
    )


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", VisitRule)
def event_new(request):
    from elders.selectors import elder_get

    elder_id = _int(request.GET.get("elder") or request.POST.get("elder"))
    if not elder_id:
        raise Http404
    elder = elder_get(user=request.user, elder_id=elder_id)
    errors, v = {}, {"kind": "fall", "happened_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "description": ""}
    if request.method == "POST":
        v = {k: request.POST.get(k, "") for k in ("kind", "happened_at", "description")}
        try:
            event = duties.major_event_record(
                by=request.user,
                elder=elder,
                kind=v["kind"],
                happened_at=_parse_local(v["happened_at"]),
                description=v["description"],
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            due = event.dues.first()
            if due:
                messages.success(
                    request,
                    _("已登记重大事件，请在 %(at)s 前探访") % {"at": timezone.localtime(due.due_at).strftime("%m-%d %H:%M")},
                )
            else:
                messages.success(request, _("已登记重大事件"))
            return redirect("elders:detail", elder.pk)
    return render(
        request,
        "visits/event_form.html",
        {"elder": elder, "v": v, "errors": errors, "kinds": EventKind.choices},
        status=422 if errors else 200,
    )
