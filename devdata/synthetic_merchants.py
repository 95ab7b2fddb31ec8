"""Partner merchants for generate_city (issue 10: ~20,000 across a city of 2,000 communities).

Each community gets its share (log-normal, so some have many and some none: the coverage
page has gaps to show), placed within ~700 m of the community's centre, with a kind drawn by
how common such shops are, a 5–10 % discount for most, opening hours, a few expired or
terminated agreements. Written set-based: bulk inserts of 5,000 rows (COPY is not needed at
this size: 20,000 rows take about a second)."""

import datetime
import random

from django.utils import timezone

from devdata.synthetic import _offset, allocate
from merchants.hours import parse_week
from merchants.models import Kind, Merchant

KINDS = [
    (Kind.SUPERMARKET, 24, "便民超市"),
    (Kind.CANTEEN, 18, "快餐店"),
    (Kind.BARBER, 12, "理发店"),
    (Kind.PHARMACY, 10, "大药房"),
    (Kind.CLINIC, 8, "卫生服务站"),
    (Kind.APPLIANCE, 7, "家电维修部"),
    (Kind.LOCKSMITH, 6, "修配锁"),
    (Kind.HOUSEKEEPING, 6, "家政服务部"),
    (Kind.STATION, 5, "居家养老服务站"),
    (Kind.OTHER, 4, "便民服务点"),
]
BRANDS = "惠民 邻里 安康 福寿 康乐 如意 金秋 夕阳红 百姓 和顺 同心 春晖 松鹤 平安 吉祥 顺达 仁心 德馨".split()
HOURS = [
    parse_week(["08:00-20:00"] * 7),
    parse_week(["07:00-22:00"] * 7),
    parse_week(["08:30-11:30,14:00-17:30"] * 5 + ["08:30-11:30", "休息"]),
    parse_week(["06:30-13:30,16:30-20:00"] * 7),
]


def city_merchants(plan: list, *, total: int, seed: str) -> int:
    """`total` merchants over the communities of `plan` (which carry region_id and centre)."""
    communities = [c for d in plan for s in d.streets for c in s.communities]
    if not communities or total <= 0:
        return 0
    rng = random.Random(f"{seed}|merchants")
    counts = allocate(total=total, weights=[rng.lognormvariate(0, 0.6) for _ in communities])
    kinds = [k for k, _w, _n in KINDS]
    weights = [w for _k, w, _n in KINDS]
    names = {k: n for k, _w, n in KINDS}
    today = timezone.localdate()
    now = timezone.now()
    batch, written, serial = [], 0, 0
    for c, count in zip(communities, counts, strict=True):
        for _ in range(count):
            serial += 1
            kind = rng.choices(kinds, weights)[0]
            lat, lng = _offset(c.centre, rng.gauss(0, 350), rng.gauss(0, 350))
            start = today - datetime.timedelta(days=rng.randint(0, 700))
            roll = rng.random()
            status = "terminated" if roll < 0.03 else "expired" if roll < 0.08 else "active"
            discount = None if kind in (Kind.CLINIC, Kind.STATION) or rng.random() < 0.1 else rng.choice(range(50, 101, 5))
            batch.append(
                Merchant(
                    region_id=c.region_id,
                    name=f"{rng.choice(BRANDS)}{names[kind]}{serial}",
                    kind=kind,
                    address=f"{c.places[0]}{rng.randint(1, 200)}号",
                    lat=round(lat, 7),
                    lng=round(lng, 7),
                    agreement_no=f"XY-{serial:06d}",
                    signed_on=start,
                    period_start=start,
                    period_end=start + datetime.timedelta(days=730),
                    status=status,
                    discount_tenths=discount,
                    opening_hours=rng.choice(HOURS),
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(batch) >= 5000:
                Merchant.objects.bulk_create(batch)
                written += len(batch)
                batch = []
    if batch:
        Merchant.objects.bulk_create(batch)
        written += len(batch)
    return written
