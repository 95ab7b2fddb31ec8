"""Reads of partner merchants, each beginning with restrict(); the 15-minute circle and the
community coverage (docs/merchants.md)."""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import check
from core.geo import METRES_PER_DEGREE_LAT, bounding_box, circle_radius_m, circle_settings, haversine_m
from elders.models import Elder, Status
from merchants.hours import is_open
from merchants.models import AgreementStatus, Kind, Merchant
from regions.models import Level, Region

# Coverage computed on the request up to this many elders (a street of ~10 communities);
# above it the page asks for a smaller region (docs/merchants.md: the job is not built yet).
COVERAGE_MAX_ELDERS = 60_000
# Share below which a kind of service is a gap of the community.
COVERAGE_LOW_SHARE = 0.5


@dataclass
class MerchantFilters:
    q: str = ""
    kind: str = ""
    status: str = ""
    region: int | None = None


def service_items():
    """The catalogue's active service items, as the merchant form offers them."""
    from catalogue.models import ServiceItem

    return ServiceItem.objects.filter(is_active=True).order_by("category__position", "position", "id")


def parse_filters(params) -> MerchantFilters:
    """The list's filters from a query string; unknown values are ignored, never a 500."""
    f = MerchantFilters()
    f.q = str(params.get("q") or "").strip()[:40]
    kind = str(params.get("kind") or "")
    f.kind = kind if kind in Kind.values else ""
    status = str(params.get("status") or "")
    f.status = status if status in AgreementStatus.values else ""
    try:
        f.region = int(params.get("region")) if params.get("region") not in (None, "") else None
    except (TypeError, ValueError):
        f.region = None
    return f


def in_force(today: datetime.date | None = None) -> Q:
    """Merchants whose agreement holds today: status active and the period not ended."""
    today = today or timezone.localdate()
    return Q(status=AgreementStatus.ACTIVE) & (Q(period_end__isnull=True) | Q(period_end__gte=today))


def visible(user, action: str = "view"):
    """The merchants `user` may `action`: restrict()'s subtree, and for reading also those of
    the communities and streets above the user's own node — a grid worker or a caregiver of
    安泰第一网格 reads 安泰社区's merchants (a shop's particulars are public; it is writing
    that the subtree bounds)."""
    qs = Merchant.objects.restrict(user, action)
    region = getattr(user, "region", None)
    if action == "view" and region is not None and user.may("view", Merchant):
        above = [pk for pk in region.depth_ids if pk != region.pk]
        if above:
            qs = qs | Merchant.objects.filter(region_id__in=above)
    return qs


def merchant_list(*, user, filters: MerchantFilters | None = None):
    filters = filters or MerchantFilters()
    qs = visible(user).select_related("region")
    if filters.region:
        region = Region.objects.restrict(user, "view").filter(pk=filters.region).first()
        qs = qs.within(region) if region is not None else qs.none()
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(address__icontains=filters.q))
    return qs.order_by("name", "id")


def merchant_get(*, user, merchant_id: int, action: str = "view") -> Merchant:
    """One merchant `user` may `action` (visible()): 404 outside, 403 when the role may not."""
    check(user, action, Merchant)
    return get_object_or_404(visible(user, action).select_related("region"), pk=merchant_id)


# --- the 15-minute circle ------------------------------------------------------------------------


@dataclass(frozen=True)
class CircleEntry:
    id: int
    name: str
    kind: str
    kind_label: str
    address: str
    discount_tenths: int | None
    distance_m: float
    minutes: float
    open_now: bool | None
    region_id: int

    @property
    def discount_percent(self) -> str:
        if self.discount_tenths is None:
            return ""
        whole, tenth = divmod(self.discount_tenths, 10)
        return f"{whole}.{tenth}%" if tenth else f"{whole}%"


_CIRCLE_FIELDS = ("id", "name", "kind", "address", "discount_tenths", "lat", "lng", "opening_hours", "region_id")


def circle_at(
    lat: float, lng: float, *, at: datetime.datetime | None = None, minutes=None, detour=None, speed=None
) -> list[CircleEntry]:
    """The merchants and service points in force within `minutes` of an elder's walk from
    (lat, lng), nearest first. The rule (core.geo): straight-line distance × detour ÷ speed ≤
    minutes. A box around the point (the circle's straight-line radius) is read through the
    (lat, lng) index; the exact distance then decides.

    Merchants of every region are considered: a shop across the community's border is in the
    circle all the same, and a merchant's name, kind, address and discount are the shop's
    public particulars, not personal data (docs/merchants.md)."""
    default_minutes, default_detour, default_speed = circle_settings()
    minutes = default_minutes if minutes is None else float(minutes)
    detour = default_detour if detour is None else float(detour)
    speed = default_speed if speed is None else float(speed)
    radius = circle_radius_m(minutes=minutes, detour=detour, speed=speed)
    box = bounding_box(lat, lng, radius)
    at = timezone.localtime(at) if at is not None else timezone.localtime()
    rows = (
        Merchant.objects.filter(
            in_force(at.date()), lat__gte=box.min_lat, lat__lte=box.max_lat, lng__gte=box.min_lng, lng__lte=box.max_lng
        )
        .order_by()
        .values_list(*_CIRCLE_FIELDS)
    )
    labels = dict(Kind.choices)
    out = []
    for pk, name, kind, address, discount, mlat, mlng, hours, region_id in rows:
        distance = haversine_m(lat, lng, mlat, mlng)
        walk = distance * detour / speed
        if walk <= minutes:
            out.append(
                CircleEntry(
                    pk, name, kind, str(labels.get(kind, kind)), address, discount, distance, walk, is_open(hours, at), region_id
                )
            )
    out.sort(key=lambda e: (e.distance_m, e.id))
    return out


def circle_for(elder: Elder, *, at: datetime.datetime | None = None, **rule) -> list[CircleEntry] | None:
    """The circle of one elder (already read through the scope); None when the elder's home
    has no coordinates."""
    if elder.home_lat is None or elder.home_lng is None:
        return None
    return circle_at(elder.home_lat, elder.home_lng, at=at, **rule)


# --- coverage of a community -----------------------------------------------------------------------


@dataclass
class KindCoverage:
    kind: str
    label: str
    covered: int
    share: float  # of the elders with coordinates
    merchants: int  # in force, located, inside the region's box
    low: bool


@dataclass
class Coverage:
    region: Region
    elders: int = 0
    located: int = 0
    unlocated: list = field(default_factory=list)  # (id, name), 50 of them, by id
    unlocated_count: int = 0
    uncovered: list = field(default_factory=list)  # (id, name), the first 50 with nothing within reach
    uncovered_count: int = 0
    kinds: list[KindCoverage] = field(default_factory=list)
    minutes: float = 15
    radius_m: float = 0

    @property
    def gaps(self) -> list[KindCoverage]:
        return [k for k in self.kinds if k.low]


def merchant_regions(*, user):
    """Where merchants are registered and drawn on the map: streets and communities in scope."""
    return Region.objects.restrict(user, "view").filter(level__in=(Level.STREET, Level.COMMUNITY)).order_by("level", "path")


def coverage_regions(*, user):
    """The regions coverage may be asked for: from the city down to communities, in scope (a
    district or a city above COVERAGE_MAX_ELDERS through the job)."""
    return (
        Region.objects.restrict(user, "view")
        .filter(level__in=(Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY))
        .order_by("level", "path")
    )


class TooManyElders(ValidationError):
    """More elders than a request may compute; the page offers the background job."""


def coverage_for(
    *, user, region: Region, at: datetime.datetime | None = None, max_elders: int | None = COVERAGE_MAX_ELDERS, progress=None
) -> Coverage:
    """For the elders in residence under `region` (in `user`'s scope): how many have each kind
    of service within the circle, and the gaps. Grid bucketing keeps it bounded: merchants go
    into cells one circle-radius wide, and an elder looks at the 3 × 3 cells around its own,
    so the work is elders × merchants-nearby, not elders × merchants. The elders are streamed
    (memory grows with the merchants, not the elders): a city of 2,000,000 runs as a job
    (`max_elders=None`; merchants.tasks), `progress(done, total)` reporting along the way."""
    from django.db.models import Max, Min

    minutes, detour, speed = circle_settings()
    radius = circle_radius_m()
    result = Coverage(region=region, minutes=minutes, radius_m=radius)
    elders = Elder.objects.restrict(user, "view").within(region).filter(status=Status.ACTIVE)
    total = elders.count()
    if max_elders is not None and total > max_elders:
        raise TooManyElders(
            _("%(r)s有 %(n)d 位老人，超过页面即时计算的上限（%(max)d）：请选择下级街道或社区，或在后台计算")
            % {"r": region.name, "n": total, "max": max_elders}
        )
    extent = elders.filter(home_lat__isnull=False, home_lng__isnull=False).aggregate(
        a=Min("home_lat"), b=Max("home_lat"), c=Min("home_lng"), d=Max("home_lng")
    )
    counts = dict.fromkeys(Kind.values, 0)
    merchant_counts = dict.fromkeys(Kind.values, 0)
    grid = defaultdict(list)
    cell_lat = cell_lng = 1.0
    if extent["a"] is not None:
        low = bounding_box(extent["a"], extent["c"], radius)
        high = bounding_box(extent["b"], extent["d"], radius)
        today = (timezone.localtime(at) if at else timezone.localtime()).date()
        merchants = (
            Merchant.objects.filter(
                in_force(today),
                lat__gte=low.min_lat,
                lat__lte=high.max_lat,
                lng__gte=min(low.min_lng, high.min_lng),
                lng__lte=max(low.max_lng, high.max_lng),
            )
            .order_by()
            .values_list("kind", "lat", "lng")
        )
        cell_lat = radius / METRES_PER_DEGREE_LAT
        widest = max(abs(extent["a"]), abs(extent["b"])) + cell_lat
        cell_lng = radius / (METRES_PER_DEGREE_LAT * math.cos(math.radians(min(89.0, widest))))
        for kind, mlat, mlng in merchants.iterator(chunk_size=5000):
            grid[(math.floor(mlat / cell_lat), math.floor(mlng / cell_lng))].append((kind, mlat, mlng))
            merchant_counts[kind] = merchant_counts.get(kind, 0) + 1
    limit_m = minutes * speed / detour
    limit2 = limit_m * limit_m
    near_cache = {}
    # Unordered: a sort of a district's rows costs more than the counting (the 50 names kept
    # of each list are put in order at the end).
    rows = elders.order_by().values_list("id", "name", "home_lat", "home_lng")
    for pk, name, lat, lng in rows.iterator(chunk_size=5000):
        result.elders += 1
        if progress is not None and result.elders % 50_000 == 0:
            progress(result.elders, total)
        if lat is None or lng is None:
            result.unlocated_count += 1
            if len(result.unlocated) < 50:
                result.unlocated.append((pk, name))
            continue
        result.located += 1
        cell = (math.floor(lat / cell_lat), math.floor(lng / cell_lng))
        near = near_cache.get(cell)
        if near is None:  # the 3 × 3 cells around, once per cell
            near = near_cache[cell] = [
                m for di in (-1, 0, 1) for dj in (-1, 0, 1) for m in grid.get((cell[0] + di, cell[1] + dj), ())
            ]
        # Equirectangular at the elder's latitude: within 0.01 % of the great circle at this
        # range, and no trigonometry per pair (docs/merchants.md).
        east = METRES_PER_DEGREE_LAT * math.cos(math.radians(lat))
        reached = set()
        for kind, mlat, mlng in near:
            if kind in reached:
                continue
            dy = (mlat - lat) * METRES_PER_DEGREE_LAT
            dx = (mlng - lng) * east
            if dx * dx + dy * dy <= limit2:
                reached.add(kind)
        for kind in reached:
            counts[kind] += 1
        if not reached:
            result.uncovered_count += 1
            if len(result.uncovered) < 50:
                result.uncovered.append((pk, name))
    result.unlocated.sort(key=lambda row: row[0])
    result.uncovered.sort(key=lambda row: row[0])
    for kind, label in Kind.choices:
        share = counts[kind] / result.located if result.located else 0.0
        result.kinds.append(
            KindCoverage(
                kind,
                str(label),
                counts[kind],
                share,
                merchant_counts.get(kind, 0),
                kind != Kind.OTHER and share < COVERAGE_LOW_SHARE,
            )
        )
    return result


# --- the plain map ------------------------------------------------------------------------------


def map_points(*, user, region: Region, limit: int = 5000) -> dict:
    """What the plain map of `region` draws: elders' homes (id, lat, lng; no names — faint
    dots) and merchants (id, name, kind, lat, lng), both in `user`'s scope, at most `limit`
    each, and the box that holds them."""
    elders = list(
        Elder.objects.restrict(user, "view")
        .within(region)
        .filter(status=Status.ACTIVE, home_lat__isnull=False)
        .order_by("id")
        .values_list("id", "home_lat", "home_lng")[:limit]
    )
    merchants = list(
        Merchant.objects.restrict(user, "view")
        .within(region)
        .filter(lat__isnull=False)
        .order_by("id")
        .values_list("id", "name", "kind", "lat", "lng")[:limit]
    )
    lats = [e[1] for e in elders] + [m[3] for m in merchants]
    lngs = [e[2] for e in elders] + [m[4] for m in merchants]
    box = None
    if lats:
        pad_lat = max(0.002, (max(lats) - min(lats)) * 0.08)
        pad_lng = max(0.002, (max(lngs) - min(lngs)) * 0.08)
        box = [min(lats) - pad_lat, max(lats) + pad_lat, min(lngs) - pad_lng, max(lngs) + pad_lng]
    return {"elders": elders, "merchants": merchants, "box": box}
