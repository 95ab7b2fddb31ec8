"""Answers for tests: whole instruments at their best, worst, or with some items changed."""

import copy

from assessments.definition import shipped_definitions


def definition(code: str = "gbt42195") -> dict:
    return copy.deepcopy(next(d for d in shipped_definitions() if d["code"] == code))


def best(d: dict, **changed) -> dict:
    """Every item at its best option, except `changed` (item code with dots as underscores)."""
    out = {i["code"]: max(o["points"] for o in i["options"]) for i in d["items"]}
    for key, value in changed.items():
        out[key.replace("_", ".")] = value
    return out


def group_at(d: dict, answers: dict, group: str, points: int) -> dict:
    """`answers` with every item of `group` at `points` (or its lowest option above it)."""
    out = dict(answers)
    for i in d["items"]:
        if i["group"] == group:
            out[i["code"]] = min(points, max(o["points"] for o in i["options"]))
    return out
