"""The one-minute checklist a visitor fills on a phone (docs/visits.md, "The checklist").

Each item is one row of radio chips: a code, a label, its options (the first is the usual,
"nothing to report"), and the group it shows under. `Visit.checklist` keeps {code: option};
an item left out was not asked. `checklist_clean` refuses unknown codes and values, naming
the item in Chinese. `flags(checklist)` lists what needs attention (any option but the first).
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    group: str
    options: tuple[tuple[str, str], ...]


_OK_HARD = (("ok", _l("无困难")), ("hard", _l("有困难")))
_OK_HAZARD = (("ok", _l("正常")), ("hazard", _l("有隐患")))
_NO_YES = (("no", _l("不需要")), ("yes", _l("需要")))

GROUPS = {
    "health": _l("身体和精神"),
    "hardship": _l("生活困难"),
    "family": _l("家庭赡养"),
    "hazard": _l("居家安全隐患"),
    "needs": _l("服务需求"),
}

ITEMS: tuple[Item, ...] = (
    Item("health", _l("身体状况"), "health", (("good", _l("良好")), ("fair", _l("一般")), ("poor", _l("较差")))),
    Item("spirits", _l("精神状态"), "health", (("good", _l("良好")), ("low", _l("低落")), ("poor", _l("异常")))),
    Item("food", _l("吃饭"), "hardship", _OK_HARD),
    Item("clothing", _l("穿衣"), "hardship", _OK_HARD),
    Item("housing", _l("住房"), "hardship", _OK_HARD),
    Item("transport", _l("出行"), "hardship", _OK_HARD),
    Item("medical", _l("就医"), "hardship", _OK_HARD),
    Item(
        "family_support",
        _l("子女履行赡养义务"),
        "family",
        (("yes", _l("履行")), ("partly", _l("部分履行")), ("no", _l("未履行")), ("none", _l("无子女"))),
    ),
    Item("water", _l("用水"), "hazard", _OK_HAZARD),
    Item("power", _l("用电"), "hazard", _OK_HAZARD),
    Item("gas", _l("燃气"), "hazard", _OK_HAZARD),
    Item("heating", _l("取暖"), "hazard", _OK_HAZARD),
    Item("care", _l("生活照料"), "needs", _NO_YES),
    Item("rehab", _l("康复护理"), "needs", _NO_YES),
    Item("company", _l("精神慰藉/陪伴"), "needs", _NO_YES),
    Item("adaptation", _l("适老化改造"), "needs", _NO_YES),
)
BY_CODE = {i.code: i for i in ITEMS}
# "none" (no children) is not a concern; every other non-first option is.
_NOT_A_FLAG = {("family_support", "none")}


def checklist_clean(value) -> dict:
    """The checklist as stored: known codes with known options; a blank value is dropped."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ValidationError({"checklist": _("探访情况格式不正确，应为“项目：选项”的对应表")})
    out = {}
    for code, option in value.items():
        item = BY_CODE.get(code)
        if item is None:
            raise ValidationError({"checklist": _("探访情况中没有“%(code)s”这一项") % {"code": code}})
        if option in (None, ""):
            continue
        if option not in dict(item.options):
            raise ValidationError(
                {
                    "checklist": _("“%(item)s”的选项“%(value)s”无效，可选：%(options)s")
                    % {"item": item.label, "value": option, "options": "、".join(str(lbl) for _c, lbl in item.options)}
                }
            )
        out[code] = option
    return out


def flags(checklist: dict) -> list[tuple[Item, str]]:
    """(item, option label) of each answer that needs attention, in checklist order."""
    out = []
    for item in ITEMS:
        option = (checklist or {}).get(item.code)
        if option and option != item.options[0][0] and (item.code, option) not in _NOT_A_FLAG:
            out.append((item, str(dict(item.options)[option])))
    return out


def rows(checklist: dict) -> list[tuple[Item, str]]:
    """(item, option label) of every answered item, for a visit's page."""
    return [(i, str(dict(i.options)[checklist[i.code]])) for i in ITEMS if (checklist or {}).get(i.code)]
