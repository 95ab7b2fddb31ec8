"""/api/alerts: the device gateway's door (a per-device token) and the staff's routes (the
same rules as the pages). docs/alerts.md has the gateway protocol."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from alerts import selectors, services
from alerts.models import Alert, Device, DeviceKind, DeviceStatus, EscalationPolicy, Kind, Outcome, Source
from alerts.models import Status as AlertStatus
from core.access import requires
from core.api_kit import MAX_PAGE_SIZE, IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from elders.selectors import elder_get
from regions.selectors import region_get

router = Router(tags=["alerts"])


# --- the device gateway ------------------------------------------------------------------------


def _error(status: int, message: str, field: str | None = None):
    return Status(status, {"detail": message, "errors": [{"field": field, "message": message}]})


def _device_token(request) -> str:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "device ":
        return header[7:].strip()
    return request.headers.get("X-Device-Token", "").strip()


def _device_for(request, number: str):
    """(device, None) for a gateway whose token names an active device with this number, else
    (None, the refusal): 401 no or unknown token, 403 a retired device or another device's token."""
    token = _device_token(request)
    if not token:
        return None, _error(401, _("缺少设备令牌：请在请求头 Authorization: Device <令牌> 中提供"), "Authorization")
    device = selectors.device_by_token(token)
    if device is None:
        return None, _error(401, _("设备令牌无效或已被重新签发，请向社区索取新令牌"), "Authorization")
    if device.status != DeviceStatus.ACTIVE:
        return None, _error(403, _("该设备已停用，不能再上报"), "Authorization")
    if number and device.number != number:
        return None, _error(403, _("令牌不属于设备 %(n)s，请核对设备编号") % {"n": number[:40]}, "device")
    return device, None


class IngestIn(Schema):
    device: str = Field(min_length=1, max_length=40, description="the device's number (设备编号) the token was issued for")
    event_id: str = Field(min_length=1, max_length=64, description="the device's own id of the event: a retry sends the same one")
    kind: Literal[tuple(Kind.values)] = Field(Kind.SOS, description="sos, fall, gas, smoke, inactivity, health, other")
    occurred_at: datetime.datetime = Field(description="when the device saw it (ISO 8601 with offset)")
    battery: int | None = Field(None, ge=0, le=100, description="battery per cent, if the device reports it")


class IngestOut(Schema):
    id: int
    status: str
    duplicate: bool = Field(description="true: this event id was received before; nothing new was raised")
    received_at: datetime.datetime


class HeartbeatIn(Schema):
    device: str = Field(min_length=1, max_length=40)
    battery: int | None = Field(None, ge=0, le=100)


class HeartbeatOut(Schema):
    device: str
    last_heartbeat_at: datetime.datetime
    silent_after: datetime.datetime


@router.post("", auth=None, response={200: IngestOut, 201: IngestOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def alert_ingest_api(request, data: IngestIn):
    """An alert from a device gateway, signed with the device's token (`Authorization: Device
    <token>` or `X-Device-Token`). Idempotent on (device, event_id): a retry answers 200 with the
    first alert and `duplicate: true`; a new alert answers 201 after its first notification was
    handed to the channel."""
    device, refusal = _device_for(request, data.device)
    if refusal:
        return refusal
    now = timezone.now()
    if data.battery is not None:
        services.device_heartbeat(device=device, battery=data.battery, at=now)
    alert, created = services.alert_raise(
        elder=device.elder,
        source=Source.DEVICE,
        kind=data.kind,
        occurred_at=data.occurred_at,
        event_id=data.event_id,
        device=device,
        now=now,
    )
    body = {"id": alert.pk, "status": alert.status, "duplicate": not created, "received_at": alert.received_at}
    return Status(201 if created else 200, body)


@router.post("/heartbeat", auth=None, response={200: HeartbeatOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def device_heartbeat_api(request, data: HeartbeatIn):
    """A device's sign of life (and battery): it leaves the silent list until two intervals pass."""
    device, refusal = _device_for(request, data.device)
    if refusal:
        return refusal
    device = services.device_heartbeat(device=device, battery=data.battery)
    return {"device": device.number, "last_heartbeat_at": device.last_heartbeat_at, "silent_after": device.silent_after}


# --- alerts for staff --------------------------------------------------------------------------


class AlertFilterIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    status: Literal[tuple(["open", "all", *AlertStatus.values])] = Field("open", description="open = raised and acknowledged")
    kind: Literal[tuple(["", *Kind.values])] = ""
    source: Literal[tuple(["", *Source.values])] = ""
    date_from: datetime.date | None = Field(None, description="received on or after this day")
    date_to: datetime.date | None = Field(None, description="received on or before this day")


class AlertItemOut(Schema):
    id: int
    elder: IdName
    region: IdName
    source: str
    source_label: str
    kind: str
    kind_label: str
    status: str
    status_label: str
    occurred_at: datetime.datetime
    received_at: datetime.datetime
    step: int = Field(description="the index of the next step (= len(steps) when the chain has ended)")
    next_step_at: datetime.datetime | None
    acknowledged_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    outcome: str
    outcome_label: str


class AlertEventOut(Schema):
    at: datetime.datetime
    kind: str
    kind_label: str
    step: int | None
    target: str
    text: str
    by: str | None


class AlertOut(AlertItemOut):
    device: IdName | None
    event_id: str
    description: str
    steps: list[dict] = Field(description="the chain copied from the policy when the alert was raised")
    acknowledged_by: IdName | None
    resolved_by: IdName | None
    outcome_note: str
    events: list[AlertEventOut]


class AlertListOut(Paginated[AlertItemOut]):
    """A page of alerts, newest first."""


class ManualIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    source: Literal["hotline", "visit", "watcher"] = "hotline"
    kind: Literal[tuple(Kind.values)] = Kind.SOS
    occurred_at: datetime.datetime | None = Field(None, description="default: now")
    description: str = Field("", max_length=500)


class AckIn(Schema):
    note: str = Field("", max_length=200)


class ResolveIn(Schema):
    outcome: Literal[tuple(Outcome.values)]
    note: str = Field("", max_length=500)


class NoteIn(Schema):
    text: str = Field(min_length=1, max_length=300)


def _user(u):
    return None if u is None else {"id": u.pk, "name": u.full_name or u.username}


def _item(a: Alert) -> dict:
    return {
        "id": a.pk,
        "elder": id_name(a.elder),
        "region": id_name(a.region),
        "source": a.source,
        "source_label": str(a.get_source_display()),
        "kind": a.kind,
        "kind_label": str(a.get_kind_display()),
        "status": a.status,
        "status_label": str(a.get_status_display()),
        "occurred_at": a.occurred_at,
        "received_at": a.received_at,
        "step": a.step,
        "next_step_at": a.next_step_at,
        "acknowledged_at": a.acknowledged_at,
        "resolved_at": a.resolved_at,
        "outcome": a.outcome,
        "outcome_label": str(a.get_outcome_display()) if a.outcome else "",
    }


def _detail(a: Alert) -> dict:
    return {
        **_item(a),
        "device": {"id": a.device.pk, "name": a.device.number} if a.device else None,
        "event_id": a.event_id,
        "description": a.description,
        "steps": [{"target": s["target"], "wait_minutes": s.get("wait_minutes", 0)} for s in a.steps],
        "acknowledged_by": _user(a.acknowledged_by),
        "resolved_by": _user(a.resolved_by),
        "outcome_note": a.outcome_note,
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "step": e.step,
                "target": e.target,
                "text": e.text,
                "by": (e.by.full_name or e.by.username) if e.by else None,
            }
            for e in selectors.alert_events(a)
        ],
    }


@router.get("", response={200: AlertListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Alert)
def alert_list_api(request, filters: Query[AlertFilterIn], paging: Query[PageIn]):
    """Alerts of your subtree, newest first: open ones by default."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    f = selectors.AlertFilter(
        region=region,
        status=filters.status,
        kind=filters.kind,
        source=filters.source,
        date_from=filters.date_from,
        date_to=filters.date_to,
    )
    out = paginate(selectors.alert_list(user=request.user, filters=f), paging)
    out["items"] = [_item(a) for a in out["items"]]
    return out


@router.post("/manual", response={201: AlertOut, 403: ErrorOut, 422: ErrorOut})
@requires("add", Alert)
def alert_manual_api(request, data: ManualIn):
    """An alert from the hotline, a visit or a watcher's report, for an elder of your subtree:
    the chain starts at once as for a device."""
    elder = elder_get(user=request.user, elder_id=data.elder)
    alert, _created = services.alert_raise(
        elder=elder,
        source=data.source,
        kind=data.kind,
        occurred_at=data.occurred_at or timezone.now(),
        by=request.user,
        description=data.description,
    )
    return Status(201, _detail(selectors.alert_get(user=request.user, alert_id=alert.pk)))


@router.get("/{int:alert_id}", response={200: AlertOut, 403: ErrorOut})
@requires("view", Alert)
def alert_get_api(request, alert_id: int):
    """One alert with its timeline (every step, acknowledgement and the resolution, with times)."""
    return _detail(selectors.alert_get(user=request.user, alert_id=alert_id))


@router.post("/{int:alert_id}/acknowledge", response={200: AlertOut, 403: ErrorOut, 422: ErrorOut})
def alert_acknowledge_api(request, alert_id: int, data: AckIn):
    """响应: anyone the chain reaches (watcher, relative, duty worker, the community's and grid's
    workers) answers; the chain stops. A second acknowledgement is refused (422 on `status`)."""
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    alert = services.alert_acknowledge(by=request.user, alert=alert, note=data.note)
    return _detail(alert)


@router.post("/{int:alert_id}/resolve", response={200: AlertOut, 403: ErrorOut, 422: ErrorOut})
def alert_resolve_api(request, alert_id: int, data: ResolveIn):
    """处置完毕 with an outcome (false alarm, helped at home, sent to hospital…)."""
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    alert = services.alert_resolve(by=request.user, alert=alert, outcome=data.outcome, note=data.note)
    return _detail(alert)


@router.post("/{int:alert_id}/notes", response={201: AlertOut, 403: ErrorOut, 422: ErrorOut})
def alert_note_api(request, alert_id: int, data: NoteIn):
    """A line on the timeline (a call made, someone on the way)."""
    alert = selectors.alert_for_responder(user=request.user, alert_id=alert_id)
    services.alert_note(by=request.user, alert=alert, text=data.text)
    return Status(201, _detail(alert))


# --- devices -----------------------------------------------------------------------------------


class DeviceFilterIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62)
    status: Literal[tuple(["all", *DeviceStatus.values])] = "active"
    kind: Literal[tuple(["", *DeviceKind.values])] = ""
    flag: Literal["", "silent", "battery"] = Field("", description="silent: past two heartbeat intervals; battery: below 20 %")


class DeviceOut(Schema):
    id: int
    elder: IdName
    region: IdName
    kind: str
    kind_label: str
    number: str
    installed_on: datetime.date
    installed_by: str
    status: str
    battery: int | None
    last_heartbeat_at: datetime.datetime | None
    heartbeat_minutes: int
    silent_after: datetime.datetime | None
    is_silent: bool
    is_low_battery: bool
    has_token: bool
    token_issued_at: datetime.datetime | None


class DeviceListOut(Paginated[DeviceOut]):
    """A page of devices."""


class DeviceIn(Schema):
    elder: int = Field(ge=1, le=2**62)
    kind: Literal[tuple(DeviceKind.values)] = DeviceKind.CALL_BUTTON
    number: str = Field(min_length=1, max_length=40)
    installed_on: datetime.date
    installed_by: str = Field("", max_length=60)
    heartbeat_minutes: int = Field(60, ge=1, le=10080)


class DeviceTokenOut(Schema):
    device: str
    token: str = Field(description="shown once: only its keyed hash is kept; a new one ends the old")
    issued_at: datetime.datetime


class RetireIn(Schema):
    reason: str = Field("", max_length=200)


def _device(d: Device, now=None) -> dict:
    return {
        "id": d.pk,
        "elder": id_name(d.elder),
        "region": id_name(d.region),
        "kind": d.kind,
        "kind_label": str(d.get_kind_display()),
        "number": d.number,
        "installed_on": d.installed_on,
        "installed_by": d.installed_by,
        "status": d.status,
        "battery": d.battery,
        "last_heartbeat_at": d.last_heartbeat_at,
        "heartbeat_minutes": d.heartbeat_minutes,
        "silent_after": d.silent_after,
        "is_silent": selectors.is_silent(d, now),
        "is_low_battery": selectors.is_low_battery(d),
        "has_token": bool(d.token_hash),
        "token_issued_at": d.token_issued_at,
    }


@router.get("/devices", response={200: DeviceListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Device)
def device_list_api(request, filters: Query[DeviceFilterIn], paging: Query[PageIn]):
    """Call devices of your subtree; `flag=silent` for the devices that stopped reporting."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    qs = selectors.device_list(user=request.user, region=region, status=filters.status, kind=filters.kind, flag=filters.flag)
    out = paginate(qs, paging)
    now = timezone.now()
    out["items"] = [_device(d, now) for d in out["items"]]
    return out


@router.post("/devices", response={201: DeviceOut, 403: ErrorOut, 422: ErrorOut})
@requires("change", Device)
def device_create_api(request, data: DeviceIn):
    elder = elder_get(user=request.user, elder_id=data.elder)
    device = services.device_register(
        by=request.user,
        elder=elder,
        kind=data.kind,
        number=data.number,
        installed_on=data.installed_on,
        installed_by=data.installed_by,
        heartbeat_minutes=data.heartbeat_minutes,
    )
    return Status(201, _device(device))


@router.get("/devices/{int:device_id}", response={200: DeviceOut, 403: ErrorOut})
@requires("view", Device)
def device_get_api(request, device_id: int):
    return _device(selectors.device_get(user=request.user, device_id=device_id))


@router.post("/devices/{int:device_id}/token", response={201: DeviceTokenOut, 403: ErrorOut, 422: ErrorOut})
@requires("change", Device)
def device_token_api(request, device_id: int):
    """A new token for the device's gateway (the earlier one stops working)."""
    device = selectors.device_get(user=request.user, device_id=device_id, action="change")
    token = services.device_token_issue(by=request.user, device=device)
    device.refresh_from_db()
    return Status(201, {"device": device.number, "token": token, "issued_at": device.token_issued_at})


@router.post("/devices/{int:device_id}/retire", response={200: DeviceOut, 403: ErrorOut, 422: ErrorOut})
@requires("change", Device)
def device_retire_api(request, device_id: int, data: RetireIn):
    device = selectors.device_get(user=request.user, device_id=device_id, action="change")
    return _device(services.device_retire(by=request.user, device=device, reason=data.reason))


# --- policies ----------------------------------------------------------------------------------


class StepIO(Schema):
    target: Literal[tuple(services.StepTarget.values)]
    wait_minutes: int = Field(0, ge=0, le=services.MAX_WAIT)


class PolicyOut(Schema):
    region: IdName
    inherited_from: IdName | None = Field(description="null: the region's own; else the region whose policy applies")
    is_default: bool = Field(description="no region up the tree has one: the platform's default steps")
    steps: list[StepIO]
    duty_users: list[IdName]


class PolicyIn(Schema):
    steps: list[StepIO] = Field(min_length=1, max_length=services.MAX_STEPS)
    duty_users: list[int] = Field([], max_length=50, description="users of the region who take the duty step")


def _policy(user, region) -> dict:
    policy, steps = selectors.policy_for_region(region)
    return {
        "region": id_name(region),
        "inherited_from": id_name(policy.region) if policy and policy.region_id != region.pk else None,
        "is_default": policy is None,
        "steps": [{"target": s["target"], "wait_minutes": s.get("wait_minutes", 0)} for s in steps],
        "duty_users": [_user(u) for u in policy.duty_users.all()] if policy else [],
    }


@router.get("/policies/{int:region_id}", response={200: PolicyOut, 403: ErrorOut})
@requires("view", Alert)
def policy_get_api(request, region_id: int):
    """The escalation steps that apply to a region of your subtree (its own, inherited, or the default)."""
    region = region_get(user=request.user, region_id=region_id)
    return _policy(request.user, region)


@router.put("/policies/{int:region_id}", response={200: PolicyOut, 403: ErrorOut, 422: ErrorOut})
@requires("change", EscalationPolicy)
def policy_set_api(request, region_id: int, data: PolicyIn):
    """Set the region's own steps and duty users. Alerts already raised keep their copy."""
    region = region_get(user=request.user, region_id=region_id, action="view")
    people = {u.pk: u for u in selectors.duty_choices(user=request.user, region=region)}
    unknown = [str(i) for i in data.duty_users if i not in people]
    if unknown:
        raise ValidationError(
            {"duty_users": _("值班人员应为本区域可响应紧急呼叫的工作人员：%(ids)s") % {"ids": "、".join(unknown)}}
        )
    services.policy_set(
        by=request.user, region=region, steps=[s.dict() for s in data.steps], duty_users=[people[i] for i in data.duty_users]
    )
    return _policy(request.user, region)


# --- the report --------------------------------------------------------------------------------


class ReportIn(Schema):
    month_from: datetime.date | None = Field(
        None, description="any day of the first month (default: five months before this one)"
    )
    month_to: datetime.date | None = Field(
        None, description="any day of the last month, at most 24 months on (default: this month)"
    )
    region: int | None = Field(None, ge=1, le=2**62)


class ReportRowOut(Schema):
    community: IdName | None
    month: str = Field(description="YYYY-MM")
    count: int
    acknowledged: int
    resolved: int
    unanswered: int
    response_median_s: float | None
    response_p90_s: float | None
    resolution_median_s: float | None
    by_outcome: dict


class ReportListOut(Paginated[ReportRowOut]):
    """A page of the report's rows, by month then community."""


@router.get("/report", response={200: ReportListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Alert)
def alert_report_api(request, filters: Query[ReportIn], paging: Query[PageIn]):
    """Response and resolution times per community and month (docs/alerts.md, "Report"),
    paginated like every list (a city has thousands of communities)."""
    this_month = timezone.localdate().replace(day=1)
    filters.month_to = filters.month_to or this_month
    filters.month_from = filters.month_from or (filters.month_to.replace(day=1) - datetime.timedelta(days=140)).replace(day=1)
    if filters.month_to < filters.month_from:
        raise ValidationError({"month_to": _("结束月份不能早于开始月份")})
    months = (filters.month_to.year - filters.month_from.year) * 12 + filters.month_to.month - filters.month_from.month
    if months >= selectors.REPORT_MAX_MONTHS:
        raise ValidationError({"month_to": _("一次最多统计 %(n)d 个月") % {"n": selectors.REPORT_MAX_MONTHS}})
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    rows = selectors.alert_report(user=request.user, month_from=filters.month_from, month_to=filters.month_to, region=region)
    size = max(1, min(paging.page_size, MAX_PAGE_SIZE))
    pages = max(1, -(-len(rows) // size))
    page = min(paging.page, pages)
    shown = rows[(page - 1) * size : page * size]
    items = [
        {
            "community": {"id": r.community_id, "name": r.community} if r.community_id else None,
            "month": r.month.strftime("%Y-%m"),
            "count": r.count,
            "acknowledged": r.acknowledged,
            "resolved": r.resolved,
            "unanswered": r.unanswered,
            "response_median_s": r.response_median_s,
            "response_p90_s": r.response_p90_s,
            "resolution_median_s": r.resolution_median_s,
            "by_outcome": r.by_outcome or {},
        }
        for r in shown
    ]
    return {"items": items, "count": len(rows), "count_is_exact": True, "page": page, "page_size": size, "pages": pages}
