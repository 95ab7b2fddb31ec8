"""Cleaning what a person typed (the form, the API, an Excel row) into merchant fields: one
function for every door, every problem collected and keyed by field, in Chinese."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.geo import clean_point
from core.phones import normalize_phone
from core.text import refuse_invisible_characters
from merchants.hours import parse_week
from merchants.models import DISCOUNT_MAX_TENTHS, DISCOUNT_MIN_TENTHS, AgreementStatus, Kind, Merchant

TEXT_FIELDS = {"name": 80, "address": 255, "contact_name": 32, "agreement_no": 40, "goods": 2000, "notes": 2000}
DATE_FIELDS = ("signed_on", "period_start", "period_end")
_KIND_ALIASES = {
    "卫生服务站": Kind.CLINIC,
    "社区卫生服务站": Kind.CLINIC,
    "诊所": Kind.CLINIC,
    "卫生室": Kind.CLINIC,
    "医疗": Kind.CLINIC,
    "药房": Kind.PHARMACY,
    "餐饮": Kind.CANTEEN,
    "快餐店": Kind.CANTEEN,
    "老年食堂": Kind.CANTEEN,
    "助餐点": Kind.CANTEEN,
    "小超市": Kind.SUPERMARKET,
    "便利店": Kind.SUPERMARKET,
    "理发店": Kind.BARBER,
    "家电维修中心": Kind.APPLIANCE,
    "维修": Kind.APPLIANCE,
    "开锁": Kind.LOCKSMITH,
    "修配锁": Kind.LOCKSMITH,
    "锁匠": Kind.LOCKSMITH,
    "家政公司": Kind.HOUSEKEEPING,
    "服务站": Kind.STATION,
    "日间照料中心": Kind.STATION,
    "居家养老服务站": Kind.STATION,
}
_STATUS_ALIASES = {
    "生效": "active",
    "有效": "active",
    "到期": "expired",
    "已到期": "expired",
    "终止": "terminated",
    "已终止": "terminated",
}


def label(field: str) -> str:
    if field == "discount":
        return _("优惠幅度")
    return str(Merchant._meta.get_field(field).verbose_name)


def clean_kind(value) -> str:
    text = str(value or "").strip()
    for code, name in Kind.choices:
        if text in (code, str(name)):
            return code
    if text in _KIND_ALIASES:
        return _KIND_ALIASES[text]
    for code, name in Kind.choices:  # 诊所/卫生服务站: either half
        if text and text in str(name).split("/"):
            return code
    raise ValidationError(
        _("类型“%(v)s”不在可选范围内，请填写：%(c)s") % {"v": text[:20] or "—", "c": "、".join(str(n) for _c, n in Kind.choices)}
    )


def clean_discount(value) -> int | None:
    """'7.5', '7.5%', 7.5 -> 75 tenths; '' -> None. 5–10 % (000); a clear error otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip().replace("％", "%").rstrip("%").strip()
    if isinstance(value, bool) or not re.fullmatch(r"\d{1,3}(\.\d+)?", text):
        raise ValidationError(
            _("优惠幅度“%(v)s”不是数字，请填写 5 到 10 之间的百分数，例如 8 表示优惠 8%%") % {"v": str(value)[:20]}
        )
    tenths = round(float(text) * 10)
    if abs(float(text) * 10 - tenths) > 1e-6:
        raise ValidationError(_("优惠幅度最多保留一位小数（例如 7.5），现在是 %(v)s") % {"v": text})
    if not DISCOUNT_MIN_TENTHS <= tenths <= DISCOUNT_MAX_TENTHS:
        raise ValidationError(
            _("优惠幅度应在 %(lo)d%% 到 %(hi)d%% 之间（为老服务协议约定），现在是 %(v)s%%；没有优惠请留空")
            % {"lo": DISCOUNT_MIN_TENTHS // 10, "hi": DISCOUNT_MAX_TENTHS // 10, "v": text}
        )
    return tenths


def clean_date(value, field: str):
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = str(value).strip().replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        return datetime.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise ValidationError(_("%(f)s“%(v)s”不是日期，请写成 2025-01-31") % {"f": label(field), "v": str(value)[:20]}) from None


def clean_status(value) -> str:
    text = str(value or "").strip()
    if text in AgreementStatus.values:
        return text
    for code, name in AgreementStatus.choices:
        if text == str(name):
            return code
    if text in _STATUS_ALIASES:
        return _STATUS_ALIASES[text]
    raise ValidationError(_("协议状态“%(v)s”应为：有效、已到期、已终止") % {"v": text[:20]})


def clean_merchant_input(data: dict, *, partial: bool = False) -> dict:
    """Clean values for the keys present in `data` (all required ones when not partial);
    raises one ValidationError naming every bad field."""
    out: dict = {}
    errors: dict[str, list[str]] = {}

    def attempt(field, fn, *args):
        try:
            return fn(*args)
        except ValidationError as exc:
            errors.setdefault(field, []).extend(exc.messages)
            return None

    for field, limit in TEXT_FIELDS.items():
        if field in data:
            value = str(data[field] or "").strip()
            if len(value) > limit:
                errors.setdefault(field, []).append(_("%(f)s不能超过%(n)d个字") % {"f": label(field), "n": limit})
            elif attempt(field, refuse_invisible_characters, value) is not None:
                out[field] = value
    if not partial or "name" in data:
        if not out.get("name") and "name" not in errors:
            errors.setdefault("name", []).append(_("请填写网点名称"))
    if "kind" in data or not partial:
        value = attempt("kind", clean_kind, data.get("kind"))
        if value is not None:
            out["kind"] = value
    if "status" in data and data.get("status") not in (None, ""):
        value = attempt("status", clean_status, data["status"])
        if value is not None:
            out["status"] = value
    if "discount" in data:
        value = attempt("discount", clean_discount, data["discount"])
        if "discount" not in errors:
            out["discount_tenths"] = value
    if "phone" in data:
        raw = str(data.get("phone") or "").strip()
        value = attempt("phone", normalize_phone, raw) if raw else ""
        if value is not None:
            out["phone"] = value
    for field in DATE_FIELDS:
        if field in data:
            value = attempt(field, clean_date, data[field], field)
            if field not in errors:
                out[field] = value
    start, end = out.get("period_start"), out.get("period_end")
    if start and end and end < start:
        errors.setdefault("period_end", []).append(_("协议结束日期不能早于开始日期"))
    if "lat" in data or "lng" in data:
        try:
            out["lat"], out["lng"] = clean_point(
                data.get("lat"),
                data.get("lng"),
                lat_label=label("lat"),
                lng_label=label("lng"),
                lat_field="lat",
                lng_field="lng",
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                errors.setdefault(key, []).extend(msgs)
    if "opening_hours" in data:
        hours = data["opening_hours"]
        if isinstance(hours, dict):
            hours = [hours.get(str(i), "") for i in range(7)]
            hours = [", ".join(f"{a}-{b}" for a, b in h) if isinstance(h, list) else h for h in hours]
        value = attempt("opening_hours", parse_week, list(hours or []))
        if value is not None:
            out["opening_hours"] = value
    if "items" in data:
        ids = []
        for raw in data.get("items") or []:
            try:
                ids.append(int(raw))
            except (TypeError, ValueError):
                errors.setdefault("items", []).append(_("服务项目“%(v)s”无效") % {"v": str(raw)[:20]})
        out["items"] = sorted(set(ids))
    if errors:
        raise ValidationError(errors)
    return out
