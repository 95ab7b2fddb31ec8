"""The time bank at city scale (issue 13 §6: live for any community, street or city): the members
list (first, middle and last page) for a community, a street and the city user, and the figures
(page and API) for a community, a street and the city over a month and a year.

The data is made set-based (INSERT … SELECT) in its own city, 时间银行城市基准市: TB_CITY_STREETS
streets × TB_CITY_COMMUNITIES communities, a bank each with TB_CITY_MEMBERS members, and
TB_CITY_PER_MEMBER transfers a member over the last two years (three services against the bank's
issue account, then a desk withdrawal). Kept: a second run reuses it."""

import os
import time

from bench import elderdata
from bench.context import Context
from bench.registry import Result, Skip, benchmark

CITY = "时间银行城市基准市"
STREETS = int(os.environ.get("TB_CITY_STREETS", "20"))
COMMUNITIES = int(os.environ.get("TB_CITY_COMMUNITIES", "10"))  # per street
MEMBERS = int(os.environ.get("TB_CITY_MEMBERS", "1000"))  # per community
PER_MEMBER = int(os.environ.get("TB_CITY_PER_MEMBER", "4"))  # transfers over two years
LIST_P95_MS = 300
FIGURES_P95_MS = 1000
USERS = {
    "community": ("bench_tbcity_community", "community"),
    "street": ("bench_tbcity_street", "street"),
    "city": ("bench_tbcity_city", "aging_office"),
}


def _sql(statement: str, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _regions():
    """The city, its streets and communities (made once, through regions.services)."""
    from regions.models import Level, Region
    from regions.services import region_create

    city = Region.objects.filter(name=CITY, level=Level.CITY).first()
    if city is None:
        root = Region.objects.filter(parent__isnull=True).order_by("id").first() or region_create(
            name="全国", level=Level.COUNTRY, parent=None
        )
        province = region_create(name="时间银行城市基准省", level=Level.PROVINCE, parent=root)
        city = region_create(name=CITY, level=Level.CITY, parent=province)
    district = Region.objects.filter(parent=city).first() or region_create(name="基准区", level=Level.DISTRICT, parent=city)
    have = Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).count()
    if have < STREETS * COMMUNITIES:
        for s in range(STREETS):
            street = Region.objects.filter(parent=district, name=f"基准街道{s + 1}").first() or region_create(
                name=f"基准街道{s + 1}", level=Level.STREET, parent=district
            )
            for c in range(COMMUNITIES):
                if not Region.objects.filter(parent=street, name=f"基准街道{s + 1}社区{c + 1}").exists():
                    region_create(name=f"基准街道{s + 1}社区{c + 1}", level=Level.COMMUNITY, parent=street)
    communities = list(Region.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("path"))
    street = communities[0].parent
    return city, street, communities


def _setup(desk, communities):
    """A bank per community, its members and two years of transfers; made once."""
    from django.db import connection, transaction

    from timebank.models import Bank, Member
    from timebank.services import bank_open

    ids = [c.pk for c in communities]
    if Member.objects.filter(bank__region_id__in=ids).count() >= len(ids) * MEMBERS:
        return 0.0
    started = time.perf_counter()
    with transaction.atomic():
        have = set(Bank.objects.filter(region_id__in=ids).values_list("region_id", flat=True))
        for c in communities:
            if c.pk not in have:
                bank_open(by=desk, region=c, name=f"{c.name}时间银行")
        # Members: 10% retired cadres, 2% pending (the rest active), each with a personal account.
        _sql(
            """INSERT INTO timebank_member (bank_id, region_id, name, phone_enc, phone_hash, phone_masked, is_retired_cadre,
                                            status, joined_on, level, created_at)
               SELECT b.id, b.region_id, '城市会员' || b.id || '-' || n, '', '', '', n %% 10 = 0,
                      CASE WHEN n %% 50 = 0 THEN 'pending' ELSE 'active' END, CURRENT_DATE - (n %% 700), n %% 4, now()
               FROM timebank_bank b CROSS JOIN generate_series(1, %s) n
               WHERE b.region_id = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM timebank_member m WHERE m.bank_id = b.id)
               ORDER BY b.id, n""",
            [MEMBERS, ids],
        )
        _sql(
            """INSERT INTO timebank_account (bank_id, kind, member_id, name, balance_minutes, created_at)
               SELECT m.bank_id, 'personal', m.id, m.name, 0, now()
               FROM timebank_member m JOIN timebank_bank b ON b.id = m.bank_id
               WHERE b.region_id = ANY(%s) AND m.status = 'active'
                 AND NOT EXISTS (SELECT 1 FROM timebank_account a WHERE a.member_id = m.id)
               ORDER BY m.id""",
            [ids],
        )
        # Transfers over the last two years: per member k = 0..PER_MEMBER-1, every fourth a desk
        # withdrawal of 30 minutes, the others services of 30–90 minutes in one of the ten categories.
        span = 2 * 365 * 86400
        _sql(
            """INSERT INTO timebank_transfer (bank_id, kind, category, note, served_minutes, confirmation, confirmation_ref,
                                              idempotency_key, at)
               SELECT a.bank_id, CASE WHEN k %% 4 = 3 THEN 'desk_withdrawal' ELSE 'service' END,
                      CASE WHEN k %% 4 = 3 THEN ''
                           ELSE (ARRAY['mutual_care','relief','tutoring','legal_aid','security','health_care',
                                       'health_talk','education','culture','environment'])[1 + (a.id + k) %% 10] END,
                      '', CASE WHEN k %% 4 = 3 THEN 30 ELSE 30 + (k * 7 + a.id) %% 61 END, '', '',
                      'c' || a.id || ':' || k,
                      now() - ((a.id * 7919 + k * 104729) %% %s) * interval '1 second'
               FROM timebank_account a JOIN timebank_bank b ON b.id = a.bank_id
               CROSS JOIN generate_series(0, %s - 1) k
               WHERE b.region_id = ANY(%s) AND a.kind = 'personal'
               ORDER BY 9""",
            [span, PER_MEMBER, ids],
        )
        # The legs, with each account's running balance (a window over its history).
        _sql(
            """INSERT INTO timebank_movement (transfer_id, account_id, minutes, balance_after, at)
               SELECT id, account_id, minutes, sum(minutes) OVER (PARTITION BY account_id ORDER BY at, id), at
               FROM (
                   SELECT t.id, t.at, split_part(substr(t.idempotency_key, 2), ':', 1)::bigint AS account_id,
                          CASE t.kind WHEN 'service' THEN t.served_minutes ELSE -t.served_minutes END AS minutes
                   FROM timebank_transfer t JOIN timebank_bank b ON b.id = t.bank_id
                   WHERE b.region_id = ANY(%s) AND t.idempotency_key LIKE 'c%%'
                   UNION ALL
                   SELECT t.id, t.at, i.id,
                          CASE t.kind WHEN 'service' THEN -t.served_minutes ELSE t.served_minutes END
                   FROM timebank_transfer t JOIN timebank_bank b ON b.id = t.bank_id
                   JOIN timebank_account i ON i.bank_id = t.bank_id AND i.kind = 'issue'
                   WHERE b.region_id = ANY(%s) AND t.idempotency_key LIKE 'c%%'
               ) legs""",
            [ids, ids],
        )
        _sql(
            """UPDATE timebank_account a SET balance_minutes = s.total
               FROM (SELECT account_id, sum(minutes) AS total FROM timebank_movement m
                     JOIN timebank_account x ON x.id = m.account_id JOIN timebank_bank b ON b.id = x.bank_id
                     WHERE b.region_id = ANY(%s) GROUP BY account_id) s
               WHERE a.id = s.account_id""",
            [ids],
        )
    with connection.cursor() as cursor:
        for table in ("timebank_member", "timebank_account", "timebank_transfer", "timebank_movement"):
            cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def _explain(client_user, region, period) -> str:
    """The plan of the figures' heaviest query (EXPLAIN ANALYZE), for the appendix."""
    from django.db import connection

    from timebank import selectors

    start, end = selectors.period(period)
    sql, params = selectors.figures_transfers_sql(user=client_user, region=region, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@benchmark(
    key="timebank_members",
    title="Time bank at city scale: the members list and the figures for a community, a street and the city",
)
def run(ctx: Context) -> Result:
    from django.db import connection

    from timebank.models import Member, Movement, Transfer

    if connection.vendor != "postgresql":
        raise Skip("PostgreSQL only")
    city, street, communities = _regions()
    community = communities[0]
    users = {
        "community": elderdata.user(USERS["community"][0], USERS["community"][1], community, "社区时间银行窗口"),
        "street": elderdata.user(USERS["street"][0], USERS["street"][1], street, "街道时间银行"),
        "city": elderdata.user(USERS["city"][0], USERS["city"][1], city, "市老龄办"),
    }
    made_s = _setup(users["community"], communities)
    from timebank.figures import figures_rollup

    started = time.perf_counter()
    figures_rollup()  # marks the ids it saw
    rolled = figures_rollup()  # rolls them up (set-based)
    rollup_s = time.perf_counter() - started
    ids = [c.pk for c in communities]
    members = Member.objects.filter(bank__region_id__in=ids).count()
    transfers = Transfer.objects.filter(bank__region_id__in=ids).count()
    movements = Movement.objects.filter(account__bank__region_id__in=ids).count()
    regions = {"community": community, "street": street, "city": city}

    clients = {who: ctx.api_client(username=u.username, password=elderdata.PASSWORD) for who, u in users.items()}
    # (client, name, path, target, note, N): the lists as each user, then the figures as the city office.
    runs = []
    for who in users:
        in_scope = Member.objects.filter(region__path__startswith=regions[who].path).count()
        last = max(1, min(in_scope, 10_000) // 20)
        for label, page in (("first", 1), ("middle", max(1, last // 2)), ("last", last)):
            note = f"{in_scope:,} members in scope, page {page}"
            runs.append(
                (clients[who], f"members, {who} user, {label} page", f"/api/timebank/members?page={page}", LIST_P95_MS, note, 100)
            )
    for who in ("community", "street", "city"):
        for period in ("month", "year"):
            path = f"/api/timebank/figures?region={regions[who].pk}&period={period}"
            runs.append((clients["city"], f"figures API, {who}, {period}", path, FIGURES_P95_MS, "", 30))
    timings = []
    requests, warmup = ctx.requests, ctx.warmup
    load = ctx.settle()
    for client, name, path, target, note, n in runs:
        ctx.requests, ctx.warmup = min(requests, n), min(warmup, n // 10)
        timing = ctx.time_get(client, name=name, paths=[path], target_p95_ms=target)
        timing.note = note
        timings.append(timing)
        print(
            f"  {name}: p50 {timing.percentile(50):.0f} ms, p95 {timing.percentile(95):.0f} ms, {timing.queries} queries",
            flush=True,
        )
    ctx.requests, ctx.warmup = requests, warmup
    plan = _explain(users["city"], city, "year")
    return Result(
        timings=timings,
        method=f"""
Data: {CITY} in the bench database — {STREETS} streets × {COMMUNITIES} communities, a bank each,
{members:,} members ({MEMBERS:,} a community: 10% retired cadres, 2% pending), {transfers:,}
transfers over the last two years ({PER_MEMBER} a member: services in the ten categories and
desk withdrawals) and {movements:,} movements, made by `INSERT … SELECT` with the running balance
from a window function{f" in {made_s:.0f} s" if made_s else " (reused from an earlier run)"}.
The figures' rollup (`timebank.figures.figures_rollup`, two runs: the first marks the ids it
sees, the second rolls them up): {f"{rollup_s:.0f} s for {rolled:,} transfer ids" if rolled else "already up to date (rolled by an earlier run)"}.

Members list: `GET /api/timebank/members?page=N` (20 a page, newest first; past 10,000 rows the
count is capped, so the last page is page 500) as a community worker (one community, {MEMBERS:,}
members), a street (its {COMMUNITIES} communities) and the city office (everything).
Figures: `GET /api/timebank/figures?region=…&period=month|year` as the city office for the
community, the street and the city (the page `/timebank/figures/` renders the same
`timebank.selectors.figures`; production settings serve pages only after collectstatic, so the
bench times the API).
In-process `django.test.Client`, N=100 (lists) or 30 (figures) after warm-up, load average
{load:.2f} at the start.
""",
        appendix="Plan of the figures' read of the rollup, city, year:\n\n```\n" + plan + "\n```\n",
    )
