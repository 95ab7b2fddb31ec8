"""The escalation engine: run the steps of raised alerts that are due.

An alert carries its own copy of the steps (`Alert.steps`), the index of the next one (`step`)
and when it is due (`next_step_at`). A step notifies its target's users through core.notify
(after the transaction commits), writes an AlertEvent naming who was notified (at the time it
ran), and schedules the next step `wait_minutes` after the step's own due time: the chain keeps
its timing whatever the tick's granularity, and a tick that comes late (a scheduler restarted)
runs every step that has come due, up to the prompt to call 120. A step whose target has no account to notify is
recorded as skipped and the chain goes straight on (no wait: nobody was told); so is a wait of
0. The `call_120` step notifies nobody: it puts a red prompt on the board. After the last step
the chain ends (`next_step_at` NULL); the alert stays raised until someone acknowledges it.

`escalate_due` is the periodic tick (jobs/schedule.py): set-based over the partial index
`alert_next_step` (raised alerts by next_step_at), rows locked with SKIP LOCKED on PostgreSQL so
two workers never run the same step twice.
"""

import datetime
import logging

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, AlertEvent, Status, StepTarget
from core.notify import notify

log = logging.getLogger("yinling.alerts")

BATCH = 200

PROMPT_120 = "请立即拨打 120"


def _skipped(target: str) -> str:
    return {
        StepTarget.WATCHER: _("无守望员账号，已跳过"),
        StepTarget.HELPER: _("无互助员账号，已跳过"),
        StepTarget.FAMILY: _("无关联家属账号，已跳过"),
        StepTarget.DUTY: _("无社区值班人员账号，已跳过"),
        StepTarget.GRID: _("无网格员账号，已跳过"),
    }.get(target, _("无可通知的账号，已跳过"))


def respond_path(alert: Alert) -> str:
    return f"/alerts/{alert.pk}/respond/"


def notice_text(alert: Alert) -> tuple[str, str]:
    """Subject and body of a step's notice: the elder's name and the kind, and where to answer.
    No address, phone or ID number (docs/security.md)."""
    kind = alert.get_kind_display()
    subject = _("紧急呼叫：%(name)s %(kind)s") % {"name": alert.elder.name, "kind": kind}
    body = _("%(name)s发出紧急呼叫（%(kind)s，%(source)s），请立即响应：%(path)s") % {
        "name": alert.elder.name,
        "kind": kind,
        "source": alert.get_source_display(),
        "path": respond_path(alert),
    }
    return str(subject), str(body)


def _send(alert_id: int, ids: list[int], subject: str, body: str, step: int) -> None:
    """After commit: the notice itself. A channel that fails is logged (no number) and recorded
    on the alert's timeline; the chain goes on."""
    try:
        notify(ids, subject=subject, body=body, raise_errors=True)
    except Exception:  # noqa: BLE001 - a failing gateway must not stop the chain or the request
        log.exception("alert %s step %s: notice failed", alert_id, step)
        AlertEvent.objects.create(
            alert_id=alert_id, at=timezone.now(), kind=AlertEvent.Kind.NOTE, step=step, text=str(_("通知发送失败，请电话联系"))
        )


def plan_step(alert: Alert, *, now) -> tuple[AlertEvent, list[int]]:
    """Step `alert.step` as it runs now (the caller holds the row): its event (not yet saved)
    and whom to notify; points the alert at the next step."""
    from alerts.selectors import recipients_named

    index = alert.step
    step = alert.steps[index]
    due = alert.next_step_at or now  # the step's own time: the next is due `wait` after it, not after a late tick
    target = step.get("target", "")
    wait = int(step.get("wait_minutes", 0))
    ids: list[int] = []
    if target == StepTarget.CALL_120:
        event = AlertEvent(at=now, kind=AlertEvent.Kind.PROMPT, step=index, target=target, text=str(_("请立即拨打 120")))
    else:
        people = recipients_named(alert=alert, step=step, today=timezone.localtime(now).date())
        ids = [pk for pk, _name in people]
        if ids:
            label = StepTarget(target).label if target in StepTarget.values else target
            names = "、".join(name for _pk, name in people[:8]) + ("等" if len(people) > 8 else "")
            event = AlertEvent(
                at=now, kind=AlertEvent.Kind.NOTIFIED, step=index, target=target, text=f"{label}：{names}"[:300], to_user_ids=ids
            )
        else:
            event = AlertEvent(at=now, kind=AlertEvent.Kind.NOTIFIED, step=index, target=target, text=_skipped(target))
            wait = 0  # nobody was told: the chain goes straight on
    alert.step = index + 1
    if alert.step >= len(alert.steps):
        alert.next_step_at = None
    else:
        alert.next_step_at = due + datetime.timedelta(minutes=wait)
    return event, ids


def plan_due_steps(alert: Alert, *, now) -> list[tuple[AlertEvent, list[int]]]:
    """Every step of `alert` due at `now` (a step with no wait runs the next at once), planned:
    the alert's step and next_step_at are moved, nothing is written."""
    planned = []
    while (
        alert.status == Status.RAISED
        and alert.next_step_at is not None
        and alert.next_step_at <= now
        and alert.step < len(alert.steps)
    ):
        planned.append(plan_step(alert, now=now))
    if alert.step >= len(alert.steps):
        alert.next_step_at = None
    return planned


def write_steps(alert: Alert, planned: list[tuple[AlertEvent, list[int]]]) -> None:
    """The planned steps' events in one INSERT, and their notices after the transaction commits."""
    if not planned:
        return
    for event, _ids in planned:
        event.alert = alert
    AlertEvent.objects.bulk_create([event for event, _ids in planned])
    notices = [(event.step, ids) for event, ids in planned if ids]
    if notices:
        subject, body = notice_text(alert)
        for index, ids in notices:
            transaction.on_commit(lambda ids=ids, index=index: _send(alert.pk, ids, subject, body, index))


def run_due_steps(alert: Alert, *, now) -> int:
    """Run every step of `alert` due at `now` and save its step and next_step_at. Returns how
    many steps ran."""
    planned = plan_due_steps(alert, now=now)
    write_steps(alert, planned)
    Alert.objects.filter(pk=alert.pk).update(step=alert.step, next_step_at=alert.next_step_at)
    return len(planned)


def escalate_due(now=None, batch: int = BATCH) -> int:
    """The tick: run the due steps of every raised alert whose next step is due. Returns the
    number of alerts advanced."""
    now = now or timezone.now()
    skip_locked = connection.features.has_select_for_update_skip_locked
    advanced = 0
    while True:
        with transaction.atomic():
            qs = Alert.objects.filter(status=Status.RAISED, next_step_at__lte=now).order_by("next_step_at", "id")
            if connection.features.has_select_for_update:
                qs = qs.select_for_update(
                    skip_locked=skip_locked, of=("self",) if connection.features.has_select_for_update_of else ()
                )
            alerts = list(qs.select_related("elder", "region")[:batch])
            for alert in alerts:
                run_due_steps(alert, now=now)
        advanced += len(alerts)
        if len(alerts) < batch:
            return advanced
