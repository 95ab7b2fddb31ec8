"""Reads of the region tree, always through the user's scope."""

import re

from django.shortcuts import get_object_or_404

from regions.models import Level, Region


def region_list(*, user, action: str = "view", level: int | None = None):
    qs = Region.objects.restrict(user, action)
    if level is not None:
        qs = qs.filter(level=level)
    return qs


def region_get(*, user, region_id: int, action: str = "view") -> Region:
    return get_object_or_404(Region.objects.restrict(user, action), pk=region_id)


def region_choices_for_elders(*, user):
    """Communities and grids in the user's subtree: where an elder can be registered."""
    return Region.objects.restrict(user, "view").filter(level__in=[Level.COMMUNITY, Level.GRID])


def region_ancestors(region: Region) -> list[Region]:
    ids = region.depth_ids
    by_id = Region.objects.in_bulk(ids)
    return [by_id[i] for i in ids if i in by_id]


_NUMERALS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_DIGITS = "零〇一二两三四五六七八九十百"
_NUMBER_IN_NAME = re.compile(rf"第([{_DIGITS}]+|\d+)|([{_DIGITS}]+|\d+)(?:网格|组|片区)$")


def _chinese_number(text: str) -> int:
    """一 1, 十 10, 十二 12, 二十三 23, 一百零五 105 (the numbers grids and villages carry)."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _NUMERALS[ch]
    return total + current


def region_sibling_key(region: Region) -> tuple:
    """How siblings sort: by their division code, else by the number in their name (第一网格,
    第二网格 … 第十网格), else by name; never by the ids in their paths, which put 第十 before
    第二 and a grid made later before one made earlier."""
    match = _NUMBER_IN_NAME.search(region.name)
    number = _chinese_number(match.group(1) or match.group(2)) if match else 10**9
    return (region.code or "~", number, region.name, region.pk)


def regions_in_tree_order(regions) -> list[Region]:
    """`regions` as a tree reads: each under its parent, siblings by `region_sibling_key`.
    Ancestors missing from `regions` are read (one query) to place their descendants."""
    regions = list(regions)
    known = {r.pk: r for r in regions}
    missing = {i for r in regions for i in r.depth_ids} - set(known)
    if missing:
        known.update(Region.objects.in_bulk(missing))
    keys = {pk: region_sibling_key(r) for pk, r in known.items()}
    return sorted(regions, key=lambda r: [keys.get(i, ("~", 10**9, "", i)) for i in r.depth_ids])


def region_default_for_elders(*, user, choices) -> Region | None:
    """Where a new elder goes unless the user picks another: the user's own grid for a grid
    worker, else the first grid (in tree order) of the choices, else the first choice."""
    choices = list(choices)
    for region in choices:
        if user.region_id == region.pk and region.level == Level.GRID:
            return region
    grids = [r for r in choices if r.level == Level.GRID]
    return (grids or choices or [None])[0]


def region_community_of(region: Region) -> Region | None:
    """The community (社区/村) `region` is or lies in (a grid's parent), or None above that level."""
    if region.level == Level.COMMUNITY:
        return region
    if region.level < Level.COMMUNITY:
        return None
    found = [r for r in region_ancestors(region) if r.level == Level.COMMUNITY]
    return found[-1] if found else None
