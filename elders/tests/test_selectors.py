"""Reads of the registry: search by every number people know, the age filter's arithmetic."""

import datetime

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elders.categories import years_before
from elders.models import Elder
from elders.selectors import ElderFilter, elder_list
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db


def found(user, q):
    return list(elder_list(user=user, filters=ElderFilter(q=q)))


@pytest.mark.parametrize("q", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "5678"])
def test_search_finds_a_mobile_as_people_write_it(worker, tree, q):
    elder = ElderFactory(region=tree.community, phone="13812345678")
    ElderFactory(region=tree.community, phone="13900001111")

    assert found(worker, q) == [elder]


@pytest.mark.parametrize("q", ["0531-88881234", "053188881234", "(0531)8888-1234", "1234"])
def test_search_finds_a_landline_as_people_write_it(worker, tree, q):
    elder = ElderFactory(region=tree.community, phone="0531-88881234")
    ElderFactory(region=tree.community, phone="13900005555")

    assert found(worker, q) == [elder]


def test_search_by_birth_date_digits(worker, tree):
    elder = ElderFactory(region=tree.community, birth_date=datetime.date(1945, 3, 8))
    ElderFactory(region=tree.community, birth_date=datetime.date(1945, 3, 9))

    assert found(worker, "19450308") == [elder]


def test_search_by_address_fragment(worker, tree):
    elder = ElderFactory(region=tree.community, address="经济房15号楼7单元")
    ElderFactory(region=tree.community, address="锦华苑2号楼")

    assert found(worker, "经济房15") == [elder]


@pytest.mark.parametrize("q", ["单", "单井", "sjy", "shan", "SJY"])
def test_search_by_name_start_pinyin_and_initials_reads_the_surname_as_a_surname(worker, tree, q):
    elder = ElderFactory(region=tree.community, name="单井英")
    ElderFactory(region=tree.community, name="丹秀兰")  # dan: what 单 reads as outside surnames

    assert found(worker, q) == [elder]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    back=st.integers(min_value=60 * 365, max_value=100 * 366),
    age_min=st.one_of(st.none(), st.integers(60, 100)),
    age_max=st.one_of(st.none(), st.integers(60, 100)),
)
def test_age_filter_agrees_with_the_age_shown(worker, tree, back, age_min, age_max):
    elder = ElderFactory(region=tree.community, birth_date=timezone.localdate() - datetime.timedelta(days=back))
    expected = (age_min is None or elder.age >= age_min) and (age_max is None or elder.age <= age_max)

    listed = elder_list(user=worker, filters=ElderFilter(age_min=age_min, age_max=age_max)).filter(pk=elder.pk).exists()

    assert listed == expected


@given(
    day=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2060, 12, 31)),
    birth=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31)),
    years=st.integers(0, 110),
)
def test_years_before_is_the_last_birth_date_of_someone_that_old(day, birth, years):
    elder = Elder(birth_date=birth)

    assert (birth <= years_before(day, years)) == (elder.age_on(day) >= years)
