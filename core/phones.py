"""Phone numbers: mobile and landline, normalised with Google's phonenumbers (region CN)."""

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_NOISE = re.compile(r"[\s\-()（）.]")
_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")


def normalize_phone(raw: str) -> str:
    """'+86 138-1234-5678' -> '13812345678'; '(0531)8888-1234' -> '0531-88881234'."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        return ""
    # Fast path for the common case, a mobile number with some punctuation (an import of a
    # million rows spends most of its time here otherwise); everything else goes to phonenumbers.
    match = _MOBILE.match(_NOISE.sub("", text))
    if match:
        return match.group(1)
    return _normalize_slow(text)


@lru_cache(maxsize=4096)
def _normalize_slow(text: str) -> str:
    try:
        parsed = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        digits = "".join(ch for ch in text if ch.isdigit())
        if 7 <= len(digits) <= 8 and not digits.startswith("1"):
            raise ValidationError(_("固定电话请加区号，例如 0531-88881234"), code="area_code")
        raise ValidationError(
            _("电话号码无效：手机号为11位（如13812345678），固定电话需带区号（如0531-88881234）"), code="invalid"
        )
    national = str(parsed.national_number)
    kind = phonenumbers.number_type(parsed)
    if (
        kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
        and len(national) == 11
        and national.startswith("1")
    ):
        return national
    area_len = phonenumbers.length_of_geographical_area_code(parsed) or 2
    return f"0{national[:area_len]}-{national[area_len:]}"


def mask_phone(phone: str) -> str:
    """138****5678 for mobiles, 0531-****1234 for landlines."""
    if not phone:
        return ""
    if "-" in phone:
        area, local = phone.split("-", 1)
        return f"{area}-{'*' * max(len(local) - 4, 0)}{local[-4:]}"
    if len(phone) <= 4:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def store_phone(obj, phone: str) -> None:
    """The one way a phone number is kept at rest: `phone_enc` and `phone_masked`, and where the
    model has them `phone_hash` (HMAC, for lookups) and `phone_tail` (last four digits)."""
    from core import crypto

    obj.phone_enc = crypto.encrypt(phone)
    obj.phone_masked = mask_phone(phone)
    if hasattr(obj, "phone_hash"):
        obj.phone_hash = crypto.lookup_hash(phone)
    if hasattr(obj, "phone_tail"):
        obj.phone_tail = "".join(ch for ch in phone if ch.isdigit())[-4:]
