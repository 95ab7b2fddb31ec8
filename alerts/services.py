"""Writes of emergency alerts: devices and their tokens, escalation policies, raising,
acknowledging and resolving alerts. Keyword-only, `by=`, atomic, full_clean, history through
audit.change_record, status moves only through ALERT_MACHINE (docs/alerts.md)."""

import datetime
import logging
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts import escalation
from alerts.hooks import after_resolve
from alerts.models import (
    ALERT_MACHINE,
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
from alerts.selectors import may_respond, policy_for_region
from audit.services import change_record
from core.access import check
from core.crypto import lookup_hash
from core.text import refuse_invisible_characters

MAX_STEPS = 10
MAX_WAIT = 120
TEXT_MAX = 500

log = logging.getLogger(__name__)


def _text(value, field: str, label, *, required: bool = False, max_length: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError({field: _("%(label)s最多 %(n)d 个字，请精简") % {"label": label, "n": max_length}})
    return value


# --- devices -----------------------------------------------------------------------------------


@transaction.atomic
def device_register(
    *,
    by,
    elder,
    kind: str,
    number: str,
    installed_on: datetime.date,
    installed_by: str = "",
    heartbeat_minutes: int = 60,
    now=None,
) -> Device:
    """Register a call device in `elder`'s home (the elder already read through the user's scope);
    its region is the elder's. It counts as silent two heartbeat intervals after installation
    until its first heartbeat."""
    check(by, "change", Device)
    now = now or timezone.now()
    number = _text(number, "number", _("设备编号"), required=True, max_length=40)
    if kind not in DeviceKind.values:
        raise ValidationError({"kind": _("设备类型无效，请从列表中选择")})
    if Device.objects.filter(number=number).exists():
        raise ValidationError({"number": _("设备编号 %(n)s 已登记，请核对机身编号") % {"n": number}})
    if not 1 <= int(heartbeat_minutes) <= 7 * 24 * 60:
        raise ValidationError({"heartbeat_minutes": _("心跳间隔应为 1 至 10080 分钟")})
    device = Device(
        elder=elder,
        region_id=elder.region_id,
        kind=kind,
        number=number,
        installed_on=installed_on,
        installed_by=_text(installed_by, "installed_by", _("安装人/单位"), max_length=60),
        heartbeat_minutes=int(heartbeat_minutes),
        silent_after=now + datetime.timedelta(minutes=2 * int(heartbeat_minutes)),
    )
    device.full_clean()
    device.save()
    change_record(
        obj=device,
        action="create",
        changes={
            "kind": [None, kind],
            "number": [None, number],
            "elder": [None, elder.pk],
            "installed_on": [None, str(installed_on)],
        },
        by=by,
        region=device.region,
    )
    return device


@transaction.atomic
def device_token_issue(*, by, device: Device, now=None) -> str:
    """A new token for the device's gateway, returned once: only its keyed hash is kept, so an
    earlier token stops working at once."""
    check(by, "change", Device)
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.status != DeviceStatus.ACTIVE:
        raise ValidationError({"status": _("设备已停用，不能签发令牌")})
    token = secrets.token_urlsafe(32)
    reissue = bool(device.token_hash)
    device.token_hash = lookup_hash(token)
    device.token_issued_at = now or timezone.now()
    device.save(update_fields=["token_hash", "token_issued_at"])
    change_record(
        obj=device,
        action="update",
        changes={"token": [_("已签发") if reissue else None, _("已重新签发") if reissue else _("已签发")]},
        by=by,
        region=device.region,
    )
    return token


@transaction.atomic
def device_retire(*, by, device: Device, reason: str = "") -> Device:
    """Take a device out of use: its token stops working and it leaves the silent list."""
    check(by, "change", Device)
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.status == DeviceStatus.RETIRED:
        raise ValidationError({"status": _("设备已停用")})
    reason = _text(reason, "reason", _("停用原因"), max_length=200)
    device.status = DeviceStatus.RETIRED
    device.token_hash = ""
    device.save(update_fields=["status", "token_hash"])
    change_record(
        obj=device,
        action="update",
        changes={"status": [DeviceStatus.ACTIVE, DeviceStatus.RETIRED]},
        by=by,
        region=device.region,
        note=reason,
    )
    return device


def device_heartbeat(*, device: Device, battery: int | None = None, at=None) -> Device:
    """A heartbeat from the device's gateway (already authenticated by its token): one UPDATE of
    the battery, the time and when it will count as silent (no history: a heartbeat is not a change)."""
    at = at or timezone.now()
    fields = {
        "last_heartbeat_at": at,
        "silent_after": at + datetime.timedelta(minutes=2 * device.heartbeat_minutes),
        "silent_notified_at": None,  # a next silence is told again
    }
    if battery is not None:
        if not 0 <= int(battery) <= 100:
            raise ValidationError({"battery": _("电量应为 0 至 100")})
        fields["battery"] = int(battery)
    Device.objects.filter(pk=device.pk).update(**fields)
    for name, value in fields.items():
        setattr(device, name, value)
    return device


SILENT_NAMES_IN_NOTICE = 10


def _silent_recipients(region, cache: dict) -> tuple[int, ...]:
    """Who hears of a silent device in `region`: the duty users of the policy that applies there,
    or, without any, the community's workers who may respond to alerts."""
    from alerts.selectors import duty_fallback_user_ids, policy_for_region

    if region.pk not in cache:
        policy, _steps = policy_for_region(region)
        ids = sorted(policy.duty_users.filter(is_active=True).values_list("pk", flat=True)) if policy else []
        cache[region.pk] = tuple(ids or duty_fallback_user_ids(region=region))
    return cache[region.pk]


def silent_devices_notify(now=None) -> dict:
    """Hourly (jobs/schedule.py): tell the duty users (or the community's workers) of the devices
    that went silent since the last run, once per silence (`silent_notified_at`, cleared by a
    heartbeat). One notice per group of recipients: the elders' names and a count, no number."""
    from core.notify import notify

    now = now or timezone.now()
    fresh = (
        Device.objects.filter(status=DeviceStatus.ACTIVE, silent_after__lt=now, silent_notified_at__isnull=True)
        .select_related("elder", "region")
        .order_by("region_id", "id")
    )
    cache: dict = {}
    groups: dict[tuple[int, ...], list[Device]] = {}
    told = []
    for device in fresh.iterator(chunk_size=500):
        groups.setdefault(_silent_recipients(device.region, cache), []).append(device)
        told.append(device.pk)
    notices = 0
    for to, devices in groups.items():
        if not to:
            continue
        names = "、".join(f"{d.elder.name}（{d.get_kind_display()}）" for d in devices[:SILENT_NAMES_IN_NOTICE])
        more = len(devices) - SILENT_NAMES_IN_NOTICE
        body = _("以下老人家中的呼叫设备已超过两个心跳间隔没有上报：%(names)s") % {"names": names}
        if more > 0:
            body += _("，另有 %(n)d 台") % {"n": more}
        body += _("。请尽快上门或电话确认设备和老人情况（“呼叫设备”页面的失联筛选）。")
        notify(list(to), subject=_("设备失联提醒：%(n)d 台") % {"n": len(devices)}, body=body)
        notices += 1
    for start in range(0, len(told), 1000):
        Device.objects.filter(pk__in=told[start : start + 1000], silent_notified_at__isnull=True).update(silent_notified_at=now)
    log.info("silent devices: %d told in %d notices", len(told), notices)
    return {"devices": len(told), "notices": notices}


# --- the escalation policy ---------------------------------------------------------------------


def steps_clean(steps) -> list[dict]:
    """Validated steps: a list of {"target", "wait_minutes"}; Chinese errors naming the step."""
    if not isinstance(steps, list) or not steps:
        raise ValidationError({"steps": _("请至少设置一个升级步骤")})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": _("升级步骤最多 %(n)d 步") % {"n": MAX_STEPS}})
    clean = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, dict):
            raise ValidationError({"steps": _("第 %(n)d 步格式不正确") % {"n": number}})
        target = step.get("target")
        if target not in StepTarget.values:
            raise ValidationError(
                {
                    "steps": _("第 %(n)d 步的通知对象无效，可选：%(c)s")
                    % {"n": number, "c": "、".join(str(label) for label in StepTarget.labels)}
                }
            )
        try:
            wait = int(step.get("wait_minutes", 0))
        except (TypeError, ValueError):
            wait = -1
        if not 0 <= wait <= MAX_WAIT:
            raise ValidationError({"steps": _("第 %(n)d 步的等待时间应为 0 至 %(max)d 分钟") % {"n": number, "max": MAX_WAIT}})
        clean.append({"target": target, "wait_minutes": wait})
    return clean


@transaction.atomic
def policy_set(*, by, region, steps, duty_users=None) -> EscalationPolicy:
    """Set the escalation steps (and duty users) of `region` (already read through the user's
    scope). Alerts already raised keep the steps they were raised with."""
    check(by, "change", EscalationPolicy)
    clean = steps_clean(steps)
    policy = EscalationPolicy.objects.select_for_update().filter(region=region).first()
    before_steps = list(policy.steps) if policy else None
    before_duty = sorted(policy.duty_users.values_list("pk", flat=True)) if policy else []
    if policy is None:
        policy = EscalationPolicy(region=region)
    policy.steps = clean
    policy.updated_by = by
    policy.full_clean(exclude=["updated_by"])
    policy.save()
    changes = {}
    if before_steps != clean:
        changes["steps"] = [before_steps, clean]
    if duty_users is not None:
        after_duty = sorted(u.pk for u in duty_users)
        if after_duty != before_duty:
            policy.duty_users.set(list(duty_users))
            changes["duty_users"] = [before_duty, after_duty]
    if changes:
        change_record(
            obj=policy, action="update" if before_steps is not None else "create", changes=changes, by=by, region=region
        )
    return policy


# --- alerts ------------------------------------------------------------------------------------


def _event(alert, *, at, kind, by=None, text="", step=None, target="", to_user_ids=()):
    return AlertEvent.objects.create(
        alert=alert, at=at, kind=kind, by=by, text=text[:300], step=step, target=target, to_user_ids=list(to_user_ids)
    )


def _copied_steps(region) -> list[dict]:
    """The policy's steps as they are now, with the duty users named on the duty steps: the
    copy the alert keeps whatever later happens to the policy."""
    policy, steps = policy_for_region(region)
    duty_ids = sorted(policy.duty_users.values_list("pk", flat=True)) if policy else []
    out = []
    for step in steps:
        step = {"target": step["target"], "wait_minutes": int(step.get("wait_minutes", 0))}
        if step["target"] == StepTarget.DUTY and duty_ids:
            step["duty_user_ids"] = duty_ids
        out.append(step)
    return out


def alert_raise(
    *,
    elder,
    source: str,
    kind: str,
    occurred_at: datetime.datetime,
    event_id: str = "",
    device: Device | None = None,
    by=None,
    description: str = "",
    now=None,
) -> tuple[Alert, bool]:
    """Raise an alert for `elder` (already read through the caller's scope or named by the
    device) and run the chain's first step at once. Returns (alert, created).

    Idempotent for a device: a repeated (device, event_id) returns the alert it raised, even
    when two retries arrive together (the unique constraint decides; the loser reads the
    winner's row). `by` is the user for the hotline and a visit (checked: alerts.add_alert),
    None for a device (its token was checked by the API)."""
    if source not in Source.values:
        raise ValidationError({"source": _("来源无效")})
    if kind not in Kind.values:
        raise ValidationError({"kind": _("呼叫类型无效，可选：%(c)s") % {"c": "、".join(str(label) for label in Kind.labels)}})
    if by is not None:
        check(by, "add", Alert)
    if source == Source.DEVICE and device is None:
        raise ValidationError({"device": _("设备呼叫须指明设备")})
    event_id = _text(event_id, "event_id", _("设备事件编号"), max_length=64)
    description = _text(description, "description", _("情况说明"))
    now = now or timezone.now()
    if occurred_at > now + datetime.timedelta(minutes=10):
        raise ValidationError({"occurred_at": _("发生时间晚于当前时间，请核对设备时钟")})
    alert = Alert(
        elder=elder,
        region=elder.region,
        device=device,
        event_id=event_id,
        source=source,
        kind=kind,
        description=description,
        occurred_at=occurred_at,
        received_at=now,
        status=Status.RAISED,
        steps=_copied_steps(elder.region),
        step=0,
        next_step_at=now,
        created_by=by,
    )
    # The first step is planned before the row is written (its step and next time go in with
    # the INSERT) and its event is written with the "raised" one: the first notice costs no
    # extra round trip. A repeated (device, event_id) is refused by the unique constraint, the
    # savepoint rolls everything back and the first alert is returned (no read before: retries
    # are rare, and a read would not stop two arriving together).
    planned = escalation.plan_due_steps(alert, now=now)
    try:
        with transaction.atomic():
            alert.save()
            raised = AlertEvent(alert=alert, at=now, kind=AlertEvent.Kind.RAISED, by=by, text=str(alert.get_source_display()))
            escalation.write_steps(alert, [(raised, []), *planned])
            change_record(
                obj=alert,
                action="create",
                changes={"status": [None, Status.RAISED], "kind": [None, kind], "source": [None, source]},
                by=by,
                region=alert.region,
            )
    except IntegrityError:
        if device is None or not event_id:
            raise
        found = Alert.objects.filter(device=device, event_id=event_id).first()
        if found is None:
            raise
        return found, False
    return alert, True


@transaction.atomic
def alert_acknowledge(*, by, alert: Alert, note: str = "", now=None) -> Alert:
    """Someone on the chain answers: the escalation stops (no further step runs)."""
    _respond_check(by, alert)
    now = now or timezone.now()
    note = _text(note, "note", _("说明"), max_length=200)
    alert = Alert.objects.select_for_update().select_related("region", "elder").get(pk=alert.pk)
    if alert.status != Status.RAISED:
        raise ValidationError(
            {"status": _("该呼叫已由%(who)s响应，无需重复响应") % {"who": _person(alert.acknowledged_by) or _("他人")}}
        )
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    alert.next_step_at = None
    ALERT_MACHINE.move(
        alert, "acknowledge", by=by, reason=note, update_fields=["acknowledged_at", "acknowledged_by", "next_step_at"]
    )
    _event(alert, at=now, kind=AlertEvent.Kind.ACKNOWLEDGED, by=by, text=note or _("%(who)s已响应") % {"who": _person(by)})
    return alert


@transaction.atomic
def alert_resolve(*, by, alert: Alert, outcome: str, note: str = "", now=None) -> Alert:
    """Close the alert with its outcome (a resolution without acknowledgement counts as the
    acknowledgement too: the response time is the same moment)."""
    _respond_check(by, alert)
    now = now or timezone.now()
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("请选择处置结果")})
    note = _text(note, "note", _("处置说明"))
    alert = Alert.objects.select_for_update().select_related("region", "elder").get(pk=alert.pk)
    if alert.status == Status.RESOLVED:
        raise ValidationError({"status": _("该呼叫已处置完毕")})
    update = ["resolved_at", "resolved_by", "outcome", "outcome_note", "next_step_at"]
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by = now, by
        update += ["acknowledged_at", "acknowledged_by"]
    alert.resolved_at, alert.resolved_by = now, by
    alert.outcome, alert.outcome_note = outcome, note
    alert.next_step_at = None
    ALERT_MACHINE.move(alert, "resolve", by=by, reason=note, changes={"outcome": ["", outcome]}, update_fields=update)
    _event(
        alert, at=now, kind=AlertEvent.Kind.RESOLVED, by=by, text=f"{alert.get_outcome_display()}" + (f"：{note}" if note else "")
    )
    after_resolve(alert=alert, by=by)
    return alert


@transaction.atomic
def alert_note(*, by, alert: Alert, text: str, now=None) -> AlertEvent:
    """A line on the alert's timeline (a call made, a neighbour on the way)."""
    _respond_check(by, alert)
    text = _text(text, "text", _("记录内容"), required=True, max_length=300)
    return _event(alert, at=now or timezone.now(), kind=AlertEvent.Kind.NOTE, by=by, text=text)


def _respond_check(by, alert) -> None:
    from core.access import NotPermitted, not_permitted_message

    if not may_respond(by, alert):
        raise NotPermitted(not_permitted_message())


def _person(user) -> str:
    return "" if user is None else (user.full_name or user.username)
