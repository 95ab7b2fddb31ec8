"""Points on the ground: distances, a search box, walking time (the 15-minute circle, issue 10).

Datum: every coordinate the platform stores is WGS-84 in decimal degrees (what GPS and a
phone's location give). Chinese map apps (高德, 腾讯, 百度) show GCJ-02 (百度: BD-09), an
offset datum: a point copied from them is off by roughly 100–700 m (often ~500 m) — about the
radius of the circle itself — so enter points from a GPS, a phone's location or the platform's
own map (merchants' plain map), not from those apps.

Walking time: the straight-line (great-circle) distance times a detour factor (streets are
not straight; CIRCLE_DETOUR_FACTOR) divided by an elder's walking speed
(ELDER_WALK_METRES_PER_MINUTE). docs/merchants.md gives the sources of the defaults.
No app is imported here: core is the lowest layer; elders, merchants, providers use it.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

EARTH_RADIUS_M = 6_371_008.8  # the mean Earth radius (IUGG), metres
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180  # ≈ 111,195 m

# China's bounding box (mainland and islands, with a margin): a point outside is a typing
# error or swapped longitude/latitude. Longitude 73.5°E (Pamirs) … 135.1°E (Heilongjiang),
# latitude 3.8°N (南沙 Zengmu reef) … 53.6°N (漠河).
CHINA_LNG = (73.0, 135.5)
CHINA_LAT = (3.5, 54.0)


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (spherical Earth; within
    0.5 % of the ellipsoidal distance, far below the detour factor's uncertainty)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Box:
    """A latitude/longitude rectangle holding every point within a radius of a centre."""

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float

    def contains(self, lat: float, lng: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lng <= lng <= self.max_lng


def bounding_box(lat: float, lng: float, radius_m: float) -> Box:
    """A box around (lat, lng) that contains every point within `radius_m` (slightly more: a
    pre-filter for an index over (lat, lng); the exact distance decides). Longitude degrees
    shrink with cos(latitude); the widest point of the circle is nearer the pole, so the box
    uses the cosine of the box's pole-ward edge."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    edge = min(89.9, abs(lat) + dlat)
    dlng = min(180.0, radius_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(edge))))
    return Box(lat - dlat, lat + dlat, lng - dlng, lng + dlng)


def circle_settings() -> tuple[float, float, float]:
    """(minutes, detour factor, metres per minute) of the circle, as configured."""
    return (
        float(settings.CIRCLE_MINUTES),
        float(settings.CIRCLE_DETOUR_FACTOR),
        float(settings.ELDER_WALK_METRES_PER_MINUTE),
    )


def walking_minutes(distance_m: float, *, detour: float | None = None, speed: float | None = None) -> float:
    """Minutes an elder walks for a straight-line distance: distance × detour ÷ speed."""
    _minutes, default_detour, default_speed = circle_settings()
    return distance_m * (default_detour if detour is None else detour) / (default_speed if speed is None else speed)


def circle_radius_m(*, minutes: float | None = None, detour: float | None = None, speed: float | None = None) -> float:
    """The straight-line radius of the circle: minutes × speed ÷ detour."""
    default_minutes, default_detour, default_speed = circle_settings()
    minutes = default_minutes if minutes is None else minutes
    return minutes * (default_speed if speed is None else speed) / (default_detour if detour is None else detour)


def clean_coordinate(value, *, kind: str, label: str) -> float | None:
    """A longitude (kind="lng") or latitude (kind="lat") typed in a form, an API body or an
    Excel cell, as a float; None for empty. A ValidationError names the field (`label`) and
    says what to fix: a number in degrees inside China."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValidationError(_("%(f)s应填写数字（度），例如 116.397") % {"f": label})
    try:
        number = float(str(value).strip().replace("，", ".").replace("°", ""))
    except (TypeError, ValueError):
        raise ValidationError(
            _("%(f)s“%(v)s”不是数字，请填写十进制度数（例如 %(e)s）")
            % {"f": label, "v": str(value)[:20], "e": "116.397" if kind == "lng" else "39.909"}
        ) from None
    if not math.isfinite(number):
        raise ValidationError(_("%(f)s不是有效的数字") % {"f": label})
    low, high = CHINA_LNG if kind == "lng" else CHINA_LAT
    if not low <= number <= high:
        other = CHINA_LAT if kind == "lng" else CHINA_LNG
        hint = _("，经度和纬度可能填反了") if other[0] <= number <= other[1] else ""
        raise ValidationError(
            _("%(f)s %(v)s 不在中国境内（应在 %(lo)s 到 %(hi)s 之间）%(hint)s，请核对")
            % {"f": label, "v": f"{number:g}", "lo": f"{low:g}", "hi": f"{high:g}", "hint": hint}
        )
    return round(number, 7)  # ~1 cm: more digits are noise


def clean_point(lat, lng, *, lat_label: str, lng_label: str, lat_field: str, lng_field: str) -> tuple:
    """Both or neither: (lat, lng) cleaned, or a ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    out = {}
    for field, value, kind, label in ((lat_field, lat, "lat", lat_label), (lng_field, lng, "lng", lng_label)):
        try:
            out[field] = clean_coordinate(value, kind=kind, label=label)
        except ValidationError as exc:
            errors[field] = exc.messages
    if not errors and (out[lat_field] is None) != (out[lng_field] is None):
        missing = lat_field if out[lat_field] is None else lng_field
        errors[missing] = [
            _("请同时填写%(a)s和%(b)s，或两项都不填") % {"a": lng_label, "b": lat_label},
        ]
    if errors:
        raise ValidationError(errors)
    return out[lat_field], out[lng_field]
