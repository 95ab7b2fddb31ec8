"""The rule engine: tiers from the register and the latest assessment, Q and predicate agreeing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elders.categories import years_before
from elders.models import AbilityLevel, DisabilityGrade, Elder, LivingArrangement, MaritalStatus
from elders.tests.factories import ElderFactory
from visits.rules import (
    CONDITIONS,
    DEFAULT_RULES,
    criteria_clean,
    criteria_label,
    criteria_q,
    criteria_test,
    rules_for_region,
    tier_of,
)
from visits.services import rules_set

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 11, 2)


def _facts(elder, facts):
    """Give `elder` a latest assessment with these facts (written directly: the rule reads them)."""
    from assessments.definition import load_shipped
    from assessments.models import Assessment, Instrument
    from conftest import make_user

    load_shipped(Instrument)
    assessor = make_user(f"assessor{elder.pk}", "community", elder.region)
    Assessment.objects.create(
        elder=elder,
        instrument=Instrument.objects.first(),
        assessor=assessor,
        assessed_on=DAY - datetime.timedelta(days=30),
        facts=facts,
        status="completed",
        is_latest=True,
    )


def test_the_default_rules_are_the_published_ones(tree):
    rules = rules_for_region(tree.grid).rules
    assert [(r.tier, r.period, r.event_hours) for r in rules] == [
        ("high", "week", 24),
        ("key", "month", None),
        ("general", "quarter", None),
    ]
    assert rules_for_region(tree.grid).region is None


def test_tiers_of_typical_elders(tree):
    very_old_alone = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 82), living_arrangement="alone")
    old_alone = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 70), living_arrangement="alone")
    disabled = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66), ability_level=AbilityLevel.SEVERE)
    complete = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66), ability_level=AbilityLevel.COMPLETE)
    tekun_alone = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66), living_arrangement="alone", is_tekun=True)
    grade2 = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66), disability_grade=DisabilityGrade.GRADE_2)
    grade4 = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66), disability_grade=DisabilityGrade.GRADE_4)
    ordinary = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66))
    demented = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 66))
    _facts(demented, {"dementia": True})
    got = {e.pk: getattr(tier_of(e, DAY), "tier", None) for e in Elder.objects.all()}
    assert got[very_old_alone.pk] == "high"
    assert got[old_alone.pk] == "general"
    assert got[disabled.pk] == "key"
    assert got[complete.pk] == "high"  # severe illness: 完全失能
    assert got[tekun_alone.pk] == "key"
    assert got[grade2.pk] == "general"  # 重残 is a target group
    assert got[grade4.pk] is None
    assert got[ordinary.pk] is None
    assert got[demented.pk] == "high"


def test_turning_80_moves_an_elder_into_the_high_tier_on_their_birthday(tree):
    elder = ElderFactory(region=tree.grid, birth_date=datetime.date(1946, 11, 15), living_arrangement="alone")
    assert tier_of(elder, datetime.date(2026, 11, 14)).tier == "general"
    assert tier_of(elder, datetime.date(2026, 11, 15)).tier == "high"


def test_a_regions_own_rules_apply_below_it_and_nowhere_else(tree, community_worker):
    from conftest import make_user

    street_user = make_user("street1", "street", tree.street)
    rules_set(
        by=street_user,
        region=tree.street,
        rules=[{"tier": "all_alone", "label": "独居", "period": "month", "criteria": [{"categories": ["lives_alone"]}]}],
    )
    assert rules_for_region(tree.grid).region == tree.street
    assert [r.tier for r in rules_for_region(tree.grid).rules] == ["all_alone"]
    assert rules_for_region(tree.community2).region is None
    elder = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 85), living_arrangement="alone")
    assert tier_of(elder, DAY).tier == "all_alone"


@pytest.mark.parametrize(
    "criteria, message",
    [
        ([], "至少要有一条"),
        ([{}], "第 1 条条件为空"),
        ([{"min_age": 80}, {"colour": "red"}], "第 2 条条件：不认识“colour”"),
        ([{"min_age": 30}], "最低年龄应为 60 到 120"),
        ([{"categories": ["martian"]}], "没有“martian”这一项"),
        ([{"conditions": ["flu"]}], "没有“flu”这一项"),
        ([{"any_categories": "lives_alone"}], "应为代码列表"),
    ],
)
def test_criteria_are_validated_with_chinese_messages_naming_the_clause(criteria, message):
    with pytest.raises(ValidationError) as exc:
        criteria_clean(criteria)
    assert message in exc.value.message_dict["criteria"][0]


def test_criteria_read_in_words():
    assert criteria_label(DEFAULT_RULES[0][5])[0] == "80 岁以上且独居或空巢或留守"


CODES = ["very_old", "lives_alone", "empty_nest", "no_kin", "left_behind", "disabled", "tekun", "family_planning", "disability"]


@st.composite
def clause(draw):
    c = {}
    if draw(st.booleans()):
        c["min_age"] = draw(st.sampled_from([60, 70, 80, 90]))
    if draw(st.booleans()):
        c["categories"] = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
    if draw(st.booleans()):
        c["any_categories"] = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))
    if draw(st.booleans()) or not c:
        c["conditions"] = draw(st.lists(st.sampled_from(sorted(CONDITIONS)), min_size=1, max_size=2, unique=True))
    return c


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    clauses=st.lists(clause(), min_size=1, max_size=3),
    offset=st.one_of(st.integers(-2, 2), st.integers(-8000, 8000)),
    traits=st.fixed_dictionaries(
        {
            "living_arrangement": st.sampled_from(["", *LivingArrangement.values]),
            "marital_status": st.sampled_from(["", *MaritalStatus.values]),
            "children_count": st.integers(0, 3),
            "children_away": st.booleans(),
            "ability_level": st.sampled_from(["", *AbilityLevel.values]),
            "disability_grade": st.sampled_from(["", *DisabilityGrade.values]),
            "is_tekun": st.booleans(),
            "is_family_planning_special": st.booleans(),
        }
    ),
    facts=st.fixed_dictionaries({}, optional={"dementia": st.booleans(), "coma": st.booleans()}),
)
def test_the_database_filter_agrees_with_the_predicate(tree, clauses, offset, traits, facts):
    criteria = criteria_clean(clauses)
    elder = ElderFactory(region=tree.grid, birth_date=years_before(DAY, 80) + datetime.timedelta(days=offset), **traits)
    if facts:
        _facts(elder, facts)
    in_db = Elder.objects.filter(pk=elder.pk).filter(criteria_q(criteria, DAY)).exists()
    assert in_db == criteria_test(criteria, elder, DAY, facts)
