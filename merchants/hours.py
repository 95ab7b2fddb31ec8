"""Opening hours: per weekday, a list of ranges ("08:00-12:00,14:00-18:00"), stored as
{"0": [["08:00", "12:00"], ["14:00", "18:00"]], …} with Monday "0" … Sunday "6".
A range that ends before it starts runs past midnight (夜宵 18:00-02:00)."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

WEEKDAYS = [
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
]
_RANGE = re.compile(r"^(\d{1,2})[:：](\d{2})\s*[-–—~～至到]\s*(\d{1,2})[:：](\d{2})$")
_CLOSED = {"", "休息", "不营业", "闭店", "-", "—", "closed"}
_ALL_DAY = {"全天", "24小时", "24h", "全天营业"}


def parse_day(text: str, *, day_label: str) -> list[list[str]]:
    """'08:00-12:00,14:00-18:00' -> [['08:00','12:00'], ['14:00','18:00']]; '' or 休息 -> []."""
    value = str(text or "").strip()
    if value in _CLOSED:
        return []
    if value in _ALL_DAY:
        return [["00:00", "24:00"]]
    ranges = []
    for part in re.split(r"[,，、;；\s]+", value):
        if not part:
            continue
        match = _RANGE.match(part)
        if not match:
            raise ValidationError(
                _("%(d)s的营业时间“%(v)s”看不懂，请写成 08:00-20:00，多段用逗号分开，不营业写“休息”")
                % {"d": day_label, "v": part[:20]}
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValidationError(_("%(d)s的时间“%(v)s”不存在，请核对") % {"d": day_label, "v": part[:20]})
        if (h1, m1) == (h2, m2):
            raise ValidationError(_("%(d)s的时段“%(v)s”开始和结束相同，请核对") % {"d": day_label, "v": part[:20]})
        ranges.append([f"{h1:02d}:{m1:02d}", f"{h2:02d}:{m2:02d}"])
    if len(ranges) > 4:
        raise ValidationError(_("%(d)s最多填 4 个时段") % {"d": day_label})
    return ranges


def parse_week(days: list[str]) -> dict:
    """Seven texts (Monday first) -> the stored dict; one ValidationError listing every bad day."""
    out, problems = {}, []
    for index, text in enumerate(list(days)[:7] + [""] * (7 - len(list(days)[:7]))):
        try:
            out[str(index)] = parse_day(text, day_label=str(WEEKDAYS[index]))
        except ValidationError as exc:
            problems.extend(exc.messages)
    if problems:
        raise ValidationError(problems)
    return out if any(out.values()) else {}  # nothing typed: hours not recorded


def day_text(hours: dict, weekday: int) -> str:
    ranges = (hours or {}).get(str(weekday)) or []
    return "，".join(f"{a}-{b}" for a, b in ranges)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def is_open(hours: dict, at: datetime.datetime) -> bool | None:
    """Open at local time `at`? None when no hours are recorded (unknown, not closed)."""
    if not hours or not any(hours.get(str(d)) for d in range(7)):
        return None
    now = at.hour * 60 + at.minute
    today, yesterday = at.weekday(), (at.weekday() - 1) % 7
    for start, end in hours.get(str(today)) or []:
        a, b = _minutes(start), _minutes(end)
        if (a < b and a <= now < b) or (a > b and now >= a):
            return True
    for start, end in hours.get(str(yesterday)) or []:
        a, b = _minutes(start), _minutes(end)
        if a > b and now < b:  # yesterday's range running past midnight
            return True
    return False
