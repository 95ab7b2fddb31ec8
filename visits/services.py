"""Writes of visits (docs/visits.md): recording a visit with its follow-ups, setting a region's
rules. Keyword-only, `by=`, atomic, full_clean, history through audit.change_record. Dues,
campaigns and major events: visits.duties."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.text import refuse_invisible_characters
from visits.checklist import checklist_clean
from visits.models import MissedReason, Outcome, Period, Via, Visit, VisitDue, VisitRule, dues_of_elder_q
from visits.rules import criteria_clean

FUTURE_SLACK = datetime.timedelta(minutes=10)


def _text(value, field, label, max_length, errors) -> str:
    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        errors[field] = exc.messages[0]
        return value
    if len(value) > max_length:
        errors[field] = _("%(label)s最多 %(n)d 个字，请精简") % {"label": label, "n": max_length}
    return value


@transaction.atomic
def visit_record(
    *,
    by,
    elder,
    visited_at: datetime.datetime,
    via: str = Via.HOME,
    missed: bool = False,
    missed_reason: str = "",
    checklist=None,
    outcome: str = Outcome.NORMAL,
    notes: str = "",
    pairing=None,
    open_need: str = "",
    need_kind: str = "general",
    order_item=None,
    order_start: datetime.datetime | None = None,
    raise_alert: str = "",
    referral: str = "",
    client_key: str = "",
    offline: bool = False,
    now=None,
) -> Visit:
    """Record one contact with `elder` (read through the user's scope).

    A missed visit (空访) needs its reason and meets no due. A visit meets every open due of the
    elder opened by its time. Follow-ups, in the same transaction: `open_need` (a description)
    opens a need in the ledger (source visit), `order_item` an order (source visit), and an
    emergency outcome (or `raise_alert`, a kind) raises an alert (source visit). `client_key`:
    a phone's replay of the same visit returns the first one."""
    check(by, "add", Visit)
    now = now or timezone.now()
    client_key = (client_key or "").strip()
    if client_key:
        if len(client_key) > 64 or not client_key.isprintable():
            raise ValidationError({"client_key": _("离线记录编号应为 1 至 64 个可见字符")})
        earlier = Visit.objects.filter(created_by=by, client_key=client_key).first()
        if earlier is not None:
            return earlier
    errors = {}
    if elder.status != "active":
        errors["elder"] = _("该老人当前状态为“%(status)s”，不能记录探访") % {"status": elder.get_status_display()}
    if via not in Via.values:
        errors["via"] = _("探访方式无效，请从列表中选择")
    if visited_at is None:
        errors["visited_at"] = _("请填写探访时间")
    elif visited_at > now + FUTURE_SLACK:
        errors["visited_at"] = _("探访时间不能晚于现在")
    elif visited_at < elder.created_at - datetime.timedelta(days=1):
        errors["visited_at"] = _("探访时间早于该老人登记入库的时间，请核对")
    if missed:
        if missed_reason not in MissedReason.values:
            errors["missed_reason"] = _("空访请选择原因")
    else:
        missed_reason = ""
    if outcome not in Outcome.values:
        errors["outcome"] = _("探访结果无效，可选：正常、需关注、紧急")
    try:
        checklist = checklist_clean(checklist)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    notes = _text(notes, "notes", _("备注"), 500, errors)
    referral = _text(referral, "referral", _("转介"), 200, errors)
    open_need = _text(open_need, "open_need", _("需求描述"), 500, errors)
    if pairing is not None and pairing.elder_id != elder.pk:
        errors["pairing"] = _("所选结对不是这位老人的结对")
    if errors:
        raise ValidationError(errors)

    visit = Visit(
        elder=elder,
        region_id=elder.region_id,
        visited_at=visited_at,
        via=via,
        visitor=by,
        visitor_name=(by.full_name or by.username)[:32],
        pairing=pairing,
        missed=missed,
        missed_reason=missed_reason,
        checklist=checklist,
        outcome=outcome,
        notes=notes,
        referral=referral,
        client_key=client_key,
        offline=bool(offline and client_key),
        created_by=by,
    )
    visit.full_clean(exclude=["visitor", "created_by", "pairing", "need", "order", "alert"])
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # a concurrent replay with the same key won
        return Visit.objects.get(created_by=by, client_key=client_key)

    if open_need:
        from needs.services import need_create

        visit.need = need_create(by=by, elder=elder, kind=need_kind, source="visit", description=open_need)
    if order_item is not None:
        from orders.services import order_create

        visit.order = order_create(
            by=by,
            elder=elder,
            item=order_item,
            scheduled_start=order_start or (now + datetime.timedelta(days=1)).replace(minute=0, second=0, microsecond=0),
            source="visit",
            notes=_("探访时登记"),
        )
    if outcome == Outcome.EMERGENCY or raise_alert:
        visit.alert = _raise_alert(by=by, elder=elder, kind=raise_alert or "other", at=visited_at, notes=notes)
    if visit.need_id or visit.order_id or visit.alert_id:
        visit.save(update_fields=["need", "order", "alert"])

    met = 0
    if not missed:
        met = VisitDue.objects.filter(dues_of_elder_q(elder=elder), visited_at__isnull=True, opens_at__lte=visited_at).update(
            visit=visit, visited_at=visited_at
        )
    change_record(
        obj=visit,
        action="create",
        changes={
            "visited_at": [None, timezone.localtime(visited_at).strftime("%Y-%m-%d %H:%M")],
            "via": [None, via],
            "missed": [None, missed],
            "missed_reason": [None, missed_reason],
            "checklist": [None, checklist],
            "outcome": [None, outcome],
            "need": [None, visit.need_id],
            "order": [None, visit.order_id],
            "alert": [None, visit.alert_id],
            "referral": [None, referral],
        },
        by=by,
        region=elder.region,
        note=_("满足应访 %(n)d 条") % {"n": met} if met else "",
    )
    return visit


def _raise_alert(*, by, elder, kind, at, notes):
    """An alert through the alerts app (source visit). alerts.services.alert_raise is written by
    the alerts helper; until it is merged the visit is refused with a clear message.
    TODO(lead, merge): alerts.services.alert_raise(elder=, source="visit", kind=, occurred_at=, by=, description=)."""
    try:
        from alerts.services import alert_raise
    except ImportError:
        raise ValidationError({"outcome": _("紧急呼叫模块尚未启用，请直接拨打 120 或联系社区值班人员")}) from None
    # A watcher without alerts.add_alert still raises it (an emergency is never refused): as the
    # system, the visit itself naming who found it.
    raiser = by if by.may_code("alerts.add_alert") else None
    result = alert_raise(
        elder=elder, source="visit", kind=kind, occurred_at=at, by=raiser, description=notes or _("探访发现紧急情况")
    )
    return result[0] if isinstance(result, tuple) else result  # alerts answers (alert, created)


def alert_resolved(*, alert, by=None, **kwargs) -> None:
    """alerts.hooks.AFTER_RESOLVE (called with alert=, by=, in the resolving transaction): an
    alert resolved as sent to hospital is a major event (the elder is visited within their
    tier's hours of it). Recorded as the system (by None): the responder may not hold
    visits.change_visitrule."""
    from visits.duties import major_event_record

    if getattr(alert, "outcome", "") != "hospital":
        return
    major_event_record(
        by=None,
        elder=alert.elder,
        kind="hospital",
        happened_at=alert.resolved_at or timezone.now(),
        description=_("紧急呼叫处置：送医"),
        alert=alert,
    )


@transaction.atomic
def rules_set(*, by, region, rules: list[dict]) -> list[VisitRule]:
    """Set `region`'s own rules (a region in the user's scope): each {"tier", "label", "priority",
    "period", "event_hours", "criteria", "active"}. Tiers not given are deactivated. An empty
    list removes the region's own rules: the region follows the rules above it again. Takes
    effect from the next period's dues (visits.duties.dues_build)."""
    check(by, "change", VisitRule)
    existing = {r.tier: r for r in VisitRule.objects.filter(region=region)}
    out, seen = [], set()
    for n, data in enumerate(rules, start=1):
        tier = str(data.get("tier") or "").strip()
        if not tier or len(tier) > 20 or not tier.replace("_", "").isalnum() or not tier.isascii():
            raise ValidationError({"tier": _("第 %(n)d 个等级：代码应为 1 到 20 个英文字母或数字") % {"n": n}})
        if tier in seen:
            raise ValidationError({"tier": _("第 %(n)d 个等级：代码“%(t)s”重复") % {"n": n, "t": tier}})
        seen.add(tier)
        label = str(data.get("label") or "").strip()
        if not label or len(label) > 40:
            raise ValidationError({"label": _("第 %(n)d 个等级：请填写名称（最多 40 个字）") % {"n": n}})
        if data.get("period") not in Period.values:
            raise ValidationError({"period": _("第 %(n)d 个等级：探访频次无效，可选：每周、每月、每季度、每年") % {"n": n}})
        hours = data.get("event_hours")
        if hours in ("", None):
            hours = None
        elif not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 720:
            raise ValidationError({"event_hours": _("第 %(n)d 个等级：重大事件后探访时限应为 1 到 720 小时") % {"n": n}})
        try:
            criteria = criteria_clean(data.get("criteria"))
        except ValidationError as exc:
            raise ValidationError({"criteria": _("第 %(n)d 个等级：%(msg)s") % {"n": n, "msg": exc.messages[0]}}) from None
        rule = existing.get(tier) or VisitRule(region=region, tier=tier)
        before = {f: getattr(rule, f) for f in ("label", "priority", "period", "event_hours", "criteria", "active")}
        rule.label = label
        rule.priority = int(data.get("priority") or n * 10)
        rule.period = data["period"]
        rule.event_hours = hours
        rule.criteria = criteria
        rule.active = bool(data.get("active", True))
        rule.updated_by = by
        rule.full_clean(exclude=["updated_by"])
        created = rule.pk is None
        rule.save()
        changes = {
            f: [None if created else before[f], getattr(rule, f)] for f in before if created or before[f] != getattr(rule, f)
        }
        if changes:
            change_record(obj=rule, action="create" if created else "update", changes=changes, by=by, region=region)
        out.append(rule)
    for tier, rule in existing.items():
        if tier not in seen and rule.active:
            rule.active = False
            rule.updated_by = by
            rule.save(update_fields=["active", "updated_by", "updated_at"])
            change_record(obj=rule, action="update", changes={"active": [True, False]}, by=by, region=region)
    return out


def visit_export_start(*, by, filters):
    """Export `by`'s visit records (the list's filters, a visits.selectors.VisitFilter) as a
    background job; the file holds the elders' addresses, so the export is access-logged."""
    from jobs.services import job_create, job_enqueue
    from visits.exporter import filters_params
    from visits.jobs import VISIT_EXPORT
    from visits.tasks import visit_export_task

    check(by, "export", Visit)
    job = job_create(by=by, kind=VISIT_EXPORT, params=filters_params(filters))
    job_enqueue(job, visit_export_task)
    return job
