"""Resident ID numbers (GB 11643): what people type is cleaned, checked and read."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from core.idnumbers import clean_id_number, make_id_number, mask_id_number, parse_id_number

# The example number of GB 11643-1999 itself (a woman born 31 December 1949 in 朝阳区, 北京).
STANDARD_EXAMPLE = "11010519491231002X"


def codes_of(exc_info) -> list[str]:
    return [e.code for e in exc_info.value.error_list]


def test_parse_accepts_the_standard_example_number():
    info = parse_id_number(STANDARD_EXAMPLE)

    assert info.number == STANDARD_EXAMPLE
    assert info.birth_date == datetime.date(1949, 12, 31)


def test_parse_agrees_with_stdnum_on_the_check_digit():
    # stdnum.validate is the reference for the arithmetic (its area check aside).
    assert ric.is_valid("360426199101010071")
    assert parse_id_number("360426199101010071").number == "360426199101010071"


def test_parse_refuses_a_wrong_check_digit_naming_the_18th_character():
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number("110105194912310021")

    assert codes_of(exc_info) == ["checksum"]
    assert "第18位" in exc_info.value.messages[0]


def test_parse_upper_cases_a_lower_case_x():
    assert parse_id_number("11010519491231002x").number == STANDARD_EXAMPLE


def test_parse_reads_full_width_digits_and_letters():
    assert parse_id_number("１１０１０５１９４９１２３１００２Ｘ").number == STANDARD_EXAMPLE


def test_parse_ignores_spaces_ideographic_spaces_and_dashes():
    assert parse_id_number(" 110105 1949\u30001231-002X ").number == STANDARD_EXAMPLE


def test_parse_converts_a_15_digit_number_to_18_digits_with_its_check_digit():
    info = parse_id_number("110105491231002")

    assert info.number == STANDARD_EXAMPLE
    assert info.birth_date == datetime.date(1949, 12, 31)


def test_parse_refuses_a_15_digit_number_with_a_letter():
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number("11010549123100X")

    assert codes_of(exc_info) == ["format"]


def test_parse_accepts_an_area_code_created_after_the_holders_birth_year():
    # 371402 (德州市德城区) dates from 1994; a man born there in 1950 keeps that code on his
    # card, which stdnum's full validate() refuses. The registry must accept him.
    number = make_id_number("371402", datetime.date(1950, 3, 4), 123)
    assert not ric.is_valid(number)

    info = parse_id_number(number)

    assert info.number == number
    assert info.birth_date == datetime.date(1950, 3, 4)


def test_parse_refuses_an_unknown_province_code():
    number = make_id_number("990105", datetime.date(1950, 3, 4), 123)

    with pytest.raises(ValidationError) as exc_info:
        parse_id_number(number)

    assert codes_of(exc_info) == ["area"]


def test_parse_refuses_an_impossible_birth_date():
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number("110105194902300021")

    assert codes_of(exc_info) == ["birth_date"]


def test_parse_refuses_a_birth_date_in_the_future():
    future = datetime.date.today() + datetime.timedelta(days=400)
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number(make_id_number("110105", future, 1))

    assert codes_of(exc_info) == ["birth_date"]


def test_parse_refuses_a_17_digit_number_saying_how_many_digits_it_has():
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number("11010519491231002")

    assert codes_of(exc_info) == ["length"]
    assert "17" in exc_info.value.messages[0]


def test_parse_refuses_an_empty_value():
    with pytest.raises(ValidationError) as exc_info:
        parse_id_number("  ")

    assert codes_of(exc_info) == ["required"]


def test_parse_reads_sex_from_the_17th_digit_odd_for_men():
    man = make_id_number("110105", datetime.date(1950, 1, 1), 13)
    woman = make_id_number("110105", datetime.date(1950, 1, 1), 14)

    assert parse_id_number(man).sex == "M"
    assert parse_id_number(woman).sex == "F"


def test_clean_keeps_separators_out_and_upper_cases():
    assert clean_id_number("110105-1949.1231_002x") == STANDARD_EXAMPLE


def test_mask_keeps_only_the_check_character():
    assert mask_id_number(STANDARD_EXAMPLE) == "*****************X"


def test_mask_of_nothing_is_nothing():
    assert mask_id_number("") == ""


@given(
    area=st.sampled_from(["110105", "371402", "370102", "440305", "650102", "810000"]),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2000, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_every_made_number_parses_back_to_its_birth_date_and_sex(area, birth, sequence):
    number = make_id_number(area, birth, sequence)

    info = parse_id_number(number)

    assert info.number == number
    assert info.birth_date == birth
    assert info.sex == ("M" if sequence % 2 else "F")
    # stdnum's arithmetic agrees with ours (its area-in-birth-year check aside).
    assert ric.calc_check_digit(number) == number[-1]


@given(
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_changing_any_one_digit_is_caught(birth, sequence, position, delta):
    number = make_id_number("110105", birth, sequence)
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]

    with pytest.raises(ValidationError):
        parse_id_number(typo)
