"""Pages of the ability assessment: the list, the due list, a new draft, the phone form (one
group per screen, each tap saved by htmx), the result and the report PDF; the instruments with
their versions, and the admin's form publishing new cut-offs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from assessments import selectors, services
from assessments.definition import level_ranges, total_points
from assessments.models import Assessment, Instrument, Reason, Status
from assessments.scoring import level_name, score
from core.access import get_scoped_or_404, requires
from core.pagination import CappedPaginator
from core.request import client_address
from elders.selectors import elder_get
from regions.models import Region

PAGE_SIZE = 20


def _region_filter(request):
    raw = request.GET.get("region", "")
    if not raw.isdigit() or len(raw) > 17:
        return None
    return get_scoped_or_404(Region, request.user, int(raw), "view")


@login_required
@requires("view", Assessment)
def assessment_list(request):
    status = request.GET.get("status", "")
    status = status if status in Status.values else ""
    elder = request.GET.get("elder", "")
    qs = selectors.assessment_list(
        user=request.user,
        status=status,
        region=_region_filter(request),
        elder_id=int(elder) if elder.isdigit() and len(elder) < 18 else None,
    )
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assessments/list.html", {"page": page, "status": status, "statuses": Status.choices})


@login_required
@requires("view", Assessment)
def due_list(request):
    qs = selectors.due_list(user=request.user, region=_region_filter(request))
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "assessments/due.html", {"page": page, "today": timezone.localdate(), "until": selectors.due_window()})


@login_required
@requires("add", Assessment)
def assessment_new(request, elder_id):
    elder = elder_get(user=request.user, elder_id=elder_id)
    values = {
        "instrument": "gbt42195",
        "reason": Reason.PERIODIC if selectors.latest_for(user=request.user, elder=elder) else Reason.FIRST,
    }
    errors = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("instrument", "reason", "place")}
        try:
            a = services.assessment_create(
                by=request.user,
                elder=elder,
                instrument_code=values["instrument"] or "gbt42195",
                reason=values["reason"],
                place=values["place"],
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            return redirect("assessments:fill", a.pk)
    context = {
        "elder": elder,
        "values": values,
        "errors": errors,
        "reasons": Reason.choices,
        "instruments": selectors.instruments_in_use(),
        "drafts": selectors.drafts_for(user=request.user, elder=elder),
    }
    return render(request, "assessments/new.html", context)


def _form_context(a: Assessment, group_code: str, error: str = "") -> dict:
    definition = a.instrument.definition
    groups = definition["groups"]
    codes = [g["code"] for g in groups]
    if group_code not in codes and group_code != "facts":
        group_code = codes[0]
    result = score(definition, a.answers, a.facts)
    answered = {g["code"]: 0 for g in groups}
    totals = {g["code"]: 0 for g in groups}
    for item in definition["items"]:
        totals[item["group"]] += 1
        if item["code"] not in result.missing:
            answered[item["group"]] += 1
    steps = [{"code": g["code"], "name": g["name"], "answered": answered[g["code"]], "total": totals[g["code"]]} for g in groups]
    has_facts = bool(definition.get("facts"))
    if has_facts:
        steps.append({"code": "facts", "name": _("等级变更依据"), "answered": None, "total": None})
    order = [s["code"] for s in steps]
    here = order.index(group_code)
    items = [{**i, "chosen": a.answers.get(i["code"])} for i in definition["items"] if i["group"] == group_code]
    return {
        "a": a,
        "elder": a.elder,
        "steps": steps,
        "group": group_code,
        "group_name": steps[here]["name"],
        "items": items,
        "facts": [{**f, "value": a.facts.get(f["code"])} for f in definition.get("facts", [])] if group_code == "facts" else [],
        "prev": order[here - 1] if here > 0 else None,
        "next": order[here + 1] if here + 1 < len(order) else None,
        "result": result,
        "base_label": level_name(definition, result.base_level),
        "final_label": level_name(definition, result.final_level),
        "error": error,
    }


@login_required
@requires("change", Assessment)
def assessment_fill(request, pk):
    a = selectors.assessment_get(user=request.user, pk=pk, action="change")
    if a.status != Status.DRAFT:
        return redirect("assessments:detail", a.pk)
    group = request.GET.get("group", "")
    if request.method == "POST":  # without JavaScript: the group's answers in one submit
        group = request.POST.get("group", "")
        try:
            _save(request, a)
        except ValidationError as exc:
            return render(request, "assessments/fill.html", _form_context(a, group, "；".join(exc.messages)), status=422)
        target = request.POST.get("go") or group
        return redirect(f"{request.path}?group={target}")
    return render(request, "assessments/fill.html", _form_context(a, group))


def _save(request, a: Assessment) -> Assessment:
    answers, facts = {}, {}
    for key, value in request.POST.items():
        if key.startswith("item:"):
            try:
                answers[key[5:]] = int(value)
            except ValueError:
                raise ValidationError({key: _("请选择一个选项")}) from None
        elif key.startswith("fact:"):
            code = key[5:]
            if value in ("yes", "no"):
                facts[code] = value == "yes"
            else:
                try:
                    facts[code] = int(value or 0)
                except ValueError:
                    raise ValidationError({key: _("次数请填写数字，例如 0、1、2")}) from None
    return services.assessment_answer(by=request.user, assessment=a, answers=answers, facts=facts)


@login_required
@requires("change", Assessment)
@require_POST
def assessment_answer(request, pk):
    """htmx: one tap saved; answers with the live score panel."""
    a = selectors.assessment_get(user=request.user, pk=pk, action="change")
    error = ""
    try:
        a = _save(request, a)
    except ValidationError as exc:
        error = "；".join(exc.messages)
    context = _form_context(a, request.POST.get("group", ""), error)
    return render(request, "assessments/_answer.html", context, status=200 if not error else 422)


@login_required
@requires("change", Assessment)
@require_POST
def assessment_complete(request, pk):
    a = selectors.assessment_get(user=request.user, pk=pk, action="change")
    try:
        services.assessment_complete(by=request.user, assessment=a)
    except ValidationError as exc:
        context = _form_context(a, request.POST.get("group", ""), "；".join(exc.messages))
        return render(request, "assessments/fill.html", context, status=422)
    messages.success(request, _("评估已完成，能力等级已更新"))
    return redirect("assessments:detail", a.pk)


@login_required
@requires("view", Assessment)
def assessment_detail(request, pk):
    a = selectors.assessment_get(user=request.user, pk=pk)
    definition = a.instrument.definition
    result = score(definition, a.answers, a.facts)
    groups = [
        {
            "name": g["name"],
            "score": result.group_scores[g["code"]],
            "max": g["max_points"],
            "items": [
                {
                    "code": i["code"],
                    "name": i["name"],
                    "points": a.answers.get(i["code"]),
                    "text": next((o["text"] for o in i["options"] if o["points"] == a.answers.get(i["code"])), ""),
                }
                for i in definition["items"]
                if i["group"] == g["code"]
            ],
        }
        for g in definition["groups"]
    ]
    context = {
        "a": a,
        "elder": a.elder,
        "groups": groups,
        "result": result,
        "can_change": a.status == Status.DRAFT and request.user.may("change", Assessment),
    }
    return render(request, "assessments/detail.html", context)


@login_required
@requires("view", Assessment)
def assessment_report(request, pk):
    from assessments.report import report_response

    a = selectors.assessment_get(user=request.user, pk=pk)
    selectors.assessment_report_log(user=request.user, assessment=a, ip=client_address(request))
    return report_response(a)


@login_required
@requires("view", Assessment)
def instrument_list(request):
    context = {"instruments": selectors.instrument_versions(), "can_publish": request.user.may("publish", Instrument)}
    return render(request, "assessments/instruments.html", context)


def _form_int(raw: str):
    """A number typed in the form, or the text as typed (the service names the field)."""
    raw = (raw or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 6 else raw


@login_required
@requires("publish", Instrument)
def instrument_publish(request, code):
    """The version in use with its cut-offs editable, a note and 发布后重新分级; POST publishes
    the next version and (if ticked) starts the recompute job, then shows the job."""
    current = selectors.instrument_in_use(code)
    rows = level_ranges(current.definition)
    for r in rows:
        r["old_min"], r["old_max"] = r["min"], r["max"]
    values = {"note": "", "recompute": True, "version": current.version}
    errors: dict = {}
    if request.method == "POST":
        for r in rows:
            r["min"] = _form_int(request.POST.get(f"levels.{r['code']}.min", ""))
            r["max"] = _form_int(request.POST.get(f"levels.{r['code']}.max", ""))
        values = {
            "note": request.POST.get("note", "")[:300],
            "recompute": request.POST.get("recompute") == "on",
            "version": current.version,
        }
        raw_version = request.POST.get("version", "")
        base = int(raw_version) if raw_version.isascii() and raw_version.isdigit() and len(raw_version) < 10 else None
        try:
            inst, job = services.instrument_publish_levels(
                by=request.user,
                code=current.code,
                levels=[{"code": r["code"], "min": r["min"], "max": r["max"]} for r in rows],
                note=values["note"],
                recompute=values["recompute"],
                base_version=base,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            if job is not None:
                messages.success(request, _("已发布%(n)s第 %(v)s 版，正在重新分级") % {"n": inst.name, "v": inst.version})
                if request.user.may_code("jobs.view_job"):
                    return redirect("jobs:detail", job.pk)
            else:
                messages.success(
                    request,
                    _("已发布%(n)s第 %(v)s 版；已有评估的等级未改变（未勾选重新分级）") % {"n": inst.name, "v": inst.version},
                )
            return redirect("assessments:instruments")
    for r in rows:
        r["min_errors"] = errors.get(f"levels.{r['code']}.min", [])
        r["max_errors"] = errors.get(f"levels.{r['code']}.max", [])
    other = [m for k, msgs in errors.items() if not k.startswith("levels.") and k != "note" for m in msgs]
    context = {
        "current": current,
        "rows": rows,
        "total": total_points(current.definition),
        "values": values,
        "errors": errors,
        "note_errors": errors.get("note", []),
        "other_errors": other,
    }
    return render(request, "assessments/publish.html", context, status=422 if errors else 200)
