"""Writes of the providers app: organisations, staff, certificates, teams, volunteers.

One cleaning path for every entry point: pages, the API and the Excel import hand raw values
(strings from a form or a sheet, typed values from JSON) to the `clean_*` functions here, which
answer a ValidationError naming the field and what to fix. Every write is atomic, runs
full_clean, and writes its history row (audit.services.change_record); status moves go through
the state machines in providers.models.
"""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from catalogue.models import CertificateKind, Skill
from core import crypto
from core.idnumbers import parse_id_number, store_id_number
from core.phones import normalize_phone, store_phone
from core.text import refuse_invisible_characters
from providers.models import (
    STAFF_STATUS,
    VOLUNTEER_STATUS,
    WEEKDAYS,
    Caregiver,
    CaregiverKind,
    Certificate,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    QuotaPeriod,
    QuotaUnit,
    Rating,
    Sex,
    Team,
    TeamKind,
    Volunteer,
    weekdays_text,
)
from regions.models import Level, Region

log = logging.getLogger("providers")

# --- cleaning: one rule set for forms, API and import -----------------------------------------


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(data, errors, field, label, *, max_length, required=False) -> str:
    value = data.get(field)
    text = "" if value is None else " ".join(str(value).split())
    if not text:
        if required:
            errors[field] = _("请填写%(label)s") % {"label": label}
        return ""
    if len(text) > max_length:
        errors[field] = _("%(label)s最多 %(n)d 个字，请缩短") % {"label": label, "n": max_length}
        return text
    try:
        refuse_invisible_characters(text)
    except ValidationError as exc:
        errors[field] = exc.messages[0]
    return text


def _choice(data, errors, field, label, choices, *, required=False, default=""):
    value = data.get(field)
    if _blank(value):
        if required:
            errors[field] = _("请选择%(label)s") % {"label": label}
        return default
    value = str(value).strip()
    by_label = {str(lbl): code for code, lbl in choices.choices}
    if value in choices.values:
        return value
    if value in by_label:  # a sheet may hold the label ("保姆") rather than the code
        return by_label[value]
    errors[field] = _("%(label)s“%(v)s”无效，可选：%(options)s") % {
        "label": label,
        "v": value[:20],
        "options": "、".join(str(lbl) for lbl in choices.labels),
    }
    return default


def _date(data, errors, field, label):
    value = data.get(field)
    if _blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        try:
            return datetime.datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            errors[field] = _("%(label)s“%(v)s”不是有效日期，请写成 2025-03-01 的格式") % {"label": label, "v": text[:20]}
            return None


def _time(data, errors, field, label):
    value = data.get(field)
    if _blank(value):
        return None
    if isinstance(value, datetime.time):
        return value
    text = str(value).strip().replace("：", ":")
    try:
        parts = [int(p) for p in text.split(":")]
        if not 1 <= len(parts) <= 3:
            raise ValueError
        return datetime.time(*(parts + [0] * (2 - len(parts))))
    except (ValueError, TypeError):
        errors[field] = _("%(label)s“%(v)s”不是有效时间，请写成 08:30 的格式") % {"label": label, "v": text[:10]}
        return None


def _number(data, errors, field, label, *, lo, hi, cast=int):
    value = data.get(field)
    if _blank(value):
        return None
    try:
        number = cast(str(value).strip()) if isinstance(value, str) else cast(value)
        if isinstance(value, bool) or number != number:  # NaN
            raise ValueError
    except (TypeError, ValueError):
        errors[field] = _("%(label)s应为数字") % {"label": label}
        return None
    if not lo <= number <= hi:
        errors[field] = _("%(label)s应在 %(lo)s 到 %(hi)s 之间") % {"label": label, "lo": lo, "hi": hi}
        return None
    return number


_WEEKDAY_WORDS = {str(label): day for day, label in WEEKDAYS} | {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
    "星期一": 1, "星期二": 2, "星期三": 3, "星期四": 4, "星期五": 5, "星期六": 6, "星期日": 7, "星期天": 7,
}  # fmt: skip


def _weekdays(data, errors, field, label) -> list[int]:
    """A weekday set: a list of 1…7 (JSON, a form's checkboxes) or text such as “周一、周三、周五”."""
    value = data.get(field)
    if _blank(value) or value == []:
        return []
    items = value if isinstance(value, list | tuple) else str(value).replace("，", ",").replace("、", ",").split(",")
    days = set()
    for item in items:
        word = str(item).strip()
        if not word:
            continue
        if word.isdigit() and 1 <= int(word) <= 7:
            days.add(int(word))
        elif word in _WEEKDAY_WORDS:
            days.add(_WEEKDAY_WORDS[word])
        else:
            errors[field] = _("%(label)s“%(v)s”无效，请写周一到周日，用顿号分隔") % {"label": label, "v": word[:10]}
            return []
    return sorted(days)


def _ids(value) -> list:
    if _blank(value) or value == []:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [v for v in str(value).replace("，", ",").replace("、", ",").split(",") if v.strip()]


def _skills(data, errors, field="skills") -> list[Skill]:
    """Skills by id (forms, API) or by name (a sheet: “做饭、康复护理”)."""
    wanted = _ids(data.get(field))
    if not wanted:
        return []
    ids = [int(w) for w in wanted if str(w).strip().isdigit()]
    names = [str(w).strip() for w in wanted if not str(w).strip().isdigit()]
    found = list(Skill.objects.filter(is_active=True, pk__in=ids)) + list(Skill.objects.filter(is_active=True, name__in=names))
    if len({s.pk for s in found}) < len(set(ids)) + len(set(names)):
        known = {str(s.pk) for s in found} | {s.name for s in found}
        missing = [str(w).strip() for w in wanted if str(w).strip() not in known]
        errors[field] = _("技能“%(v)s”不在技能目录中，请从目录中选择") % {"v": "、".join(missing)[:40]}
    return found


def _phone(data, errors, field, label, *, required=False) -> str | None:
    """The normalised phone; None when the field was not given at all (keep the stored one)."""
    if field not in data:
        return None
    value = data.get(field)
    if _blank(value):
        if required:
            errors[field] = _("请填写%(label)s") % {"label": label}
        return ""
    try:
        return normalize_phone(str(value))
    except ValidationError as exc:
        errors[field] = _("%(label)s：%(m)s") % {"label": label, "m": exc.messages[0]}
        return ""


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def region_for(*, by, region_id, levels=None, field="region", message=None):
    """A region node inside `by`'s region subtree (and of `levels`)."""
    if _blank(region_id):
        raise ValidationError({field: _("请选择所属区域")})
    try:
        region = Region.objects.restrict(by, "view").get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise ValidationError({field: _("所选区域不存在或不在您的管辖范围内")}) from None
    if levels and region.level not in levels:
        raise ValidationError({field: message or _("请选择社区")})
    return region


# --- organisations -----------------------------------------------------------------------------

# What an organisation's own users may change of it: its contact. Its region, rating, contract,
# quota and status are set by the government side (the region axis).
ORG_SELF_FIELDS = ("contact_name", "contact_phone")


def clean_organisation(data: dict) -> dict:
    errors: dict = {}
    clean = {
        "name": _text(data, errors, "name", _("机构名称"), max_length=80, required=True),
        "kind": _choice(data, errors, "kind", _("机构类型"), OrganisationKind, required=True),
        "rating": _choice(data, errors, "rating", _("星级评定"), Rating),
        "rated_on": _date(data, errors, "rated_on", _("评定日期")),
        "contract_number": _text(data, errors, "contract_number", _("合同编号"), max_length=40),
        "contract_start": _date(data, errors, "contract_start", _("合同开始")),
        "contract_end": _date(data, errors, "contract_end", _("合同结束")),
        "contact_name": _text(data, errors, "contact_name", _("联系人"), max_length=32),
        "contact_phone": _phone(data, errors, "contact_phone", _("联系电话")) or "",
        "quota_amount": _number(data, errors, "quota_amount", _("购买服务额度"), lo=0, hi=10**9) or 0,
        "quota_unit": _choice(data, errors, "quota_unit", _("额度单位"), QuotaUnit, default=QuotaUnit.HOURS),
        "quota_period": _choice(data, errors, "quota_period", _("额度周期"), QuotaPeriod, default=QuotaPeriod.MONTH),
        "status": _choice(data, errors, "status", _("状态"), OrganisationStatus, default=OrganisationStatus.ACTIVE),
    }
    if clean["rating"] and not clean["rated_on"] and "rated_on" not in errors:
        errors["rated_on"] = _("填写了星级评定，请同时填写评定日期")
    start, end = clean["contract_start"], clean["contract_end"]
    if start and end and end < start:
        errors["contract_end"] = _("合同结束日期不能早于开始日期")
    _raise(errors)
    return clean


def _service_area(*, by, ids) -> list[Region]:
    ids = _ids(ids)
    if not ids:
        return []
    try:
        wanted = {int(i) for i in ids}
    except (TypeError, ValueError):
        raise ValidationError({"service_area": _("服务区域无效，请重新选择")}) from None
    found = list(Region.objects.restrict(by, "view").filter(pk__in=wanted))
    if len(found) != len(wanted):
        raise ValidationError({"service_area": _("服务区域中有区域不存在或不在您的管辖范围内")})
    return found


def _org_snapshot(org: Organisation) -> dict:
    snap = {f: getattr(org, f) for f in clean_organisation_fields()}
    for key, value in snap.items():
        if isinstance(value, datetime.date):
            snap[key] = value.isoformat()
    snap["region"] = org.region_id
    return snap


def clean_organisation_fields() -> list[str]:
    return [
        "name", "kind", "rating", "rated_on", "contract_number", "contract_start", "contract_end",
        "contact_name", "contact_phone", "quota_amount", "quota_unit", "quota_period", "status",
    ]  # fmt: skip


def _diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


@transaction.atomic
def organisation_create(*, by, data: dict) -> Organisation:
    if not by.may_code("providers.add_organisation"):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))
    clean = clean_organisation(data)
    region = region_for(by=by, region_id=data.get("region"))
    area = _service_area(by=by, ids=data.get("service_area"))
    org = Organisation(region=region, **clean)
    org.full_clean()
    org.save()
    org.service_area.set(area)
    change_record(obj=org, action="create", changes=_diff({}, _org_snapshot(org)), by=by, region=region)
    return org


def _acts_for_own_organisation(by, org) -> bool:
    """`by` reaches `org` only as its own user (not through the region axis)."""
    from core.scoping import Scope

    return org.region.path not in Scope.of(by).subtree


@transaction.atomic
def organisation_update(*, by, organisation: Organisation, data: dict) -> Organisation:
    org = Organisation.objects.restrict(by, "change").select_for_update().get(pk=organisation.pk)
    before = _org_snapshot(org)
    own = _acts_for_own_organisation(by, org)
    if own:
        # An organisation's own user changes its contact only; the rest is not theirs to send.
        data = {k: v for k, v in data.items() if k in ORG_SELF_FIELDS}
    clean = clean_organisation({**before, **data})
    if own:
        clean = {k: v for k, v in clean.items() if k in ORG_SELF_FIELDS}
        region, area = org.region, None
    else:
        region = (
            org.region
            if str(data.get("region", org.region_id)) == str(org.region_id)
            else region_for(by=by, region_id=data.get("region"))
        )
        area = _service_area(by=by, ids=data["service_area"]) if "service_area" in data else None
    for key, value in clean.items():
        setattr(org, key, value)
    org.region = region
    org.full_clean()
    org.save()
    changes = _diff(before, _org_snapshot(org))
    if area is not None:
        old = sorted(org.service_area.values_list("pk", flat=True))
        new = sorted(r.pk for r in area)
        if old != new:
            org.service_area.set(area)
            changes["service_area"] = [old, new]
    if changes:
        change_record(obj=org, action="update", changes=changes, by=by, region=org.region)
    return org


# --- caregivers --------------------------------------------------------------------------------

CAREGIVER_FIELDS = [
    "kind",
    "name",
    "sex",
    "birth_date",
    "home_lat",
    "home_lng",
    "work_start",
    "work_end",
    "work_days",
    "languages",
]


def clean_caregiver(data: dict, *, partial: bool = False) -> dict:
    """A caregiver's fields from raw input; with `partial`, only the fields present."""
    errors: dict = {}
    clean = {
        "kind": _choice(data, errors, "kind", _("人员类别"), CaregiverKind, required=True),
        "name": _text(data, errors, "name", _("姓名"), max_length=32, required=True),
        "sex": _choice(data, errors, "sex", _("性别"), Sex),
        "birth_date": _date(data, errors, "birth_date", _("出生日期")),
        "home_lat": _number(data, errors, "home_lat", _("住址纬度"), lo=-90, hi=90, cast=float),
        "home_lng": _number(data, errors, "home_lng", _("住址经度"), lo=-180, hi=180, cast=float),
        "work_start": _time(data, errors, "work_start", _("上班时间")),
        "work_end": _time(data, errors, "work_end", _("下班时间")),
        "work_days": _weekdays(data, errors, "work_days", _("工作日")),
        "languages": _text(data, errors, "languages", _("语言和方言"), max_length=80),
    }
    if (clean["home_lat"] is None) != (clean["home_lng"] is None) and not ({"home_lat", "home_lng"} & set(errors)):
        errors["home_lng" if clean["home_lng"] is None else "home_lat"] = _("住址经纬度要一起填写")
    if clean["work_start"] and clean["work_end"] and clean["work_end"] <= clean["work_start"]:
        errors["work_end"] = _("下班时间应晚于上班时间")
    if "id_number" in data:
        raw = data.get("id_number")
        if _blank(raw):
            clean["id_number"] = ""
        else:
            try:
                info = parse_id_number(str(raw))
                clean["id_number"] = info.number
                if clean["birth_date"] is None and "birth_date" not in errors:
                    clean["birth_date"] = info.birth_date
                if not clean["sex"]:
                    clean["sex"] = info.sex
                elif clean["sex"] != info.sex:
                    errors["sex"] = _("性别与身份证号第17位不符，请核对")
            except ValidationError as exc:
                errors["id_number"] = exc.messages[0]
    if clean["birth_date"] and clean["birth_date"] > timezone.localdate():
        errors["birth_date"] = _("出生日期不能晚于今天")
    phone = _phone(data, errors, "phone", _("联系电话"))
    if phone is not None:
        clean["phone"] = phone
    if "skills" in data:
        clean["skills"] = _skills(data, errors)
    if partial:
        clean = {k: v for k, v in clean.items() if k in data or k in ("id_number", "phone", "skills", "birth_date", "sex")}
    _raise(errors)
    return clean


def _caregiver_snapshot(c: Caregiver) -> dict:
    snap = {}
    for f in CAREGIVER_FIELDS:
        value = getattr(c, f)
        snap[f] = value.isoformat() if isinstance(value, datetime.date | datetime.time) else value
    snap["work_days"] = weekdays_text(c.work_days)  # history reads 周一、周三, not [1, 3]
    snap["id_number"] = c.id_number_masked
    snap["phone"] = c.phone_masked
    snap["organisation"] = c.organisation_id
    return snap


def _refuse_duplicate_caregiver(*, number: str, organisation: Organisation, exclude_pk=None) -> None:
    if not number:
        return
    others = Caregiver.objects.filter(id_number_hash=crypto.lookup_hash(number), organisation=organisation)
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError({"id_number": _("本机构已登记过该身份证号的人员，请勿重复登记")})


def caregiver_organisation_for(*, by, organisation_id) -> Organisation:
    """The organisation a new caregiver joins: one `by` may change staff of."""
    if _blank(organisation_id) and getattr(by, "organisation_id", None):
        organisation_id = by.organisation_id
    if _blank(organisation_id):
        raise ValidationError({"organisation": _("请选择所属机构")})
    try:
        return Organisation.objects.restrict(by, "view").get(pk=int(organisation_id))
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"organisation": _("所选机构不存在或不在您的管辖范围内")}) from None


def _apply_caregiver(c: Caregiver, clean: dict) -> None:
    for f in CAREGIVER_FIELDS:
        if f in clean:
            setattr(c, f, clean[f])
    if "id_number" in clean:
        store_id_number(c, clean["id_number"])
    if "phone" in clean:
        store_phone(c, clean["phone"])


@transaction.atomic
def caregiver_create(*, by, data: dict) -> Caregiver:
    if not by.may_code("providers.add_caregiver"):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))
    organisation = caregiver_organisation_for(by=by, organisation_id=data.get("organisation"))
    clean = clean_caregiver(data)
    _refuse_duplicate_caregiver(number=clean.get("id_number", ""), organisation=organisation)
    caregiver = Caregiver(organisation=organisation, created_by=by)
    _apply_caregiver(caregiver, clean)
    caregiver.full_clean()
    caregiver.save()
    if clean.get("skills"):
        caregiver.skills.set(clean["skills"])
    changes = _diff({}, _caregiver_snapshot(caregiver))
    if clean.get("skills"):
        changes["skills"] = [[], sorted(s.name for s in clean["skills"])]
    change_record(obj=caregiver, action="create", changes=changes, by=by, region=organisation.region)
    return caregiver


@transaction.atomic
def caregiver_update(*, by, caregiver: Caregiver, data: dict) -> Caregiver:
    c = (
        Caregiver.objects.restrict(by, "change")
        .select_related("organisation__region")
        .select_for_update(of=("self",))
        .get(pk=caregiver.pk)
    )
    before = _caregiver_snapshot(c)
    current = {f: getattr(c, f) for f in CAREGIVER_FIELDS}
    clean = clean_caregiver({**current, **data})
    if "id_number" in clean:
        _refuse_duplicate_caregiver(number=clean["id_number"], organisation=c.organisation, exclude_pk=c.pk)
    _apply_caregiver(c, clean)
    c.full_clean()
    c.save()
    changes = _diff(before, _caregiver_snapshot(c))
    if "skills" in clean:
        old = sorted(c.skills.values_list("name", flat=True))
        new = sorted(s.name for s in clean["skills"])
        if old != new:
            c.skills.set(clean["skills"])
            changes["skills"] = [old, new]
    if changes:
        change_record(obj=c, action="update", changes=changes, by=by, region=c.organisation.region)
    return c


@transaction.atomic
def caregiver_change_status(*, by, caregiver: Caregiver, action: str, reason: str = "") -> Caregiver:
    c = (
        Caregiver.objects.restrict(by, "change")
        .select_related("organisation__region")
        .select_for_update(of=("self",))
        .get(pk=caregiver.pk)
    )
    if action not in STAFF_STATUS.actions:
        raise ValidationError({"action": _("请选择要办理的事项")})
    STAFF_STATUS.move(c, action, by=by, reason=reason, region=c.organisation.region)
    return c


# --- certificates ------------------------------------------------------------------------------


def clean_certificate(data: dict) -> dict:
    errors: dict = {}
    kind = None
    kind_value = data.get("kind")
    if _blank(kind_value):
        errors["kind"] = _("请选择证书类型")
    else:
        text = str(kind_value).strip()
        query = CertificateKind.objects.filter(is_active=True)
        kind = (query.filter(pk=int(text)) if text.isdigit() else query.filter(name=text)).first()
        if kind is None:
            errors["kind"] = _("证书类型“%(v)s”不在证书目录中，请从目录中选择") % {"v": text[:30]}
    clean = {
        "kind": kind,
        "number": _text(data, errors, "number", _("证书编号"), max_length=40),
        "issued_on": _date(data, errors, "issued_on", _("发证日期")),
        "expires_on": _date(data, errors, "expires_on", _("有效期至")),
    }
    if clean["issued_on"] and clean["expires_on"] and clean["expires_on"] < clean["issued_on"]:
        errors["expires_on"] = _("有效期至不能早于发证日期")
    _raise(errors)
    return clean


def _cert_snapshot(cert: Certificate) -> dict:
    return {
        "kind": cert.kind.name if cert.kind_id else None,
        "number": cert.number,  # masked in history (Certificate.HISTORY_MASKED)
        "issued_on": cert.issued_on.isoformat() if cert.issued_on else None,
        "expires_on": cert.expires_on.isoformat() if cert.expires_on else None,
    }


@transaction.atomic
def certificate_create(*, by, caregiver: Caregiver, data: dict) -> Certificate:
    c = Caregiver.objects.restrict(by, "change").select_related("organisation__region").get(pk=caregiver.pk)
    cert = Certificate(caregiver=c, **clean_certificate(data))
    cert.full_clean()
    cert.save()
    change_record(
        obj=c,
        action="certificate_add",
        changes={"certificate": [None, _masked_cert(_cert_snapshot(cert))]},
        by=by,
        region=c.organisation.region,
    )
    return cert


@transaction.atomic
def certificate_update(*, by, certificate: Certificate, data: dict) -> Certificate:
    caregivers = Caregiver.objects.restrict(by, "change")
    cert = (
        Certificate.objects.select_related("caregiver__organisation__region", "kind")
        .select_for_update(of=("self",))
        .get(pk=certificate.pk, caregiver__in=caregivers)
    )
    before = _cert_snapshot(cert)
    current = {"kind": cert.kind_id, "number": cert.number, "issued_on": cert.issued_on, "expires_on": cert.expires_on}
    for key, value in clean_certificate({**current, **data}).items():
        setattr(cert, key, value)
    cert.full_clean()
    cert.save()
    after = _cert_snapshot(cert)
    if before != after:
        change_record(
            obj=cert.caregiver,
            action="certificate_change",
            changes={"certificate": [_masked_cert(before), _masked_cert(after)]},
            by=by,
            region=cert.caregiver.organisation.region,
        )
    return cert


def _masked_cert(snap: dict) -> dict:
    from providers.models import mask_certificate_number

    return {**snap, "number": mask_certificate_number(snap.get("number") or "")}


@transaction.atomic
def certificate_delete(*, by, certificate: Certificate) -> None:
    caregivers = Caregiver.objects.restrict(by, "change")
    cert = Certificate.objects.select_related("caregiver__organisation__region", "kind").get(
        pk=certificate.pk, caregiver__in=caregivers
    )
    change_record(
        obj=cert.caregiver,
        action="certificate_delete",
        changes={"certificate": [_masked_cert(_cert_snapshot(cert)), None]},
        by=by,
        region=cert.caregiver.organisation.region,
    )
    cert.delete()


# --- teams and volunteers ----------------------------------------------------------------------

COMMUNITY_LEVELS = (Level.COMMUNITY, Level.GRID)


def clean_team(data: dict) -> dict:
    errors: dict = {}
    clean = {
        "kind": _choice(data, errors, "kind", _("队伍类型"), TeamKind, required=True),
        "name": _text(data, errors, "name", _("队伍名称"), max_length=60, required=True),
        "leader": _text(data, errors, "leader", _("队长"), max_length=32),
    }
    _raise(errors)
    return clean


@transaction.atomic
def team_create(*, by, data: dict) -> Team:
    if not by.may_code("providers.change_team"):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))
    clean = clean_team(data)
    region = region_for(by=by, region_id=data.get("region"), levels=COMMUNITY_LEVELS, message=_("志愿服务队属于社区，请选择社区"))
    team = Team(region=region, **clean)
    team.full_clean()
    team.save()
    change_record(obj=team, action="create", changes=_diff({}, clean), by=by, region=region)
    return team


@transaction.atomic
def team_update(*, by, team: Team, data: dict) -> Team:
    team = Team.objects.restrict(by, "change").select_for_update().get(pk=team.pk)
    before = {"kind": team.kind, "name": team.name, "leader": team.leader}
    clean = clean_team({**before, **data})
    for key, value in clean.items():
        setattr(team, key, value)
    team.full_clean()
    team.save()
    changes = _diff(before, clean)
    if changes:
        change_record(obj=team, action="update", changes=changes, by=by, region=team.region)
    return team


VOLUNTEER_FIELDS = ["name", "birth_year", "available_days", "available_from", "available_to"]


def clean_volunteer(data: dict) -> dict:
    errors: dict = {}
    this_year = timezone.localdate().year
    clean = {
        "name": _text(data, errors, "name", _("姓名"), max_length=32, required=True),
        "birth_year": _number(data, errors, "birth_year", _("出生年份"), lo=this_year - 100, hi=this_year - 14),
        "available_days": _weekdays(data, errors, "available_days", _("可服务日")),
        "available_from": _time(data, errors, "available_from", _("可服务时段起")),
        "available_to": _time(data, errors, "available_to", _("可服务时段止")),
    }
    if "age" in data and not _blank(data.get("age")) and clean["birth_year"] is None and "birth_year" not in errors:
        age = _number(data, errors, "age", _("年龄"), lo=14, hi=100)
        if age is not None:
            clean["birth_year"] = this_year - age
    if clean["available_from"] and clean["available_to"] and clean["available_to"] <= clean["available_from"]:
        errors["available_to"] = _("可服务时段止应晚于起")
    phone = _phone(data, errors, "phone", _("联系电话"), required=True)
    if phone is not None:
        clean["phone"] = phone
    if "skills" in data:
        clean["skills"] = _skills(data, errors)
    _raise(errors)
    return clean


def _volunteer_snapshot(v: Volunteer) -> dict:
    snap = {}
    for f in VOLUNTEER_FIELDS:
        value = getattr(v, f)
        snap[f] = value.isoformat() if isinstance(value, datetime.time) else value
    snap["available_days"] = weekdays_text(v.available_days)
    snap["phone"] = v.phone_masked
    snap["team"] = v.team_id
    snap["region"] = v.region_id
    return snap


def _team_for(*, by, team_id, region) -> Team | None:
    if _blank(team_id):
        return None
    try:
        team = Team.objects.restrict(by, "view").get(pk=int(team_id))
    except (Team.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"team": _("所选队伍不存在或不在您的管辖范围内")}) from None
    if team.region_id != region.pk and not team.region.contains(region):
        raise ValidationError({"team": _("所选队伍不属于志愿者所在社区，请重新选择")})
    return team


@transaction.atomic
def volunteer_create(*, by, data: dict) -> Volunteer:
    """A volunteer's registration (报名): it waits for approval (status applied)."""
    if not by.may_code("providers.add_volunteer"):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))
    clean = clean_volunteer({**data, "phone": data.get("phone", "")})
    region = region_for(by=by, region_id=data.get("region"), levels=COMMUNITY_LEVELS, message=_("志愿者登记到社区，请选择社区"))
    v = Volunteer(region=region, team=_team_for(by=by, team_id=data.get("team"), region=region))
    for f in VOLUNTEER_FIELDS:
        setattr(v, f, clean[f])
    store_phone(v, clean["phone"])
    v.full_clean()
    v.save()
    if clean.get("skills"):
        v.skills.set(clean["skills"])
    change_record(obj=v, action="create", changes=_diff({}, _volunteer_snapshot(v)), by=by, region=region)
    return v


@transaction.atomic
def volunteer_update(*, by, volunteer: Volunteer, data: dict) -> Volunteer:
    v = Volunteer.objects.restrict(by, "change").select_related("region").select_for_update(of=("self",)).get(pk=volunteer.pk)
    before = _volunteer_snapshot(v)
    current = {f: getattr(v, f) for f in VOLUNTEER_FIELDS}
    clean = clean_volunteer({**current, **data})
    if "team" in data:
        v.team = _team_for(by=by, team_id=data.get("team"), region=v.region)
    for f in VOLUNTEER_FIELDS:
        setattr(v, f, clean[f])
    if clean.get("phone"):
        store_phone(v, clean["phone"])
    v.full_clean()
    v.save()
    changes = _diff(before, _volunteer_snapshot(v))
    if "skills" in clean:
        old = sorted(v.skills.values_list("name", flat=True))
        new = sorted(s.name for s in clean["skills"])
        if old != new:
            v.skills.set(clean["skills"])
            changes["skills"] = [old, new]
    if changes:
        change_record(obj=v, action="update", changes=changes, by=by, region=v.region)
    return v


@transaction.atomic
def volunteer_decide(*, by, volunteer: Volunteer, action: str, reason: str = "") -> Volunteer:
    """Approve or reject a registration (or let a rejected one apply again). A rejection says why."""
    v = Volunteer.objects.restrict(by, "approve").select_related("region").select_for_update(of=("self",)).get(pk=volunteer.pk)
    if action not in VOLUNTEER_STATUS.actions:
        raise ValidationError({"action": _("请选择审核结果")})
    reason = " ".join(str(reason or "").split())
    if action == "reject" and not reason:
        raise ValidationError({"reason": _("审核不通过时请填写原因，例如“年龄不符合要求”")})
    if len(reason) > 120:
        raise ValidationError({"reason": _("审核意见最多 120 个字，请简要填写")})
    refuse_invisible_characters(reason)
    v.status_reason = reason if action == "reject" else ""
    VOLUNTEER_STATUS.move(v, action, by=by, reason=reason, update_fields=["status_reason"], region=v.region)
    return v


# --- certificate reminders (periodic) ------------------------------------------------------------


def certificate_reminders_send(*, today=None) -> dict:
    """Tell each organisation's users which of their staff's certificates expire within
    CERTIFICATE_EXPIRY_DAYS (through core.notify). The message names the caregiver, the
    certificate kind and the date; never a number. Run daily by jobs/schedule.py."""
    from accounts.selectors import organisation_user_ids
    from core.notify import notify

    today = today or timezone.localdate()
    until = today + datetime.timedelta(days=settings.CERTIFICATE_EXPIRY_DAYS)
    rows = (
        Certificate.objects.filter(expires_on__gte=today, expires_on__lte=until, caregiver__status="active")
        .select_related("caregiver__organisation", "kind")
        .order_by("caregiver__organisation_id", "expires_on", "id")
    )
    by_org: dict[int, list] = {}
    orgs = {}
    for cert in rows:
        org = cert.caregiver.organisation
        orgs[org.pk] = org
        by_org.setdefault(org.pk, []).append(cert)
    sent = 0
    for org_id, certs in by_org.items():
        users = organisation_user_ids(organisation_id=org_id, roles=("provider",))
        if not users:
            continue
        lines = [f"{c.caregiver.name}：{c.kind.name}，{c.expires_on.isoformat()} 到期" for c in certs]
        notify(
            users,
            subject=_("%(org)s：%(n)d 张证书将在 %(days)d 天内到期")
            % {"org": orgs[org_id].name, "n": len(certs), "days": settings.CERTIFICATE_EXPIRY_DAYS},
            body="\n".join(lines),
        )
        sent += 1
    log.info("certificate reminders: %d organisations, %d certificates", sent, sum(len(c) for c in by_org.values()))
    return {"organisations": sent, "certificates": sum(len(c) for c in by_org.values())}


# --- Excel jobs ----------------------------------------------------------------------------------

_IMPORT_MODELS = {"caregiver": Caregiver, "volunteer": Volunteer}


def _job_region(by):
    """Where a job of `by` is recorded: their region, or their organisation's (no region)."""
    if by.region is not None:
        return by.region
    if by.organisation_id:
        return Organisation.objects.select_related("region").get(pk=by.organisation_id).region
    return None


def provider_import_start(*, by, what: str, upload, dry_run: bool, skip_invalid: bool):
    """Start an import of staff or volunteers from `upload` as a background job."""
    from core.access import check
    from elders.services import import_upload_refusal
    from jobs.services import job_create, job_enqueue
    from providers.jobs import CAREGIVER_IMPORT, VOLUNTEER_IMPORT
    from providers.tasks import provider_import_task

    check(by, "import", _IMPORT_MODELS[what])
    if message := import_upload_refusal(upload):
        raise ValidationError({"file": message})
    kind = CAREGIVER_IMPORT if what == "caregiver" else VOLUNTEER_IMPORT
    params = {"what": what, "dry_run": dry_run, "skip_invalid": skip_invalid}
    job = job_create(by=by, kind=kind, params=params, upload=upload, input_name=upload.name, region=_job_region(by))
    job_enqueue(job, provider_import_task)
    return job


def provider_import_confirm(*, by, dry_run_job, skip_invalid: bool):
    """After a dry run: the same file for real, as a new job."""
    from core.access import check
    from jobs.services import job_create_on_file_of, job_enqueue
    from providers.jobs import CAREGIVER_IMPORT, VOLUNTEER_IMPORT
    from providers.tasks import provider_import_task

    what = dry_run_job.params.get("what")
    if dry_run_job.kind not in (CAREGIVER_IMPORT, VOLUNTEER_IMPORT) or what not in _IMPORT_MODELS:
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    check(by, "import", _IMPORT_MODELS[what])
    if not dry_run_job.input_file:
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    job = job_create_on_file_of(job=dry_run_job, by=by, params={"what": what, "dry_run": False, "skip_invalid": skip_invalid})
    job_enqueue(job, provider_import_task)
    return job


def provider_export_start(*, by, what: str):
    """Export the user's staff or volunteers (masked numbers) as a background job."""
    from core.access import check
    from jobs.services import job_create, job_enqueue
    from providers.jobs import CAREGIVER_EXPORT, VOLUNTEER_EXPORT
    from providers.tasks import provider_export_task

    check(by, "export", _IMPORT_MODELS[what])
    kind = CAREGIVER_EXPORT if what == "caregiver" else VOLUNTEER_EXPORT
    job = job_create(by=by, kind=kind, params={"what": what}, region=_job_region(by))
    job_enqueue(job, provider_export_task)
    return job


# --- bulk (a generated city) ---------------------------------------------------------------------


def organisation_bulk_create(*, rows: list[dict]) -> list[int]:
    """Organisations from clean values (`region_id` set), in batches; no history per row (the
    caller records the batch). For devdata.generate_city."""
    made = Organisation.objects.bulk_create([Organisation(**row) for row in rows], batch_size=1000)
    return [o.pk for o in made]


def caregiver_bulk_create(*, rows: list[dict], by=None) -> list[int]:
    """Staff from clean values (`organisation_id`, and `id_number` / `phone` as plain numbers
    that the setters encrypt, hash and mask, as caregiver_create does), in batches."""
    objects = []
    for row in rows:
        row = dict(row)
        number, phone = row.pop("id_number", ""), row.pop("phone", "")
        caregiver = Caregiver(created_by=by, **row)
        if number:
            store_id_number(caregiver, number)
        if phone:
            store_phone(caregiver, phone)
        objects.append(caregiver)
    made = Caregiver.objects.bulk_create(objects, batch_size=1000)
    return [c.pk for c in made]


def certificate_bulk_create(*, rows: list[dict]) -> int:
    return len(Certificate.objects.bulk_create([Certificate(**row) for row in rows], batch_size=1000))


# --- absences (leave, sick days, training): dispatch does not offer the caregiver then ----------

ABSENCE_MAX_DAYS = 366


def clean_absence(data: dict) -> dict:
    from providers.models import Absence

    errors: dict = {}
    clean = {
        "starts_on": _date(data, errors, "starts_on", _("开始日期")),
        "ends_on": _date(data, errors, "ends_on", _("结束日期")),
        "reason": _choice(data, errors, "reason", _("原因"), Absence.Reason, default=Absence.Reason.LEAVE),
        "note": _text(data, errors, "note", _("说明"), max_length=120),
    }
    if clean["starts_on"] is None and "starts_on" not in errors:
        errors["starts_on"] = _("请填写开始日期")
    if clean["ends_on"] is None and "ends_on" not in errors:
        clean["ends_on"] = clean["starts_on"]  # one day
    start, end = clean["starts_on"], clean["ends_on"]
    if start and end:
        if end < start:
            errors["ends_on"] = _("结束日期不能早于开始日期")
        elif (end - start).days >= ABSENCE_MAX_DAYS:
            errors["ends_on"] = _("一次请假最长 %(n)d 天，更长的请分段登记") % {"n": ABSENCE_MAX_DAYS}
    _raise(errors)
    return clean


def _absence_snapshot(a) -> dict:
    return {
        "starts_on": a.starts_on.isoformat(),
        "ends_on": a.ends_on.isoformat(),
        "reason": a.reason,
        "note": a.note,
    }


@transaction.atomic
def absence_create(*, by, caregiver: Caregiver, data: dict):
    """Record a caregiver's leave (请假、病假、培训): dispatch leaves them out over those days.
    Refuses a period overlapping one already recorded (change that one instead)."""
    from providers.models import Absence

    c = Caregiver.objects.restrict(by, "change").select_related("organisation__region").get(pk=caregiver.pk)
    clean = clean_absence(data)
    overlap = (
        Absence.objects.filter(caregiver=c, starts_on__lte=clean["ends_on"], ends_on__gte=clean["starts_on"])
        .order_by("starts_on")
        .first()
    )
    if overlap is not None:
        raise ValidationError(
            {
                "starts_on": _("与已登记的%(a)s至%(b)s的请假重叠，请先删除那条或调整日期")
                % {"a": overlap.starts_on.isoformat(), "b": overlap.ends_on.isoformat()}
            }
        )
    absence = Absence(caregiver=c, **clean)
    absence.full_clean()
    absence.save()
    change_record(
        obj=c, action="absence_add", changes={"absence": [None, _absence_snapshot(absence)]}, by=by, region=c.organisation.region
    )
    return absence


@transaction.atomic
def absence_delete(*, by, absence) -> None:
    """Remove a recorded absence (entered by mistake, or the leave was cancelled)."""
    from providers.models import Absence

    found = Absence.objects.select_related("caregiver__organisation__region").get(
        pk=absence.pk, caregiver__in=Caregiver.objects.restrict(by, "change")
    )
    change_record(
        obj=found.caregiver,
        action="absence_delete",
        changes={"absence": [_absence_snapshot(found), None]},
        by=by,
        region=found.caregiver.organisation.region,
    )
    found.delete()
