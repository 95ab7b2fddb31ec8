"""The one scope mechanism: every region-owned row reaches a user through `restrict()`.

A user sees and changes only the subtree of the region node they are attached to, within
what their role allows. Region paths end with a separator ("/1/5/23/"), so a subtree is
one indexed prefix match. Platform admins sit at the root node: there is no bypass branch.
"""

from django.db import models


class ScopedQuerySet(models.QuerySet):
    """QuerySet of a model that names its region path in `SCOPE_PATH` (e.g. "region__path")."""

    def restrict(self, user, action: str = "view"):
        if not getattr(user, "is_authenticated", False) or not user.may(action, self.model):
            return self.none()
        region = user.region
        if region is None:
            return self.none()
        return self.filter(**{f"{self.model.SCOPE_PATH}__startswith": region.path})


def in_scope(user, region_path: str) -> bool:
    """restrict()'s rule for one row already read without it (the importer looks registered
    people up across the whole register, to refuse someone registered elsewhere rather than
    register them twice): is `region_path` inside the user's subtree?"""
    region = getattr(user, "region", None)
    return region is not None and region_path.startswith(region.path)


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass
