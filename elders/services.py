"""Writes of the elder registry: create, update, status change, merge, reveal logging.

Every write runs in one transaction with its history row; nothing is half-written.
"""

import datetime
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import ChangeRecord
from audit.services import change_record
from core import crypto
from core.idnumbers import store_id_number
from core.phones import mask_phone, store_phone
from core.text import refuse_invisible_characters
from elders.models import STATUS_MACHINE, Elder, EmergencyContact, Status, StatusChange
from elders.pinyin import given_name, name_keys
from elders.validation import clean_elder_input, field_label
from regions.models import Level, Region

# Fields copied as they are from clean input to the model.
PLAIN_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "address",
    "home_lat",
    "home_lng",
    "hukou",
    "living_arrangement",
    "marital_status",
    "children_count",
    "children_away",
    "income_level",
    "pension_type",
    "is_dibao",
    "is_tekun",
    "disability_grade",
    "ability_level",
    "chronic_illnesses",
    "is_party_member",
    "is_retired_cadre",
    "is_veteran_family",
    "is_model_worker",
    "is_family_planning_special",
    "interests",
    "care_preference",
    "family_situation",
    "notes",
]


def elder_region_for(*, by, region_id, action: str = "add") -> Region:
    """The community or grid an elder is registered in; it must be inside `by`'s subtree."""
    if region_id in (None, ""):
        raise ValidationError({"region": _("请选择所属社区或网格")})
    try:
        region = Region.objects.restrict(by, "view").get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"region": _("所选区域不存在或不在您的管辖范围内")}) from None
    if region.level not in (Level.COMMUNITY, Level.GRID):
        raise ValidationError({"region": _("老年人只能登记到社区/村或网格，请选择具体社区")})
    return region


def set_id_number(elder: Elder, number: str) -> None:
    store_id_number(elder, number)


def set_phone(obj, phone: str) -> None:
    store_phone(obj, phone)


def set_name(elder: Elder, name: str) -> None:
    elder.name = name
    elder.name_pinyin, elder.name_initials = name_keys(name)
    elder.name_given = given_name(name)


def _refuse_duplicate_id(*, by, number: str, exclude_pk=None) -> None:
    if not number:
        return
    others = Elder.objects.filter(id_number_hash=crypto.lookup_hash(number))
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    other = others.select_related("region").first()
    if other is None:
        return
    if Elder.objects.restrict(by, "view").filter(pk=other.pk).exists():
        message = _("该身份证号已登记：%(name)s（%(region)s），请勿重复登记") % {"name": other.name, "region": other.region.name}
    elif other.status == Status.MOVED_OUT:
        # Registering again would start a second record; receiving keeps the one history.
        message = _("该老人已从原社区迁出，请用“接收迁入”办理，档案和历史会完整保留")
    else:
        # Do not reveal who, or where, outside the user's scope.
        message = _("该身份证号已在其他辖区登记，如老人迁入本辖区，请联系原社区办理迁出后再迁入")
    raise ValidationError({"id_number": message})


def _snapshot(elder: Elder) -> dict:
    snap = {f: getattr(elder, f) for f in PLAIN_FIELDS}
    snap["birth_date"] = elder.birth_date.isoformat() if elder.birth_date else None
    snap["id_number"] = elder.id_number_masked
    snap["phone"] = elder.phone_masked
    snap["region"] = elder.region_id
    return snap


def _contacts_snapshot(elder: Elder) -> list:
    return [contact_label(c.name, c.relation, c.phone_masked) for c in elder.contacts.all()]


def _replace_contacts(elder: Elder, contacts: list[dict], keep=()) -> None:
    """Replace the contacts, except those whose ids are in `keep` (a form that shows only some
    of them must not delete the others, e.g. those a merge brought over)."""
    elder.contacts.exclude(pk__in=list(keep)).delete()
    rows = []
    for item in contacts:
        contact = EmergencyContact(elder=elder, name=item["name"], relation=item["relation"], is_primary=item["is_primary"])
        set_phone(contact, item["phone"])
        rows.append(contact)
    EmergencyContact.objects.bulk_create(rows)


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def _apply(elder: Elder, clean: dict) -> None:
    for field in PLAIN_FIELDS:
        if field in clean and field != "name":
            setattr(elder, field, clean[field])
    if "name" in clean:
        set_name(elder, clean["name"])
    if "id_number" in clean:
        set_id_number(elder, clean["id_number"])
    if "phone" in clean:
        set_phone(elder, clean["phone"])


@transaction.atomic
def elder_create(*, by, data: dict) -> Elder:
    """Register a person aged 60+ in a community or grid of `by`'s subtree."""
    if not by.may("add", Elder):
        raise PermissionDenied(_("您没有登记老年人的权限"))
    errors = {}
    try:
        clean = clean_elder_input(data, partial=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    try:
        region = elder_region_for(by=by, region_id=data.get("region"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
        region = None
    if errors:
        raise ValidationError(errors)
    _refuse_duplicate_id(by=by, number=clean.get("id_number", ""))
    elder = Elder(region=region, created_by=by)
    _apply(elder, clean)
    try:
        with transaction.atomic():
            elder.save()
    except IntegrityError:
        raise ValidationError({"id_number": _("该身份证号已登记，请勿重复登记")}) from None
    if "contacts" in clean:
        _replace_contacts(elder, clean["contacts"])
    after = _snapshot(elder)
    after["contacts"] = _contacts_snapshot(elder)
    change_record(
        obj=elder,
        action="create",
        changes={k: [None, v] for k, v in after.items() if v not in ("", None, False, 0, [])},
        by=by,
        region=region,
    )
    return elder


class ElderChanged(ValidationError):
    """A save that started from an older version: someone saved the elder meanwhile.

    `records` are the change records written since that version, oldest first (each write
    raises the version by one and writes one record); nothing of the stale save is written."""

    def __init__(self, *, elder: Elder, records: list):
        self.elder = elder
        self.records = records
        super().__init__({"version": [stale_message(records)]})

    def field_errors(self) -> list[dict]:
        """`version` first, then one entry per field changed meanwhile: who changed it, when."""
        errors = [{"field": "version", "message": self.messages[0]}]
        for record in self.records:
            for name in record.changes:
                errors.append(
                    {
                        "field": name,
                        "message": _("%(field)s 已被 %(who)s 于 %(when)s 修改")
                        % {
                            "field": field_label(name),
                            "who": str(record.by) if record.by else _("系统"),
                            "when": timezone.localtime(record.at).strftime("%Y-%m-%d %H:%M"),
                        },
                    }
                )
        return errors


def changes_since(*, elder: Elder, version: int) -> list:
    """The change records of the writes after `version` of `elder`, oldest first.

    Every write that raises the version writes exactly one record (update, status, merge,
    import), so the last `elder.version - version` records are those writes."""
    count = max(elder.version - version, 0)
    if not count:
        return []
    records = (
        ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk)
        .exclude(action="create")
        .select_related("by")
        .order_by("-at", "-id")[:count]
    )
    return list(reversed(records))


def stale_message(records: list) -> str:
    """What changed meanwhile, in words: who, when, which fields."""
    parts = []
    for record in records:
        fields = "、".join(field_label(name) for name in record.changes if name not in ("merged_into", "snapshot"))
        parts.append(
            _("%(who)s 于 %(when)s 修改了 %(fields)s")
            % {
                "who": str(record.by) if record.by else _("系统"),
                "when": timezone.localtime(record.at).strftime("%Y-%m-%d %H:%M"),
                "fields": fields or _("档案"),
            }
        )
    if not parts:
        parts.append(_("档案已被他人修改"))
    return _("您打开此页后，%(what)s。您的修改没有保存：请核对最新内容后再保存。") % {"what": "；".join(parts)}


@transaction.atomic
def elder_update(*, by, elder: Elder, data: dict, version: int | None = None) -> Elder:
    """Change the fields present in `data`; history keeps before and after (numbers masked).

    `version` is the version the edit started from (the page and the API always send it): if
    someone saved the elder since, the save is refused with ElderChanged and nothing is
    written. The row is locked first, so the check and the write are one step."""
    if not by.may("change", Elder):
        raise PermissionDenied(_("您没有修改老年人档案的权限"))
    elder = Elder.objects.select_for_update().get(pk=elder.pk)
    if version is not None and version != elder.version:
        raise ElderChanged(elder=elder, records=changes_since(elder=elder, version=version))
    errors = {}
    try:
        clean = clean_elder_input(data, partial=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    region = None
    if "region" in data and str(data.get("region")) != str(elder.region_id):
        try:
            region = elder_region_for(by=by, region_id=data.get("region"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "id_number" in clean and not clean["id_number"] and elder.id_number_hash:
        errors.setdefault("id_number", []).append(_("身份证号不能删除；如号码有误，请填写正确的号码"))
    if elder.id_number_hash and "id_number" not in data:
        # Sex and birth date are read from the ID number on file; they change only with it.
        on_file = {"sex": elder.get_sex_display(), "birth_date": elder.birth_date.isoformat()}
        for field in ("sex", "birth_date"):
            if field in clean and clean[field] != getattr(elder, field):
                errors.setdefault(field, []).append(
                    _("与身份证号不一致（身份证号显示为 %(v)s）；如有误，请修改身份证号") % {"v": on_file[field]}
                )
    if errors:
        raise ValidationError(errors)
    _refuse_duplicate_id(by=by, number=clean.get("id_number", ""), exclude_pk=elder.pk)
    before = _snapshot(elder)
    before_contacts = _contacts_snapshot(elder)
    _apply(elder, clean)
    if region is not None:
        elder.region = region
    changes = _diff(before, _snapshot(elder))
    if "contacts" in clean:
        _replace_contacts(elder, clean["contacts"], keep=data.get("keep_contacts") or ())
        after_contacts = _contacts_snapshot(elder)
        if after_contacts != before_contacts:
            changes["contacts"] = [before_contacts, after_contacts]
    if changes:
        elder.version += 1  # one version, one change record (changes_since counts on it)
    try:
        with transaction.atomic():
            elder.save()
    except IntegrityError:
        raise ValidationError({"id_number": _("该身份证号已登记，请勿重复登记")}) from None
    if changes:
        change_record(obj=elder, action="update", changes=changes, by=by, region=elder.region)
    return elder


@transaction.atomic
def elder_change_status(
    *, by, elder: Elder, action: str, effective_on: datetime.date, reason: str = "", region_id=None, force_region=False
) -> Elder:
    """Move in or out, death, entering or leaving an institution, from `effective_on`."""
    if not by.may("status", Elder):
        raise PermissionDenied(_("您没有变更老年人状态的权限"))
    elder = Elder.objects.select_for_update().get(pk=elder.pk)
    target = STATUS_MACHINE.check(elder, action)
    try:
        refuse_invisible_characters(reason or "")
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from None
    if effective_on is None:
        raise ValidationError({"effective_on": _("请填写生效日期")})
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": _("生效日期不能晚于今天")})
    if effective_on < elder.birth_date:
        raise ValidationError({"effective_on": _("生效日期不能早于出生日期")})
    last = elder.status_changes.first()
    if last and effective_on < last.effective_on:
        raise ValidationError({"effective_on": _("生效日期不能早于上一次状态变更（%(d)s）") % {"d": last.effective_on}})
    changes = {}
    if action == "move_in" and (region_id not in (None, "", elder.region_id) or (force_region and region_id)):
        region = elder_region_for(by=by, region_id=region_id)
        changes["region"] = [elder.region_id, region.pk]
        elder.region = region
    StatusChange.objects.create(
        elder=elder,
        action=action,
        from_status=elder.status,
        to_status=target,
        effective_on=effective_on,
        reason=reason.strip()[:255],
        by=by,
    )
    elder.status_changed_on = effective_on
    elder.version += 1
    STATUS_MACHINE.move(
        elder,
        action,
        by=by,
        reason=reason,
        at=effective_on,
        changes=changes,
        update_fields=["status_changed_on", "region", "version", "updated_at"],
    )
    # Later capabilities (allowances, plans) read status and status_changed_on to stop from the next period.
    return elder


@transaction.atomic
def elder_merge(*, by, keep: Elder, other: Elder) -> Elder:
    """Merge a likely duplicate into `keep`: blanks filled from `other`, contacts moved, `other` removed."""
    if not by.may("merge", Elder):
        raise PermissionDenied(_("您没有合并档案的权限"))
    if keep.pk == other.pk:
        raise ValidationError({"other": _("不能与自身合并")})
    # Both rows locked (in id order, so two merges cannot deadlock) and read afresh: a merge
    # must not write back values someone saved since the page was opened.
    locked = {e.pk: e for e in Elder.objects.select_for_update().filter(pk__in=[keep.pk, other.pk]).order_by("pk")}
    if len(locked) < 2:
        raise ValidationError({"other": _("档案已被合并或删除，请刷新页面后再试")})
    keep, other = locked[keep.pk], locked[other.pk]
    if keep.id_number_hash and other.id_number_hash and keep.id_number_hash != other.id_number_hash:
        raise ValidationError({"other": _("两份档案的身份证号不同，不是同一人，不能合并")})
    before = _snapshot(keep)
    for field in PLAIN_FIELDS:
        if getattr(keep, field) in ("", None, 0, False) and getattr(other, field) not in ("", None, 0, False):
            setattr(keep, field, getattr(other, field))
    if not keep.id_number_hash and other.id_number_hash:
        keep.id_number_enc, keep.id_number_hash, keep.id_number_masked = (
            other.id_number_enc,
            other.id_number_hash,
            other.id_number_masked,
        )
        other.id_number_hash = ""
        other.save(update_fields=["id_number_hash"])
    if not keep.phone_hash and other.phone_hash:
        keep.phone_enc, keep.phone_hash, keep.phone_masked, keep.phone_tail = (
            other.phone_enc,
            other.phone_hash,
            other.phone_masked,
            other.phone_tail,
        )
    keep.version += 1
    keep.save()
    other.contacts.update(elder=keep, is_primary=False)
    changes = _diff(before, _snapshot(keep))
    change_record(
        obj=keep,
        action="merge",
        changes=changes,
        by=by,
        region=keep.region,
        note=_("合并了档案 #%(id)d（%(name)s）") % {"id": other.pk, "name": other.name},
    )
    change_record(
        obj=other,
        action="merged",
        changes={"merged_into": [other.pk, keep.pk], **{"snapshot": [_snapshot(other), None]}},
        by=by,
        region=other.region,
    )
    other.delete()
    return keep


@transaction.atomic
def elder_receive(*, by, id_number: str, region_id, effective_on: datetime.date, reason: str = "") -> Elder:
    """Receive into `by`'s community an elder who moved out of any community (迁出 → 迁入),
    found by ID number: the same record and its one history go on; the region changes and
    the status goes back to 在册 through STATUS_TRANSITIONS' move_in, recording where from.
    Only a moved-out record can be received: a person registered elsewhere and not moved out
    stays with their community (issue 9)."""
    from elders.selectors import elder_receivable

    found = elder_receivable(user=by, id_number=id_number, lock=True)
    if found.state != "receivable":
        raise ValidationError({"id_number": receive_refusal(found)})
    if region_id in (None, ""):
        raise ValidationError({"region": _("请选择迁入的社区或网格")})
    elder = found.elder
    came_from = elder.region.name
    note = _("从%(region)s迁入") % {"region": came_from}
    reason = (reason or "").strip()
    return elder_change_status(
        by=by,
        elder=elder,
        action="move_in",
        effective_on=effective_on,
        reason=f"{note}：{reason}" if reason else note,
        region_id=region_id,
        # The region is checked against `by`'s subtree even when it is the one they left.
        force_region=True,
    )


def receive_refusal(found) -> str:
    """Why an ID number cannot be received, in words that reveal nothing outside the scope."""
    if found.state == "registered_here":
        return _("%(name)s 已在本辖区登记（%(status)s），不需要迁入") % {
            "name": found.elder.name,
            "status": found.elder.get_status_display(),
        }
    if found.state == "elsewhere":
        return _("该身份证号已在其他辖区登记且没有迁出，请联系原社区先办理迁出")
    return _("没有找到这个身份证号的迁出记录，如是新来的老人，请直接登记")


# --- bulk: the importer and the demo loader ------------------------------------------------
#
# The same rows as elder_create and elder_update write (encrypted, hashed and masked numbers,
# search keys, version, one history record each), set-based: at 100,000 rows model instances
# and one INSERT each cost more than the database. New elders' rows are built by a pure
# ElderRowBuilder (the importer's checker processes build them, no database) and written by
# elder_bulk_create; changes of registered elders by elder_bulk_changes + elder_bulk_update.
# Callers check the permission for the whole run (import_elders: "import"; seed_demo: a
# demo loader); these two check it again per batch.


class NewElderRows(NamedTuple):
    """A new elder's rows as the database takes them (row_converter tuples), the primary keys
    of the elder left None: elder_bulk_create reserves and puts them in."""

    elder: tuple
    contacts: list[tuple]
    record: tuple


class ElderChange(NamedTuple):
    """A registered elder's change: the clean values, its community or grid, and the history
    record's changes (elder_bulk_changes)."""

    pk: int
    clean: dict
    region_id: int
    changes: dict


def contact_label(name: str, relation: str, phone_masked: str) -> str:
    """A contact as history shows it: name, relation in words, masked phone."""
    return f"{name} {dict(EmergencyContact.Relation.choices).get(relation, relation)} {phone_masked}"


class ElderRowBuilder:
    """Builds NewElderRows for one run (one actor, one time, one history action and note).
    Pure: runs in the importer's checker processes."""

    def __init__(self, *, by_id: int, now, action: str, note: str = ""):
        from core.bulk import defaults_for, row_converter

        self.by_id, self.now = by_id, now
        self.template = defaults_for(Elder)
        self.contact_template = defaults_for(EmergencyContact)
        self.record_template = {
            **defaults_for(ChangeRecord),
            "model": "elders.elder",
            "action": action,
            "note": note[:255],
            "by_id": by_id,
            "at": now,
        }
        self.convert_elder = row_converter(Elder)
        self.convert_contact = row_converter(EmergencyContact)
        self.convert_record = row_converter(ChangeRecord)
        self._holder, self._contact_holder = Elder(), EmergencyContact()

    def new(self, clean: dict, region_id: int) -> NewElderRows:
        """The rows of a new elder from clean values (elders.validation.clean_elder_input)."""
        values = dict(self.template)
        for key in PLAIN_FIELDS:
            if key in clean:
                values[key] = clean[key]
        # The numbers and search keys through the setters every write uses, on a holder
        # instance read back at once: no model instance per row (at 100,000 rows instances
        # cost more than the database), and no second copy of the encryption and masking.
        holder = self._holder
        set_name(holder, clean["name"])
        set_id_number(holder, clean["id_number"])
        set_phone(holder, clean.get("phone") or "")
        for key in _SET_BY_SETTERS:
            values[key] = getattr(holder, key)
        values["region_id"] = region_id
        values["created_by_id"] = self.by_id
        values["created_at"] = values["updated_at"] = self.now
        contact_rows = []
        for i, contact in enumerate(clean.get("contacts", [])):
            set_phone(self._contact_holder, contact["phone"])
            contact_rows.append(
                self.convert_contact(
                    {
                        **self.contact_template,
                        "name": contact["name"],
                        "relation": contact["relation"],
                        "phone_enc": self._contact_holder.phone_enc,
                        "phone_hash": self._contact_holder.phone_hash,
                        "phone_masked": self._contact_holder.phone_masked,
                        "elder_id": None,
                        "is_primary": i == 0,
                    }
                )
            )
        record = self.convert_record(
            {**self.record_template, "object_id": None, "changes": {"name": [None, values["name"]]}, "region_id": region_id}
        )
        return NewElderRows(self.convert_elder(values), contact_rows, record)


# What set_name, set_id_number and set_phone write on an elder.
_SET_BY_SETTERS = (
    "name",
    "name_pinyin",
    "name_initials",
    "name_given",
    "id_number_enc",
    "id_number_hash",
    "id_number_masked",
    "phone_enc",
    "phone_hash",
    "phone_masked",
    "phone_tail",
)


def _column_index(model, attname: str) -> int:
    """Where `attname` sits in a row_converter tuple of `model` (concrete fields, pk left out)."""
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return names.index(attname)


def _refuse_bulk(by) -> None:
    if not (by.may("import", Elder) or by.may("add", Elder)):
        raise PermissionDenied(_("您没有登记老年人的权限"))


def elder_bulk_create(*, by, rows: list[NewElderRows]) -> list[int]:
    """Register new elders from ElderRowBuilder rows (COPY on PostgreSQL), with their contacts
    and one history record each; returns their primary keys in order. Runs in the caller's
    transaction; the unique ID index refuses a number registered meanwhile."""
    from core.bulk import insert_tuples, reserve_ids

    _refuse_bulk(by)
    if not rows:
        return []
    pks = reserve_ids(Elder, len(rows))
    at_elder, at_object = _column_index(EmergencyContact, "elder_id"), _column_index(ChangeRecord, "object_id")
    contacts, records = [], []
    for (_elder, new_contacts, record), pk in zip(rows, pks, strict=True):
        contacts.extend(row[:at_elder] + (pk,) + row[at_elder + 1 :] for row in new_contacts)
        records.append(record[:at_object] + (pk,) + record[at_object + 1 :])
    insert_tuples(Elder, pks, [row.elder for row in rows])
    insert_tuples(EmergencyContact, reserve_ids(EmergencyContact, len(contacts)), contacts)
    insert_tuples(ChangeRecord, reserve_ids(ChangeRecord, len(records)), records)
    return pks


# Read for a registered elder before a bulk change (elder_bulk_changes): plain values, no instance.
BULK_CURRENT_FIELDS = ["id", "region_id", "id_number_hash", "phone_hash", "phone_masked", *PLAIN_FIELDS]


def elder_bulk_changes(elder, clean: dict, region_id: int) -> dict:
    """{field: [before, after]} for what `clean` would change in a registered elder, in the
    shape elder_update records (numbers masked, contacts in words). `elder` holds
    BULK_CURRENT_FIELDS and `contacts` (all its contacts as (name, relation, phone_masked),
    primary first). A blank value keeps what the register holds: sheets leave out what they do
    not know; sex and birth date come from the ID number, the key, so they do not change."""
    for key in [k for k, v in clean.items() if v in ("", None, []) and k not in ("name", "id_number")]:
        del clean[key]
    changes = {}
    for key in PLAIN_FIELDS:
        if key in clean and key not in ("sex", "birth_date"):
            before, after = getattr(elder, key), clean[key]
            if before != after:
                changes[key] = [before, after]
    if "phone" in clean and crypto.lookup_hash(clean["phone"]) != elder.phone_hash:
        changes["phone"] = [elder.phone_masked, mask_phone(clean["phone"])]
    if region_id != elder.region_id:
        changes["region"] = [elder.region_id, region_id]
    if "contacts" in clean:
        # the sheet holds the primary contact; the others (added on the page) stay
        primary = [c for c in elder.contacts if c[3]][:1]
        others = [c for c in elder.contacts if not c[3]]
        new = [(c["name"], c["relation"], mask_phone(c["phone"])) for c in clean["contacts"]][:1]
        if [c[:3] for c in primary] != new:
            changes["contacts"] = [
                [contact_label(*c[:3]) for c in primary + others],
                [contact_label(*c) for c in new] + [contact_label(*c[:3]) for c in others],
            ]
    return changes


def elder_bulk_update(*, by, rows: list[ElderChange], action: str, note: str, now) -> None:
    """Write the changes of registered elders (bulk update), their new primary contact and one
    history record each, version raised by one. Runs in the caller's transaction."""
    from django.db.models import F

    from core.bulk import defaults_for, insert_rows, reserve_ids

    _refuse_bulk(by)
    if not rows:
        return
    contact_template, record_template = defaults_for(EmergencyContact), defaults_for(ChangeRecord)
    contact_rows, record_rows = [], []
    elders = Elder.objects.in_bulk([row.pk for row in rows])
    touched, fields, replace_contacts = [], set(), []
    for pk, clean, region_id, changes in rows:
        elder = elders[pk]
        _apply(elder, {k: v for k, v in clean.items() if k not in ("sex", "birth_date", "id_number", "contacts")})
        elder.region_id = region_id
        elder.updated_at = now
        elder.version = F("version") + 1  # in SQL: a page edit since in_bulk still counts; one record below
        touched.append(elder)
        for key in changes:
            if key == "phone":
                fields |= {"phone_enc", "phone_hash", "phone_masked", "phone_tail"}
            elif key == "name":
                fields |= {"name", "name_pinyin", "name_initials", "name_given"}
            elif key == "contacts":
                replace_contacts.append(pk)
                for i, c in enumerate(clean["contacts"][:1]):
                    contact_rows.append(
                        {
                            **contact_template,
                            "elder_id": pk,
                            "name": c["name"],
                            "relation": c["relation"],
                            "is_primary": i == 0,
                            "phone_enc": crypto.encrypt(c["phone"]),
                            "phone_hash": crypto.lookup_hash(c["phone"]),
                            "phone_masked": mask_phone(c["phone"]),
                        }
                    )
            else:
                fields.add(key)
        record_rows.append(
            {
                **record_template,
                "model": "elders.elder",
                "object_id": pk,
                "action": action,
                "changes": changes,
                "note": note[:255],
                "by_id": by.pk,
                "region_id": region_id,
                "at": now,
            }
        )
    fields.discard("region")
    Elder.objects.bulk_update(touched, sorted(fields | {"region", "updated_at", "version"}), batch_size=500)
    EmergencyContact.objects.filter(elder_id__in=replace_contacts, is_primary=True).delete()
    for model, new_rows in ((EmergencyContact, contact_rows), (ChangeRecord, record_rows)):
        for values, new_pk in zip(new_rows, reserve_ids(model, len(new_rows)), strict=True):
            values["id"] = new_pk
        insert_rows(model, new_rows)


def elder_update_as_shown(*, by, elder: Elder, data: dict, version: int | None, shown_contacts: int = 2) -> Elder:
    """elder_update for an edit of the page's form, which shows the numbers masked: a masked
    ID number or phone sent back as shown means "unchanged"; contacts sent back exactly as
    shown are unchanged, and changed contacts need every masked phone typed in full (a masked
    number cannot be saved back). The form shows the first `shown_contacts` contacts; the
    others (a merge can bring more) stay."""
    data = dict(data)
    if data.get("id_number") == elder.id_number_masked:
        data.pop("id_number")
    if data.get("phone") == elder.phone_masked:
        data.pop("phone")
    contacts = list(elder.contacts.all())
    if "contacts" in data:
        masked = [i for i, c in enumerate(data["contacts"], start=1) if "*" in (c.get("phone") or "")]
        if masked and _contacts_as_shown(data["contacts"], contacts[:shown_contacts]):
            data.pop("contacts")
        elif masked:
            raise ValidationError(
                {
                    "contacts": [
                        _("第%(i)d位紧急联系人的电话：修改紧急联系人时，请把这个电话完整填写一遍（脱敏的号码无法保存）")
                        % {"i": i}
                        for i in masked
                    ]
                }
            )
        data["keep_contacts"] = [c.pk for c in contacts[shown_contacts:]]
    if elder.id_number_hash and "id_number" not in data:
        # sex and birth date are read from the ID number on file; the form shows them read-only
        data.pop("sex", None)
        data.pop("birth_date", None)
    return elder_update(by=by, elder=elder, data=data, version=version)


def _contacts_as_shown(typed: list[dict], contacts: list) -> bool:
    """True when the contact rows were submitted exactly as the edit form showed them."""
    shown = [(c.name, c.relation, c.phone_masked) for c in contacts]
    sent = [
        ((c.get("name") or "").strip(), c.get("relation") or "", (c.get("phone") or "").strip())
        for c in typed
        if (c.get("name") or "").strip() or (c.get("phone") or "").strip()
    ]
    return sent == shown


def import_upload_refusal(upload) -> str | None:
    """Why an uploaded file cannot be imported, judged before any reading (its size and first
    bytes; reading the workbook is the background job's), or None."""
    from django.conf import settings

    from elders.workbook_guard import file_kind, not_a_workbook_message

    if upload.size > settings.IMPORT_MAX_BYTES:
        return _("文件太大（%(n)d MB），上限 %(m)d MB；请分成几个文件导入") % {
            "n": upload.size // 1048576,
            "m": settings.IMPORT_MAX_BYTES // 1048576,
        }
    head = upload.read(8)
    upload.seek(0)
    return None if file_kind(head) else not_a_workbook_message()


def elder_import_start(*, by, upload, dry_run: bool, skip_invalid: bool, via: str = "web"):
    """Start an import of `upload` as a background job (elders.importer runs in the task
    worker, never in the web process); returns the Job the user follows."""
    from core.access import check
    from elders.jobs import ELDER_IMPORT
    from elders.tasks import elder_import_task
    from jobs.services import job_create, job_enqueue

    check(by, "import", Elder)
    if message := import_upload_refusal(upload):
        raise ValidationError({"file": message})
    params = {"dry_run": dry_run, "skip_invalid": skip_invalid, "via": via}
    job = job_create(by=by, kind=ELDER_IMPORT, params=params, upload=upload, input_name=upload.name)
    job_enqueue(job, elder_import_task)
    return job


def elder_import_confirm(*, by, dry_run_job, skip_invalid: bool):
    """After a dry run: import the same file for real (all rows, or only the good ones) as a
    new job; ValidationError when the file is gone (imported or cleaned up meanwhile)."""
    from core.access import check
    from elders.jobs import ELDER_IMPORT
    from elders.tasks import elder_import_task
    from jobs.services import job_create_on_file_of, job_enqueue

    check(by, "import", Elder)
    if dry_run_job.kind != ELDER_IMPORT or not dry_run_job.input_file:
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    job = job_create_on_file_of(job=dry_run_job, by=by, params={"dry_run": False, "skip_invalid": skip_invalid, "via": "web"})
    job_enqueue(job, elder_import_task)
    return job


# --- ability level, set by the ability assessment (assessments app) ------------------------------


@transaction.atomic
def elder_set_ability_level(*, by, elder: Elder, level: str, note: str = "") -> Elder:
    """Set one elder's 自理能力 (GB/T 42195 level code, or "" for none) from an assessment, with
    one history record; nothing written when it is unchanged. The caller has checked its own
    permission (an assessor may set the level without the right to edit the register)."""
    from elders.models import AbilityLevel

    if level not in ("", *AbilityLevel.values):
        raise ValidationError({"ability_level": _("能力等级“%(v)s”无效") % {"v": level}})
    elder = Elder.objects.select_for_update().get(pk=elder.pk)
    before = elder.ability_level
    if before == level:
        return elder
    elder.ability_level = level
    elder.version += 1
    elder.save(update_fields=["ability_level", "version", "updated_at"])
    change_record(obj=elder, action="ability", changes={"ability_level": [before, level]}, by=by, region=elder.region, note=note)
    return elder


def elder_bulk_set_ability_level(*, by, source_sql: str, params=(), note: str = "") -> int:
    """Set-based: for every elder in `source_sql` (a SELECT of rows (elder_id, level)), set
    ability_level where it differs, raise the version, and write one history record each — two
    SQL statements, no row loop. Runs in the caller's transaction. Returns the elders changed."""
    from django.db import connection

    now = timezone.now()
    vendor = connection.vendor
    obj = "jsonb_build_object" if vendor == "postgresql" else "json_object"
    arr = "jsonb_build_array" if vendor == "postgresql" else "json_array"
    with connection.cursor() as cur:
        cur.execute(
            f"""INSERT INTO audit_changerecord (model, object_id, action, changes, note, by_id, region_id, at)
                SELECT 'elders.elder', e.id, 'ability',
                       {obj}('ability_level', {arr}(e.ability_level, s.level)), %s, %s, e.region_id, %s
                FROM elders_elder e JOIN ({source_sql}) s ON s.elder_id = e.id
                WHERE e.ability_level <> s.level""",
            [note[:255], getattr(by, "pk", None), now, *params],
        )
        cur.execute(
            f"""UPDATE elders_elder SET ability_level = s.level, version = version + 1, updated_at = %s
                FROM ({source_sql}) s WHERE s.elder_id = elders_elder.id AND elders_elder.ability_level <> s.level""",
            [now, *params],
        )
        return cur.rowcount
