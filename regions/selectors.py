"""Reads of the region tree, always through the user's scope."""

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
