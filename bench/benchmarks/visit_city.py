"""Care visits at city scale (issue 12, item 3): the due lists of the whole city and the monthly
visit rate with its drill-down, on the generated city (docs/generate_city.md).

1. `visits.duties.dues_build` of a month for every active elder of the city: each elder's tier
   computed from the register and the latest assessment (the default rules: high weekly, key
   monthly, general quarterly), and the rule dues of every period overlapping the month written
   set-based (one INSERT … SELECT … CROSS JOIN LATERAL VALUES per rule set on PostgreSQL).
   Target < 30 s. The month's rule dues are deleted first, so each run writes them all.
2. A realistic month of visits made set-based (INSERT … SELECT over the dues: 92 % of dues get a
   visit between their opening and 110 % of their window, so some are late; 3 % more a missed
   visit), then `dues_match` marks the dues met (one UPDATE).
3. `visits.selectors.visit_rate` of the month for the city user (by community and by street) and
   the first page of `visit_rate_missed` (the drill-down) of the city. Target < 2 s each.
"""

import datetime
import time

from bench import elderdata
from bench.context import Context
from bench.registry import Figure, Result, Skip, benchmark

CITY = "演示市"
TARGET_BUILD_S = 30
TARGET_RATE_S = 2
REPEAT = 5
MARK = "bench:visits"  # Visit.notes of the generated visits


def _month():
    from django.utils import timezone

    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # last month


def _reset(month):
    """The month as before any run: its rule dues and the generated visits deleted."""
    from django.db import connection

    from visits.duties import local_midnight, period_next

    start = local_midnight(month)
    end = local_midnight(period_next("month", month))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM visits_visitdue WHERE source = 'rule' AND opens_at >= %s AND opens_at < %s", [start, end])
        cursor.execute(
            "UPDATE visits_visitdue SET visit_id = NULL, visited_at = NULL"
            " WHERE visit_id IN (SELECT id FROM visits_visit WHERE notes = %s)",
            [MARK],
        )
        cursor.execute("DELETE FROM visits_visit WHERE notes = %s", [MARK])


def _visits(month) -> tuple[int, int]:
    """Visits for the month's rule dues, set-based; returns (visits, missed visits)."""
    from django.db import connection

    from visits.duties import local_midnight, period_next

    start, end = local_midnight(month), local_midnight(period_next("month", month))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO visits_visit (elder_id, region_id, visited_at, via, visitor_name, missed, missed_reason,
                                      checklist, outcome, notes, referral, client_key, created_at)
            SELECT d.elder_id, d.region_id,
                   d.opens_at + (d.due_at - d.opens_at) * (((d.id * 7919) %% 1100) / 1000.0),
                   (ARRAY['home','home','phone','video','partner'])[1 + d.id %% 5], '基准网格员',
                   (d.id * 31) %% 100 >= 92, CASE WHEN (d.id * 31) %% 100 >= 92 THEN 'not_home' ELSE '' END,
                   '{"health": "good", "gas": "ok"}'::jsonb, 'normal', %s, '', '', now()
            FROM visits_visitdue d
            WHERE d.source = 'rule' AND d.due_at >= %s AND d.due_at < %s AND (d.id * 31) %% 100 < 95
            """,
            [MARK, start, end],
        )
        made = cursor.rowcount
        cursor.execute("SELECT count(*) FROM visits_visit WHERE notes = %s AND missed", [MARK])
        (missed,) = cursor.fetchone()
    return made, missed


def _timed(fn, repeat=REPEAT):
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return sorted(samples)[len(samples) // 2], max(samples)


@benchmark(key="visit_city", title="Visits: the city's dues and its monthly visit rate (generated city)")
def run(ctx: Context) -> Result:
    from django.db import connection
    from django.db.models import Count

    from core.pagination import CappedPaginator
    from regions.models import Level, Region
    from visits.duties import dues_build, dues_match, local_midnight
    from visits.models import VisitDue
    from visits.rules import rules_initial_load
    from visits.selectors import visit_rate, visit_rate_missed

    city = Region.objects.filter(name=CITY, level=Level.CITY).first()
    if city is None:
        raise Skip(
            f"no generated city {CITY} in {connection.settings_dict['NAME']}; run against one: "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/yinling_city make bench BENCH_ONLY=visit_city"
        )
    rules_initial_load()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM elders_elder e JOIN regions_region r ON r.id = e.region_id WHERE r.path LIKE %s AND e.status = 'active'",
            [city.path + "%"],
        )
        (elders,) = cursor.fetchone()
    user = elderdata.user("bench_visits_city", "aging_office", city, f"{CITY}老龄办 基准")
    month = _month()
    last = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
    _reset(month)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) visits_visitdue")

    figures, notes = [], []
    load = ctx.settle()
    t0 = time.perf_counter()
    written = dues_build(start=month, end=last)
    build = time.perf_counter() - t0
    print(f"  dues_build {month:%Y-%m}: {written:,} dues in {build:.1f} s (load {load:.1f})")
    figures.append(
        Figure(
            f"dues_build of {month:%Y-%m}, the whole city ({written:,} dues)", build, "s", f"< {TARGET_BUILD_S} s", TARGET_BUILD_S
        )
    )
    tiers = dict(
        VisitDue.objects.filter(source="rule", opens_at__gte=local_midnight(month) - datetime.timedelta(days=7))
        .values_list("period")
        .annotate(n=Count("id"))
        .order_by()
    )
    t0 = time.perf_counter()
    again = dues_build(start=month, end=last)
    rebuild = time.perf_counter() - t0
    figures.append(Figure("dues_build again (nothing new: idempotent)", rebuild, "s", f"< {TARGET_BUILD_S} s", TARGET_BUILD_S))
    assert again == 0, again

    # A quarter's first month also writes the quarterly tier's dues (when the month is not one).
    quarter_first = datetime.date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)
    if quarter_first != month:
        quarter_last = (quarter_first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)
        _reset(quarter_first)
        load_q = ctx.settle()
        t0 = time.perf_counter()
        written_q = dues_build(start=quarter_first, end=quarter_last)
        build_q = time.perf_counter() - t0
        print(f"  dues_build {quarter_first:%Y-%m}: {written_q:,} dues in {build_q:.1f} s (load {load_q:.1f})")
        figures.append(
            Figure(
                f"dues_build of {quarter_first:%Y-%m}, a quarter's first month ({written_q:,} dues, the quarterly tier's too)",
                build_q,
                "s",
                f"< {TARGET_BUILD_S} s",
                TARGET_BUILD_S,
            )
        )
        notes.append(f"load average {load_q:.1f} before the {quarter_first:%Y-%m} build")

    t0 = time.perf_counter()
    made, missed = _visits(month)
    matched = dues_match(since=local_midnight(month) - datetime.timedelta(days=100))
    match_s = time.perf_counter() - t0
    figures.append(Figure(f"a month of visits ({made:,}) inserted and dues_match ({matched:,} dues met)", match_s, "s"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) visits_visitdue")
        cursor.execute("VACUUM (ANALYZE) visits_visit")

    load2 = ctx.settle()
    rows, total = visit_rate(user=user, month=month, level=Level.COMMUNITY)
    p50, worst = _timed(lambda: visit_rate(user=user, month=month, level=Level.COMMUNITY))
    figures.append(Figure("visit_rate of the city month by community, median", p50, "s", f"< {TARGET_RATE_S} s", TARGET_RATE_S))
    figures.append(Figure("visit_rate of the city month by community, max", worst, "s"))
    p50s, _w = _timed(lambda: visit_rate(user=user, month=month, level=Level.STREET))
    figures.append(Figure("visit_rate of the city month by street, median", p50s, "s", f"< {TARGET_RATE_S} s", TARGET_RATE_S))

    def missed_page():
        page = CappedPaginator(visit_rate_missed(user=user, month=month), 30).get_page(1)
        return list(page.object_list), page.paginator.count

    p50m, _w = _timed(missed_page)
    missed_rows, missed_count = missed_page()
    figures.append(
        Figure(
            "drill-down: the city's missed elders, first page with its count, median",
            p50m,
            "s",
            f"< {TARGET_RATE_S} s",
            TARGET_RATE_S,
        )
    )
    notes.append(
        f"{elders:,} active elders; dues of the month by period {tiers}; {made:,} visits ({missed:,} missed); "
        f"rate {total.percent}: {total.visited:,} of {total.due:,} elders due in {month:%Y-%m} visited as required, "
        f"{len(rows):,} communities; drill-down count {missed_count:,}{'+' if missed_count > 10000 else ''}; "
        f"load average {load:.1f} before the build, {load2:.1f} before the rate"
    )
    return Result(
        figures=figures,
        method=(
            f"The generated city {CITY} in the bench database, last month ({month:%Y-%m}). Timed in-process on "
            "PostgreSQL: `dues_build(start=<the 1st>, end=<the last day>)` with the platform's default rules (the "
            "weeks and the month starting in it; the daily task also passes `overlapping=True`), after deleting that "
            "month's rule dues; the same for the quarter's first month, whose build also writes the quarterly dues; the same again "
            "(idempotent, nothing written); a month of visits by INSERT … SELECT over the dues and `dues_match`; then "
            f"`visit_rate` for the city's 老龄办 user, {REPEAT} times each by community and by street (one GROUP BY over "
            "the index visitdue_rule_rate, rolled up to the level in Python over at most one row per grid), and the "
            "drill-down's first page with its capped count. " + "; ".join(notes) + "."
        ),
    )
