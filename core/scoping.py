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


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass
