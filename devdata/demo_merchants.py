"""Demo locations and partner merchants (issue 10, the 15-minute circle).

安泰社区 (seed 000, 2 km²) and 驻春路社区 lie about 2.3 km apart in the fictitious 示范市
(points near 30.63°N 120.57°E, WGS-84). Households cluster by building: an elder's point is
that of their compound and building (from the address the demo gave them) plus a few metres.
The merchants are seed 000's (社区卫生服务站, 理发店, 家电维修中心, 修配锁, 快餐店, 小超市 …
"10多家", 5–10 % off with the 爱心助老卡) around 安泰's centre, and a few around 驻春路, so
the circle and the coverage page show gaps too: 锦华苑 lies ~760 m west of 安泰's centre,
beyond a 15-minute walk of most shops, and 驻春路 has no barber, canteen or repairer.
"""

import datetime
import math
import random
import re

from django.db.models import Q
from django.utils import timezone

from core.geo import METRES_PER_DEGREE_LAT
from elders.models import Elder
from merchants.models import Merchant
from merchants.services import merchant_create

ANTAI = (30.6280, 120.5650)
ZHUCHUN = (30.6400, 120.5850)  # ~2.3 km north-east of 安泰
# Compound centres as (metres east, metres north) of their community's centre.
COMPOUNDS = {
    "安泰小区": (ANTAI, 0, 0),
    "经济房": (ANTAI, 260, -160),
    "文化街小区": (ANTAI, -280, 260),
    "锦华苑": (ANTAI, -650, -400),
    "东城花园": (ANTAI, 150, 300),
    "和谐家园": (ANTAI, -100, -300),
    "驻春路小区": (ZHUCHUN, 0, 0),
    "绸都花园": (ZHUCHUN, 300, 200),
    "和平里": (ZHUCHUN, -350, -150),
}
WEEKDAYS_8_20 = {str(d): [["08:00", "20:00"]] for d in range(7)}
OFFICE = {**{str(d): [["08:30", "11:30"], ["14:00", "17:30"]] for d in range(5)}, "5": [["08:30", "11:30"]], "6": []}

# (name, kind, community key, metres east, metres north, discount %, hours, address, goods)
MERCHANTS = [
    (
        "安泰社区卫生服务站",
        "clinic",
        "community",
        40,
        30,
        None,
        OFFICE,
        "安泰小区3号楼底商",
        "测血压、量体温，建立健康档案，上门就诊",
    ),
    ("安泰理发店", "barber", "community", 120, -40, 8, WEEKDAYS_8_20, "安泰小区东门", "理发、修面；行动不便的老人可上门理发"),
    ("顺达家电维修中心", "appliance", "community", 300, -100, 10, WEEKDAYS_8_20, "经济房南侧临街", "家电维修、燃气灶检修"),
    (
        "老李修配锁",
        "locksmith",
        "community",
        220,
        -210,
        5,
        {str(d): [["07:30", "21:00"]] for d in range(7)},
        "经济房17号楼旁",
        "开锁、配钥匙、换锁芯",
    ),
    (
        "安泰快餐店",
        "canteen",
        "community",
        60,
        120,
        8,
        {str(d): [["06:30", "13:30"], ["16:30", "20:00"]] for d in range(7)},
        "文化街12号",
        "老年助餐、送餐上门",
    ),
    (
        "邻里小超市",
        "supermarket",
        "community",
        -60,
        60,
        5,
        {str(d): [["07:00", "22:00"]] for d in range(7)},
        "安泰小区北门",
        "米面粮油、日用品，可送货上门",
    ),
    ("安泰爱心超市", "supermarket", "community", 0, -20, None, OFFICE, "社区服务中心一楼", "节日慰问物资、爱心兑换"),
    (
        "安泰社区居家养老服务站",
        "station",
        "community",
        10,
        0,
        None,
        OFFICE,
        "社区服务中心二楼",
        "助老服务员派工、日间照料、活动室",
    ),
    ("康乃馨家政", "housekeeping", "community", 180, 200, 10, OFFICE, "东城花园商铺8号", "保姆、护工、小时工上门服务"),
    (
        "仁心大药房",
        "pharmacy",
        "community",
        250,
        80,
        5,
        {str(d): [["08:00", "21:30"]] for d in range(7)},
        "文化街28号",
        "常用药、血压计、送药上门",
    ),
    ("文化街理发", "barber", "community", -300, 300, 6, WEEKDAYS_8_20, "文化街小区西门", "理发"),
    ("锦华便民店", "supermarket", "community", -700, -380, 5, WEEKDAYS_8_20, "锦华苑1号楼底商", "日用品"),
    ("东城修配部", "locksmith", "community", 500, 350, 7, WEEKDAYS_8_20, "东城路45号", "修鞋、配钥匙（协议已到期）"),
    ("驻春路社区卫生服务站", "clinic", "community2", 20, 10, None, OFFICE, "驻春路小区活动中心", "慢病随访、测血压"),
    (
        "惠民小超市",
        "supermarket",
        "community2",
        150,
        120,
        5,
        {str(d): [["07:00", "22:00"]] for d in range(7)},
        "驻春路88号",
        "日用品",
    ),
    ("和平里药店", "pharmacy", "community2", -300, -120, 6, WEEKDAYS_8_20, "和平里2号楼底商", "常用药"),
]


def offset(centre: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    lat0, lng0 = centre
    lat = lat0 + north_m / METRES_PER_DEGREE_LAT
    lng = lng0 + east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat0)))
    return round(lat, 7), round(lng, 7)


_ADDRESS = re.compile(r"^(\D+?)(\d+)号楼")


def building_point(address: str, rng: random.Random):
    """The point of an address's compound and building (buildings 35 m apart in rows of 6),
    plus a household's few metres; None when the compound is unknown."""
    match = _ADDRESS.match(address or "")
    if not match or match.group(1) not in COMPOUNDS:
        return None
    centre, east, north = COMPOUNDS[match.group(1)]
    building = int(match.group(2)) - 1
    row, col = divmod(building % 30, 6)
    return offset(centre, east + (col - 2.5) * 35 + rng.uniform(-4, 4), north + (row - 2) * 35 + rng.uniform(-4, 4))


def seed_merchants(regions: dict, users: dict) -> int:
    """Locate the demo elders (about 3 % left without coordinates, a gap the coverage page
    shows) and register the partner merchants; idempotent. Returns merchants created."""
    community, community2 = regions["community"], regions["community2"]
    rng = random.Random(20261201)
    elders = list(
        Elder.objects.filter(
            Q(region__path__startswith=community.path) | Q(region__path__startswith=community2.path), home_lat__isnull=True
        ).order_by("id")
    )
    changed = []
    for elder in elders:
        if rng.random() < 0.03:
            continue
        point = building_point(elder.address, rng)
        if point is not None:
            elder.home_lat, elder.home_lng = point
            changed.append(elder)
    # Demo data: coordinates set in bulk (no history row per elder, as generate_city).
    Elder.objects.bulk_update(changed, ["home_lat", "home_lng"], batch_size=1000)
    made = 0
    today = timezone.localdate()
    centres = {"community": ANTAI, "community2": ZHUCHUN}
    for n, (name, kind, key, east, north, discount, hours, address, goods) in enumerate(MERCHANTS, start=1):
        region = regions[key]
        if Merchant.objects.filter(region=region, name=name).exists():
            continue
        by = users["community" if key == "community" else "community2"]
        lat, lng = offset(centres[key], east, north)
        expired = name == "东城修配部"
        start = today.replace(month=1, day=1) - datetime.timedelta(days=365 if expired else 0)
        data = {
            "region": region.pk,
            "name": name,
            "kind": kind,
            "address": address,
            "lat": lat,
            "lng": lng,
            "phone": f"0573-8{n:03d}{rng.randint(1000, 9999)}",
            "agreement_no": f"AT-{today.year}-{n:03d}" if key == "community" else f"ZC-{today.year}-{n:03d}",
            "signed_on": start.isoformat(),
            "period_start": start.isoformat(),
            "period_end": (start.replace(year=start.year + (1 if expired else 2)) - datetime.timedelta(days=1)).isoformat(),
            "status": "expired" if expired else "active",
            "discount": "" if discount is None else str(discount),
            "opening_hours": [", ".join(f"{a}-{b}" for a, b in hours.get(str(d), [])) or "休息" for d in range(7)],
            "goods": goods,
        }
        merchant_create(by=by, data=data)
        made += 1
    return made
