"""The elder API over a 2,000,000-elder city (generate_city): the first, middle and last page of
the list as a community, street, district and city user, search and filter as the city and the
community, with the plans of the slow queries."""

import dataclasses
import time
from urllib.parse import quote

from bench import elderdata
from bench.context import Context
from bench.registry import Figure, Result, Skip, benchmark

TARGET_P95_MS = 150
CITY = "演示市"  # generate_city's default --city-name
MIN_ELDERS = 1_900_000
CITY_USER, COMMUNITY_USER = "bench_city", "bench_community"
STREET_USER, DISTRICT_USER = "bench_street", "bench_district"
COMMUNITY_SIZE = 2_000  # the community user's: the generated community nearest this many elders (issue 9)
PAGE_SIZE, COUNT_CAP = 20, 10_000  # the API's default page; past the cap the list knows cap / page pages
CITY_REQUESTS, CITY_WARMUP = 100, 10  # per request of the city user (N); the community user takes BENCH_REQUESTS
SAMPLES = 5  # search values cycled through per kind, from elders of the community
SLOW_MS = 50  # plans are shown for requests whose p95 is at least this (a third of the target)
PLAN_LINES = 28


def _path(query: str) -> str:
    return "/api/elders" + (f"?{quote(query, safe='=&')}" if query else "")


def _samples(community) -> dict[str, list[str]]:
    """Real search values: names, 3-letter initials and phone tails of elders in residence in the
    community (so both users find them), taken evenly through it by id."""
    from elders.models import Elder

    rows = list(
        Elder.objects.filter(region__path__startswith=community.path, status="active")
        .order_by("id")
        .values_list("name", "name_initials", "phone_tail")
    )
    step = max(len(rows) // (SAMPLES * 4), 1)
    spread = rows[::step]
    names = [r[0] for r in spread][:SAMPLES]
    initials = list(dict.fromkeys(r[1] for r in spread if len(r[1]) == 3))[:SAMPLES]
    tails = list(dict.fromkeys(r[2] for r in spread if len(r[2]) == 4))[:SAMPLES]
    return {"name": names, "initials": initials, "tail": tails}


def _pages(total: int) -> list[tuple[str, str, list[str]]]:
    """The first, middle and last page of a list of `total` elders, as the list offers them (past
    10,000 matches the last page it knows is page 500)."""
    last = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
    middle = (last + 1) // 2
    return [
        ("`GET /api/elders`", "list, first page", [""]),
        (f"`GET /api/elders?page={middle}`", "list, middle page", [f"page={middle}"]),
        (f"`GET /api/elders?page={last}`", "list, last page", [f"page={last}"]),
    ]


def _requests(samples) -> list[tuple[str, str, list[str]]]:
    """(label, what, query strings cycled through): search and filters."""
    return [
        (
            f"`GET /api/elders?q=<full name>` ({'/'.join(samples['name'])})",
            "search by full name",
            [f"q={v}" for v in samples["name"]],
        ),
        (
            f"`GET /api/elders?q=<pinyin initials>` ({'/'.join(samples['initials'])})",
            "search by 3 initials",
            [f"q={v}" for v in samples["initials"]],
        ),
        (
            f"`GET /api/elders?q=<phone tail>` ({'/'.join(samples['tail'])})",
            "search by 4-digit phone tail",
            [f"q={v}" for v in samples["tail"]],
        ),
        (
            "`GET /api/elders?category=lives_alone&category=very_old`",
            "独居 AND 高龄",
            ["category=lives_alone&category=very_old"],
        ),
    ]


def _sql_of(client, path: str) -> list[tuple[str, tuple, float]]:
    """The SQL of one request with each statement's time (ms), for the elder table's queries."""
    from django.db import connection

    seen = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, params, (time.perf_counter() - started) * 1000))

    with connection.execute_wrapper(record):
        client.get(path)
    return [q for q in seen if '"elders_elder"' in q[0]]


def _kind(sql: str) -> str:
    return "count" if "COUNT(" in sql.upper() else "page"


def _explain(sql: str, params) -> tuple[str, list[str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        shown = connection.ops.compose_sql(sql, params)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = [row[0] for row in cursor.fetchall()]
    return shown, plan


def _shorten_sql(sql: str) -> str:
    """The SELECT list of the page query is 60 columns long; keep the rest."""
    head, sep, rest = sql.partition(" FROM ")
    if sep and head.upper().startswith("SELECT") and "COUNT(" not in head.upper():
        return f"SELECT … {sep.strip()} {rest}"
    return sql


def _setup(ctx: Context):
    from django.db import connection

    from regions.models import Level, Region

    city = Region.objects.filter(name=CITY, level=Level.CITY).first()
    if city is None:
        raise Skip(
            f"no generated city {CITY} in {connection.settings_dict['NAME']}; run it against the city database: "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/yinling_city make bench BENCH_ONLY=city_2m "
            "(made with `manage.py generate_city --elders 2000000`, see docs/generate_city.md)"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT r.parent_id, count(*) FROM elders_elder e JOIN regions_region r ON r.id = e.region_id
               WHERE r.path LIKE %s GROUP BY r.parent_id""",
            [city.path + "%"],
        )
        by_parent = cursor.fetchall()
    total = sum(n for _p, n in by_parent)
    if total < MIN_ELDERS:
        raise Skip(f"{CITY} holds {total:,} elders, fewer than {MIN_ELDERS:,}: generate_city has not finished")
    # Elders sit in grids; group the grids by community and take the biggest community (the
    # heaviest list a community worker has).
    community_counts: dict[int, int] = {}
    parents = Region.objects.in_bulk([p for p, _n in by_parent])
    for parent_id, n in by_parent:
        parent = parents[parent_id]
        key = parent.pk if parent.level == Level.COMMUNITY else parent.parent_id
        community_counts[key] = community_counts.get(key, 0) + n
    # A community of the size (the one nearest 2,000 elders: a typical large community,
    # not the biggest, whose plan happened to be good), a street and a district of median size.
    community_id, community_total = min(community_counts.items(), key=lambda kv: (abs(kv[1] - COMMUNITY_SIZE), kv[0]))
    community = Region.objects.get(pk=community_id)
    communities = Region.objects.filter(path__startswith=city.path, level=Level.COMMUNITY).count()
    nodes = Region.objects.in_bulk(community_counts)
    street_counts: dict[int, int] = {}
    for cid, n in community_counts.items():
        street_counts[nodes[cid].parent_id] = street_counts.get(nodes[cid].parent_id, 0) + n
    streets = Region.objects.in_bulk(street_counts)
    district_counts: dict[int, int] = {}
    for sid, n in street_counts.items():
        district_counts[streets[sid].parent_id] = district_counts.get(streets[sid].parent_id, 0) + n

    def median(counts):
        pk, n = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))[len(counts) // 2]
        return Region.objects.get(pk=pk), n

    street, street_total = median(street_counts)
    district, district_total = median(district_counts)
    users = [
        (
            "community",
            community,
            community_total,
            elderdata.user(COMMUNITY_USER, "community", community, f"{community.name} 基准"),
        ),
        ("street", street, street_total, elderdata.user(STREET_USER, "street", street, f"{street.name} 基准")),
        (
            "district",
            district,
            district_total,
            elderdata.user(DISTRICT_USER, "aging_office", district, f"{district.name}老龄办 基准"),
        ),
        ("city", city, total, elderdata.user(CITY_USER, "aging_office", city, f"{CITY}老龄办 基准")),
    ]
    return city, community, total, communities, users


IMPORT_ROWS = 100_000
IMPORT_TARGET = 20_000  # rows/s, the import target
IMPORT_COMMUNITY, IMPORT_COMMUNITY_CODE = "银龄基准导入社区", "990102001090"  # as import_xlsx
IMPORT_AREAS = ["110101", "110102", "110105", "110106", "110107", "110108"]  # generate_city uses 99xxxx


def _import_at_scale(ctx: Context) -> tuple[dict, float]:
    """The import_xlsx workbook imported into this database, beside the 2,000,000 elders: every
    index the register needs is city-sized, so each new row costs the database more than in
    the small bench database. Imported by a community worker, in a fresh process; then removed."""
    import tempfile
    from pathlib import Path

    from bench.subproc import measure
    from regions.models import Level

    street = elderdata.node("东城街道", Level.STREET, elderdata.demo_district())
    community = elderdata.node(IMPORT_COMMUNITY, Level.COMMUNITY, street, IMPORT_COMMUNITY_CODE)
    elderdata.user("bench_import", "community", community, f"{IMPORT_COMMUNITY} 基准")
    elderdata.clear_subtree(community)
    tmp = Path(tempfile.mkdtemp(prefix="bench-city-import-"))
    path = tmp / f"elders-{IMPORT_ROWS}.xlsx"
    elderdata.write_workbooks([(path, IMPORT_ROWS)], seed="import_xlsx", areas=IMPORT_AREAS, communities=[IMPORT_COMMUNITY])
    load = ctx.settle()
    try:
        result = measure("import", path=str(path), username="bench_import")
    finally:
        path.unlink()
        tmp.rmdir()
        elderdata.clear_subtree(community)
    if result["created"] != IMPORT_ROWS:
        raise RuntimeError(f"import into the city: {result}")
    return result, load


@benchmark(key="city_2m", title="API over a city of 2,000,000 elders")
def run(ctx: Context) -> Result:
    from django.db import connection

    city, community, total, communities, users = _setup(ctx)
    samples = _samples(community)
    print(f"  {city.name}: {total:,} elders in {communities:,} communities")
    for level, region, n, _user in users:
        print(f"  {level} user: {region.name}, {n:,} elders")
    print(f"  search values: {samples}")
    city_ctx = dataclasses.replace(ctx, requests=min(ctx.requests, CITY_REQUESTS), warmup=min(ctx.warmup, CITY_WARMUP))

    timings, plans, loads = [], [], []
    for level, region, n, user in users:
        who = f"{level} ({region.name}, {user.role})"
        uctx = ctx if level == "community" else city_ctx
        client = ctx.api_client(username=user.username, password=elderdata.PASSWORD)
        requests = _pages(n)
        if level in ("community", "city"):
            requests += _requests(samples)
        if level == "city":  # what the capped count saves: the exact count, which the API does on request
            requests.insert(1, ("`GET /api/elders?exact_count=true`", "list, first page, exact count", ["exact_count=true"]))
        for label, what, queries in requests:
            paths = [_path(q) for q in queries]
            body = client.get(paths[0]).json()
            load = uctx.settle()
            timing = uctx.time_get(client, name=f"{who}: {label}", paths=paths, target_p95_ms=TARGET_P95_MS)
            statements = _sql_of(client, paths[0])
            split = ", ".join(f"{_kind(s)} {ms:.0f} ms" for s, _p, ms in statements)
            exact = "" if body.get("count_is_exact", True) else " (capped: more than 10,000)"
            timing.note = (
                f"{what}: {body['count']:,}{exact} match, page {body['page']}, {len(body['items'])} returned; "
                f"N={uctx.requests}; load {load:.2f}; SQL of one request: {split}"
            )
            timings.append(timing)
            loads.append(load)
            p95 = timing.percentile(95)
            print(f"  {timing.name}: p50 {timing.percentile(50):.0f} ms, p95 {p95:.0f} ms ({split})")
            if p95 >= SLOW_MS:
                for sql, params, ms in statements:
                    shown, plan = _explain(sql, params)
                    plans.append((timing.name, p95, _kind(sql), ms, _shorten_sql(shown), plan))

    appendix = []
    if plans:
        appendix += [
            f"### Plans of the slow requests (p95 ≥ {SLOW_MS} ms)",
            "",
            "`EXPLAIN (ANALYZE, BUFFERS)` of each elder-table statement of one such request, run right after its timing "
            f"(so the cache is warm); SQL with the SELECT list elided, plans cut at {PLAN_LINES} lines.",
            "",
        ]
        for name, p95, kind, ms, shown, plan in plans:
            cut = plan[:PLAN_LINES] + ([f"… ({len(plan) - PLAN_LINES} more lines)"] if len(plan) > PLAN_LINES else [])
            appendix += [
                f"**{name}** — p95 {p95:.0f} ms; its {kind} query took {ms:.0f} ms in the request:",
                "",
                "```sql",
                shown if len(shown) < 1500 else shown[:1500] + " …",
                "```",
                "",
                "```",
                *(line if len(line) <= 200 else line[:200] + " …" for line in cut),
                "```",
                "",
            ]
    imported, import_load = _import_at_scale(ctx)
    rate = IMPORT_ROWS / imported["seconds"]
    print(f"  import of {IMPORT_ROWS:,} rows beside the city: {imported['seconds']:.1f} s, {rate:,.0f} rows/s")
    figures = [
        Figure(
            f"import_elders, {IMPORT_ROWS:,} rows into the 2,000,000-elder register",
            rate,
            "rows/s",
            f"≥ {IMPORT_TARGET:,} rows/s",
            target_min=IMPORT_TARGET,
        ),
        Figure("import: CPU seconds in the importer", imported["cpu_self_s"], "s"),
        Figure("import: CPU seconds in the two checkers", imported["cpu_children_s"], "s"),
        Figure("import: CPU seconds in the PostgreSQL backend", imported["cpu_postgres_s"], "s"),
        Figure("import: peak memory (Pss, all processes)", imported["peak_tree_pss_kib"] / 1024, "MiB"),
    ]
    method_import = f"""
Import at city scale: the `import_xlsx` workbook ({IMPORT_ROWS:,} new elders, one community)
imported into this database by a community worker of {IMPORT_COMMUNITY} (made under seed_demo's
东城街道), in a fresh process as in `import_xlsx` (load {import_load:.2f} at the start), then deleted
again. Every index of the register is city-sized here, so the database's share of each row is
larger than in the bench database.
"""
    users_text = "; ".join(
        f"`{user.username}` (role {user.role}) attached to {region.name}, {n:,} elders" for _level, region, n, user in users
    )
    method = (
        method_import
        + f"""
Data: the city `generate_city --elders 2000000` builds ({city.name}: {total:,} elders in
{communities:,} communities, their grids and streets; database
`{connection.settings_dict["NAME"]}`, beside seed_demo's 1,437). Four users made for the
benchmark, one at each level: {users_text}. The community is the generated one nearest
{COMMUNITY_SIZE:,} elders (the issue's community worker had 2,024), the street and the district those of
median size. Each pages through its list: the first, the middle and the last page, with the
API's default {PAGE_SIZE} a page. The list counts exactly up to 10,000 matches and says "more than
10,000" past that (`core.pagination.CappedPaginator`), so for the street, district and city the
last page is the last the list knows of, page 500 (offset 9,980). Search values are real:
{SAMPLES} elders of {community.name}, taken evenly through it by id, give the full names, the
3-letter pinyin initials and the 4-digit phone tails; each search request cycles through its
values (as the city and as the community). For the city user the table adds
`?exact_count=true`, the exact count the API makes on request: what the cap saves.

Method: as `api_elders` — in-process through `django.test.Client` with a Bearer token,
production settings (`DEBUG=false`), PostgreSQL on the same machine, one client at a time. The
street, district and city users' requests: {city_ctx.warmup} untimed warm-up calls, then
N={city_ctx.requests} timed; the community user's: {ctx.warmup} and N={ctx.requests}. Before each request the run waits (up to 3 min) for the load
average to fall to 2; the load it started at is in the note. *SQL of one request* is the time
of each elder-table statement in one more request, untimed in the table (the Bearer token's
lookup is the third query).
"""
    )
    return Result(timings=timings, figures=figures, method=method, appendix="\n".join(appendix))
