"""Scoring: one pure function from (definition, answers, facts) to the result. No database.

    result = score(definition, {"B.1.1": 4, …}, {"coma": False, "dementia": True, "risk_events": 2})

`answers` maps an item's code to the points of the chosen option; `facts` holds the values the
adjustment rules read (a bool, or a count compared with the rule's min_count). The base level is
the first level (best first) whose `min` the total reaches; then adjustments apply:
`set_level` rules (coma) fix the level; otherwise each matching `raise` rule raises by its steps
— summed when the definition says `raise_stacks`, else the largest — never past the worst level.
An adjustment never makes the level better.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Applied:
    code: str
    reason: str


@dataclass(frozen=True)
class Result:
    score: int
    max_score: int
    group_scores: dict
    base_level: str
    final_level: str
    applied: list = field(default_factory=list)  # [Applied]
    raise_steps: int = 0
    forced_level: str = ""
    missing: list = field(default_factory=list)  # codes of the items not answered

    @property
    def complete(self) -> bool:
        return not self.missing


def level_for(definition: dict, total: int) -> str:
    for level in definition["levels"]:
        if total >= level["min"]:
            return level["code"]
    return definition["levels"][-1]["code"]


def level_index(definition: dict, code: str) -> int:
    return [lv["code"] for lv in definition["levels"]].index(code)


def level_name(definition: dict, code: str) -> str:
    for level in definition["levels"]:
        if level["code"] == code:
            return level["name"]
    return ""


def clean_answer(item: dict, value):
    """The points of `value` if it is one of the item's options, else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value in {o["points"] for o in item["options"]} else None


def fact_holds(rule: dict, facts: dict) -> bool:
    value = (facts or {}).get(rule["fact"])
    if "min_count" in rule:
        return isinstance(value, int) and not isinstance(value, bool) and value >= rule["min_count"]
    return value is True


def adjust(definition: dict, base_level: str, facts: dict) -> tuple[str, list, int, str]:
    """(final level, applied rules, raise steps, forced level) from the base level and facts."""
    rules = [r for r in definition.get("adjustments", []) if fact_holds(r, facts)]
    applied = [Applied(r["code"], r.get("reason", "")) for r in rules]
    worst = len(definition["levels"]) - 1
    base = level_index(definition, base_level)
    forced = [r["level"] for r in rules if r["effect"] == "set_level"]
    raises = [r["steps"] for r in rules if r["effect"] == "raise"]
    steps = (sum(raises) if definition.get("raise_stacks") else max(raises)) if raises else 0
    forced_level = ""
    if forced:
        # the worst forced level, and never better than the base level
        forced_level = definition["levels"][max(level_index(definition, c) for c in forced)]["code"]
        final = max(base, level_index(definition, forced_level))
    else:
        final = min(base + steps, worst)
    return definition["levels"][final]["code"], applied, steps, forced_level


def score(definition: dict, answers: dict, facts: dict | None = None) -> Result:
    answers = answers or {}
    groups = {g["code"]: 0 for g in definition["groups"]}
    missing = []
    for item in definition["items"]:
        points = clean_answer(item, answers.get(item["code"]))
        if points is None:
            missing.append(item["code"])
            continue
        groups[item["group"]] += points
    total = sum(groups.values())
    max_score = sum(g["max_points"] for g in definition["groups"])
    base = level_for(definition, total)
    final, applied, steps, forced = adjust(definition, base, facts or {})
    return Result(
        score=total,
        max_score=max_score,
        group_scores=groups,
        base_level=base,
        final_level=final,
        applied=applied,
        raise_steps=steps,
        forced_level=forced,
        missing=missing,
    )
