"""The one scope mechanism: every scoped row reaches a user through `restrict()`.

A user sees and changes only the subtree of the region node they are attached to, within
what their role allows. Region paths end with a separator ("/1/5/23/"), so "is in the subtree
of" is one prefix match: `Subtree` is that rule, the only place it is written, as a filter
(`Subtree.q`) and for a row already read (`path in Subtree(...)`). `restrict()`, `in_scope()`
and `Region.contains()` all go through it. Platform admins sit at the root node: there is no
bypass branch.

A model opts in by naming where its rows' scope lives:

- `SCOPE_PATH`: the region path of the row ("region__path", or "path" for the region itself);
- `SCOPE_ORG` (optional, the second axis): the organisation that also owns the row (for
  example "provider" on an order: the provider's users see the orders sent to them, whatever
  the region). `restrict()` ORs the two: a row is in scope when it lies in the user's region
  subtree OR belongs to the user's organisation. Users get the axis with an
  `organisation_id` attribute (the providers issue adds the field); until then it is None and
  only the region axis applies.

Speed at city scale: for a small subtree (a community, a street, a district) the filter is
`region_id IN (<the subtree's region ids>)` rather than a prefix match through a join, so
PostgreSQL estimates from the column's own statistics how few rows match and reads them by
the (region, …) index, instead of walking a name-ordered index over the whole register (a
community's page 51 took 4.1 s that way at 2,000,000 elders; see docs/performance.md).
Big subtrees (a city, a province) keep the join, where walking the sort index is right.
"""

from django.db import models
from django.db.models import Q

# Up to this many region nodes a subtree is filtered by id list (a district of a generated
# city has ~1,100 nodes, a city ~10,000: the join is better there).
ID_LIST_MAX = 2_000


# The region tree's rows (a queryset of nodes with a "path"): registered by the regions app
# in its AppConfig.ready, since core sits below every app and imports none of them.
_region_nodes = None


def register_region_nodes(queryset_factory) -> None:
    """Tell the scope where the region tree's nodes are (regions.apps)."""
    global _region_nodes
    _region_nodes = queryset_factory


class Subtree:
    """THE subtree rule: `path` is within the subtree rooted at `root` iff it starts with it.

    Paths end with the separator, so "/1/5/" does not contain "/1/50/". An empty root (a user
    with no region) contains nothing.
    """

    def __init__(self, root: str):
        self.root = root or ""

    def __contains__(self, path: str) -> bool:
        return bool(self.root) and (path or "").startswith(self.root)

    def q(self, path_field: str) -> Q:
        """The same rule as a filter on `path_field` (a region path, e.g. "region__path")."""
        if not self.root:
            return Q(pk__in=[])
        return Q(**{f"{path_field}__startswith": self.root})

    def region_ids(self, limit: int = ID_LIST_MAX) -> list[int] | None:
        """The ids of the subtree's region nodes, or None when there are more than `limit` (or
        no app has registered the region tree: then the path prefix alone filters)."""
        if not self.root:
            return []
        if _region_nodes is None:
            return None
        ids = list(_region_nodes().filter(self.q("path")).values_list("pk", flat=True)[: limit + 1])
        return None if len(ids) > limit else ids


class Scope:
    """What one user reaches: a region subtree and, later, an organisation (see the module)."""

    def __init__(self, region_path: str = "", org_id: int | None = None):
        self.subtree = Subtree(region_path)
        self.org_id = org_id
        self._region_ids = False  # not looked up yet

    @classmethod
    def of(cls, user) -> "Scope":
        """The user's scope. Not cached on the user: the tree may grow under a user object that
        lives on (a task, a test), and the id lookup costs well under a millisecond."""
        region = getattr(user, "region", None)
        return cls(region.path if region is not None else "", getattr(user, "organisation_id", None))

    @property
    def is_empty(self) -> bool:
        """Nothing at all: no region and no organisation (the account is not set up)."""
        return not self.subtree.root and self.org_id is None

    def covers(self, *, path: str = "", org_id: int | None = None) -> bool:
        """The rule for one row already read: its region path, its organisation."""
        return path in self.subtree or (self.org_id is not None and org_id == self.org_id)

    def region_ids(self) -> list[int] | None:
        if self._region_ids is False:
            self._region_ids = self.subtree.region_ids()
        return self._region_ids

    def q(self, model) -> Q:
        """The filter of `model`'s rows in this scope (both axes, ORed)."""
        wanted = region_q(model.SCOPE_PATH, self.subtree, self.region_ids)
        org_field = getattr(model, "SCOPE_ORG", None)
        if org_field and self.org_id is not None:
            wanted |= Q(**{org_field: self.org_id})
        return wanted


def region_q(path_field: str, subtree: Subtree, region_ids=None) -> Q:
    """Rows whose region lies in `subtree`. A path through a foreign key ("region__path") of a
    small subtree becomes `region_id IN (...)` (see the module); `region_ids` is a callable
    giving the ids or None (cached by Scope)."""
    if not subtree.root:
        return Q(pk__in=[])
    fk, sep, last = path_field.rpartition("__")
    if sep and last == "path":
        ids = region_ids() if region_ids is not None else subtree.region_ids()
        if ids is not None:
            return Q(**{f"{fk}_id__in" if "__" not in fk else f"{fk}__in": ids})
    return subtree.q(path_field)


class ScopedQuerySet(models.QuerySet):
    """QuerySet of a model that names its region path in `SCOPE_PATH` (e.g. "region__path")
    and optionally its organisation in `SCOPE_ORG`."""

    def restrict(self, user, action: str = "view"):
        if not getattr(user, "is_authenticated", False) or not user.may(action, self.model):
            return self.none()
        scope = Scope.of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.q(self.model))

    def within(self, region):
        """Rows under `region` (a filter the user chose, already checked to be in scope), by the
        same rule and with the same speed as restrict()."""
        return self.filter(region_q(self.model.SCOPE_PATH, Subtree(region.path)))


def in_scope(user, region_path: str, org_id: int | None = None) -> bool:
    """restrict()'s rule for one row already read without it (the importer looks registered
    people up across the whole register, to refuse someone registered elsewhere rather than
    register them twice): is the row inside the user's scope?"""
    return Scope.of(user).covers(path=region_path, org_id=org_id)


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass
