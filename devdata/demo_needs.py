"""The demo's needs ledger, price lists and entitlement packages (issue 10), through the services.

Called from seed_demo (one line); idempotent: a community that already has needs, a region
that already has a price list or a package code, is left as it is.
"""

import datetime
import random

from django.utils import timezone

from catalogue.selectors import category_list, item_list, packages_in_force
from catalogue.services import catalogue_initial_load, package_save, price_entry_set
from elders.categories import categories_of
from elders.selectors import ElderFilter, elder_list
from needs.selectors import NeedFilter, need_list
from needs.services import need_create, need_move

# (kind, source, description, item codes): needs as 000 and 004 describe them.
NEEDS = [
    ("urgent", "visit", "行动不便，一日三餐无人照料，需要送餐上门", ["meal_delivery"]),
    ("urgent", "call", "独居，夜间多次摔倒，需要安装呼叫器", ["call_device"]),
    ("special", "family", "子女在外地，希望每周有人上门打扫卫生", ["cleaning"]),
    ("special", "assessment", "术后康复，需要上门康复护理", ["rehab"]),
    ("general", "visit", "高血压，希望每周测一次血压", ["blood_pressure"]),
    ("general", "elder", "想参加社区书法绘画班", ["calligraphy"]),
    ("special", "visit", "老伴去世后情绪低落，需要有人常来聊天谈心", ["chat", "counselling"]),
    ("general", "call", "家中水管堵塞，需要疏通", ["plumbing"]),
    ("special", "family", "赡养纠纷，需要法律咨询", ["legal_advice"]),
    ("urgent", "assessment", "卧床，需要助浴和陪护", ["bathing", "escort"]),
    ("general", "elder", "电视机坏了，需要上门维修", ["appliance_repair"]),
    ("special", "visit", "看病需要人陪同", ["medical_escort"]),
]

PRICES_CITY = {"cleaning": 3200, "meal_delivery": 300, "meal_prep": 1200, "bathing": 4800, "escort": 2800}
PRICES_STREET = {"meal_delivery": 200}  # 东城街道 subsidises delivery: 安泰社区 inherits it


def seed_demo_needs(*, regions: dict, users: dict, seed: int = 10) -> int:
    """Prices and packages for the demo city, open needs for 安泰社区 and 驻春路社区. Returns
    how many needs were made."""
    office, admin = users["city"], users["admin"]
    catalogue_initial_load()  # present after migrate; again if a flush emptied the tables
    items = {i.code: i for i in item_list(user=admin)}
    start = datetime.date(timezone.localdate().year, 1, 1)
    _prices(office, regions["city"], PRICES_CITY, items, start)
    _prices(office, regions["street"], PRICES_STREET, items, start)
    _packages(office, regions["city"], items, start)
    made = 0
    rng = random.Random(seed)
    for key, worker_key, count in (("community", "community", 48), ("community2", "community2", 16)):
        worker = users[worker_key]
        if need_list(user=worker, filters=NeedFilter(region=regions[key], state="all")).exists():
            continue
        made += _needs(
            rng, worker, regions[key], items, count, helpers=[users.get("grid"), worker] if key == "community" else [worker]
        )
    return made


def _prices(by, region, prices: dict, items: dict, start):
    from catalogue.selectors import price_entries_at

    if price_entries_at(user=by, region=region).exists():
        return
    for code, fen in prices.items():
        price_entry_set(by=by, region=region, item=items[code], price_fen=fen, valid_from=start)


def _packages(by, city, items: dict, start):
    have = {p.code for p in packages_in_force(city)}
    hours = lambda code, n: {"item": items[code], "category": None, "quantity": n, "unit": items[code].unit}  # noqa: E731
    daily_care = next(c for c in category_list(user=by) if c.code == "daily_care")
    packages = [
        (
            "severe_care",
            "重度、完全失能居家照护",
            {"ability_levels": ["severe", "complete"]},
            "government",
            [hours("escort", 30), hours("bathing", 4)],
        ),
        ("moderate_care", "中度失能居家照护", {"ability_levels": ["moderate"]}, "government", [hours("escort", 10)]),
        (
            "alone_meals",
            "高龄独居老人助餐",
            {"categories": ["very_old", "lives_alone"]},
            "low_cost",
            [hours("meal_delivery", 22)],
        ),
        (
            "dibao_home",
            "低保特困老人家政服务",
            {"categories": ["dibao", "tekun"]},
            "government",
            [{"item": None, "category": daily_care, "quantity": 8, "unit": "hour"}],
        ),
    ]
    for code, name, who, mode, grants in packages:
        if code in have:
            continue
        data = {
            "region": city,
            "code": code,
            "name": name,
            "ability_levels": [],
            "categories": [],
            "payment_mode": mode,
            "valid_from": start,
            **who,
        }
        package_save(by=by, data=data, grants=grants)


def _needs(rng, worker, community, items, count, helpers) -> int:
    """Needs for the elders a community looks after first: the disabled, those alone, the very old."""
    today = timezone.localdate()
    elders = list(elder_list(user=worker, filters=ElderFilter()).select_related("region")[:2000])
    key = {"severe", "complete", "moderate"}
    first = [
        e
        for e in elders
        if e.ability_level in key or {c.code for c in categories_of(e, today)} & {"lives_alone", "very_old", "no_kin"}
    ]
    rng.shuffle(first)
    chosen = (first + [e for e in elders if e not in first])[:count]
    helpers = [h for h in helpers if h is not None]
    for n, elder in enumerate(chosen):
        kind, source, text, codes = NEEDS[n % len(NEEDS)]
        follow = today + datetime.timedelta(days=rng.randint(-10, 14))
        need = need_create(
            by=worker,
            elder=elder,
            kind=kind,
            source=source,
            description=text,
            items=[items[c] for c in codes],
            follow_up_on=follow,
            responsible=helpers[n % len(helpers)],
        )
        if n % 5 == 3:
            need_move(by=worker, need=need, action="plan")
        elif n % 7 == 6:
            need_move(by=worker, need=need, action="meet")
    return len(chosen)
