"""Writes of pairings (结对): keyword-only, `by=`, atomic, full_clean, history through
audit.change_record. docs/pairing.md.

A pairing is in force from `starts_on` until the day before `ends_on` (ending a pairing today
takes it off the lists today); `ends_on` is empty while it runs.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.phones import normalize_phone, store_phone
from core.scoping import in_scope
from core.text import refuse_invisible_characters
from pairing.models import Pairing, PartnerKind, Role

# An account may be a partner when it is a resident's (老人/家属: a neighbour, a relative) or a
# volunteer's: those roles hold pairing.watch_pairing, the phone page of their elders.
PARTNER_ROLES = ("elder", "volunteer")


def _text(value, field: str, label, *, required: bool = False, max_length: int) -> str:
    value = " ".join(str(value or "").split())
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError({field: _("%(label)s最多 %(n)d 个字，请精简") % {"label": label, "n": max_length}})
    return value


def active_q(day: datetime.date, prefix: str = "") -> Q:
    """Pairings in force on `day`: started on or before it, not ended (ends_on after it)."""
    return Q(**{f"{prefix}starts_on__lte": day}) & (Q(**{f"{prefix}ends_on__isnull": True}) | Q(**{f"{prefix}ends_on__gt": day}))


def _person(user) -> str | None:
    return None if user is None else (user.full_name or user.username)


@transaction.atomic
def pairing_create(
    *,
    by,
    elder,
    role: str,
    partner_kind: str = PartnerKind.NEIGHBOUR,
    partner_name: str = "",
    phone: str = "",
    user=None,
    volunteer=None,
    starts_on: datetime.date | None = None,
    address_note: str = "",
    notes: str = "",
) -> Pairing:
    """Pair a partner with `elder` (already read through `by`'s scope) as watcher or helper. A
    volunteer partner gives the name, phone and account; otherwise they are typed. The same
    partner cannot hold the same role for the same elder twice at once."""
    check(by, "change", Pairing)
    if not in_scope(by, elder.region.path):
        raise Http404
    today = timezone.localdate()
    errors = {}
    if role not in Role.values:
        errors["role"] = _("请选择结对角色：守望员或互助员")
    if volunteer is not None:
        partner_kind = PartnerKind.VOLUNTEER
        if not in_scope(by, volunteer.region.path):
            raise Http404
        if volunteer.status != "approved":
            errors["volunteer"] = _("这位志愿者尚未通过审核，请审核通过后再结对")
        partner_name = volunteer.name
        user = volunteer.user
    if partner_kind not in PartnerKind.values:
        errors["partner_kind"] = _("请选择结对人身份：邻居、亲属、党员、志愿者或其他")
    elif partner_kind == PartnerKind.VOLUNTEER and volunteer is None:
        errors["volunteer"] = _("结对人是志愿者时，请从志愿者名单中选择")
    if getattr(elder, "status", "active") != "active":
        errors["elder"] = _("该老人当前状态为“%(status)s”，不能建立结对") % {"status": elder.get_status_display()}
    try:
        partner_name = _text(partner_name, "partner_name", _("结对人姓名"), required=True, max_length=32)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    number = ""
    if volunteer is not None:
        phone_enc, phone_hash, phone_masked = volunteer.phone_enc, volunteer.phone_hash, volunteer.phone_masked
    else:
        phone_enc = phone_hash = phone_masked = ""
        try:
            number = normalize_phone(phone)
        except ValidationError as exc:
            errors["phone"] = [_("结对人电话：%(msg)s") % {"msg": m} for m in exc.messages]
        if not number and "phone" not in errors:
            errors["phone"] = _("请填写结对人电话：有紧急情况时要能马上联系到他")
    if user is not None and (not user.is_active or user.role not in PARTNER_ROLES):
        errors["user"] = _("结对人账号应为已开通的“老人/家属”或“志愿者”账号")
    if starts_on is None:
        starts_on = today
    if not isinstance(starts_on, datetime.date):
        errors["starts_on"] = _("请填写开始日期")
    elif starts_on > today + datetime.timedelta(days=90):
        errors["starts_on"] = _("开始日期最多可以定在 90 天以后")
    try:
        address_note = _text(address_note, "address_note", _("住址关系"), max_length=60)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        notes = _text(notes, "notes", _("备注"), max_length=200)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    pairing = Pairing(
        elder=elder,
        region_id=elder.region_id,
        role=role,
        partner_kind=partner_kind,
        partner_name=partner_name,
        user=user,
        volunteer=volunteer,
        address_note=address_note,
        starts_on=starts_on,
        notes=notes,
        created_by=by,
    )
    if volunteer is not None:
        pairing.phone_enc, pairing.phone_hash, pairing.phone_masked = phone_enc, phone_hash, phone_masked
    else:
        store_phone(pairing, number)
    duplicate = _same_partner(pairing, today)
    if duplicate is not None:
        raise ValidationError(
            {
                "partner_name": _("%(name)s已是这位老人的%(role)s（自 %(on)s 起），无需重复结对")
                % {"name": pairing.partner_name, "role": pairing.get_role_display(), "on": duplicate.starts_on.isoformat()}
            }
        )
    pairing.full_clean(exclude=["created_by", "user", "volunteer"])
    pairing.save()
    change_record(
        obj=pairing,
        action="create",
        changes={
            "role": [None, pairing.role],
            "partner_kind": [None, pairing.partner_kind],
            "partner_name": [None, pairing.partner_name],
            "partner_phone": [None, pairing.phone_masked],
            "user": [None, _person(user)],
            "address_note": [None, address_note],
            "starts_on": [None, starts_on.isoformat()],
            "notes": [None, notes],
        },
        by=by,
        region=pairing.region,
    )
    return pairing


def _same_partner(pairing: Pairing, today: datetime.date) -> Pairing | None:
    """The elder's pairing in force (or yet to start) with the same partner in the same role:
    the same account, the same volunteer, or the same phone."""
    same = Q(phone_hash=pairing.phone_hash) if pairing.phone_hash else Q(partner_name=pairing.partner_name)
    if pairing.user_id:
        same |= Q(user_id=pairing.user_id)
    if pairing.volunteer_id:
        same |= Q(volunteer_id=pairing.volunteer_id)
    running = Q(ends_on__isnull=True) | Q(ends_on__gt=today)
    return (
        Pairing.objects.select_for_update()
        .filter(elder_id=pairing.elder_id, role=pairing.role)
        .filter(running)
        .filter(same)
        .order_by("starts_on", "id")
        .first()
    )


@transaction.atomic
def pairing_end(*, by, pairing: Pairing, reason: str, ends_on: datetime.date | None = None) -> Pairing:
    """End a pairing (the partner moved away, the elder entered an institution…): from `ends_on`
    (default today) it is off the lists and the partner's phone page. The reason is required."""
    check(by, "change", Pairing)
    pairing = Pairing.objects.select_for_update().select_related("region").get(pk=pairing.pk)
    if not in_scope(by, pairing.region.path):
        raise Http404
    if pairing.ends_on is not None:
        raise ValidationError({"ends_on": _("这个结对已于 %(on)s 结束") % {"on": pairing.ends_on.isoformat()}})
    reason = _text(reason, "reason", _("结束原因"), required=True, max_length=120)
    ends_on = ends_on or timezone.localdate()
    if not isinstance(ends_on, datetime.date):
        raise ValidationError({"ends_on": _("请填写结束日期")})
    if ends_on < pairing.starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期（%(on)s）") % {"on": pairing.starts_on.isoformat()}})
    if ends_on > timezone.localdate() + datetime.timedelta(days=90):
        raise ValidationError({"ends_on": _("结束日期最多可以定在 90 天以后")})
    pairing.ends_on, pairing.end_reason = ends_on, reason
    pairing.full_clean(exclude=["created_by", "user", "volunteer"])
    pairing.save(update_fields=["ends_on", "end_reason"])
    change_record(
        obj=pairing,
        action="end",
        changes={"ends_on": [None, ends_on.isoformat()], "end_reason": ["", reason]},
        by=by,
        region=pairing.region,
        note=reason,
    )
    return pairing


def elder_region_follow(sender, instance, created=False, raw=False, **kwargs):
    """post_save of an Elder: their pairings follow them to their new region (one UPDATE that
    touches nothing when the region did not change), as needs do."""
    if raw or created:
        return
    Pairing.objects.filter(elder_id=instance.pk).exclude(region_id=instance.region_id).update(region_id=instance.region_id)


def pairing_regions_sync() -> int:
    """Put every pairing in its elder's region again (writes that bypass save(): the importer's
    bulk update). Set-based; returns how many moved."""
    from django.db.models import F, OuterRef, Subquery

    from elders.models import Elder

    elder_region = Subquery(Elder.objects.filter(pk=OuterRef("elder_id")).values("region_id")[:1])
    return Pairing.objects.exclude(region_id=F("elder__region_id")).update(region_id=elder_region)
