"""core/geo.py: distances against known city pairs, the search box, the walking-time rule."""

import math

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core.geo import (
    METRES_PER_DEGREE_LAT,
    bounding_box,
    circle_radius_m,
    clean_coordinate,
    clean_point,
    haversine_m,
    walking_minutes,
)

# Great-circle distances on the mean-radius sphere (R = 6371.0088 km), to the kilometre, as
# published calculators (movable-type.co.uk "Calculate distance, bearing and more between
# Latitude/Longitude points") give them; the ellipsoid differs by < 0.5 %.
CITY_PAIRS = [
    # Beijing Tiananmen -> Shanghai People's Square
    ((39.9075, 116.3972), (31.2304, 121.4737), 1_067_000),
    # Guangzhou -> Shenzhen (city centres)
    ((23.1291, 113.2644), (22.5431, 114.0579), 104_000),
    # London Charing Cross -> Paris Notre-Dame
    ((51.5073, -0.1276), (48.8530, 2.3499), 344_000),
]


@pytest.mark.parametrize(("a", "b", "metres"), CITY_PAIRS)
def test_distance_between_known_city_pairs(a, b, metres):
    assert haversine_m(*a, *b) == pytest.approx(metres, rel=0.01)


def test_one_degree_of_latitude_and_of_longitude_at_the_equator():
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, abs=1)
    assert haversine_m(0, 0, 0, 1) == pytest.approx(111_195, abs=1)
    # at 60°N a degree of longitude is half as long
    assert haversine_m(60, 10, 60, 11) == pytest.approx(111_195 / 2, rel=0.001)


lat = st.floats(min_value=3.5, max_value=54, allow_nan=False)
lng = st.floats(min_value=73, max_value=135.5, allow_nan=False)


@given(lat, lng, lat, lng)
def test_distance_is_symmetric_and_never_negative(a, b, c, d):
    assert haversine_m(a, b, c, d) == pytest.approx(haversine_m(c, d, a, b), abs=1e-6)
    assert haversine_m(a, b, c, d) >= 0
    assert haversine_m(a, b, a, b) == 0


@given(lat, lng, st.floats(min_value=1, max_value=5000), st.floats(min_value=0, max_value=2 * math.pi))
def test_the_box_holds_every_point_within_the_radius(a, b, radius, bearing):
    """A point `radius` away in any direction (a hair inside) lies in the box: the index
    pre-filter never drops a merchant the exact rule would keep."""
    d = radius * 0.999 / 6_371_008.8
    p1, l1 = math.radians(a), math.radians(b)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    point = (math.degrees(p2), math.degrees(l2))
    assert haversine_m(a, b, *point) <= radius
    assert bounding_box(a, b, radius).contains(*point)


def test_walking_time_is_distance_times_detour_over_speed(settings):
    settings.CIRCLE_DETOUR_FACTOR = 1.3
    settings.ELDER_WALK_METRES_PER_MINUTE = 50
    settings.CIRCLE_MINUTES = 15
    assert walking_minutes(500) == pytest.approx(13.0)
    assert circle_radius_m() == pytest.approx(15 * 50 / 1.3)  # ≈ 577 m straight line
    assert walking_minutes(circle_radius_m()) == pytest.approx(15)


@given(st.floats(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=10_000))
def test_walking_time_grows_with_distance(d1, d2):
    if d1 <= d2:
        assert walking_minutes(d1, detour=1.3, speed=50) <= walking_minutes(d2, detour=1.3, speed=50)


def test_a_degree_constant_matches_the_distance_function():
    assert haversine_m(30, 120, 31, 120) == pytest.approx(METRES_PER_DEGREE_LAT, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [("116.397", "lng", 116.397), (" 39.909 ", "lat", 39.909), (120.5, "lng", 120.5), ("", "lat", None), (None, "lng", None)],
)
def test_coordinates_in_china_are_taken(value, kind, expected):
    assert clean_coordinate(value, kind=kind, label="经度") == expected


@pytest.mark.parametrize(
    ("value", "kind", "words"),
    [
        ("abc", "lng", "不是数字"),
        ("inf", "lng", "不是有效的数字"),
        ("nan", "lat", "不是有效的数字"),
        ("-0.1276", "lng", "不在中国境内"),
        ("39.9", "lng", "经度和纬度可能填反了"),
        ("116.4", "lat", "不在中国境内"),
        (True, "lat", "应填写数字"),
    ],
)
def test_bad_coordinates_name_the_field_and_say_what_to_fix(value, kind, words):
    with pytest.raises(ValidationError) as exc:
        clean_coordinate(value, kind=kind, label="经度")
    assert "经度" in exc.value.messages[0] and words in exc.value.messages[0]


def test_a_point_needs_both_coordinates():
    with pytest.raises(ValidationError) as exc:
        clean_point("39.9", "", lat_label="纬度", lng_label="经度", lat_field="lat", lng_field="lng")
    assert "lng" in exc.value.message_dict
    assert clean_point("", "", lat_label="纬度", lng_label="经度", lat_field="lat", lng_field="lng") == (None, None)
