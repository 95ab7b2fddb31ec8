"""The overdue-needs list (issue 10) over a generated city: a community's and the city's first,
middle and last page, through the API and the page, with needs made set-based (one INSERT …
SELECT over the city's elders)."""

import math

from bench import elderdata
from bench.context import Context
from bench.registry import Result, Skip, benchmark

CITY = "演示市"  # generate_city's default --city-name
TARGET_P95_MS = 150  # as the elder list (issue 9)
COMMUNITY_USER, CITY_USER = "bench_needs_community", "bench_needs_city"
NEEDS_EVERY = 2  # one need for every second elder
REQUESTS, WARMUP = 100, 10


def _make_needs(city) -> int:
    """Needs for every NEEDS_EVERY-th elder of the city, set-based: kinds, sources and states
    spread by id; follow-up dates from 30 days ago to 29 days ahead (about half the pending ones
    overdue). Idempotent: a city that already has them keeps them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM needs_need n JOIN regions_region r ON r.id = n.region_id WHERE r.path LIKE %s",
            [city.path + "%"],
        )
        (have,) = cursor.fetchone()
        if have:
            return have
        cursor.execute(
            """
            INSERT INTO needs_need (elder_id, region_id, kind, source, description, state, close_reason,
                                    follow_up_on, created_at, created_by_id, responsible_id, state_changed_at)
            SELECT e.id, e.region_id,
                   (ARRAY['general','special','urgent'])[1 + e.id %% 3],
                   (ARRAY['visit','call','assessment','elder','family','other'])[1 + e.id %% 6],
                   (ARRAY['需要送餐上门','希望每周有人打扫卫生','需要陪同看病','需要安装呼叫器'])[1 + e.id %% 4],
                   (ARRAY['open','open','planned','met','closed'])[1 + (e.id / 3) %% 5],
                   CASE WHEN (e.id / 3) %% 5 = 4 THEN '已入住养老机构' ELSE '' END,
                   CURRENT_DATE + ((e.id * 7919) %% 60 - 30)::int,
                   now(), NULL, NULL, NULL
            FROM elders_elder e JOIN regions_region r ON r.id = e.region_id
            WHERE r.path LIKE %s AND e.id %% %s = 0
            """,
            [city.path + "%", NEEDS_EVERY],
        )
        made = cursor.rowcount
        cursor.execute("VACUUM (ANALYZE) needs_need")  # the visibility map: index-only scans without heap fetches
    return made


def _setup():
    from django.db import connection

    from regions.models import Level, Region

    city = Region.objects.filter(name=CITY, level=Level.CITY).first()
    if city is None:
        raise Skip(
            f"no generated city {CITY} in {connection.settings_dict['NAME']}: make one with "
            "`manage.py generate_city --elders N` (docs/generate_city.md) and run against that database"
        )
    total_needs = _make_needs(city)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.id, count(*) FROM needs_need n JOIN regions_region g ON g.id = n.region_id
               JOIN regions_region c ON c.id = g.parent_id
               WHERE c.level = 5 AND c.path LIKE %s AND n.state IN ('open','planned') AND n.follow_up_on < CURRENT_DATE
               GROUP BY c.id ORDER BY count(*), c.id""",
            [city.path + "%"],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM elders_elder e JOIN regions_region r ON r.id = e.region_id WHERE r.path LIKE %s",
            [city.path + "%"],
        )
        (elders,) = cursor.fetchone()
    community_id, community_overdue = rows[len(rows) * 3 // 4]  # a larger-than-median community
    community = Region.objects.get(pk=community_id)
    return city, community, community_overdue, sum(n for _c, n in rows), total_needs, elders


@benchmark(key="needs_overdue", title="Needs: the overdue list of a community and of the city (generated city)")
def run(ctx: Context) -> Result:
    from django.test import Client, override_settings

    city, community, community_overdue, city_overdue, total_needs, elders = _setup()
    users = [
        (
            "community",
            community,
            community_overdue,
            elderdata.user(COMMUNITY_USER, "community", community, f"{community.name} 基准"),
        ),
        ("city", city, city_overdue, elderdata.user(CITY_USER, "aging_office", city, f"{CITY}老龄办 基准")),
    ]
    ctx.requests, ctx.warmup = min(ctx.requests, REQUESTS), min(ctx.warmup, WARMUP)
    timings = []
    load = ctx.settle()
    for who, region, overdue, user in users:
        client = ctx.api_client(username=user.username, password=elderdata.PASSWORD)
        pages = max(1, math.ceil(min(overdue, 10_000) / 20))
        for label, page in (("first", 1), ("middle", max(1, pages // 2)), ("last", pages)):
            path = f"/api/needs?overdue=true&page={page}"
            timing = ctx.time_get(
                client, name=f"`GET /api/needs?overdue=true&page={page}` as {who}", paths=[path], target_p95_ms=TARGET_P95_MS
            )
            timing.note = f"{region.name}: {overdue:,} overdue, {label} page"
            timings.append(timing)
        browser = Client(headers={"x-forwarded-proto": "https"})
        browser.force_login(user)
        # The page's static links without a collectstatic manifest (the bench has none).
        plain = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        with override_settings(STORAGES=plain):
            timing = ctx.time_get(
                browser, name=f"page `/needs/?overdue=1` as {who}", paths=["/needs/?overdue=1"], target_p95_ms=TARGET_P95_MS
            )
        timing.note = f"{region.name}: the page with its three counts"
        timings.append(timing)
    return Result(
        timings=timings,
        method=f"""
Data: the city `{CITY}` of `generate_city` in the bench database: {elders:,} elders and
{total_needs:,} needs (one for every {NEEDS_EVERY}nd elder, made by one `INSERT … SELECT`; kinds,
sources and states spread by id, follow-up dates from 30 days ago to 29 days ahead), of which
{city_overdue:,} are overdue. The community user sits on {community.name} ({community_overdue:,}
overdue needs), the city user (老龄办) on the city. Page size 20; the city's count is capped at
10,000, so its "last" page is page 500 (offset 9,980).

Method: in-process through `django.test.Client` with a Bearer token (API) or a session (page),
PostgreSQL on the same machine, one client at a time, N={ctx.requests} timed after
{ctx.warmup} warm-up requests; load average {load:.2f} at the start.
""",
    )
