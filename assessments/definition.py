"""An instrument's definition: items, options and points, groups, levels and adjustment rules,
as data (a JSON document stored on assessments.Instrument), and the one check it must pass.

    {
      "code": "gbt42195", "version": 1, "name": "…", "drives_ability_level": true,
      "raise_stacks": false,                  # two "+1 level" rules together: +1 (false) or +2 (true)
      "groups": [{"code", "name", "max_points"}],
      "items": [{"code", "group", "name", "definition", "options": [{"points", "text"}]}],
      "levels": [{"code", "name", "min"}],    # best first; a score >= min reaches the level
      "facts": [{"code", "label", "kind": "bool" | "count"}],
      "adjustments": [{"code", "fact", "effect": "set_level" | "raise", "level" | "steps",
                       "min_count" (count facts), "reason", "basis"}]
    }

The level codes of an instrument that drives Elder.ability_level must be elders.AbilityLevel codes.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SHIPPED = Path(__file__).resolve().parent / "instruments"
ABILITY_CODES = ("intact", "mild", "moderate", "severe", "complete")


def shipped_definitions() -> list[dict]:
    """The definitions shipped with the app (assessments/instruments/*.json), as loaded by the
    data migration."""
    return [json.loads(p.read_text("utf-8")) for p in sorted(SHIPPED.glob("*.json"))]


def load_shipped(instrument_model) -> None:
    """Store the shipped definitions as Instrument rows (migration 0002; tests whose database was
    flushed). `instrument_model` is the historical model in a migration."""
    for definition in shipped_definitions():
        validate_definition(definition)
        instrument_model.objects.update_or_create(
            code=definition["code"],
            version=definition["version"],
            defaults={"name": definition["name"], "definition": definition, "is_published": True},
        )


def _need(cond: bool, message: str, errors: list) -> None:
    if not cond:
        errors.append(message)


def validate_definition(d) -> dict:
    """Refuse a definition that cannot be scored; messages in Chinese naming the part to fix."""
    errors: list[str] = []
    if not isinstance(d, dict):
        raise ValidationError({"definition": [_("评估量表定义必须是 JSON 对象")]})
    for key in ("code", "name", "groups", "items", "levels"):
        _need(key in d, _("评估量表定义缺少“%(k)s”") % {"k": key}, errors)
    if errors:
        raise ValidationError({"definition": errors})
    groups = {g.get("code"): g for g in d["groups"] if isinstance(g, dict)}
    _need(len(groups) == len(d["groups"]) and groups, _("分组编码不能为空或重复"), errors)
    codes = [i.get("code") for i in d["items"] if isinstance(i, dict)]
    _need(len(set(codes)) == len(d["items"]) and codes, _("评估项目编码不能为空或重复"), errors)
    sums = dict.fromkeys(groups, 0)
    for item in d["items"]:
        if not isinstance(item, dict):
            continue
        code = item.get("code")
        _need(item.get("group") in groups, _("评估项目 %(c)s 的分组不存在") % {"c": code}, errors)
        options = item.get("options") or []
        points = [o.get("points") for o in options if isinstance(o, dict)]
        ok = bool(points) and all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in points)
        _need(
            ok and len(set(points)) == len(points), _("评估项目 %(c)s 的选项分值必须是互不相同的非负整数") % {"c": code}, errors
        )
        if ok and item.get("group") in sums:
            sums[item["group"]] += max(points)
    for code, group in groups.items():
        _need(
            group.get("max_points") == sums.get(code),
            _("分组“%(g)s”的满分 %(m)s 与其项目最高分之和 %(s)s 不一致")
            % {"g": group.get("name"), "m": group.get("max_points"), "s": sums.get(code)},
            errors,
        )
    levels = d["levels"]
    mins = [lv.get("min") for lv in levels if isinstance(lv, dict)]
    _need(len(mins) == len(levels) >= 2, _("等级至少两个"), errors)
    _need(all(isinstance(m, int) and not isinstance(m, bool) for m in mins), _("等级的分数下限必须是整数"), errors)
    if errors:
        raise ValidationError({"definition": errors})
    total = sum(sums.values())
    _need(all(a > b for a, b in zip(mins, mins[1:], strict=False)), _("等级必须从好到差排列，分数下限逐级降低"), errors)
    _need(mins[-1] == 0, _("最差一级的分数下限必须为 0"), errors)
    _need(mins[0] <= total, _("最好一级的分数下限不能高于总分 %(t)s") % {"t": total}, errors)
    level_codes = [lv.get("code") for lv in levels]
    _need(len(set(level_codes)) == len(levels), _("等级编码不能重复"), errors)
    if d.get("drives_ability_level"):
        _need(
            set(level_codes) <= set(ABILITY_CODES),
            _("决定老人能力等级的量表，等级编码只能是 %(c)s") % {"c": "、".join(ABILITY_CODES)},
            errors,
        )
    facts = {f.get("code"): f for f in d.get("facts", [])}
    for rule in d.get("adjustments", []):
        code = rule.get("code")
        _need(rule.get("fact") in facts, _("等级变更规则 %(c)s 的依据项不存在") % {"c": code}, errors)
        if rule.get("effect") == "set_level":
            _need(rule.get("level") in level_codes, _("等级变更规则 %(c)s 的等级不存在") % {"c": code}, errors)
        elif rule.get("effect") == "raise":
            steps = rule.get("steps")
            _need(isinstance(steps, int) and steps >= 1, _("等级变更规则 %(c)s 的提高级数必须是正整数") % {"c": code}, errors)
        else:
            errors.append(_("等级变更规则 %(c)s 的作用只能是 set_level 或 raise") % {"c": code})
    if errors:
        raise ValidationError({"definition": errors})
    return d


def total_points(d: dict) -> int:
    """The highest total an instrument can give (the sum of its groups' maxima)."""
    return sum(g["max_points"] for g in d["groups"])


def level_ranges(d: dict) -> list[dict]:
    """The levels with their score ranges, best first: [{code, name, min, max}] — `max` is the
    next better level's min − 1 (the best level's is the instrument's total)."""
    out, upper = [], total_points(d)
    for lv in d["levels"]:
        out.append({"code": lv["code"], "name": lv["name"], "min": lv["min"], "max": upper})
        upper = lv["min"] - 1
    return out
