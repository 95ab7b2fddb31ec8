"""The scoring rules of GB/T 42195-2022 and the Barthel index, against examples computed by hand
from the standards' tables (docs/assessments.md), and as properties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.definition import validate_definition
from assessments.scoring import level_index, score
from assessments.tests.helpers import best, definition, group_at

GBT = definition("gbt42195")
BARTHEL = definition("barthel")


def test_shipped_definitions_are_valid_and_match_the_standard_shape():
    validate_definition(GBT)
    validate_definition(BARTHEL)
    groups = {g["code"]: (sum(1 for i in GBT["items"] if i["group"] == g["code"]), g["max_points"]) for g in GBT["groups"]}
    # 自理能力 8 items 32, 基础运动能力 4 items 15, 精神状态 9 items 28, 感知觉与社会参与 5 items 15: 26 items, 90
    assert groups == {"self_care": (8, 32), "basic_motor": (4, 15), "mental": (9, 28), "perception_social": (5, 15)}
    assert [(lv["code"], lv["min"]) for lv in GBT["levels"]] == [
        ("intact", 90),
        ("mild", 66),
        ("moderate", 46),
        ("severe", 30),
        ("complete", 0),
    ]
    assert sum(max(o["points"] for o in i["options"]) for i in BARTHEL["items"]) == 100


def test_everything_at_best_is_90_intact():
    r = score(GBT, best(GBT))
    assert (r.score, r.base_level, r.final_level, r.missing) == (90, "intact", "intact", [])
    assert r.group_scores == {"self_care": 32, "basic_motor": 15, "mental": 28, "perception_social": 15}


def test_nothing_at_all_is_0_complete():
    r = score(GBT, {i["code"]: 0 for i in GBT["items"]})
    assert (r.score, r.final_level) == (0, "complete")


# Self-care all at 1 (8 of 32): 8 + 15 + 28 + 15 = 66, the lowest score of 轻度失能.
MILD_66 = group_at(GBT, best(GBT), "self_care", 1)
# and 床上体位转移 at 3: 65, the highest of 中度失能.
MODERATE_65 = {**MILD_66, "B.2.1": 3}
# Self-care all 0 and basic motor all 0: 0 + 0 + 28 + 15 = 43, 重度失能.
SEVERE_43 = group_at(GBT, group_at(GBT, best(GBT), "self_care", 0), "basic_motor", 0)


@pytest.mark.parametrize(
    "answers,total,level",
    [
        (best(GBT, B_1_1=3), 89, "mild"),
        (MILD_66, 66, "mild"),
        (MODERATE_65, 65, "moderate"),
        ({**SEVERE_43, "B.4.1": 0, "B.4.2": 1}, 40, "severe"),
        (SEVERE_43, 43, "severe"),
        ({**group_at(GBT, SEVERE_43, "mental", 0)}, 15, "complete"),
    ],
)
def test_cut_offs(answers, total, level):
    r = score(GBT, answers)
    assert (r.score, r.final_level) == (total, level)


def test_cut_off_edges_46_45_30_29():
    # 43 + B.2.1..B.2.3 at 1 point each = 46 (moderate); then down one by one
    a46 = {**SEVERE_43, "B.2.1": 1, "B.2.2": 1, "B.2.3": 1}
    assert (score(GBT, a46).score, score(GBT, a46).final_level) == (46, "moderate")
    a45 = {**a46, "B.2.3": 0}
    assert (score(GBT, a45).score, score(GBT, a45).final_level) == (45, "severe")
    # 43 with mental at 0 except 时间定向 2 and 空间定向 ... : 15 + 15 = 30
    a30 = {**group_at(GBT, SEVERE_43, "mental", 0), "B.3.1": 4, "B.3.2": 4, "B.3.3": 4, "B.3.4": 3}
    assert (score(GBT, a30).score, score(GBT, a30).final_level) == (30, "severe")
    a29 = {**a30, "B.3.4": 2}
    assert (score(GBT, a29).score, score(GBT, a29).final_level) == (29, "complete")


def test_dementia_raises_one_level_with_its_reason():
    r = score(GBT, MILD_66, {"dementia": True})
    assert (r.base_level, r.final_level) == ("mild", "moderate")
    assert [a.code for a in r.applied] == ["dementia_mental"]
    assert "痴呆" in r.applied[0].reason


def test_two_risk_events_raise_one_level_one_event_does_not():
    assert score(GBT, MILD_66, {"risk_events": 2}).final_level == "moderate"
    assert score(GBT, MILD_66, {"risk_events": 1}).final_level == "mild"
    assert score(GBT, MILD_66, {"risk_events": 1}).applied == []


def test_both_raise_rules_do_not_stack_by_default():
    # "在原有能力级别上提高一个等级": each rule raises the original level by one (docs/assessments.md)
    r = score(GBT, MILD_66, {"dementia": True, "risk_events": 3})
    assert (r.base_level, r.final_level) == ("mild", "moderate")
    assert {a.code for a in r.applied} == {"dementia_mental", "risk_events"}


def test_a_version_that_stacks_raises_two_levels():
    stacking = {**GBT, "raise_stacks": True}
    assert score(stacking, MILD_66, {"dementia": True, "risk_events": 2}).final_level == "severe"


def test_raise_is_capped_at_complete():
    assert score(GBT, SEVERE_43, {"dementia": True}).final_level == "complete"
    zero = {i["code"]: 0 for i in GBT["items"]}
    r = score(GBT, zero, {"dementia": True, "risk_events": 5})
    assert (r.base_level, r.final_level) == ("complete", "complete")


def test_coma_is_complete_whatever_the_score():
    r = score(GBT, best(GBT), {"coma": True})
    assert (r.score, r.base_level, r.final_level) == (90, "intact", "complete")
    assert [a.code for a in r.applied] == ["coma"]
    assert score(GBT, MILD_66, {"coma": True, "dementia": True}).final_level == "complete"


def test_unanswered_and_invalid_answers_are_missing_not_scored():
    answers = best(GBT)
    del answers["B.1.1"]
    answers["B.2.4"] = 4  # 上下楼梯 has no 4-point option
    answers["B.3.7"] = True  # a bool is not a point
    answers["B.3.8"] = "1"
    r = score(GBT, answers)
    assert r.missing == ["B.1.1", "B.2.4", "B.3.7", "B.3.8"]
    assert r.score == 90 - 4 - 3 - 1 - 1


@pytest.mark.parametrize(
    "changed,total,level",
    [
        ({}, 100, "intact"),
        ({"feeding": 5}, 95, "mild"),
        ({"bathing": 0, "grooming": 0, "stairs": 5, "dressing": 5, "bladder": 5}, 75, "mild"),
        ({"transfer": 0, "mobility": 0, "stairs": 0, "feeding": 0}, 50, "moderate"),
        ({"transfer": 0, "mobility": 0, "stairs": 0, "feeding": 0, "bathing": 0}, 45, "moderate"),
        ({"transfer": 0, "mobility": 0, "stairs": 0, "feeding": 0, "bathing": 0, "grooming": 0}, 40, "severe"),
    ],
)
def test_barthel_examples(changed, total, level):
    answers = {**best(BARTHEL), **changed}
    r = score(BARTHEL, answers)
    assert (r.score, r.final_level) == (total, level)


def test_barthel_all_dependent_is_0_severe():
    r = score(BARTHEL, {i["code"]: 0 for i in BARTHEL["items"]})
    assert (r.score, r.final_level, r.applied) == (0, "severe", [])


def answers_of(d):
    return st.fixed_dictionaries({i["code"]: st.sampled_from([o["points"] for o in i["options"]]) for i in d["items"]})


facts = st.fixed_dictionaries(
    {"coma": st.booleans(), "dementia": st.booleans(), "risk_events": st.integers(min_value=0, max_value=10)}
)


@settings(max_examples=300, deadline=None)
@given(a=answers_of(GBT), b=answers_of(GBT))
def test_level_is_monotone_in_score(a, b):
    ra, rb = score(GBT, a), score(GBT, b)
    if ra.score <= rb.score:
        assert level_index(GBT, ra.final_level) >= level_index(GBT, rb.final_level)


@settings(max_examples=300, deadline=None)
@given(a=answers_of(GBT), f=facts, stacks=st.booleans())
def test_score_in_range_and_adjustments_never_lower_the_level(a, f, stacks):
    d = {**GBT, "raise_stacks": stacks}
    r = score(d, a, f)
    assert 0 <= r.score <= 90
    assert sum(r.group_scores.values()) == r.score
    assert level_index(d, r.final_level) >= level_index(d, r.base_level)
    if f["coma"]:
        assert r.final_level == "complete"
    if not f["coma"] and not f["dementia"] and f["risk_events"] < 2:
        assert r.final_level == r.base_level


@settings(max_examples=200, deadline=None)
@given(a=answers_of(BARTHEL))
def test_barthel_score_in_range(a):
    r = score(BARTHEL, a)
    assert 0 <= r.score <= 100 and r.score % 5 == 0


def test_definition_with_broken_cut_offs_is_refused_with_a_chinese_message():
    from django.core.exceptions import ValidationError

    bad = {**GBT, "levels": [{**lv} for lv in GBT["levels"]]}
    bad["levels"][1]["min"] = 95
    with pytest.raises(ValidationError) as exc:
        validate_definition(bad)
    assert "分数下限" in str(exc.value)
    bad = {**GBT, "groups": [{**g} for g in GBT["groups"]]}
    bad["groups"][0]["max_points"] = 30
    with pytest.raises(ValidationError) as exc:
        validate_definition(bad)
    assert "自理能力" in str(exc.value)
