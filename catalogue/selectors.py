"""Reads of the catalogue, price lists and entitlements.

The catalogue itself (categories, items, skills, certificate kinds) is one vocabulary for the
whole platform: whoever may view service items reads all of it. Price lists and packages are
set on region nodes; a user manages those of their subtree, while the rules that resolve a
price or an elder's entitlements (`price_for`, `prices_for`, `entitlements_for`) read the
whole chain of ancestors, whoever asks (they are rules, not lists a user browses).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from catalogue.models import (
    CertificateKind,
    EntitlementGrant,
    EntitlementPackage,
    PriceEntry,
    PriceList,
    ServiceCategory,
    ServiceItem,
    Skill,
)
from core.access import check
from regions.selectors import region_ancestors, region_get

# --- the catalogue -------------------------------------------------------------------------------


def category_list(*, user, scheme: str = "", active_only: bool = False):
    check(user, "view", ServiceItem)
    qs = ServiceCategory.objects.order_by("scheme", "position", "code")
    if scheme:
        qs = qs.filter(scheme=scheme)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs


def item_list(
    *,
    user,
    scheme: str = "",
    category: int | None = None,
    payment_mode: str = "",
    q: str = "",
    active_only: bool = False,
    skill: int | None = None,
):
    """The items with their category, skills and certificates, in the catalogue's order."""
    check(user, "view", ServiceItem)
    qs = ServiceItem.objects.select_related("category").prefetch_related("required_skills", "required_certificates")
    if scheme:
        qs = qs.filter(category__scheme=scheme)
    if category:
        qs = qs.filter(category_id=category)
    if payment_mode:
        # JSON list membership, the same on SQLite and PostgreSQL: the list is short.
        qs = qs.filter(payment_modes__icontains=f'"{payment_mode}"')
    if skill:
        qs = qs.filter(required_skills=skill)
    if q:
        qs = qs.filter(Q(name__icontains=q[:40]) | Q(code__icontains=q[:40]) | Q(category__name__icontains=q[:40]))
    if active_only:
        qs = qs.filter(is_active=True, category__is_active=True)
    return qs.order_by("category__scheme", "category__position", "position", "code")


def item_get(*, user, item_id: int, action: str = "view") -> ServiceItem:
    from django.shortcuts import get_object_or_404

    check(user, action, ServiceItem)
    return get_object_or_404(ServiceItem.objects.select_related("category"), pk=item_id)


def category_get(*, user, category_id: int, action: str = "view") -> ServiceCategory:
    from django.shortcuts import get_object_or_404

    check(user, action, ServiceItem)
    return get_object_or_404(ServiceCategory, pk=category_id)


def skill_list(*, user):
    check(user, "view", ServiceItem)
    return Skill.objects.order_by("code")


def skill_get(*, user, skill_id: int, action: str = "view") -> Skill:
    from django.shortcuts import get_object_or_404

    check(user, action, ServiceItem)
    return get_object_or_404(Skill, pk=skill_id)


def certificate_kind_list(*, user):
    check(user, "view", ServiceItem)
    return CertificateKind.objects.order_by("family", "rank", "code")


def certificate_kind_get(*, user, kind_id: int, action: str = "view") -> CertificateKind:
    from django.shortcuts import get_object_or_404

    check(user, action, ServiceItem)
    return get_object_or_404(CertificateKind, pk=kind_id)


def certificate_satisfies(held: CertificateKind, required: CertificateKind) -> bool:
    """A held certificate answers a required one of the same family and at least its rank
    (养老护理员（高级） answers a requirement of 养老护理员（中级）)."""
    return held.family == required.family and held.rank >= required.rank


# --- prices --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    price_fen: int
    region: object = None  # the node whose list set it; None: the catalogue's default
    entry_id: int | None = None

    @property
    def is_default(self) -> bool:
        return self.region is None


def _valid_on(on: datetime.date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}valid_from__lte": on}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": on})
    )


def prices_for(items, region, on: datetime.date | None = None) -> dict[int, Price]:
    """{item id: Price} at `region` on `on` (today), for many items in two queries.

    Per item, the nearest node from `region` up to the root whose price list holds an entry for
    that item valid on that date; else the item's default price. The rule is per item: a lower
    list that does not name an item does not hide an ancestor's price for it."""
    on = on or timezone.localdate()
    items = list(items)
    ancestors = region_ancestors(region)  # root first, the region itself last
    depth = {r.pk: i for i, r in enumerate(ancestors)}
    by_id = {r.pk: r for r in ancestors}
    best: dict[int, tuple[int, PriceEntry]] = {}
    entries = PriceEntry.objects.filter(
        _valid_on(on), item__in=[i.pk for i in items], price_list__region_id__in=list(depth)
    ).values_list("pk", "item_id", "price_fen", "price_list__region_id")
    for pk, item_id, price_fen, region_id in entries:
        d = depth[region_id]
        if item_id not in best or d > best[item_id][0]:
            best[item_id] = (d, Price(price_fen, by_id[region_id], pk))
    return {i.pk: best[i.pk][1] if i.pk in best else Price(i.price_fen) for i in items}


def price_for(item, region, on: datetime.date | None = None) -> Price:
    """The price of `item` at `region` on `on` (see prices_for)."""
    return prices_for([item], region, on)[item.pk]


def price_list_regions(*, user):
    """The price lists of the user's subtree, with how many entries each holds."""
    from django.db.models import Count

    check(user, "view", PriceList)
    return (
        PriceList.objects.restrict(user, "view")
        .select_related("region")
        .annotate(entry_count=Count("entries"))
        .order_by("region__path")
    )


def price_region_get(*, user, region_id: int, action: str = "view"):
    """A region node of the user's subtree whose price list they read or set (404 elsewhere)."""
    check(user, action, PriceList)
    return region_get(user=user, region_id=region_id)


def price_entries_at(*, user, region, action: str = "view"):
    """The entries the list set on `region` holds (the region already checked in scope)."""
    check(user, action, PriceList)
    lists = PriceList.objects.restrict(user, action).filter(region=region)
    return (
        PriceEntry.objects.filter(price_list__in=lists)
        .select_related("item", "item__category")
        .order_by("item__category__scheme", "item__category__position", "item__position", "valid_from")
    )


def price_entry_get(*, user, entry_id: int, action: str = "change") -> PriceEntry:
    from django.shortcuts import get_object_or_404

    check(user, action, PriceList)
    qs = PriceEntry.objects.select_related("price_list__region", "item").filter(
        price_list__in=PriceList.objects.restrict(user, action)
    )
    return get_object_or_404(qs, pk=entry_id)


# --- entitlements --------------------------------------------------------------------------------


@dataclass
class Quota:
    """A month's quota of one item or one category, summed over the packages that grant it."""

    item: ServiceItem | None
    category: ServiceCategory | None
    unit: str
    quantity: int
    packages: list = field(default_factory=list)

    @property
    def unit_label(self) -> str:
        from catalogue.models import Unit

        return str(dict(Unit.choices).get(self.unit, self.unit))

    @property
    def label(self) -> str:
        return str(self.item or self.category)


@dataclass
class Entitlements:
    packages: list  # EntitlementPackage rows that apply, each with .grants_list
    quotas: list  # Quota rows, one per item or category and unit

    def quota_of(self, item) -> int:
        """The monthly quantity granted for `item` itself (not through its category)."""
        return sum(q.quantity for q in self.quotas if q.item is not None and q.item.pk == item.pk)


def package_matches(package, *, ability_level: str, categories: set[str]) -> bool:
    """An elder matches when their level is in the package's levels (or it names none) and
    they are in one of its categories (or it names none); a package names at least one."""
    if not package.ability_levels and not package.categories:
        return False
    if package.ability_levels and ability_level not in package.ability_levels:
        return False
    if package.categories and not categories & set(package.categories):
        return False
    return True


def packages_in_force(region, on: datetime.date | None = None) -> list:
    """The packages in force at `region` on `on`: per code, the nearest node's (a lower node's
    package replaces an ancestor's of the same code, even when it no longer matches)."""
    on = on or timezone.localdate()
    ancestors = region_ancestors(region)
    depth = {r.pk: i for i, r in enumerate(ancestors)}
    nearest: dict[str, EntitlementPackage] = {}
    rows = EntitlementPackage.objects.filter(_valid_on(on), is_active=True, region_id__in=list(depth)).select_related("region")
    for package in rows:
        known = nearest.get(package.code)
        if known is None or depth[package.region_id] > depth[known.region_id]:
            nearest[package.code] = package
    return sorted(nearest.values(), key=lambda p: (p.code, p.pk))


def entitlements_for(elder, on: datetime.date | None = None) -> Entitlements:
    """What `elder` is entitled to a month on `on`: the packages in force at their region that
    match their ability level and categories, and the quota of each item or category (packages
    granting the same item add up). The order settlement draws on `quotas`."""
    from elders.categories import categories_of

    on = on or timezone.localdate()
    codes = {c.code for c in categories_of(elder, on)}
    packages = [
        p for p in packages_in_force(elder.region, on) if package_matches(p, ability_level=elder.ability_level, categories=codes)
    ]
    grants = defaultdict(list)
    for grant in EntitlementGrant.objects.filter(package__in=packages).select_related("item", "category"):
        grants[grant.package_id].append(grant)
    quotas: dict[tuple, Quota] = {}
    for package in packages:
        package.grants_list = grants[package.pk]
        for grant in package.grants_list:
            key = (grant.item_id, grant.category_id, grant.unit)
            quota = quotas.setdefault(key, Quota(grant.item, grant.category, grant.unit, 0))
            quota.quantity += grant.quantity
            quota.packages.append(package)
    return Entitlements(packages=packages, quotas=list(quotas.values()))


def package_list(*, user):
    check(user, "view", EntitlementPackage)
    return (
        EntitlementPackage.objects.restrict(user, "view")
        .select_related("region")
        .prefetch_related("grants__item", "grants__category")
    )


def package_get(*, user, package_id: int, action: str = "view") -> EntitlementPackage:
    from django.shortcuts import get_object_or_404

    check(user, action, EntitlementPackage)
    return get_object_or_404(EntitlementPackage.objects.restrict(user, action).select_related("region"), pk=package_id)


def ability_level_choices() -> list[tuple[str, str]]:
    from elders.models import AbilityLevel

    return list(AbilityLevel.choices)


def elder_category_choices() -> list[tuple[str, str]]:
    from elders.categories import CATEGORIES

    return [(c.code, str(c.label)) for c in CATEGORIES]


def payment_mode_choices() -> list[tuple[str, str]]:
    """(code, label) of the payment modes (有偿、低偿、无偿、政府购买、时间币), for other apps' forms."""
    from catalogue.models import PaymentMode

    return [(code, str(label)) for code, label in PaymentMode.choices]
