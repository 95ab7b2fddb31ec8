"""The time bank's ledger (issue 13): transfers per second under contention (a few hot pools;
10,000 accounts in random pairs), each worker its own connection; and the statement of one member
and of the bank's issue account over ten years of movements, first, middle and last page.

The data is made set-based (INSERT … SELECT) in its own bank, 时间银行基准社区, and kept: a
second run reuses it. Every balance stays the sum of its movements (the audit is run at the end)."""

import datetime
import os
import random
import threading
import time

from bench import elderdata
from bench.context import Context
from bench.registry import Figure, Result, Skip, benchmark

BANK = "时间银行基准社区时间银行"
USER = "bench_timebank_desk"
MEMBERS = int(os.environ.get("TB_BENCH_MEMBERS", "10000"))  # the accounts of the random-pair run
HISTORY_MEMBERS = int(os.environ.get("TB_BENCH_HISTORY_MEMBERS", "2000"))  # members with ten years of history
PER_YEAR = int(os.environ.get("TB_BENCH_PER_YEAR", "50"))  # an active volunteer: about one service a week
YEARS = 10
POOLS = 4
SECONDS = float(os.environ.get("TB_BENCH_SECONDS", "10"))
TARGET_P95_MS = 100
TARGET_TPS = 50  # a city's banks together post well under 10 a second at their busiest hour


def _regions():
    from regions.models import Level, Region
    from regions.services import region_create

    found = Region.objects.filter(name="时间银行基准社区", level=Level.COMMUNITY).first()
    if found is not None:
        return found
    root = Region.objects.filter(parent__isnull=True).order_by("id").first() or region_create(
        name="全国", level=Level.COUNTRY, parent=None
    )
    province = region_create(name="时间银行基准省", level=Level.PROVINCE, parent=root)
    city = region_create(name="时间银行基准市", level=Level.CITY, parent=province)
    district = region_create(name="时间银行基准区", level=Level.DISTRICT, parent=city)
    street = region_create(name="时间银行基准街道", level=Level.STREET, parent=district)
    return region_create(name="时间银行基准社区", level=Level.COMMUNITY, parent=street)


def _sql(statement: str, params=()):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def _setup(desk):
    """The bank, its 10,000 funded members, four funded pools and ten years of history for the
    first HISTORY_MEMBERS members; made once."""
    from django.db import connection, transaction

    from timebank.models import Account, Bank, Member
    from timebank.services import bank_open

    community = _regions()
    bank = Bank.objects.filter(region=community).first()
    if bank is not None and Member.objects.filter(bank=bank).count() >= MEMBERS:
        return bank, 0.0
    started = time.perf_counter()
    with transaction.atomic():
        bank = bank or bank_open(by=desk, region=community, name=BANK)
        for i in range(POOLS - 1):
            Account.objects.create(bank=bank, kind="pool", name=f"{BANK}公益池{i + 2}")
        _sql(
            """INSERT INTO timebank_member (bank_id, region_id, name, phone_enc, phone_hash, phone_masked, is_retired_cadre,
                                            status, joined_on, level, created_at)
               SELECT %s, %s, '基准会员' || n, '', '', '', false, 'active', CURRENT_DATE, 0, now()
               FROM generate_series(1, %s) n""",
            [bank.pk, community.pk, MEMBERS],
        )
        _sql(
            """INSERT INTO timebank_account (bank_id, kind, member_id, name, balance_minutes, created_at)
               SELECT bank_id, 'personal', id, name, 0, now() FROM timebank_member WHERE bank_id = %s ORDER BY id""",
            [bank.pk],
        )
        issue = Account.objects.get(bank=bank, kind="issue").pk
        start = datetime.datetime(2016, 1, 1, tzinfo=datetime.UTC)
        # One import transfer funds every member (10^6 minutes) and pool (10^9): one leg each.
        _sql(
            """INSERT INTO timebank_transfer (bank_id, kind, category, note, served_minutes, confirmation, confirmation_ref,
                                              idempotency_key, at)
               VALUES (%s, 'import', '', '基准开户存入', NULL, '', '', 'bench:funding', %s)""",
            [bank.pk, start],
        )
        _sql(
            """INSERT INTO timebank_movement (transfer_id, account_id, minutes, balance_after, at)
               SELECT t.id, a.id, m.minutes, m.minutes, t.at
               FROM timebank_transfer t
               JOIN timebank_account a ON a.bank_id = t.bank_id AND a.kind IN ('personal', 'pool')
               CROSS JOIN LATERAL (SELECT CASE a.kind WHEN 'pool' THEN 1000000000 ELSE 1000000 END AS minutes) m
               WHERE t.bank_id = %s AND t.idempotency_key = 'bench:funding'""",
            [bank.pk],
        )
        funded = POOLS * 1_000_000_000 + MEMBERS * 1_000_000
        _sql(
            """INSERT INTO timebank_movement (transfer_id, account_id, minutes, balance_after, at)
               SELECT t.id, %s, %s, %s, t.at FROM timebank_transfer t WHERE t.bank_id = %s AND t.idempotency_key = 'bench:funding'""",
            [issue, -funded, -funded, bank.pk],
        )
        # Ten years of history: per member, PER_YEAR × YEARS postings against the issue account,
        # three services (30–90 minutes) then one desk withdrawal (60), spread over the decade.
        n = PER_YEAR * YEARS
        span = YEARS * 365 * 86400
        _sql(
            """INSERT INTO timebank_transfer (bank_id, kind, category, note, served_minutes, confirmation, confirmation_ref,
                                              idempotency_key, at)
               SELECT %s, CASE WHEN k %% 4 = 3 THEN 'desk_withdrawal' ELSE 'service' END, 'mutual_care', '',
                      CASE WHEN k %% 4 = 3 THEN 60 ELSE 30 + (k * 7 + a.id) %% 61 END, '', '',
                      'h' || a.id || ':' || k,
                      %s + ((k::bigint * %s::bigint / %s) + (a.id * 7919) %% 86400) * interval '1 second'
               FROM (SELECT id FROM timebank_account WHERE bank_id = %s AND kind = 'personal' ORDER BY id LIMIT %s) a
               CROSS JOIN generate_series(0, %s - 1) k
               ORDER BY 9""",
            [bank.pk, start + datetime.timedelta(days=1), span, n, bank.pk, HISTORY_MEMBERS, n],
        )
        # Their legs, with the running balance after each (a window over each account's history).
        _sql(
            """INSERT INTO timebank_movement (transfer_id, account_id, minutes, balance_after, at)
               SELECT id, account_id, minutes,
                      base + sum(minutes) OVER (PARTITION BY account_id ORDER BY at, id), at
               FROM (
                   SELECT t.id, t.at, split_part(substr(t.idempotency_key, 2), ':', 1)::bigint AS account_id,
                          CASE t.kind WHEN 'service' THEN t.served_minutes ELSE -t.served_minutes END AS minutes,
                          1000000 AS base
                   FROM timebank_transfer t WHERE t.bank_id = %s AND t.idempotency_key LIKE 'h%%'
                   UNION ALL
                   SELECT t.id, t.at, %s,
                          CASE t.kind WHEN 'service' THEN -t.served_minutes ELSE t.served_minutes END, %s
                   FROM timebank_transfer t WHERE t.bank_id = %s AND t.idempotency_key LIKE 'h%%'
               ) legs""",
            [bank.pk, issue, -funded, bank.pk],
        )
        _sql(
            """UPDATE timebank_account a SET balance_minutes = s.total
               FROM (SELECT account_id, sum(minutes) AS total FROM timebank_movement m
                     JOIN timebank_account x ON x.id = m.account_id WHERE x.bank_id = %s GROUP BY account_id) s
               WHERE a.id = s.account_id""",
            [bank.pk],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE timebank_transfer")
        cursor.execute("ANALYZE timebank_movement")
        cursor.execute("ANALYZE timebank_account")
    return bank, time.perf_counter() - started


def _throughput(*, workers: int, pick, seconds: float, by) -> tuple[float, int, int]:
    """Transfers a second with `workers` threads, each its own database connection, posting
    `pick(rng)`'s transfer in a loop for `seconds`."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    counts = [[0, 0] for _ in range(workers)]
    stop = time.monotonic() + seconds
    barrier = threading.Barrier(workers)

    def run(i):
        from timebank import ledger

        rng = random.Random(i)
        try:
            barrier.wait()
            while time.monotonic() < stop:
                bank, legs, kind = pick(rng)
                try:
                    ledger.post(bank=bank, kind=kind, legs=legs, by=by, note="基准")
                    counts[i][0] += 1
                except ValidationError:
                    counts[i][1] += 1
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    done = sum(c[0] for c in counts)
    return done / elapsed, done, sum(c[1] for c in counts)


def _cursor_at(account_id: int, offset: int) -> str:
    from timebank.api_ledger import _cursor_encode
    from timebank.models import Movement

    row = Movement.objects.filter(account_id=account_id).order_by("-at", "-id").values_list("at", "id")[offset : offset + 1]
    at, pk = row[0]
    return _cursor_encode(at, pk)


@benchmark(key="timebank_ledger", title="Time bank ledger: transfers per second under contention; ten-year statements")
def run(ctx: Context) -> Result:
    from django.db import connection

    from timebank import ledger
    from timebank.models import Account, Movement

    if connection.vendor != "postgresql":
        raise Skip("PostgreSQL only")
    community = _regions()
    desk = elderdata.user(USER, "community", community, "时间银行基准窗口")
    bank, made_s = _setup(desk)
    pools = list(Account.objects.filter(bank=bank, kind="pool").order_by("id"))
    people = list(Account.objects.filter(bank=bank, kind="personal").order_by("id").values_list("id", flat=True))
    accounts = {a.pk: a for a in Account.objects.filter(pk__in=people[:MEMBERS])}
    movements = Movement.objects.filter(account__bank=bank).count()

    def hot(rng):
        pool = pools[rng.randrange(len(pools))]
        member = accounts[people[rng.randrange(200)]]
        return bank, [(pool, -1), (member, 1)], "incentive"

    def pairs(rng):
        a, b = rng.sample(people, 2)
        return bank, [(accounts[a], -1), (accounts[b], 1)], "gift"

    figures = []
    notes = []
    for label, pick in (("4 hot pools → 200 members", hot), (f"{len(people):,} accounts, random pairs", pairs)):
        for workers in (1, 2, 4):
            load = ctx.settle()
            tps, done, refused = _throughput(workers=workers, pick=pick, seconds=SECONDS, by=desk)
            figures.append(
                Figure(f"{label}, {workers} worker(s)", tps, "transfers/s", f"≥ {TARGET_TPS} transfers/s", target_min=TARGET_TPS)
            )
            notes.append(f"| {label} | {workers} | {done:,} | {refused} | {tps:.0f} | {load:.1f} |")

    # The statements: a member with ten years of history, and the bank's issue account (every service).
    member = people[0]
    issue = Account.objects.get(bank=bank, kind="issue").pk
    client = ctx.api_client(username=USER, password=elderdata.PASSWORD)
    timings = []
    ctx.requests, ctx.warmup = min(ctx.requests, 200), min(ctx.warmup, 20)
    load = ctx.settle()
    for who, account in (("member", member), ("issue account", issue)):
        total = Movement.objects.filter(account_id=account).count()
        for label, offset in (("first", None), ("middle", total // 2), ("last", max(0, total - 21))):
            path = f"/api/timebank/accounts/{account}/movements?limit=20"
            if offset is not None:
                path += f"&cursor={_cursor_at(account, offset)}"
            timing = ctx.time_get(client, name=f"statement of the {who}, {label} page", paths=[path], target_p95_ms=TARGET_P95_MS)
            timing.note = f"{total:,} movements"
            timings.append(timing)
    audit = ledger.audit(banks=type(bank).objects.filter(pk=bank.pk))
    if not audit.ok:
        raise RuntimeError(f"the bench bank's ledger does not balance: {audit.problems[:3]}")
    return Result(
        timings=timings,
        figures=figures,
        method=f"""
Data: the bank {BANK} in the bench database: {len(people):,} members each with a personal account
(one import transfer funded them), four pools, and ten years of history for {HISTORY_MEMBERS:,} of
them ({PER_YEAR} postings a year each: three services then one desk withdrawal, against the
issue account) — {movements:,} movements in all, made by `INSERT … SELECT` with the running
balance from a window function{f" in {made_s:.0f} s" if made_s else " (reused from an earlier run)"}.
The audit of the bank passes after the run.

Throughput: `timebank.ledger.post` called in a loop for {SECONDS:g} s by 1, 2 and 4 threads in
this process, each with its own PostgreSQL connection (row locks in id order; the GIL is
released while a thread waits on the database). "Hot pools": each transfer pays 1 minute from one
of 4 pools to one of 200 members (every transfer locks a pool: 4 rows everyone contends for).
"Random pairs": a gift of 1 minute between two of the {len(people):,} accounts.

| run | workers | transfers | refused | transfers/s | load at start |
|---|---|---|---|---|---|
{chr(10).join(notes)}

Statements: `GET /api/timebank/accounts/{{id}}/movements?limit=20` as the bank's desk, the first
page, the page at the middle and the last page (by keyset cursor), for one member and for the
issue account; in-process `django.test.Client`, N={ctx.requests} after {ctx.warmup} warm-up,
load average {load:.2f} at the start.
""",
    )
