"""Pages of emergency alerts: the live board (htmx polling), the list, an alert with its
timeline, the responder's phone page, raising from the hotline or a visit, devices and their
tokens, the escalation policy and the report."""

import datetime
import re
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from alerts import selectors, services
from alerts.models import (
    Alert,
    AlertEvent,
    Device,
    DeviceKind,
    DeviceStatus,
    EscalationPolicy,
    Kind,
    Outcome,
    Source,
    Status,
    StepTarget,
)
from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.pagination import CappedPaginator
from elders.selectors import ElderFilter, elder_get, elder_list
from regions.selectors import region_get, region_list, regions_in_tree_order

PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def region_options(user, *, max_level: int) -> list[tuple[int, str]]:
    top = user.region.level
    nodes = region_list(user=user).filter(level__gte=top, level__lte=max_level).order_by("level", "path")[:500]
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions_in_tree_order(nodes)]


def _errors_to_form(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for msgs in exc.message_dict.values() for m in msgs]
    return list(exc.messages)


def responder_required(view):
    """login + alerts.respond_alert, without requiring a region (a relative's account has none):
    the alert itself is then read through selectors.alert_for_responder (scope or chain)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        selectors.responder_check(request.user)
        return view(request, *args, **kwargs)

    return guarded


# --- the board ---------------------------------------------------------------------------------


def _waited(since, now) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return _("%(s)d 秒") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d 分 %(s)d 秒") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d 小时 %(m)d 分") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


def _step_label(alert: Alert) -> str:
    """Where the chain is: the last step run and what comes next."""
    if alert.status != Status.RAISED:
        return ""
    if alert.step >= len(alert.steps):
        return str(_("升级已走完，等待响应"))
    nxt = alert.steps[alert.step]
    label = StepTarget(nxt["target"]).label if nxt["target"] in StepTarget.values else nxt["target"]
    return str(_("下一步：%(label)s") % {"label": label})


def _board_context(request):
    region = None
    region_id = _int(request.GET.get("region"))
    if region_id:
        region = region_get(user=request.user, region_id=region_id)
    board = selectors.board_alerts(user=request.user, region=region)
    now = board["now"]
    cards = []
    for alert in board["raised"] + board["acknowledged"]:
        since = alert.received_at if alert.status == Status.RAISED else alert.acknowledged_at
        cards.append(
            {
                "alert": alert,
                "waited": _waited(alert.received_at, now),
                "since_ack": _waited(since, now) if alert.status == Status.ACKNOWLEDGED else "",
                "prompt": alert.pk in board["prompts"],
                "step_label": _step_label(alert),
            }
        )
    return {
        "cards": cards,
        "resolved": board["resolved"],
        "raised_count": len(board["raised"]),
        "acked_count": len(board["acknowledged"]),
        "now": now,
        "region_id": region_id or "",
        "can_respond": request.user.may("respond", Alert),
        "outcomes": Outcome.choices,
    }


@login_required
@requires("view", Alert)
def alert_board(request):
    """The live board: open alerts, the one waiting longest on top; refreshes itself every 5 s."""
    context = _board_context(request)
    context["regions"] = region_options(request.user, max_level=6)
    return render(request, "alerts/board.html", context)


@login_required
@requires("view", Alert)
def alert_board_partial(request):
    """The board's body, polled by htmx."""
    return render(request, "alerts/_board.html", _board_context(request))


# --- the list and an alert ---------------------------------------------------------------------


@login_required
@requires("view", Alert)
def alert_list(request):
    params = request.GET
    region = None
    region_id = _int(params.get("region"))
    if region_id:
        region = region_get(user=request.user, region_id=region_id)
    status = params.get("status") or "open"
    if status not in {"open", "all", *Status.values}:
        status = "open"
    f = selectors.AlertFilter(
        region=region,
        status=status,
        kind=params.get("kind") if params.get("kind") in Kind.values else "",
        source=params.get("source") if params.get("source") in Source.values else "",
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
    )
    page = CappedPaginator(selectors.alert_list(user=request.user, filters=f), PAGE_SIZE).get_page(params.get("page"))
    context = {
        "page": page,
        "values": {
            "region": region_id or "",
            "status": status,
            "kind": f.kind,
            "source": f.source,
            "date_from": params.get("date_from", "") if f.date_from else "",
            "date_to": params.get("date_to", "") if f.date_to else "",
        },
        "regions": region_options(request.user, max_level=6),
        "statuses": [("open", _("未处置")), *Status.choices, ("all", _("全部"))],
        "kinds": Kind.choices,
        "sources": Source.choices,
        "figures": selectors.alert_desk_figures(user=request.user),
    }
    return render(request, "alerts/alert_list.html", context)


def _timeline(alert):
    return [{"event": e, "is_prompt": e.kind == AlertEvent.Kind.PROMPT} for e in selectors.alert_events(alert)]


@login_required
@requires("view", Alert)
def alert_detail(request, alert_id):
    alert = selectors.alert_get(user=request.user, alert_id=alert_id)
    context = {
        "alert": alert,
        "timeline": _timeline(alert),
        "steps": [
            {"n": i + 1, "label": StepTarget(s["target"]).label, "wait": s.get("wait_minutes", 0), "done": i < alert.step}
            for i, s in enumerate(alert.steps)
        ],
        "can_respond": selectors.may_respond(request.user, alert),
        "outcomes": Outcome.choices,
        "history": history_rows(user=request.user, records=change_records_for(user=request.user, obj=alert)[:50], model=Alert),
        "can_history": request.user.may_code("audit.view_changerecord"),
    }
    return render(request, "alerts/alert_detail.html", context)


@login_required
@responder_required
def alert_respond(request, alert_id):
    """The responder's phone page (the link in every notice): who, what, since when, and two
    big buttons."""
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    context = {
        "alert": alert,
        "timeline": _timeline(alert),
        "waited": _waited(alert.received_at, timezone.now()),
        "outcomes": Outcome.choices,
        "show_address": request.user.may_code("elders.view_elder"),
    }
    return render(request, "alerts/respond.html", context)


@login_required
@responder_required
def alert_mine(request):
    """The open alerts the user's chain reaches (a watcher's, a relative's, a duty worker's)."""
    return render(request, "alerts/mine.html", {"alerts": selectors.alerts_to_respond(user=request.user), "now": timezone.now()})


def _back(request, alert):
    nxt = request.POST.get("next", "")
    if nxt == "board":
        return redirect("alerts:board")
    if nxt == "detail" and request.user.may("view", Alert):
        return redirect("alerts:detail", alert.pk)
    return redirect("alerts:respond", alert.pk)


@login_required
@require_POST
@responder_required
def alert_acknowledge(request, alert_id):
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    try:
        services.alert_acknowledge(by=request.user, alert=alert, note=request.POST.get("note", ""))
    except ValidationError as exc:
        for message in _errors_to_form(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("已响应：%(name)s的呼叫，升级已停止。") % {"name": alert.elder.name})
    return _back(request, alert)


@login_required
@require_POST
@responder_required
def alert_resolve(request, alert_id):
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    try:
        services.alert_resolve(
            by=request.user, alert=alert, outcome=request.POST.get("outcome", ""), note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        for message in _errors_to_form(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("已处置完毕：%(name)s的呼叫。") % {"name": alert.elder.name})
    return _back(request, alert)


@login_required
@require_POST
@responder_required
def alert_note(request, alert_id):
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    try:
        services.alert_note(by=request.user, alert=alert, text=request.POST.get("text", ""))
    except ValidationError as exc:
        for message in _errors_to_form(exc):
            messages.error(request, message)
    return _back(request, alert)


# --- raising from the hotline or a visit --------------------------------------------------------

DIGITS = re.compile(r"\d{4,}")


@login_required
@requires("add", Alert)
def elder_find(request):
    """Find the elder by name (a number is refused here: it would sit in the URL) to raise an
    alert or register a device."""
    q = (request.GET.get("q") or "").strip()[:32]
    error = ""
    elders = []
    if q and DIGITS.search(q):
        error, q = _("请按姓名查找；身份证号、电话请在老年人信息库中查找。"), ""
    if q and request.user.may_code("elders.view_elder"):
        elders = list(elder_list(user=request.user, filters=ElderFilter(q=q)).select_related("region")[:20])
    return render(
        request,
        "alerts/elder_find.html",
        {"q": q, "elders": elders, "error": error, "can_device": request.user.may("change", Device)},
    )


@login_required
@require_http_methods(["GET", "POST"])
@requires("add", Alert)
def alert_create(request, elder_id):
    """登记紧急呼叫 from the hotline or a visit: the chain starts at once."""
    elder = elder_get(user=request.user, elder_id=elder_id)
    values = {"source": "hotline", "kind": "sos", "description": ""}
    errors = []
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("source", "kind", "description")}
        if values["source"] not in ("hotline", "visit", "watcher"):
            errors.append(_("请选择来源"))
        else:
            try:
                alert, _created = services.alert_raise(
                    elder=elder,
                    source=values["source"],
                    kind=values["kind"],
                    occurred_at=timezone.now(),
                    by=request.user,
                    description=values["description"],
                )
            except ValidationError as exc:
                errors = _errors_to_form(exc)
            else:
                messages.success(request, _("已登记紧急呼叫，已按升级策略通知。"))
                return redirect("alerts:detail", alert.pk)
    context = {
        "elder": elder,
        "values": values,
        "errors": errors,
        "sources": [c for c in Source.choices if c[0] != "device"],
        "kinds": Kind.choices,
        "steps": [StepTarget(s["target"]).label for s in selectors.policy_for_region(elder.region)[1]],
    }
    return render(request, "alerts/alert_form.html", context, status=422 if errors else 200)


# --- devices -----------------------------------------------------------------------------------


@login_required
@requires("view", Device)
def device_list(request):
    params = request.GET
    region = None
    region_id = _int(params.get("region"))
    if region_id:
        region = region_get(user=request.user, region_id=region_id)
    status = params.get("status") if params.get("status") in ("all", *DeviceStatus.values) else "active"
    flag = params.get("flag") if params.get("flag") in ("silent", "battery") else ""
    kind = params.get("kind") if params.get("kind") in DeviceKind.values else ""
    now = timezone.now()
    qs = selectors.device_list(user=request.user, region=region, status=status, kind=kind, flag=flag, now=now)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(params.get("page"))
    rows = [{"device": d, "silent": selectors.is_silent(d, now), "low": selectors.is_low_battery(d)} for d in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "values": {"region": region_id or "", "status": status, "flag": flag, "kind": kind},
        "regions": region_options(request.user, max_level=6),
        "kinds": DeviceKind.choices,
        "silent_count": selectors.silent_devices(user=request.user, now=now).order_by()[:10001].count(),
        "low_count": selectors.device_list(user=request.user, flag="battery", now=now).order_by()[:10001].count(),
        "active_count": selectors.device_list(user=request.user, now=now).order_by()[:10001].count(),
        "can_change": request.user.may("change", Device),
    }
    return render(request, "alerts/device_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Device)
def device_create(request, elder_id):
    elder = elder_get(user=request.user, elder_id=elder_id)
    values = {
        "kind": "call_button",
        "number": "",
        "installed_on": timezone.localdate().isoformat(),
        "installed_by": "",
        "heartbeat_minutes": "60",
    }
    errors = {}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        installed_on = _date(values["installed_on"])
        minutes = _int(values["heartbeat_minutes"])
        if installed_on is None:
            errors["installed_on"] = _("请填写安装日期，格式 2025-01-31")
        if minutes is None:
            errors["heartbeat_minutes"] = _("心跳间隔应为 1 至 10080 分钟")
        if not errors:
            try:
                device = services.device_register(
                    by=request.user,
                    elder=elder,
                    kind=values["kind"],
                    number=values["number"],
                    installed_on=installed_on,
                    installed_by=values["installed_by"],
                    heartbeat_minutes=minutes,
                )
            except ValidationError as exc:
                errors = (
                    {k: " ".join(v) for k, v in exc.message_dict.items()}
                    if hasattr(exc, "error_dict")
                    else {"number": " ".join(exc.messages)}
                )
            else:
                messages.success(request, _("已登记设备 %(n)s，请签发令牌并配置到网关。") % {"n": device.number})
                return redirect("alerts:device_detail", device.pk)
    return render(
        request,
        "alerts/device_form.html",
        {"elder": elder, "values": values, "errors": errors, "kinds": DeviceKind.choices},
        status=422 if errors else 200,
    )


def _device_context(request, device, token=None):
    return {
        "device": device,
        "silent": selectors.is_silent(device),
        "low": selectors.is_low_battery(device),
        "token": token,
        "can_change": request.user.may("change", Device),
        "alerts": selectors.alert_list(user=request.user, filters=selectors.AlertFilter(status="all")).filter(device=device)[:10]
        if request.user.may("view", Alert)
        else [],
        "history": history_rows(user=request.user, records=change_records_for(user=request.user, obj=device)[:30], model=Device),
        "can_history": request.user.may_code("audit.view_changerecord"),
    }


@login_required
@requires("view", Device)
def device_detail(request, device_id):
    device = selectors.device_get(user=request.user, device_id=device_id)
    return render(request, "alerts/device_detail.html", _device_context(request, device))


@login_required
@require_POST
@requires("change", Device)
def device_token(request, device_id):
    """Issue a token: shown on this answer only (not stored, not redirected to)."""
    device = selectors.device_get(user=request.user, device_id=device_id, action="change")
    try:
        token = services.device_token_issue(by=request.user, device=device)
    except ValidationError as exc:
        for message in _errors_to_form(exc):
            messages.error(request, message)
        return redirect("alerts:device_detail", device.pk)
    device.refresh_from_db()
    response = render(request, "alerts/device_detail.html", _device_context(request, device, token=token))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
@requires("change", Device)
def device_retire(request, device_id):
    device = selectors.device_get(user=request.user, device_id=device_id, action="change")
    try:
        services.device_retire(by=request.user, device=device, reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for message in _errors_to_form(exc):
            messages.error(request, message)
    else:
        messages.success(request, _("设备已停用，令牌已作废。"))
    return redirect("alerts:device_detail", device.pk)


# --- the policy --------------------------------------------------------------------------------


@login_required
@requires("view", Alert)
def policy_home(request):
    """The policy of the user's own region."""
    if request.user.region_id is None:
        raise PermissionDenied(_("您的账号尚未分配所属区域。"))
    return redirect("alerts:policy", request.user.region_id)


def _policy_context(request, region, steps=None, duty_ids=None, errors=()):
    policy, applied = selectors.policy_for_region(region)
    own = policy if policy is not None and policy.region_id == region.pk else None
    may_change = request.user.may("change", EscalationPolicy)
    return {
        "region": region,
        "policy": policy,
        "own": own,
        "applied": [
            {"target": s["target"], "label": StepTarget(s["target"]).label, "wait": s.get("wait_minutes", 0)} for s in applied
        ],
        "rows": steps
        if steps is not None
        else [{"target": s["target"], "wait": s.get("wait_minutes", 0)} for s in applied] + [{"target": "", "wait": 0}] * 2,
        "targets": StepTarget.choices,
        "duty": [u for u in policy.duty_users.all()] if policy else [],
        "duty_ids": duty_ids if duty_ids is not None else ([u.pk for u in own.duty_users.all()] if own else []),
        "duty_choices": selectors.duty_choices(user=request.user, region=region) if may_change else [],
        "may_change": may_change,
        "errors": errors,
        "regions": region_options(request.user, max_level=5),
    }


@login_required
@requires("view", Alert)
def policy_detail(request, region_id):
    region = region_get(user=request.user, region_id=region_id)
    return render(request, "alerts/policy.html", _policy_context(request, region))


@login_required
@require_POST
@requires("change", EscalationPolicy)
def policy_edit(request, region_id):
    region = region_get(user=request.user, region_id=region_id)
    targets = request.POST.getlist("target")
    waits = request.POST.getlist("wait")
    rows = [{"target": t, "wait": w} for t, w in zip(targets, waits, strict=False)]
    steps = [{"target": r["target"], "wait_minutes": r["wait"]} for r in rows if r["target"]]
    people = {u.pk: u for u in selectors.duty_choices(user=request.user, region=region)}
    duty_ids = [i for i in (_int(v) for v in request.POST.getlist("duty_users")) if i in people]
    try:
        services.policy_set(by=request.user, region=region, steps=steps, duty_users=[people[i] for i in duty_ids])
    except ValidationError as exc:
        context = _policy_context(request, region, steps=rows, duty_ids=duty_ids, errors=_errors_to_form(exc))
        return render(request, "alerts/policy.html", context, status=422)
    messages.success(request, _("已保存升级策略；已发出的呼叫仍按原策略升级。"))
    return redirect("alerts:policy", region.pk)


# --- the report --------------------------------------------------------------------------------


def _month(value, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(f"{value}-01") if value else default
    except ValueError:
        return default


def _duration(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return _("%(s)d 秒") % {"s": seconds}
    if seconds < 3600:
        return _("%(m)d 分 %(s)d 秒") % {"m": seconds // 60, "s": seconds % 60}
    return _("%(h)d 小时 %(m)d 分") % {"h": seconds // 3600, "m": seconds % 3600 // 60}


@login_required
@requires("view", Alert)
def alert_report(request):
    """Response and resolution times per community and month."""
    this_month = timezone.localdate().replace(day=1)
    start = _month(request.GET.get("from"), (this_month - datetime.timedelta(days=150)).replace(day=1))
    end = _month(request.GET.get("to"), this_month)
    if end < start:
        start, end = end, start
    months = (end.year - start.year) * 12 + end.month - start.month
    if months >= selectors.REPORT_MAX_MONTHS:
        start = (end - datetime.timedelta(days=31 * (selectors.REPORT_MAX_MONTHS - 1))).replace(day=1)
    region = None
    region_id = _int(request.GET.get("region"))
    if region_id:
        region = region_get(user=request.user, region_id=region_id)
    rows = selectors.alert_report(user=request.user, month_from=start, month_to=end, region=region)
    shown = [
        {
            "row": r,
            "response_median": _duration(r.response_median_s),
            "response_p90": _duration(r.response_p90_s),
            "resolution_median": _duration(r.resolution_median_s),
            "slow": r.response_p90_s is not None and r.response_p90_s > 600,
            "hospital": (r.by_outcome or {}).get("hospital", 0),
            "false_alarm": (r.by_outcome or {}).get("false_alarm", 0),
        }
        for r in rows
    ]
    context = {
        "rows": shown,
        "values": {"from": start.strftime("%Y-%m"), "to": end.strftime("%Y-%m"), "region": region_id or ""},
        "regions": region_options(request.user, max_level=5),
        "total": sum(r.count for r in rows),
        "unanswered": sum(r.unanswered for r in rows),
    }
    return render(request, "alerts/report.html", context)
