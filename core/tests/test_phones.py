"""Phone numbers: mobiles and landlines as people write them, one stored form."""

import pytest
from django.core.exceptions import ValidationError

from core.phones import mask_phone, normalize_phone


@pytest.mark.parametrize(
    "raw",
    ["13812345678", "+86 138-1234-5678", "+8613812345678", "0086 138 1234 5678", "138 1234 5678", "１３８１２３４５６７８"],
)
def test_normalize_reduces_a_mobile_to_its_11_digits(raw):
    assert normalize_phone(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["0531-88881234", "(0531)8888-1234", "053188881234", "0531 8888 1234", "+86 531 8888 1234"])
def test_normalize_writes_a_landline_as_area_code_dash_number(raw):
    assert normalize_phone(raw) == "0531-88881234"


def test_normalize_keeps_a_two_digit_area_code():
    assert normalize_phone("01012345678") == "010-12345678"


def test_normalize_refuses_a_landline_without_area_code_and_says_to_add_it():
    with pytest.raises(ValidationError) as exc_info:
        normalize_phone("88881234")

    assert exc_info.value.error_list[0].code == "area_code"
    assert "区号" in exc_info.value.messages[0]


def test_normalize_refuses_a_short_number():
    with pytest.raises(ValidationError) as exc_info:
        normalize_phone("12345")

    assert exc_info.value.error_list[0].code == "invalid"


def test_normalize_refuses_a_foreign_number():
    with pytest.raises(ValidationError):
        normalize_phone("+1 650 253 0000")


def test_normalize_of_nothing_is_nothing():
    assert normalize_phone("  ") == ""


def test_mask_hides_the_middle_of_a_mobile():
    assert mask_phone("13812345678") == "138****5678"


def test_mask_keeps_area_code_and_last_four_of_a_landline():
    assert mask_phone("0531-88881234") == "0531-****1234"
