"""The 15-minute circle: the rule at its edge, in-force agreements only, nearest first,
opening hours; and the coverage of a small hand-built community."""

import datetime
import zoneinfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from elders.tests.factories import ElderFactory
from merchants.hours import is_open, parse_week
from merchants.selectors import circle_at, circle_for, coverage_for
from merchants.tests.factories import CENTRE, east_of, merchant, north_of

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _rule(settings):
    settings.CIRCLE_MINUTES = 15
    settings.CIRCLE_DETOUR_FACTOR = 1.3
    settings.ELDER_WALK_METRES_PER_MINUTE = 50


def elder_at(region, point, **kw):
    lat, lng = point if point else (None, None)
    return ElderFactory(region=region, home_lat=lat, home_lng=lng, **kw)


def test_a_merchant_just_inside_fifteen_minutes_is_in_and_just_outside_is_not(tree):
    # 15 min × 50 m/min ÷ 1.3 = 576.9 m of straight line
    inside = merchant(tree.community, "里面的店", point=north_of(CENTRE, 570))  # 14.82 min
    outside = merchant(tree.community, "外面的店", point=north_of(CENTRE, 585))  # 15.21 min
    elder = elder_at(tree.grid, CENTRE)

    names = [e.name for e in circle_for(elder)]

    assert inside.name in names and outside.name not in names
    entry = circle_for(elder)[0]
    assert entry.minutes == pytest.approx(570 * 1.3 / 50, rel=1e-3)


def test_the_detour_factor_and_speed_come_from_the_settings(tree, settings):
    merchant(tree.community, "外面的店", point=north_of(CENTRE, 585))
    elder = elder_at(tree.grid, CENTRE)
    assert circle_for(elder) == []
    settings.CIRCLE_DETOUR_FACTOR = 1.0  # straight streets: 750 m
    assert [e.name for e in circle_for(elder)] == ["外面的店"]
    settings.CIRCLE_DETOUR_FACTOR = 1.3
    settings.ELDER_WALK_METRES_PER_MINUTE = 40  # a slower walker: 461 m
    merchant(tree.community, "近的店", point=east_of(CENTRE, 450))
    assert [e.name for e in circle_for(elder)] == ["近的店"]


def test_nearest_first_with_kind_discount_and_minutes(tree):
    merchant(tree.community, "远", kind="clinic", point=east_of(CENTRE, 400), discount_tenths=None)
    merchant(tree.community, "近", kind="supermarket", point=north_of(CENTRE, 100), discount_tenths=75)
    merchant(tree.community2, "邻社区的店", kind="barber", point=north_of(CENTRE, 250))  # across the border: counted
    entries = circle_for(elder_at(tree.grid, CENTRE))
    assert [e.name for e in entries] == ["近", "邻社区的店", "远"]
    assert entries[0].kind_label == "超市" and entries[0].discount_percent == "7.5%"
    assert entries[2].discount_percent == ""
    assert entries[0].minutes == pytest.approx(2.6, abs=0.01)


def test_only_merchants_whose_agreement_holds_today(tree):
    today = datetime.date.today()
    merchant(tree.community, "有效", point=north_of(CENTRE, 50))
    merchant(tree.community, "已终止", point=north_of(CENTRE, 60), status="terminated")
    merchant(tree.community, "过期未改状态", point=north_of(CENTRE, 70), period_end=today - datetime.timedelta(days=1))
    merchant(tree.community, "没坐标", point=None)
    assert [e.name for e in circle_for(elder_at(tree.grid, CENTRE))] == ["有效"]


def test_an_elder_without_coordinates_has_no_circle(tree):
    merchant(tree.community, point=CENTRE)
    assert circle_for(elder_at(tree.grid, None)) is None


def test_open_now_follows_the_opening_hours(tree):
    hours = parse_week(["08:00-12:00,14:00-18:00"] * 5 + ["休息", "18:00-02:00"])
    merchant(tree.community, "有时开", point=CENTRE, opening_hours=hours)
    monday_10 = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)
    monday_13 = monday_10.replace(hour=13)
    (entry,) = circle_at(*CENTRE, at=monday_10)
    assert entry.open_now is True
    (entry,) = circle_at(*CENTRE, at=monday_13)
    assert entry.open_now is False
    # Sunday's 18:00-02:00 runs into Monday's small hours
    assert is_open(hours, monday_10.replace(hour=1)) is True
    assert is_open(hours, datetime.datetime(2026, 12, 5, 10, 0)) is False  # Saturday: 休息
    assert is_open({}, monday_10) is None
    assert parse_week([""] * 7) == {}  # nothing typed: no hours recorded (not "closed all week")


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(min_value=0, max_value=900), min_size=1, max_size=6))
def test_the_circle_is_everything_within_the_radius_and_monotone_in_distance(tree, distances):
    """Whatever the distances: exactly the merchants within 576.9 m are in, in order of
    distance, and their walking minutes grow with it."""
    from merchants.models import Merchant

    Merchant.objects.all().delete()
    for i, d in enumerate(distances):
        merchant(tree.community, f"店{i}", point=north_of(CENTRE, d) if i % 2 else east_of(CENTRE, d))
    entries = circle_at(*CENTRE)
    radius = 15 * 50 / 1.3
    expected = sorted(f"店{i}" for i, d in enumerate(distances) if d <= radius - 0.01)
    assert sorted(e.name for e in entries if e.distance_m <= radius - 0.01) == expected
    assert all(e.minutes <= 15 for e in entries)
    assert [e.distance_m for e in entries] == sorted(e.distance_m for e in entries)
    assert [e.minutes for e in entries] == sorted(e.minutes for e in entries)


# --- coverage -----------------------------------------------------------------------------------


def test_coverage_of_a_small_hand_built_community(tree, worker):
    merchant(tree.community, "卫生站", kind="clinic", point=CENTRE, discount_tenths=None)
    merchant(tree.community, "理发", kind="barber", point=east_of(CENTRE, 300))
    merchant(tree.community, "停业的超市", kind="supermarket", point=CENTRE, status="terminated")
    a = elder_at(tree.grid, east_of(CENTRE, 150), name="甲")  # clinic 150 m, barber 150 m
    b = elder_at(tree.grid, north_of(CENTRE, 400), name="乙")  # clinic 400 m, barber 500 m
    c = elder_at(tree.community, north_of(CENTRE, 2000), name="丙")  # nothing within reach
    d = elder_at(tree.grid, None, name="丁")  # no coordinates
    elder_at(tree.grid, CENTRE, name="戊", status="deceased")  # not in residence: not counted

    result = coverage_for(user=worker, region=tree.community)

    assert (result.elders, result.located, result.unlocated_count, result.uncovered_count) == (4, 3, 1, 1)
    by_kind = {k.kind: k for k in result.kinds}
    assert by_kind["clinic"].covered == 2 and by_kind["clinic"].share == pytest.approx(2 / 3)
    assert by_kind["barber"].covered == 2  # 乙: 500 m is within 576.9 m
    assert by_kind["supermarket"].covered == 0 and by_kind["supermarket"].low
    assert not by_kind["clinic"].low
    assert [n for _pk, n in result.uncovered] == [c.name]
    assert [n for _pk, n in result.unlocated] == [d.name]
    assert a.pk and b.pk


def test_coverage_counts_only_the_users_elders(tree, worker_in_other_region):
    merchant(tree.community, "卫生站", kind="clinic", point=CENTRE)
    elder_at(tree.grid, CENTRE)
    result = coverage_for(user=worker_in_other_region, region=tree.community)
    assert result.elders == 0


@hsettings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.floats(-1500, 1500), st.floats(-1500, 1500)), min_size=1, max_size=8),
    st.lists(st.tuples(st.floats(-1500, 1500), st.floats(-1500, 1500), st.sampled_from(["clinic", "barber"])), max_size=8),
)
def test_coverage_by_grid_cells_agrees_with_each_elders_own_circle(tree, worker, homes, shops):
    """The grid bucketing misses no merchant and adds none: per kind, the elders covered are
    exactly those whose circle_for holds that kind (up to a centimetre at the very edge)."""
    from elders.models import Elder
    from merchants.models import Merchant

    Elder.objects.all().delete()
    Merchant.objects.all().delete()
    for i, (east, north, kind) in enumerate(shops):
        merchant(tree.community, f"店{i}", kind=kind, point=north_of(east_of(CENTRE, east), north))
    elders = [elder_at(tree.grid, north_of(east_of(CENTRE, e), n)) for e, n in homes]

    result = coverage_for(user=worker, region=tree.community)

    radius = 15 * 50 / 1.3
    for kind in ("clinic", "barber"):
        by_circle = [{x.kind for x in circle_for(e) if x.distance_m < radius - 0.05} for e in elders]
        loose = [{x.kind for x in circle_for(e)} for e in elders]
        covered = next(k.covered for k in result.kinds if k.kind == kind)
        assert sum(kind in s for s in by_circle) <= covered <= sum(kind in s for s in loose)
