"""Reads of pairings; each begins with restrict(), but the watcher's own (their pairings by
account: `watcher_pairings`, as the family portal reads by family link). docs/pairing.md."""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from audit.services import access_log
from core import crypto
from core.access import check, get_scoped_or_404
from elders.categories import category_by_code
from pairing.models import Pairing, Role
from pairing.services import active_q

# Who is at risk (issue 12, 民政部等十部门 2022 探访关爱 targets): the categories of
# elders.categories below, or a disability of grade 1–2 (重度残疾). Every one of them should have
# a watcher; an elder in residence who is any of these and has none is on the "no watcher" list.
AT_RISK_CATEGORIES = ("lives_alone", "empty_nest", "left_behind", "disabled", "family_planning")
SEVERE_DISABILITY_GRADES = ("1", "2")


def at_risk_q(day: datetime.date | None = None) -> Q:
    """Elders at risk on `day`, as a filter on Elder (the categories' own Q objects, so the
    definition is written once; a category switched off by CATEGORIES_DISABLED drops out)."""
    day = day or timezone.localdate()
    known = category_by_code()
    q = Q(disability_grade__in=SEVERE_DISABILITY_GRADES)
    for code in AT_RISK_CATEGORIES:
        if code in known:
            q |= known[code].q(day)
    return q


def at_risk_labels(elder, day: datetime.date | None = None) -> list[str]:
    """Why `elder` is at risk, in words (独居, 空巢, 重度残疾…)."""
    day = day or timezone.localdate()
    known = category_by_code()
    words = [str(known[c].label) for c in AT_RISK_CATEGORIES if c in known and known[c].test(elder, day)]
    if elder.disability_grade in SEVERE_DISABILITY_GRADES:
        words.append(gettext("重度残疾"))
    return words


def active_pairings_q(day: datetime.date | None = None) -> Q:
    """Pairings in force on `day` (default today)."""
    return active_q(day or timezone.localdate())


@dataclass
class PairingFilter:
    region: object = None  # a region already checked to be in scope: its subtree
    role: str = ""
    partner_kind: str = ""
    active: str = "active"  # active, ended, all
    elder: object = None


def pairing_list(*, user, filters: PairingFilter | None = None, day: datetime.date | None = None):
    """Pairings of the user's subtree, by region then elder (the (region, role, ends_on, id)
    index serves a community; the list is small beside the register)."""
    f = filters or PairingFilter()
    day = day or timezone.localdate()
    qs = Pairing.objects.restrict(user, "view")
    if f.region is not None:
        qs = qs.within(f.region)
    if f.role:
        qs = qs.filter(role=f.role)
    if f.partner_kind:
        qs = qs.filter(partner_kind=f.partner_kind)
    if f.elder is not None:
        qs = qs.filter(elder=f.elder)
    if f.active == "active":
        qs = qs.filter(active_q(day))
    elif f.active == "ended":
        qs = qs.exclude(active_q(day))
    return qs.select_related("elder", "region", "user", "volunteer").order_by("region_id", "elder_id", "role", "id")


def pairings_of_elder(*, user, elder, day: datetime.date | None = None):
    """An elder's pairings (the elder read through the user's scope), those in force first."""
    day = day or timezone.localdate()
    qs = Pairing.objects.restrict(user, "view").filter(elder=elder).select_related("user", "volunteer")
    return sorted(qs.order_by("role", "-starts_on", "-id")[:50], key=lambda p: not is_active(p, day))


def is_active(pairing: Pairing, day: datetime.date | None = None) -> bool:
    day = day or timezone.localdate()
    return pairing.starts_on <= day and (pairing.ends_on is None or pairing.ends_on > day)


def pairing_get(*, user, pairing_id: int, action: str = "view") -> Pairing:
    return get_scoped_or_404(Pairing.objects.select_related("elder", "region", "user", "volunteer"), user, pairing_id, action)


def unwatched_at_risk(*, user, day: datetime.date | None = None, region=None):
    """At-risk elders in residence in the user's scope with no watcher in force on `day`: a NOT
    EXISTS over the (elder, role, ends_on) index, so a city's first page reads one index walk of
    the register (elder_status_pinyin_region) and a community's its own rows. In name order."""
    from elders.models import Elder

    check(user, "view", Pairing)
    day = day or timezone.localdate()
    watched = Pairing.objects.filter(elder_id=OuterRef("pk"), role=Role.WATCHER).filter(active_q(day))
    qs = Elder.objects.restrict(user, "view")
    if region is not None:
        qs = qs.within(region)
    return (
        qs.filter(status="active")
        .filter(at_risk_q(day))
        .filter(~Exists(watched))
        .select_related("region")
        .order_by("name_pinyin", "id")
    )


# --- the watcher's phone page ----------------------------------------------------------------------


def may_watch(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.may_code("pairing.watch_pairing")


def watcher_pairings(*, user, day: datetime.date | None = None):
    """The user's own pairings in force (as watcher or helper), by elder: the phone page's rows.
    Read by the partner's account, not by region (a neighbour's account has none), as the family
    portal reads by family link; nothing for a user without pairing.watch_pairing."""
    if not may_watch(user):
        return Pairing.objects.none()
    day = day or timezone.localdate()
    return (
        Pairing.objects.filter(user=user, elder__status="active")
        .filter(active_q(day))
        .select_related("elder", "elder__region", "region")
        .order_by("elder__name_pinyin", "elder_id", "role", "id")
    )


def watcher_elders(*, user, day: datetime.date | None = None):
    """The elders of the user's pairings in force."""
    from elders.models import Elder

    if not may_watch(user):
        return Elder.objects.none()
    return Elder.objects.filter(pk__in=watcher_pairings(user=user, day=day).values("elder_id"))


def watcher_pairing_get(*, user, pairing_id: int) -> Pairing:
    """One of the user's own pairings in force; anything else: 404."""
    found = watcher_pairings(user=user).filter(pk=pairing_id).first()
    if found is None:
        raise Http404
    return found


def watcher_page_log(*, user, pairings, ip=None) -> None:
    """The phone page shows each elder's address: one access-log row per elder shown."""
    for p in pairings:
        access_log(
            kind="reveal",
            model="elders.elder",
            object_id=p.elder_id,
            fields=("address",),
            detail={"reason": "守望员查看结对老人", "pairing": p.pk},
            by=user,
            region=p.elder.region,
            ip=ip,
        )


def watcher_elder_phone(*, user, pairing: Pairing, ip=None) -> str:
    """The elder's full phone for their partner (who calls them), logged as a reveal."""
    elder = pairing.elder
    phone = crypto.decrypt(elder.phone_enc) if elder.phone_enc else ""
    access_log(
        kind="reveal",
        model="elders.elder",
        object_id=elder.pk,
        fields=("phone",),
        detail={"reason": "守望员联系结对老人", "pairing": pairing.pk},
        by=user,
        region=elder.region,
        ip=ip,
    )
    return phone


def pairing_desk_figures(*, user, day: datetime.date | None = None) -> dict | None:
    """The desk's panel: pairings in force and at-risk elders without a watcher (capped)."""
    from core.pagination import COUNT_CAP

    if not user.may("view", Pairing):
        return None
    day = day or timezone.localdate()
    return {
        "active": Pairing.objects.restrict(user, "view").filter(active_q(day)).order_by()[: COUNT_CAP + 1].count(),
        "unwatched": unwatched_at_risk(user=user, day=day).order_by()[: COUNT_CAP + 1].count(),
        "cap": COUNT_CAP,
    }


def partner_volunteers(*, user, elder):
    """Approved volunteers who may be paired with `elder`: of the elder's community (or a region
    above it), read through the user's scope; none for a user who may not see volunteers."""
    from providers.models import Volunteer

    ids = [int(part) for part in elder.region.path.strip("/").split("/") if part]
    return (
        Volunteer.objects.restrict(user, "view")
        .filter(status="approved", region_id__in=ids)
        .select_related("user")
        .order_by("name", "id")[:200]
    )


def partner_account_find(*, username: str):
    """A partner's account by its exact user name (老人/家属 or 志愿者), or None. Exact only: a
    worker types the account the partner tells them, never browses accounts."""
    from django.contrib.auth import get_user_model

    from pairing.services import PARTNER_ROLES

    username = (username or "").strip()
    if not username or len(username) > 150:
        return None
    return get_user_model().objects.filter(username__iexact=username, role__in=PARTNER_ROLES, is_active=True).first()
