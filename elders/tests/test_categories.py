"""Categories: derived by rules, filterable in the database in any combination."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elders.categories import CATEGORIES, categories_of, categories_q, years_before
from elders.models import AbilityLevel, DisabilityGrade, Elder, LivingArrangement, MaritalStatus
from elders.selectors import ElderFilter, elder_list, parse_filter
from elders.tests.factories import ElderFactory, born_years_ago

pytestmark = pytest.mark.django_db


def codes(elder, day=None):
    return [c.code for c in categories_of(elder, day)]


# --- the database filter and the Python predicate agree -------------------------------------

BOUNDARY_DAY = st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2032, 12, 31))


@st.composite
def elder_traits(draw):
    day = draw(BOUNDARY_DAY)
    # Birth dates cluster around the 高龄 threshold (80), where the rule can be off by a day.
    offset = draw(st.one_of(st.integers(-3, 3), st.integers(-9000, 9000)))
    birth = years_before(day, 80) + datetime.timedelta(days=offset)
    return day, dict(
        birth_date=birth,
        living_arrangement=draw(st.sampled_from(["", *LivingArrangement.values])),
        marital_status=draw(st.sampled_from(["", *MaritalStatus.values])),
        children_count=draw(st.integers(0, 4)),
        children_away=draw(st.booleans()),
        ability_level=draw(st.sampled_from(["", *AbilityLevel.values])),
        disability_grade=draw(st.sampled_from(["", *DisabilityGrade.values])),
        is_dibao=draw(st.booleans()),
        is_tekun=draw(st.booleans()),
        is_family_planning_special=draw(st.booleans()),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=elder_traits())
def test_each_category_filter_in_the_database_agrees_with_its_predicate(tree, case):
    day, traits = case
    elder = ElderFactory(region=tree.community, **traits)
    one = Elder.objects.filter(pk=elder.pk)

    for category in CATEGORIES:
        in_db = one.filter(category.q(day)).exists()
        assert in_db == category.test(elder, day), category.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=elder_traits(), picked=st.lists(st.sampled_from([c.code for c in CATEGORIES]), min_size=2, max_size=3))
def test_combined_filter_is_the_and_of_the_predicates(tree, case, picked):
    day, traits = case
    elder = ElderFactory(region=tree.community, **traits)
    by_code = {c.code: c for c in CATEGORIES}

    in_db = Elder.objects.filter(pk=elder.pk).filter(categories_q(picked, day)).exists()

    assert in_db == all(by_code[code].test(elder, day) for code in picked)


# --- the rules themselves ---------------------------------------------------------------------


def test_elder_turning_80_today_is_very_old(tree):
    elder = ElderFactory(region=tree.community, birth_date=born_years_ago(80))

    assert "very_old" in codes(elder)


def test_elder_turning_80_tomorrow_is_not_yet_very_old(tree):
    elder = ElderFactory(region=tree.community, birth_date=born_years_ago(80, days=1))

    assert "very_old" not in codes(elder)


def test_elder_living_alone_with_children_is_lives_alone_and_empty_nest_not_no_kin(tree):
    elder = ElderFactory(region=tree.community, living_arrangement="alone", children_count=1, marital_status="widowed")

    assert {"lives_alone", "empty_nest"} <= set(codes(elder))
    assert "no_kin" not in codes(elder)


def test_widow_without_children_is_no_kin_and_key_care(tree):
    elder = ElderFactory(region=tree.community, living_arrangement="alone", children_count=0, marital_status="widowed")

    assert {"no_kin", "key_care"} <= set(codes(elder))


def test_list_filters_lives_alone_and_very_old_together(tree, worker):
    both = ElderFactory(region=tree.community, living_arrangement="alone", birth_date=born_years_ago(85))
    ElderFactory(region=tree.community, living_arrangement="alone", birth_date=born_years_ago(70))
    ElderFactory(region=tree.community, living_arrangement="children", birth_date=born_years_ago(85))

    found = elder_list(user=worker, filters=ElderFilter(categories=["lives_alone", "very_old"]))

    assert list(found) == [both]


def test_repeated_and_comma_separated_category_parameters_are_all_applied():
    from django.http import QueryDict

    f = parse_filter(QueryDict("category=lives_alone&category=very_old,dibao"))

    assert f.categories == ["lives_alone", "very_old", "dibao"]


# --- configuration ------------------------------------------------------------------------------


def test_very_old_age_comes_from_settings(tree, settings):
    settings.VERY_OLD_AGE = 90
    elder = ElderFactory(region=tree.community, birth_date=born_years_ago(85))

    assert "very_old" not in codes(elder)
    assert not Elder.objects.filter(pk=elder.pk).filter(categories_q(["very_old"])).exists()


def test_lower_very_old_age_makes_a_75_year_old_very_old(tree, settings):
    settings.VERY_OLD_AGE = 75
    elder = ElderFactory(region=tree.community, birth_date=born_years_ago(76))

    assert "very_old" in codes(elder)
    assert Elder.objects.filter(pk=elder.pk).filter(categories_q(["very_old"])).exists()


def test_disabled_category_is_not_shown(tree, settings):
    settings.CATEGORIES_DISABLED = ["dibao"]
    elder = ElderFactory(region=tree.community, is_dibao=True)

    assert "dibao" not in codes(elder)


def test_disabled_category_is_refused_as_a_filter(settings):
    from django.core.exceptions import ValidationError

    settings.CATEGORIES_DISABLED = ["dibao"]

    with pytest.raises(ValidationError) as exc_info:
        parse_filter({"category": ["dibao"]})

    assert "category" in exc_info.value.message_dict


def test_unknown_category_is_refused_naming_it():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc_info:
        parse_filter({"category": ["martian"]})

    assert "martian" in exc_info.value.message_dict["category"][0]
