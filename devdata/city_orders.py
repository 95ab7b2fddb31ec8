"""Orders at the scale of a generated city (generate_city --orders N; docs/generate_city.md).

N orders over the city's elders (drawn uniformly: some have several, most none), served by the
caregivers of organisations in the elder's own district (the city's, when its district has
none), with windows in office hours over the last `days` days and the next week. Past windows
are mostly delivered (completed, or evaluated with a rating mostly 4–5), 2 % cancelled; 1 % of
the visits checked in late (flagged, with an exception: open in the last 14 days, accepted
before), ratings of 2 or less with a follow-up. Windows to come are created, dispatched or
accepted; one running now is in service. Check-in and check-out lie 3–80 m from the home.

Written with COPY on PostgreSQL (executemany INSERTs on SQLite, for the tests), in the
caller's transaction, from one seeded generator: the same seed gives the same orders. No
plans, agreements, history records, call-backs or settlement shares: one ChangeRecord on the
city records the generation (the command writes it).
"""

import array
import datetime
import json
import math
import random
import time

from django.db import connection
from django.utils import timezone

from catalogue.models import ServiceItem
from devdata.order_drafts import local_at, point_near
from elders.models import Elder
from orders.models import FollowUp, Order, Status, VisitException
from providers.models import Caregiver, StaffStatus

# (item code, weight, {payment mode: weight}, quantities): the visits a city's elders get most.
ITEMS = [
    ("meal_delivery", 20, {"low_cost": 70, "government": 20, "paid": 10}, (1,)),
    ("home_visit", 14, {"free": 1}, (1,)),
    ("cleaning", 12, {"low_cost": 40, "paid": 40, "government": 20}, (2, 2, 3)),
    ("blood_pressure", 12, {"free": 1}, (1,)),
    ("chat", 6, {"free": 1}, (1,)),
    ("bathing", 6, {"low_cost": 30, "paid": 40, "government": 30}, (1,)),
    ("cooking", 6, {"low_cost": 40, "paid": 60}, (1,)),
    ("escort", 5, {"paid": 60, "government": 40}, (2, 3, 4)),
    ("medical_escort", 4, {"low_cost": 30, "paid": 50, "government": 20}, (1, 2, 3)),
    ("laundry", 4, {"low_cost": 50, "paid": 50}, (1,)),
    ("shopping", 4, {"free": 50, "low_cost": 20, "paid": 30}, (1,)),
    ("haircut", 3, {"low_cost": 60, "paid": 40}, (1,)),
    ("rehab", 2, {"paid": 50, "government": 50}, (1,)),
    ("temperature", 2, {"free": 1}, (1,)),
]
SOURCES = (["hotline"] * 45) + (["visit"] * 20) + (["elder"] * 10) + (["relative"] * 10) + (["desk"] * 15)
RATINGS = [5] * 62 + [4] * 30 + [3] * 5 + [2] * 2 + [1]
CANCEL_REASONS = ["老人住院，本次服务取消", "家属已自行安排", "老人外出探亲", "老人身体不适，改日再约"]
TABLES = [Order._meta.db_table, VisitException._meta.db_table, FollowUp._meta.db_table]
OPEN_EXCEPTION_DAYS = 14  # late visits of the last two weeks still wait for a person
CHUNK = 20_000

COLUMNS = [
    "elder_id",
    "region_id",
    "item_id",
    "quantity",
    "payment_mode",
    "unit_price_fen",
    "amount_fen",
    "source",
    "status",
    "scheduled_start",
    "scheduled_end",
    "organisation_id",
    "caregiver_id",
    "dispatched_at",
    "accept_by",
    "accepted_at",
    "cancel_reason",
    "checkin_at",
    "checkin_lat",
    "checkin_lng",
    "checkin_accuracy_m",
    "checkin_distance_m",
    "checkout_at",
    "checkout_lat",
    "checkout_lng",
    "checkout_accuracy_m",
    "checkout_distance_m",
    "outcomes",
    "flags",
    "verification",
    "rating",
    "rating_comment",
    "rated_at",
    "rated_via",
    "created_at",
    "updated_at",
    # constant columns (defaults the model gives every new order)
    "checkin_delayed",
    "checkout_delayed",
    "caller_name",
    "caller_relation",
    "notes",
    "worker_notes",
]
CONSTANT = (False, False, "", "", "", "")


def generate_orders(*, city, total: int, seed: str, days: int = 60, say=print) -> dict:
    """Write `total` orders for the elders of `city` (a Region); returns counts by status."""
    from catalogue.selectors import prices_for
    from catalogue.services import catalogue_initial_load

    if total <= 0:
        return {}
    started = time.monotonic()
    rng = random.Random(f"orders|{seed}")
    elders = _elders(city)
    if not elders["ids"]:
        raise ValueError(f"{city.name} has no elders to order for")
    pools = _caregivers(city)
    if not pools:
        raise ValueError(f"{city.name} has no active caregivers: generate it with --caregivers")
    catalogue_initial_load()  # present after migrate; again if a test flushed the tables
    items = {i.code: i for i in ServiceItem.objects.filter(code__in=[c for c, *_ in ITEMS])}
    prices = prices_for(items.values(), city)
    for code, _w, modes, _q in ITEMS:
        refused = set(modes) - set(items[code].payment_modes)
        if refused:
            raise ValueError(f"item {code} has no payment mode {', '.join(sorted(refused))}")
    say(f"orders: {len(elders['ids']):,} elders, {sum(len(p) for p in pools.values()):,} caregivers read")

    now = timezone.now()
    today = timezone.localdate()
    first_day = today - datetime.timedelta(days=days)
    span_days = days + 7
    item_codes = [c for c, *_ in ITEMS]
    item_weights = [w for _c, w, *_ in ITEMS]
    modes = {c: (list(m), list(m.values())) for c, _w, m, _q in ITEMS}
    quantities = {c: q for c, _w, _m, q in ITEMS}
    every = [cg for pool in pools.values() for cg in pool]
    outcomes = {code: json.dumps({o: "是" for o in item.outcomes}, ensure_ascii=False) for code, item in items.items()}
    counts: dict = {}
    before = Order.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def rows():
        n_elders = len(elders["ids"])
        for _ in range(total):
            e = rng.randrange(n_elders)
            code = rng.choices(item_codes, item_weights)[0]
            item = items[code]
            mode = rng.choices(*modes[code])[0]
            quantity = rng.choice(quantities[code])
            price = 0 if mode == "free" else prices[item.pk].price_fen
            day = first_day + datetime.timedelta(days=rng.randrange(span_days))
            start = local_at(day, 8 * 60 + 10 * rng.randrange(55))  # 08:00 … 17:00
            minutes = (
                max(item.duration_minutes or 60, 60 * quantity)
                if item.unit == "hour" and quantity > 1
                else item.duration_minutes or 60
            )
            end = start + datetime.timedelta(minutes=minutes)
            pool = pools.get(elders["district"][e]) or every
            caregiver_id, organisation_id = pool[rng.randrange(len(pool))]
            created = start - datetime.timedelta(minutes=rng.randint(120, 3 * 24 * 60), seconds=rng.randint(0, 59))
            row = _visit(rng, now, elders, e, item, start, end, created, caregiver_id, organisation_id)
            status = row["status"]
            counts[str(status)] = counts.get(str(status), 0) + 1
            yield (
                elders["ids"][e],
                elders["region"][e],
                item.pk,
                quantity,
                mode,
                price,
                price * quantity,
                rng.choice(SOURCES),
                status,
                start,
                end,
                row.get("organisation_id"),
                row.get("caregiver_id"),
                row.get("dispatched_at"),
                row.get("accept_by"),
                row.get("accepted_at"),
                row.get("cancel_reason", ""),
                row.get("checkin_at"),
                row.get("checkin_lat"),
                row.get("checkin_lng"),
                row.get("checkin_accuracy_m"),
                row.get("checkin_distance_m"),
                row.get("checkout_at"),
                row.get("checkout_lat"),
                row.get("checkout_lng"),
                row.get("checkout_accuracy_m"),
                row.get("checkout_distance_m"),
                outcomes[code] if row.get("checkout_at") else "{}",
                '["late"]' if row.get("flags") else "[]",
                row.get("verification", "pending"),
                row.get("rating"),
                "",
                row.get("rated_at"),
                "callback" if row.get("rating") else "",
                created,
                row.get("updated_at", created),
                *CONSTANT,
            )

    written = _write(Order, COLUMNS, rows(), total=total, say=say, started=started)
    _exceptions_and_follow_ups(before=before, now=now, rng=rng)
    say(f"orders: {written:,} written, {time.monotonic() - started:.1f} s: {dict(sorted(counts.items()))}")
    return counts


def _visit(rng, now, elders, e, item, start, end, created, caregiver_id, organisation_id) -> dict:
    """What happened to one order by now, as the columns it sets."""
    row = {"status": Status.CREATED}
    dispatched = created + datetime.timedelta(minutes=rng.randint(5, 120))
    if end < now:
        if rng.random() < 0.02:  # cancelled, at some step before the visit
            row.update(status=Status.CANCELLED, cancel_reason=rng.choice(CANCEL_REASONS), updated_at=dispatched)
            if rng.random() < 0.5:
                row.update(organisation_id=organisation_id, caregiver_id=caregiver_id, dispatched_at=dispatched)
                row["accept_by"] = dispatched + datetime.timedelta(minutes=30)
            return row
        late = rng.random() < 0.01
        checkin = start + datetime.timedelta(
            minutes=rng.randint(16, 40) if late else rng.randint(-10, 14), seconds=rng.randint(0, 59)
        )
        checkout = checkin + (end - start) * rng.uniform(0.9, 1.2)
        row.update(
            status=Status.COMPLETED,
            organisation_id=organisation_id,
            caregiver_id=caregiver_id,
            dispatched_at=dispatched,
            accept_by=dispatched + datetime.timedelta(minutes=30),
            accepted_at=dispatched + datetime.timedelta(minutes=rng.randint(1, 25)),
            checkin_at=checkin,
            checkout_at=checkout,
            updated_at=checkout,
            verification="verified",
        )
        home = (elders["lat"][e], elders["lng"][e])
        for side in ("checkin", "checkout"):
            if not math.isnan(home[0]):
                distance = rng.uniform(3, 80)
                lat, lng = point_near(rng, home, distance)
                row.update({f"{side}_lat": lat, f"{side}_lng": lng, f"{side}_distance_m": round(distance)})
            row[f"{side}_accuracy_m"] = rng.randint(5, 40)
        if late:
            row["flags"] = ["late"]
            if now - checkin < datetime.timedelta(days=OPEN_EXCEPTION_DAYS):
                row["verification"] = "pending"
        if rng.random() < 0.55:
            rated = checkout + datetime.timedelta(minutes=rng.randint(60, 3 * 24 * 60))
            if rated < now:
                row.update(status=Status.EVALUATED, rating=rng.choice(RATINGS), rated_at=rated, updated_at=rated)
        return row
    if start <= now:  # running now
        row.update(
            status=Status.IN_SERVICE,
            organisation_id=organisation_id,
            caregiver_id=caregiver_id,
            dispatched_at=dispatched,
            accept_by=dispatched + datetime.timedelta(minutes=30),
            accepted_at=dispatched + datetime.timedelta(minutes=rng.randint(1, 25)),
            checkin_at=start,
            checkin_accuracy_m=rng.randint(5, 40),
            verification="pending",
            updated_at=start,
        )
        if not math.isnan(elders["lat"][e]):
            lat, lng = point_near(rng, (elders["lat"][e], elders["lng"][e]), 20)
            row.update(checkin_lat=lat, checkin_lng=lng, checkin_distance_m=20)
        return row
    created = min(created, now)
    dispatched = min(dispatched, now)
    roll = rng.random()
    if roll < 0.15:
        row["updated_at"] = created
        return row
    row.update(
        status=Status.DISPATCHED,
        organisation_id=organisation_id,
        caregiver_id=caregiver_id,
        dispatched_at=dispatched,
        accept_by=dispatched + datetime.timedelta(minutes=30),
        updated_at=dispatched,
    )
    if roll >= 0.45:
        accepted = min(dispatched + datetime.timedelta(minutes=rng.randint(1, 25)), now)
        row.update(status=Status.ACCEPTED, accepted_at=accepted, updated_at=accepted)
    return row


def _exceptions_and_follow_ups(*, before: int, now, rng) -> None:
    """A VisitException for each late visit and a FollowUp for each rating of 2 or less of
    this run (read back by id: COPY returns none)."""
    mine = Order.objects.filter(pk__gt=before)
    late = mine.filter(flags=["late"]).values_list("pk", "scheduled_start", "checkin_at", "verification")
    rows = []
    for pk, start, checkin, verification in late.iterator(chunk_size=10_000):
        minutes = round((checkin - start).total_seconds() / 60)
        opened = checkin
        if verification == "pending":
            rows.append((pk, "late", f"签到晚于预约 {minutes} 分钟", opened, "open", "", None))
        else:
            rows.append(
                (
                    pk,
                    "late",
                    f"签到晚于预约 {minutes} 分钟",
                    opened,
                    "accepted",
                    "认可：已电话核实，服务完整",
                    opened + datetime.timedelta(days=1),
                )
            )
    _write(VisitException, ["order_id", "code", "detail", "opened_at", "resolution", "resolution_note", "resolved_at"], rows)
    poor = mine.filter(rating__lte=2).values_list("pk", "rated_at")
    rows = []
    for pk, rated in poor.iterator(chunk_size=10_000):
        due = timezone.localtime(rated).date() + datetime.timedelta(days=7)
        closed = now - rated > datetime.timedelta(days=OPEN_EXCEPTION_DAYS)
        rows.append(
            (
                pk,
                FollowUp.Reason.LOW_RATING,
                due,
                "closed" if closed else "open",
                "回访中老人对服务不满意",
                "已与服务机构核实并整改" if closed else "",
                rated,
                rated + datetime.timedelta(days=5) if closed else None,
            )
        )
    _write(FollowUp, ["order_id", "reason", "due_on", "state", "note", "outcome", "created_at", "closed_at"], rows)


def _write(model, columns, rows, *, total=None, say=None, started=None) -> int:
    """Rows (tuples in `columns`' order, Python values) into `model`'s table: one COPY on
    PostgreSQL; on SQLite executemany INSERTs with each value prepared by its field."""
    table = model._meta.db_table
    written = 0
    step = max((total or 0) // 10, CHUNK)
    if connection.vendor == "postgresql":
        from psycopg.copy import QueuedLibpqWriter

        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        connection.ensure_connection()
        raw = connection.connection.cursor()
        # A writer thread sends the data: rows are built while the server digests the last ones
        # (the index inserts of a table of 22 indexes are most of the time).
        with raw, raw.copy(sql, writer=QueuedLibpqWriter(raw)) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
                if say and written % step == 0:
                    say(f"orders: {written:,} / {total:,}, {written / (time.monotonic() - started):,.0f}/s")
        return written
    fields = {f.column: f for f in model._meta.concrete_fields}
    prepared = [fields[c] for c in columns]
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    batch = []
    with connection.cursor() as cursor:
        for row in rows:
            batch.append(
                [
                    v if (v is None or f.get_internal_type() == "JSONField") else f.get_db_prep_save(v, connection)
                    for f, v in zip(prepared, row, strict=True)
                ]
            )
            if len(batch) >= 1000:
                cursor.executemany(sql, batch)
                written += len(batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def _elders(city) -> dict:
    """The city's active elders as arrays: id, grid, home (NaN when unknown), district."""
    from regions.models import Region

    depth = city.path.count("/") - 1  # a district's id sits right after the city's in a path
    district_of = {}
    for pk, path in Region.objects.filter(path__startswith=city.path).values_list("pk", "path").iterator(chunk_size=10_000):
        parts = path.strip("/").split("/")
        district_of[pk] = int(parts[depth]) if len(parts) > depth else 0
    out = {
        "ids": array.array("q"),
        "region": array.array("q"),
        "lat": array.array("d"),
        "lng": array.array("d"),
        "district": array.array("q"),
    }
    rows = (
        Elder.objects.filter(region__path__startswith=city.path, status="active")
        .order_by("pk")
        .values_list("pk", "region_id", "home_lat", "home_lng")
    )
    nan = float("nan")
    for pk, region_id, lat, lng in rows.iterator(chunk_size=20_000):
        out["ids"].append(pk)
        out["region"].append(region_id)
        out["lat"].append(nan if lat is None else lat)
        out["lng"].append(nan if lng is None else lng)
        out["district"].append(district_of.get(region_id, 0))
    return out


def _caregivers(city) -> dict:
    """{district id: [(caregiver id, organisation id)]} of the active staff of active
    organisations whose home community lies in the city."""
    depth = city.path.count("/") - 1
    pools: dict = {}
    staff = Caregiver.objects.filter(
        organisation__region__path__startswith=city.path, status=StaffStatus.ACTIVE, organisation__status="active"
    ).values_list("pk", "organisation_id", "organisation__region__path")
    for pk, org_id, path in staff.order_by("pk"):
        parts = path.strip("/").split("/")
        pools.setdefault(int(parts[depth]) if len(parts) > depth else 0, []).append((pk, org_id))
    return pools
