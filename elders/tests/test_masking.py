"""Masking that holds (issue 8, finding 2): what a user without the reveal permission reads —
masked ID number, age, sex, region — leaves at least 10,000 valid ID numbers even when the area
code is known; the database's plaintext columns (id_number_masked, birth_date, sex) leave at
least 1,000 with the area code any county's. Counted, not assumed (elders/tests/candidates.py)."""

import datetime

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from core import crypto
from core.idnumbers import check_digit, make_id_number, mask_id_number, parse_id_number
from elders.models import Elder, age_on
from elders.tests.candidates import (
    birth_dates_for_age,
    count_by_listing,
    count_candidates,
    county_codes,
)

USER_MINIMUM = 10_000  # what a user without the reveal permission sees
DATABASE_MINIMUM = 1_000  # the database's plaintext columns alone


def seen_by_user_without_reveal(number: str, today: datetime.date) -> int:
    """Candidates from the mask, the age today, the sex, and (worst case) the area code."""
    info = parse_id_number(number, today=today)
    return count_candidates(
        shown=mask_id_number(number),
        birth_dates=birth_dates_for_age(age_on(info.birth_date, today), today),
        sex=info.sex,
        areas=[number[:6]],
    )


def seen_in_plaintext_columns(masked: str, birth_date: datetime.date, sex: str) -> int:
    """Candidates from id_number_masked, birth_date and sex, the area code any county's."""
    return count_candidates(shown=masked, birth_dates=[birth_date], sex=sex, areas=county_codes())


# --- the counting itself ----------------------------------------------------------------------


def test_check_characters_agree_with_the_id_number_rules():
    """The residue arithmetic gives the same check character as core.idnumbers for every residue."""
    from elders.tests.candidates import WEIGHTS, check_char

    for body in ("11010519491231002", "37010219450312411", "44030519600229001", "00000000000000000"):
        residue = sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11
        assert check_char(residue) == check_digit(body)


@pytest.mark.parametrize(
    "shown, sex",
    [
        ("*****************5", "M"),
        ("*****************X", "F"),
        ("******************", None),
        ("3701**************", "M"),
        ("**************41**", None),
    ],
)
def test_convolution_counts_what_listing_every_number_counts(shown, sex):
    today = datetime.date(2025, 6, 1)
    areas = ["370102", "370103", "110105", "440305"]
    dates = birth_dates_for_age(80, today)[:40]
    assert count_candidates(shown=shown, birth_dates=dates, sex=sex, areas=areas) == count_by_listing(
        shown=shown, birth_dates=dates, sex=sex, areas=areas
    )


def test_the_ages_birth_dates_are_every_date_giving_that_age():
    today = datetime.date(2024, 2, 29)
    dates = birth_dates_for_age(80, today)
    assert dates[0] == datetime.date(1943, 3, 1) and dates[-1] == datetime.date(1944, 2, 29)
    assert len(dates) == 366


def test_county_codes_are_read_from_stdnum():
    codes = county_codes()
    assert "110105" in codes and "370102" in codes
    assert len(codes) > 3000


# --- the old mask failed, the new one holds ----------------------------------------------------


def test_the_old_mask_beside_the_birth_date_was_the_whole_number():
    number = make_id_number("370102", datetime.date(1945, 3, 12), 411)
    old_mask = number[:6] + "*" * 8 + number[-4:]  # 370102********4110, shown with 1945-03-12
    assert count_candidates(shown=old_mask, birth_dates=[datetime.date(1945, 3, 12)], sex="M", areas=county_codes()) == 1


def test_the_old_mask_fails_the_rule_even_with_age_instead_of_birth_date():
    today = datetime.date(2025, 6, 1)
    number = make_id_number("370102", datetime.date(1945, 3, 12), 411)
    old_mask = number[:6] + "*" * 8 + number[-4:]
    dates = birth_dates_for_age(age_on(datetime.date(1945, 3, 12), today), today)
    assert count_candidates(shown=old_mask, birth_dates=dates, sex="M", areas=county_codes()) < USER_MINIMUM


def test_the_mask_shows_only_the_check_character():
    number = make_id_number("370102", datetime.date(1945, 3, 12), 411)
    assert mask_id_number(number) == "*" * 17 + number[-1]


@settings(max_examples=200, deadline=None)
@given(
    area=st.sampled_from(county_codes()),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1966, 12, 31)),
    sequence=st.integers(0, 999),
    today=st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2040, 12, 31)),
)
def test_any_number_leaves_enough_candidates(area, birth, sequence, today):
    number = make_id_number(area, birth, sequence)
    assert seen_by_user_without_reveal(number, today) >= USER_MINIMUM
    info = parse_id_number(number, today=today)
    assert seen_in_plaintext_columns(mask_id_number(number), info.birth_date, info.sex) >= DATABASE_MINIMUM


# --- every demo elder ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", "--elders-only", stdout=open("/dev/null", "w"))
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_every_demo_elder_keeps_enough_candidates(_seeded_once):
    today = timezone.localdate()
    rows = list(Elder.objects.exclude(id_number_hash="").values_list("id_number_enc", "id_number_masked", "birth_date", "sex"))
    assert len(rows) > 1000
    for enc, masked, birth_date, sex in rows:
        number = crypto.decrypt(enc)
        assert masked == mask_id_number(number)
        assert seen_by_user_without_reveal(number, today) >= USER_MINIMUM, masked
        assert seen_in_plaintext_columns(masked, birth_date, sex) >= DATABASE_MINIMUM, masked
