"""Cleaning what a person typed (a form, the API or an Excel row) into elder fields.

One function for every door into the register, so a rule is written once. It collects
every problem before raising, keyed by field, each message saying what to fix.
"""

import datetime
import math
import unicodedata
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.geo import clean_point
from core.idnumbers import parse_id_number
from core.phones import normalize_phone
from core.text import refuse_invisible_characters
from elders import models as m
from elders.categories import years_before

CHOICE_FIELDS = {
    "sex": m.Sex,
    "hukou": m.Hukou,
    "living_arrangement": m.LivingArrangement,
    "marital_status": m.MaritalStatus,
    "income_level": m.IncomeLevel,
    "pension_type": m.PensionType,
    "disability_grade": m.DisabilityGrade,
    "ability_level": m.AbilityLevel,
    "care_preference": m.CarePreference,
}
# Other ways people write the same choice in real sheets.
CHOICE_ALIASES = {
    "sex": {"男性": "M", "女性": "F", "male": "M", "female": "F"},
    "hukou": {"城市": "urban", "非农业": "urban", "农业": "rural", "城镇户籍": "urban", "农村户籍": "rural"},
    "living_arrangement": {
        "独自居住": "alone",
        "与老伴同住": "spouse",
        "夫妻同住": "spouse",
        "与子女居住": "children",
        "养老机构": "institution",
    },
    "marital_status": {
        "已婚": "married",
        "有配偶": "married",
        "丧偶": "widowed",
        "离婚": "divorced",
        "离异": "divorced",
        "未婚": "unmarried",
    },
    "disability_grade": {"1": "1", "2": "2", "3": "3", "4": "4", "一级": "1", "二级": "2", "三级": "3", "四级": "4"},
    "ability_level": {"自理": "intact", "半失能": "moderate", "失能": "severe", "能力完好": "intact"},
}
BOOL_FIELDS = [
    "children_away",
    "is_dibao",
    "is_tekun",
    "is_party_member",
    "is_retired_cadre",
    "is_veteran_family",
    "is_model_worker",
    "is_family_planning_special",
]
TEXT_FIELDS = {"address": 255, "chronic_illnesses": 255, "interests": 255, "family_situation": 4000, "notes": 4000}
# Plausibility. The oldest person ever verified reached 122 (1875–1997) and nobody alive has
# been born more than ~118 years ago, so a birth date over MAX_AGE years back is a typing
# error (1800-01-01, 1924 typed as 1824). The rule moves with the calendar, unlike a fixed
# year such as 1900, and never refuses a living person.
MAX_AGE = 120
# Emergency contacts one elder may have: a family and its neighbours, not a phone book.
MAX_CONTACTS = 10
_TRUE = {"1", "true", "yes", "是", "有", "√", "y"}
_FALSE = {"", "0", "false", "no", "否", "无", "n", "×"}


def field_label(name: str) -> str:
    try:
        return str(m.Elder._meta.get_field(name).verbose_name)
    except Exception:
        return {
            "id_number": _("身份证号"),
            "phone": _("联系电话"),
            "region": _("所属社区/网格"),
            "contacts": _("紧急联系人"),
        }.get(name, name)


def text(value) -> str:
    """NFKC (full-width to half-width), trimmed, inner runs of white space folded."""
    if value is None:
        return ""
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


def clean_name(value) -> str:
    name = refuse_invisible_characters(text(value))
    if name and all(not ch.isascii() or ch == " " for ch in name):
        name = name.replace(" ", "")  # "冷 国兴" is 冷国兴; spaces in Chinese names are typing noise
    if not name:
        raise ValidationError(_("请填写姓名"))
    if len(name) > 32:
        raise ValidationError(_("姓名不能超过32个字"))
    if any(ch.isdigit() for ch in name):
        raise ValidationError(_("姓名里不能有数字，请核对"))
    return name


@lru_cache(maxsize=64)
def _choice_map(field: str, language: str) -> dict[str, str]:
    """Every way a choice may be written -> its code: the code, the Chinese label, the label in
    the current language, the aliases of real sheets. Built once per field and language."""
    choices = CHOICE_FIELDS[field]
    mapping = {value: value for value in choices.values}
    with translation.override("zh-hans"):
        mapping.update({str(label): value for value, label in choices.choices})
    mapping.update({str(label): value for value, label in choices.choices})
    for alias, value in CHOICE_ALIASES.get(field, {}).items():
        mapping.setdefault(alias, value)
        mapping.setdefault(alias.lower(), value)
    return mapping


def clean_choice(field: str, value, language: str | None = None) -> str:
    raw = text(value)
    if not raw:
        return ""
    mapping = _choice_map(field, language if language is not None else translation.get_language() or "")
    found = mapping.get(raw) or mapping.get(raw.lower())
    if found:
        return found
    options = "、".join(str(label) for _v, label in CHOICE_FIELDS[field].choices)
    raise ValidationError(_("“%(v)s”不是有效选项，可选：%(o)s") % {"v": raw, "o": options})


_RELATIONS = frozenset(m.EmergencyContact.Relation.values)


@lru_cache(maxsize=8)
def _relation_map(language: str) -> dict[str, str]:
    with translation.override("zh-hans"):
        mapping = {str(lbl): val for val, lbl in m.EmergencyContact.Relation.choices}
    mapping.update({str(lbl): val for val, lbl in m.EmergencyContact.Relation.choices})
    mapping.update({"儿子": "child", "女儿": "child", "老伴": "spouse", "丈夫": "spouse", "妻子": "spouse"})
    return mapping


def clean_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationError(_("请填写“是”或“否”"))


def clean_children_count(value) -> int:
    """0 to 20; "3.0" as a spreadsheet writes it is 3; inf, 1e999, nan and 2.5 are refused."""
    raw = text(value) or "0"
    try:
        number = float(raw)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number != int(number) or not 0 <= number <= 20:
        raise ValidationError(_("子女数应为0到20之间的整数"))
    return int(number)


def clean_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    raw = text(value).replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return datetime.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationError(_("日期格式应为 1949-10-01"))


def clean_elder_input(data: dict, *, partial: bool = False, today: datetime.date | None = None) -> dict:
    """Return clean field values for the keys present in `data`; raise one ValidationError
    naming every bad field. With partial=False the record must be complete."""
    today = today or timezone.localdate()
    language = translation.get_language() or ""  # once: it is a thread-local lookup
    out: dict = {}
    errors: dict[str, list[str]] = {}

    def attempt(field, fn, *args):
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            return None

    if "name" in data or not partial:
        out["name"] = attempt("name", clean_name, data.get("name"))

    if "id_number" in data or not partial:
        raw_id = text(data.get("id_number"))
        if raw_id:
            info = attempt("id_number", parse_id_number, raw_id, today)
            if info:
                out["id_number"] = info.number
                out["sex"], out["birth_date"] = info.sex, info.birth_date
        else:
            out["id_number"] = ""

    # Sex and birth date come from the ID number; typed only for a person without one.
    for field, fn in (("sex", lambda v: clean_choice("sex", v, language)), ("birth_date", clean_date)):
        if field in data and data.get(field) not in (None, ""):
            value = attempt(field, fn, data[field])
            if value is None:
                continue
            if field in out and out[field] != value:
                errors.setdefault(field, []).append(_("与身份证号不一致（身份证号显示为 %(v)s），请核对") % {"v": out[field]})
            out.setdefault(field, value)
    if not partial and out.get("id_number") == "" and "id_number" not in errors:
        for field in ("sex", "birth_date"):
            if not out.get(field) and field not in errors:
                errors.setdefault(field, []).append(_("没有身份证号时，请填写%(f)s") % {"f": field_label(field)})

    birth = out.get("birth_date")
    if birth:
        if birth > today:
            errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天"))
        elif birth < years_before(today, MAX_AGE):
            target = "id_number" if out.get("id_number") else "birth_date"
            errors.setdefault(target, []).append(
                _("出生日期 %(d)s 距今超过%(max)d年，不可能是在世的老人，请核对出生年份")
                % {"d": birth.isoformat(), "max": MAX_AGE}
            )
        elif birth > years_before(today, settings.REGISTRY_MIN_AGE):
            age = m.age_on(birth, today)
            target = "id_number" if out.get("id_number") else "birth_date"
            errors.setdefault(target, []).append(
                _("未满%(min)d周岁（现年%(age)d岁），不能登记入老年人信息库") % {"min": settings.REGISTRY_MIN_AGE, "age": age}
            )

    if "phone" in data:
        out["phone"] = attempt("phone", normalize_phone, data.get("phone")) if text(data.get("phone")) else ""
        if out["phone"] is None:
            out.pop("phone")

    for field in CHOICE_FIELDS:
        if field in ("sex",):
            continue
        if field in data:
            value = attempt(field, clean_choice, field, data[field], language)
            if value is not None:
                out[field] = value
    for field in BOOL_FIELDS:
        if field in data:
            value = attempt(field, clean_bool, data[field])
            if value is not None:
                out[field] = value
    for field, limit in TEXT_FIELDS.items():
        if field in data:
            value = text(data[field]) if field not in ("family_situation", "notes") else str(data[field] or "").strip()
            if len(value) > limit:
                errors.setdefault(field, []).append(_("不能超过%(n)d个字") % {"n": limit})
            elif attempt(field, refuse_invisible_characters, value) is not None:
                out[field] = value
    if "children_count" in data:
        out_count = attempt("children_count", clean_children_count, data["children_count"])
        if out_count is not None:
            out["children_count"] = out_count

    if "home_lat" in data or "home_lng" in data:
        try:
            out["home_lat"], out["home_lng"] = clean_point(
                data.get("home_lat"),
                data.get("home_lng"),
                lat_label=field_label("home_lat"),
                lng_label=field_label("home_lng"),
                lat_field="home_lat",
                lng_field="home_lng",
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                errors.setdefault(key, []).extend(msgs)

    if "contacts" in data:
        contacts = []
        items = data.get("contacts") or []
        if len(items) > MAX_CONTACTS:
            errors.setdefault("contacts", []).append(
                _("紧急联系人最多%(max)d位，现在有%(n)d位，请只留下最常联系的") % {"max": MAX_CONTACTS, "n": len(items)}
            )
            items = []
        for i, item in enumerate(items):
            name = text(item.get("name"))
            phone_raw = text(item.get("phone"))
            if not name and not phone_raw:
                continue

            def label(i=i):
                return _("紧急联系人%(i)d") % {"i": i + 1}

            if not name:
                errors.setdefault("contacts", []).append(_("%(c)s：请填写姓名") % {"c": label()})
                continue
            try:
                refuse_invisible_characters(name)
            except ValidationError as exc:
                errors.setdefault("contacts", []).append(f"{label()}:{exc.messages[0]}")
                continue
            try:
                phone = normalize_phone(phone_raw) if phone_raw else ""
            except ValidationError as exc:
                errors.setdefault("contacts", []).append(f"{label()}:{exc.messages[0]}")
                continue
            relation = text(item.get("relation")) or "child"
            relation = _relation_map(language).get(relation, relation)
            if relation not in _RELATIONS:
                relation = m.EmergencyContact.Relation.OTHER
            contacts.append({"name": name[:32], "phone": phone, "relation": relation, "is_primary": not contacts})
        out["contacts"] = contacts

    if errors:
        raise ValidationError(errors)
    return out
