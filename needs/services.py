"""Writes of the needs ledger: keyword-only, `by=`, atomic, full_clean, history through
audit.change_record, state moves only through NEED_MACHINE."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.text import refuse_invisible_characters
from needs.models import NEED_ACTIONS, NEED_MACHINE, REASON_REQUIRED, Need

REASON_MAX = 200


def _clean_text(value, field: str, *, required: bool, max_length: int) -> str:
    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s") % {"label": Need._meta.get_field(field).verbose_name}})
    if len(value) > max_length:
        raise ValidationError(
            {field: _("%(label)s最多 %(n)d 个字，请精简") % {"label": Need._meta.get_field(field).verbose_name, "n": max_length}}
        )
    return value


@transaction.atomic
def need_create(
    *, by, elder, kind: str, source: str, description: str, items=(), follow_up_on: datetime.date | None = None, responsible=None
) -> Need:
    """Record a need of `elder` (already read through the user's scope)."""
    check(by, "add", Need)
    need = Need(
        elder=elder,
        region_id=elder.region_id,
        kind=kind,
        source=source,
        description=_clean_text(description, "description", required=True, max_length=500),
        follow_up_on=follow_up_on,
        responsible=responsible,
        created_by=by,
    )
    need.full_clean(exclude=["created_by"])
    need.save()
    items = list(items)
    need.items.set(items)
    change_record(
        obj=need,
        action="create",
        changes={
            "kind": [None, need.kind],
            "source": [None, need.source],
            "description": [None, need.description],
            "items": [None, [i.name for i in items]],
            "follow_up_on": [None, follow_up_on.isoformat() if follow_up_on else None],
            "responsible_name": [None, _person(responsible)],
        },
        by=by,
        region=need.region,
    )
    return need


@transaction.atomic
def need_update(*, by, need: Need, **fields) -> Need:
    """Change a need's kind, source, description, items, follow-up date or responsible person."""
    check(by, "change", Need)
    allowed = {"kind", "source", "description", "items", "follow_up_on", "responsible"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("此项不能在这里修改")})
    changes = {}
    if "description" in fields:
        fields["description"] = _clean_text(fields["description"], "description", required=True, max_length=500)
    for name, value in fields.items():
        if name == "items":
            old = sorted(i.name for i in need.items.all())
            new = sorted(i.name for i in value)
            if old != new:
                need.items.set(list(value))
                changes["items"] = [old, new]
            continue
        before = getattr(need, name)
        if before != value:
            setattr(need, name, value)
            if name == "responsible":  # by name: a community worker may not read the user table
                changes["responsible_name"] = [_person(before), _person(value)]
            else:
                changes[name] = [_plain(before), _plain(value)]
    need.full_clean()
    need.save()
    if changes:
        change_record(obj=need, action="update", changes=changes, by=by, region=need.region)
    return need


def _person(user) -> str | None:
    return None if user is None else (user.full_name or user.username)


def _plain(value):
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@transaction.atomic
def need_move(*, by, need: Need, action: str, reason: str = "", follow_up_on: datetime.date | None = None) -> Need:
    """Move a need by `action` (NEED_MACHINE): plan, meet, close (reason required), reopen
    (reason required). Planning may set the follow-up date at the same time."""
    check(by, "change", Need)
    if action not in NEED_ACTIONS:
        raise ValidationError({"action": _("操作无效，可选：%(a)s") % {"a": "、".join(str(v) for v in NEED_ACTIONS.values())}})
    reason = (reason or "").strip()
    try:
        refuse_invisible_characters(reason)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from None
    if action in REASON_REQUIRED and not reason:
        raise ValidationError({"reason": _("请填写原因：%(action)s需要说明原因") % {"action": NEED_ACTIONS[action]}})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": _("原因最多 %(n)d 个字，请精简") % {"n": REASON_MAX}})
    NEED_MACHINE.check(need, action)  # refuse before anything changes
    extra, update_fields = {}, ["state_changed_at"]
    need.state_changed_at = timezone.now()
    if action == "close":
        extra["close_reason"] = [need.close_reason, reason]
        need.close_reason = reason
        update_fields.append("close_reason")
    elif action == "reopen" and need.close_reason:
        extra["close_reason"] = [need.close_reason, ""]
        need.close_reason = ""
        update_fields.append("close_reason")
    if follow_up_on is not None and follow_up_on != need.follow_up_on:
        extra["follow_up_on"] = [_plain(need.follow_up_on), follow_up_on.isoformat()]
        need.follow_up_on = follow_up_on
        update_fields.append("follow_up_on")
    NEED_MACHINE.move(need, action, by=by, reason=reason, changes=extra, update_fields=update_fields, region=need.region)
    return need


def elder_region_follow(sender, instance, created=False, raw=False, **kwargs):
    """post_save of an Elder: their needs follow them to their new region (one UPDATE that
    touches nothing when the region did not change)."""
    if raw or created:
        return
    Need.objects.filter(elder_id=instance.pk).exclude(region_id=instance.region_id).update(region_id=instance.region_id)


def need_regions_sync() -> int:
    """Put every need in its elder's region again: the daily check behind the receiver, for
    writes that bypass save() (the importer's bulk update moves elders). Set-based; returns
    how many needs moved."""
    from django.db.models import F, OuterRef, Subquery

    from elders.models import Elder

    elder_region = Subquery(Elder.objects.filter(pk=OuterRef("elder_id")).values("region_id")[:1])
    return Need.objects.exclude(region_id=F("elder__region_id")).update(region_id=elder_region)
