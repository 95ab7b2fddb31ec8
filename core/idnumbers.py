"""Resident ID numbers (GB 11643) — normalising and validating what people type or paste.

python-stdnum does the arithmetic (check digit, birth date). Its `validate()` also refuses a
number whose area code was created after the holder's birth year; ID numbers were issued
from 1984 on with the code of the issuing place, so for elders that check refuses most
real people. We check only the province part of the area code.
"""

import datetime
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

# GB/T 2260 province-level codes, plus 81/82/83 (residence permits of Hong Kong, Macao, Taiwan).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
_SEPARATORS = " \t\u3000-_.·"


@dataclass(frozen=True)
class IdInfo:
    number: str  # 18 characters, upper-case X
    birth_date: datetime.date
    sex: str  # "M" or "F": the 17th digit is odd for men


def clean_id_number(raw: str) -> str:
    """Full-width to half-width, separators and spaces out, x upper-case."""
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if ch not in _SEPARATORS).upper()


def parse_id_number(raw: str, today: datetime.date | None = None) -> IdInfo:
    """Return the normalised 18-digit number with its birth date and sex, or raise."""
    number = clean_id_number(raw)
    if not number:
        raise ValidationError(_("请填写身份证号"), code="required")
    if len(number) == 15:
        if not number.isdigit():
            raise ValidationError(_("15位旧身份证号只能包含数字"), code="format")
        body = number[:6] + "19" + number[6:]
        number = body + check_digit(body)
    elif len(number) != 18:
        raise ValidationError(_("身份证号应为18位（或15位旧号码），现在是%(n)d位，请核对") % {"n": len(number)}, code="length")
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("身份证号只能包含数字，最后一位可以是X"), code="format")
    if number[:2] not in PROVINCE_CODES:
        raise ValidationError(_("身份证号前两位不是有效的省级行政区代码，请核对"), code="area")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号第7–14位不是有效的出生日期，请核对"), code="birth_date") from None
    if birth > (today or timezone.localdate()) or birth.year < 1880:
        raise ValidationError(_("身份证号第7–14位不是有效的出生日期，请核对"), code="birth_date")
    if check_digit(number[:17]) != number[17]:
        raise ValidationError(_("身份证号校验位不正确，请核对第18位"), code="checksum")
    return IdInfo(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")


def check_digit(body: str) -> str:
    """The 18th character for the first 17 digits (GB 11643, ISO 7064 MOD 11-2)."""
    # stdnum's calc_check_digit expects the whole number, check digit included, and drops
    # the last character; given only the 17 digits it would silently ignore the 17th.
    return ric.calc_check_digit(body + "0")


def mask_id_number(number: str) -> str:
    """*****************X: only the check character stays (issue 8).

    The old mask (area code and last four, 110105********002X) hid just the birth date, which
    pages showed beside it: the pair was the whole number. With only the last character shown,
    and age instead of birth date, a reader without the reveal permission is left with at least
    10,000 valid numbers even knowing the area code (elders/tests/test_masking.py counts them).
    """
    if not number:
        return ""
    return "*" * (len(number) - 1) + number[-1]


def make_id_number(area: str, birth: datetime.date, sequence: int) -> str:
    """A valid 18-digit number (synthetic data and tests): area + birth + 3-digit sequence + check."""
    body = f"{area}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + check_digit(body)


def store_id_number(obj, number: str) -> None:
    """The one way an ID number is kept at rest, for any model with the three columns
    `id_number_enc` (AES-GCM), `id_number_hash` (HMAC, for lookups) and `id_number_masked`."""
    from core import crypto

    obj.id_number_enc = crypto.encrypt(number)
    obj.id_number_hash = crypto.lookup_hash(number)
    obj.id_number_masked = mask_id_number(number)
