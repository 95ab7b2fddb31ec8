"""Visit rules as configuration (docs/visits.md, "Rules"): risk tiers computed from the register
and the latest assessment.

A rule's `criteria` is a list of clauses; an elder is in the tier when ANY clause holds, and
in the first tier (by priority) they match. A clause is a dict whose conditions must ALL hold:

    {"min_age": 80, "any_categories": ["lives_alone", "empty_nest", "left_behind"]}
    {"categories": ["tekun", "lives_alone"]}
    {"conditions": ["dementia"]}

- `min_age`: aged at least this on the day (elders.categories.years_before);
- `categories`: every one of these elders.categories codes;
- `any_categories`: at least one of them;
- `conditions`: visits' own (CONDITIONS below): `dementia` (the latest assessment records
  dementia), `severe_illness` (完全失能, or the latest assessment records coma) and
  `severe_disability` (重残: disability grade 1 or 2).

Each clause compiles to a Q (`criteria_q`) for the set-based writers and to a predicate
(`criteria_test`) for one loaded elder; tests/test_rules.py checks with hypothesis that they agree.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from elders.categories import category_by_code, years_before
from elders.models import AbilityLevel, DisabilityGrade
from visits.models import Period, VisitRule

CLAUSE_KEYS = ("min_age", "categories", "any_categories", "conditions")
MIN_AGE_RANGE = (60, 120)


def _latest(**facts) -> Q:
    from assessments.models import Assessment

    # IN (subquery), not EXISTS: PostgreSQL hashes it once for a whole scan of the register.
    return Q(pk__in=Assessment.objects.filter(is_latest=True, **facts).values("elder_id"))


@dataclass(frozen=True)
class Condition:
    code: str
    label: str
    q: object  # () -> Q on Elder
    test: object  # (elder, facts) -> bool; facts: the latest assessment's facts ({} if none)


_SEVERE_GRADES = [DisabilityGrade.GRADE_1, DisabilityGrade.GRADE_2]

CONDITIONS: dict[str, Condition] = {
    c.code: c
    for c in (
        Condition(
            "dementia", _l("认知障碍（失智）"), lambda: _latest(facts__dementia=True), lambda e, f: f.get("dementia") is True
        ),
        Condition(
            "severe_illness",
            _l("重病（完全失能或昏迷）"),
            lambda: Q(ability_level=AbilityLevel.COMPLETE) | _latest(facts__coma=True),
            lambda e, f: e.ability_level == AbilityLevel.COMPLETE or f.get("coma") is True,
        ),
        Condition(
            "severe_disability",
            _l("重度残疾（一、二级）"),
            lambda: Q(disability_grade__in=_SEVERE_GRADES),
            lambda e, f: e.disability_grade in _SEVERE_GRADES,
        ),
    )
}

# The platform's rules (region NULL), as published locally; the data migration writes them and
# `rules_for_region` falls back on them. (tier, label, priority, period, event_hours, criteria)
DEFAULT_RULES = (
    (
        "high",
        "高风险",
        10,
        Period.WEEK,
        24,
        [
            {"min_age": 80, "any_categories": ["lives_alone", "empty_nest", "left_behind"]},
            {"conditions": ["dementia"]},
            {"conditions": ["severe_illness"]},
        ],
    ),
    (
        "key",
        "重点关注",
        20,
        Period.MONTH,
        None,
        [
            {"min_age": 60, "categories": ["disabled"]},
            {"categories": ["tekun", "lives_alone"]},
            {"categories": ["family_planning"]},
        ],
    ),
    (
        "general",
        "一般关注",
        30,
        Period.QUARTER,
        None,
        [
            {"any_categories": ["lives_alone", "empty_nest", "left_behind", "disabled"]},
            {"conditions": ["severe_disability"]},
        ],
    ),
)


def _codes(value, field, n, known) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ValidationError({"criteria": _("第 %(n)d 条条件：%(field)s应为代码列表") % {"n": n, "field": field}})
    unknown = [c for c in value if c not in known]
    if unknown:
        raise ValidationError(
            {
                "criteria": _("第 %(n)d 条条件：没有“%(code)s”这一项，可选：%(options)s")
                % {"n": n, "code": unknown[0], "options": "、".join(sorted(known))}
            }
        )
    return list(dict.fromkeys(value))


def criteria_clean(criteria) -> list[dict]:
    """The criteria as stored, or a ValidationError on `criteria` naming the clause (1-based)."""
    if not isinstance(criteria, list) or not criteria:
        raise ValidationError({"criteria": _("适用条件至少要有一条")})
    if len(criteria) > 20:
        raise ValidationError({"criteria": _("适用条件最多 20 条")})
    cats = set(category_by_code())
    out = []
    for n, clause in enumerate(criteria, start=1):
        if not isinstance(clause, dict) or not clause:
            raise ValidationError({"criteria": _("第 %(n)d 条条件为空，请至少选择一项") % {"n": n}})
        unknown = set(clause) - set(CLAUSE_KEYS)
        if unknown:
            raise ValidationError(
                {
                    "criteria": _("第 %(n)d 条条件：不认识“%(key)s”，可用：%(keys)s")
                    % {"n": n, "key": sorted(unknown)[0], "keys": "、".join(CLAUSE_KEYS)}
                }
            )
        clean = {}
        if "min_age" in clause and clause["min_age"] not in (None, ""):
            age = clause["min_age"]
            if isinstance(age, bool) or not isinstance(age, int) or not MIN_AGE_RANGE[0] <= age <= MIN_AGE_RANGE[1]:
                raise ValidationError(
                    {
                        "criteria": _("第 %(n)d 条条件：最低年龄应为 %(lo)d 到 %(hi)d 之间的整数")
                        % {"n": n, "lo": MIN_AGE_RANGE[0], "hi": MIN_AGE_RANGE[1]}
                    }
                )
            clean["min_age"] = age
        for key, known in (("categories", cats), ("any_categories", cats), ("conditions", set(CONDITIONS))):
            if clause.get(key):
                clean[key] = _codes(clause[key], key, n, known)
        if not clean:
            raise ValidationError({"criteria": _("第 %(n)d 条条件为空，请至少选择一项") % {"n": n}})
        out.append(clean)
    return out


def clause_q(clause: dict, day: datetime.date) -> Q:
    cats = category_by_code()
    q = Q()
    if clause.get("min_age"):
        q &= Q(birth_date__lte=years_before(day, clause["min_age"]))
    for code in clause.get("categories", ()):
        q &= cats[code].q(day) if code in cats else Q(pk__in=[])
    if clause.get("any_categories"):
        anyq = Q(pk__in=[])
        for code in clause["any_categories"]:
            if code in cats:
                anyq |= cats[code].q(day)
        q &= anyq
    for code in clause.get("conditions", ()):
        q &= CONDITIONS[code].q()
    return q


def clause_test(clause: dict, elder, day: datetime.date, facts: dict) -> bool:
    cats = category_by_code()
    if clause.get("min_age") and not elder.birth_date <= years_before(day, clause["min_age"]):
        return False
    if not all(code in cats and cats[code].test(elder, day) for code in clause.get("categories", ())):
        return False
    if clause.get("any_categories") and not any(
        code in cats and cats[code].test(elder, day) for code in clause["any_categories"]
    ):
        return False
    return all(CONDITIONS[code].test(elder, facts) for code in clause.get("conditions", ()))


def criteria_q(criteria: list, day: datetime.date) -> Q:
    """Elders matching any clause (no clause: nobody)."""
    q = Q(pk__in=[])
    for clause in criteria:
        q |= clause_q(clause, day)
    return q


def criteria_test(criteria: list, elder, day: datetime.date, facts: dict) -> bool:
    return any(clause_test(c, elder, day, facts) for c in criteria)


def latest_facts(elder) -> dict:
    from assessments.models import Assessment

    row = Assessment.objects.filter(elder_id=elder.pk, is_latest=True).values_list("facts", flat=True).first()
    return row if isinstance(row, dict) else {}


@dataclass(frozen=True)
class RuleSet:
    """The active rules that apply to a subtree: `region` (None: the platform's) and its rules by priority."""

    region: object
    rules: tuple

    def tier_whens(self, day):
        """[(rule, Q)] in priority order: the first that holds is the elder's tier."""
        return [(r, criteria_q(r.criteria, day)) for r in self.rules]


def default_rules():
    return tuple(VisitRule.objects.filter(region__isnull=True, active=True).order_by("priority", "id"))


def rules_for_region(region) -> RuleSet:
    """The rules that apply in `region`: those of the nearest region up its path (itself
    included) that has active rules, else the platform's."""
    ids = _path_ids(region.path)
    rows = list(VisitRule.objects.filter(region_id__in=ids, active=True).select_related("region"))
    if rows:
        nearest = max(rows, key=lambda r: r.region.level)
        own = sorted((r for r in rows if r.region_id == nearest.region_id), key=lambda r: (r.priority, r.pk))
        return RuleSet(nearest.region, tuple(own))
    return RuleSet(None, default_rules())


def _path_ids(path: str) -> list[int]:
    return [int(p) for p in (path or "").strip("/").split("/") if p]


def rule_sets() -> list[RuleSet]:
    """Every rule set in force: the platform's and each region's own (for the set-based writers)."""
    from regions.models import Region

    sets = [RuleSet(None, default_rules())]
    region_ids = sorted(set(VisitRule.objects.filter(region__isnull=False, active=True).values_list("region_id", flat=True)))
    for region in Region.objects.filter(pk__in=region_ids).order_by("path"):
        sets.append(RuleSet(region, tuple(VisitRule.objects.filter(region=region, active=True).order_by("priority", "id"))))
    return sets


def tier_of(elder, day: datetime.date | None = None, *, facts: dict | None = None, ruleset: RuleSet | None = None):
    """The elder's rule (tier) on `day`, or None when no rule puts them in a tier."""
    from django.utils import timezone

    day = day or timezone.localdate()
    facts = latest_facts(elder) if facts is None else facts
    ruleset = ruleset or rules_for_region(elder.region)
    for rule in ruleset.rules:
        if criteria_test(rule.criteria, elder, day, facts):
            return rule
    return None


def criteria_label(criteria: list) -> list[str]:
    """Each clause in words: "80 岁以上 且 独居或空巢或留守"."""
    cats = {c: str(v.label) for c, v in category_by_code().items()}
    out = []
    for clause in criteria or []:
        parts = []
        if clause.get("min_age"):
            parts.append(_("%(n)d 岁以上") % {"n": clause["min_age"]})
        parts += [cats.get(c, c) for c in clause.get("categories", ())]
        if clause.get("any_categories"):
            parts.append(_("或").join(cats.get(c, c) for c in clause["any_categories"]))
        parts += [str(CONDITIONS[c].label) for c in clause.get("conditions", ()) if c in CONDITIONS]
        out.append(_("且").join(parts))
    return out


def rules_initial_load() -> int:
    """Write the platform's default rules (region NULL) that are missing; returns how many.
    Called by the data migration and by tests after a flush (like catalogue_initial_load)."""
    made = 0
    for tier, label, priority, period, hours, criteria in DEFAULT_RULES:
        _rule, created = VisitRule.objects.get_or_create(
            region=None,
            tier=tier,
            defaults={"label": label, "priority": priority, "period": period, "event_hours": hours, "criteria": criteria},
        )
        made += created
    return made
