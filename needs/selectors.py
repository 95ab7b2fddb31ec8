"""Reads of the needs ledger; each begins with restrict()."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from core.access import check, get_scoped_or_404
from core.pagination import COUNT_CAP
from needs.models import PENDING, Need, State


@dataclass
class NeedFilter:
    region: object = None  # a region in the user's scope (already checked), its whole subtree
    kind: str = ""
    state: str = "pending"  # pending (open + planned), a state code, or "all"
    overdue: bool = False
    category: int | None = None  # an item category: needs answered by one of its items


def need_list(*, user, filters: NeedFilter | None = None, today: datetime.date | None = None):
    """Needs in the user's scope, by follow-up date (the (region, state, follow_up_on, id) and
    (state, follow_up_on, id, region) indexes serve a community's and a city's list alike)."""
    f = filters or NeedFilter()
    today = today or timezone.localdate()
    qs = Need.objects.restrict(user, "view")
    if f.region is not None:
        qs = qs.within(f.region)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.overdue:
        qs = qs.filter(state__in=PENDING, follow_up_on__lt=today)
    elif f.state == "pending":
        qs = qs.filter(state__in=PENDING)
    elif f.state and f.state != "all":
        qs = qs.filter(state=f.state)
    if f.category:
        qs = qs.filter(pk__in=Need.items.through.objects.filter(serviceitem__category_id=f.category).values("need_id"))
    return qs.select_related("elder", "region", "responsible").order_by("follow_up_on", "id")


def needs_of_elder(*, user, elder):
    """An elder's needs (the elder read through the user's scope), pending first."""
    return (
        Need.objects.restrict(user, "view")
        .filter(elder=elder)
        .select_related("responsible")
        .prefetch_related("items")
        .order_by("-created_at", "-id")
    )


def need_get(*, user, need_id: int, action: str = "view") -> Need:
    return get_scoped_or_404(Need.objects.select_related("elder", "region", "responsible"), user, need_id, action)


def is_overdue(need: Need, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return need.state in PENDING and need.follow_up_on is not None and need.follow_up_on < today


def _capped(qs) -> int:
    return qs.order_by()[: COUNT_CAP + 1].count()


def need_desk_figures(*, user) -> dict | None:
    """The desk's panel: open and overdue needs in the user's scope (capped past 10,000)."""
    if not user.may("view", Need):
        return None
    qs = Need.objects.restrict(user, "view")
    today = timezone.localdate()
    return {
        "open": _capped(qs.filter(state__in=PENDING)),
        "overdue": _capped(qs.filter(state__in=PENDING, follow_up_on__lt=today)),
        "urgent": _capped(qs.filter(state=State.OPEN, kind="urgent")),
        "cap": COUNT_CAP,
    }


def responsible_choices(*, user, elder):
    """Who may be made responsible for a need of `elder`: users whose scope covers the elder
    and who may change needs (community and grid workers of that community), through accounts."""
    from accounts.models import User
    from core.scoping import in_scope

    check(user, "view", Need)
    ids = [int(part) for part in elder.region.path.strip("/").split("/") if part]
    users = User.objects.filter(is_active=True, region_id__in=ids, role__in=["community", "grid"]).order_by(
        "role", "full_name", "pk"
    )
    return [u for u in users if in_scope(u, elder.region.path)]
