"""Demo ability assessments: one completed GB/T 42195 assessment for every demo elder, its answers
chosen so that the computed level equals the level the elder already has (some through an
adjustment: a dementia diagnosis, two falls in 30 days, coma), so categories stay as seeded.

Called by seed_demo; idempotent (elders with an assessment are skipped).
"""

import datetime
import random

from assessments.definition import load_shipped
from assessments.models import Assessment, Instrument
from assessments.services import assessments_record_completed, current_instrument
from elders.models import Elder, Status

# Base score range per level (GB/T 42195-2022 cut-offs).
RANGES = {"intact": (90, 90), "mild": (66, 89), "moderate": (46, 65), "severe": (30, 45), "complete": (0, 29)}
ORDER = ["intact", "mild", "moderate", "severe", "complete"]


def answers_for_score(definition: dict, target: int, rng: random.Random) -> dict:
    """Answers whose total is `target`: every item at its best, then points taken off items in a
    shuffled order (every item's options run 0..max, so any remainder is an option)."""
    items = list(definition["items"])
    answers = {i["code"]: max(o["points"] for o in i["options"]) for i in items}
    deficit = sum(answers.values()) - target
    rng.shuffle(items)
    for item in items:
        if deficit <= 0:
            break
        take = min(deficit, answers[item["code"]])
        answers[item["code"]] -= take
        deficit -= take
    return answers


def plan(level: str, rng: random.Random) -> tuple[int, dict]:
    """A score and the facts giving `level`: mostly by score alone, sometimes one level lower by
    score raised by dementia or two risk events, and for 完全失能 now and then coma."""
    facts = {"coma": False, "dementia": False, "risk_events": rng.choice([0, 0, 0, 1])}
    roll = rng.random()
    if level == "complete" and roll < 0.2:
        facts["coma"] = True
        return rng.randint(*RANGES["severe"]), facts
    if level != "intact" and roll < 0.3:
        lower = ORDER[ORDER.index(level) - 1]
        facts["dementia" if roll < 0.15 else "risk_events"] = True if roll < 0.15 else 2
        return rng.randint(*RANGES[lower]), facts
    return rng.randint(*RANGES[level]), facts


def seed_assessments(*, by_region: dict, seed: int = 42) -> int:
    """`by_region`: {region path prefix: assessor}. Returns the assessments made (entered
    together through assessments_record_completed: one elder at a time through the phone
    form's three steps took half of seed_demo's time)."""
    rng = random.Random(seed)
    load_shipped(Instrument)  # present after migrate; again if a flush (a transactional test) emptied the table
    definition = current_instrument("gbt42195").definition
    today = datetime.date.today()
    made = 0
    for prefix, assessor in by_region.items():
        elders = (
            Elder.objects.filter(region__path__startswith=prefix, status=Status.ACTIVE)
            .exclude(pk__in=Assessment.objects.values("elder_id"))
            .select_related("region")
            .order_by("id")
        )
        records, levels = [], []
        for elder in elders:
            level = elder.ability_level or "intact"
            target, facts = plan(level, rng)
            on = today - datetime.timedelta(days=rng.randint(5, 420))  # some overdue: the due list
            answers = answers_for_score(definition, target, rng)
            records.append(
                {"elder": elder, "assessed_on": on, "place": "老人家中", "reason": "first", "answers": answers, "facts": facts}
            )
            levels.append(level)
        for a, level in zip(assessments_record_completed(by=assessor, records=records), levels, strict=True):
            assert a.final_level == level, (a.elder_id, level, a.final_level)
        made += len(records)
    return made
