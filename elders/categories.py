"""Elder categories (SPEC §2.1): derived by rules, never typed by hand.

Each rule has two forms that must agree: a Q object, so lists can be filtered in the
database in any combination (独居 AND 高龄), and a predicate for one loaded elder, for
display. tests/test_categories.py checks with hypothesis that they agree.
Age thresholds come from settings (REGISTRY_MIN_AGE, VERY_OLD_AGE); a deployment can
switch categories off with CATEGORIES_DISABLED.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from elders.models import AbilityLevel, LivingArrangement, MaritalStatus


def years_before(day: datetime.date, years: int) -> datetime.date:
    """The date `years` before `day` (29 February falls back to 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    q: Callable[[datetime.date], Q]
    test: Callable[[object, datetime.date], bool]


_APART = [LivingArrangement.ALONE, LivingArrangement.SPOUSE]  # no child in the household
_DISABLED = [AbilityLevel.SEVERE, AbilityLevel.COMPLETE]
_PARTLY = [AbilityLevel.MILD, AbilityLevel.MODERATE]


def _very_old_q(day):
    return Q(birth_date__lte=years_before(day, settings.VERY_OLD_AGE))


def _very_old(e, day):
    return e.birth_date <= years_before(day, settings.VERY_OLD_AGE)


def _empty_nest_q(day):
    return Q(children_count__gt=0, living_arrangement__in=_APART)


def _empty_nest(e, day):
    return e.children_count > 0 and e.living_arrangement in _APART


def _no_kin_q(day):
    return Q(children_count=0) & ~Q(marital_status=MaritalStatus.MARRIED)


def _no_kin(e, day):
    return e.children_count == 0 and e.marital_status != MaritalStatus.MARRIED


def _key_care_q(day):
    # 重点关爱对象: the people the 2022 visiting guideline targets first.
    return (
        _no_kin_q(day)
        | Q(ability_level__in=_DISABLED)
        | Q(is_tekun=True)
        | Q(is_family_planning_special=True)
        | (_very_old_q(day) & Q(living_arrangement__in=_APART))
    )


def _key_care(e, day):
    return (
        _no_kin(e, day)
        or e.ability_level in _DISABLED
        or e.is_tekun
        or e.is_family_planning_special
        or (_very_old(e, day) and e.living_arrangement in _APART)
    )


CATEGORIES: list[Category] = [
    Category("very_old", _("高龄"), _very_old_q, _very_old),
    Category(
        "lives_alone",
        _("独居"),
        lambda day: Q(living_arrangement=LivingArrangement.ALONE),
        lambda e, day: e.living_arrangement == LivingArrangement.ALONE,
    ),
    Category("empty_nest", _("空巢"), _empty_nest_q, _empty_nest),
    Category("no_kin", _("孤寡"), _no_kin_q, _no_kin),
    Category(
        "left_behind",
        _("留守"),
        lambda day: Q(children_away=True, living_arrangement__in=_APART),
        lambda e, day: e.children_away and e.living_arrangement in _APART,
    ),
    Category(
        "disabled",
        _("失能"),
        lambda day: Q(ability_level__in=_DISABLED),
        lambda e, day: e.ability_level in _DISABLED,
    ),
    Category(
        "partly_disabled",
        _("半失能"),
        lambda day: Q(ability_level__in=_PARTLY),
        lambda e, day: e.ability_level in _PARTLY,
    ),
    Category("dibao", _("低保"), lambda day: Q(is_dibao=True), lambda e, day: e.is_dibao),
    Category("tekun", _("特困"), lambda day: Q(is_tekun=True), lambda e, day: e.is_tekun),
    Category("disability", _("残疾"), lambda day: ~Q(disability_grade=""), lambda e, day: e.disability_grade != ""),
    Category(
        "family_planning",
        _("计划生育特殊家庭"),
        lambda day: Q(is_family_planning_special=True),
        lambda e, day: e.is_family_planning_special,
    ),
    Category("key_care", _("重点关爱对象"), _key_care_q, _key_care),
]


def enabled_categories() -> list[Category]:
    disabled = set(settings.CATEGORIES_DISABLED)
    return [c for c in CATEGORIES if c.code not in disabled]


def category_by_code() -> dict[str, Category]:
    return {c.code: c for c in enabled_categories()}


def categories_of(elder, day: datetime.date | None = None) -> list[Category]:
    day = day or timezone.localdate()
    return [c for c in enabled_categories() if c.test(elder, day)]


def categories_q(codes, day: datetime.date | None = None) -> Q:
    """All of the named categories at once (AND); unknown codes raise KeyError."""
    day = day or timezone.localdate()
    known = category_by_code()
    q = Q()
    for code in codes:
        q &= known[code].q(day)
    return q
