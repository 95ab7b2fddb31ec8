"""Day routes (issue 14): a realistic city day planned through routing.services.day_plan_create
— one organisation with 50 caregivers and 500 visits, and its canteen with 8 couriers and 300
deliveries — each within 30 s, checked afterwards by routing.check.plan_violations (windows,
skills and certificates, shifts and leave, capacity, overlaps), read back from the database.

Data, beside seed_demo's (idempotent: the organisation, staff and canteen once; the day's
orders made anew each run for the day after tomorrow):
- 路线基准站 at 安泰社区 with a base there; 50 caregivers living within ~4 km, 08:00–18:00 on
  every day, e-bike, holding 探视巡访 and 生命体征测量; a fifth also 保洁 with a valid
  家政服务员 certificate;
- 500 visits to 安泰社区's elders with a home, starting 08:00–16:30 on the quarter hour:
  上门探视 (30 min) 50 %, 测血压 (15 min) 40 %, 打扫卫生 (120 min, 保洁 + 家政服务员) 10 %;
  sent to the organisation, nobody named;
- a canteen 2 km north-east; 8 couriers (profile: meals, 25 per round, e-bike) and 300 meal
  deliveries, half for lunch (10:30–12:30) and half for dinner (16:30–18:30).
"""

import datetime
import random
import time

from bench.context import Context
from bench.registry import Figure, Result, benchmark

ORG = "路线基准站"
NOTE = "bench_routing"
CAREGIVERS, VISITS = 50, 500
COURIERS, MEALS = 8, 300
SECONDS = 20  # the solver's limit per plan; building and writing take the rest of the 30 s
TARGET_S = 30


def _day() -> datetime.date:
    from django.utils import timezone

    return timezone.localdate() + datetime.timedelta(days=2)


def _setup(rng):
    from catalogue.models import CertificateKind, Skill
    from devdata.demo_merchants import ANTAI, offset
    from merchants.models import Merchant
    from providers.models import Caregiver, Certificate, Organisation
    from regions.models import Region
    from routing.models import Base, RoutingProfile

    antai = Region.objects.filter(name="安泰社区").order_by("pk").first()
    org = Organisation.objects.filter(name=ORG).first()
    if org is None:
        org = Organisation.objects.create(name=ORG, kind="station", region=antai)
    if not Caregiver.objects.filter(organisation=org).exists():
        skills = {s.code: s for s in Skill.objects.filter(code__in=["visiting", "vital_signs", "cleaning"])}
        housekeeper = CertificateKind.objects.get(code="housekeeper")
        for i in range(CAREGIVERS + COURIERS):
            home = offset(ANTAI, rng.uniform(-4000, 4000), rng.uniform(-4000, 4000))
            c = Caregiver.objects.create(
                organisation=org,
                kind="aide",
                name=f"路线{i:03d}",
                home_lat=home[0],
                home_lng=home[1],
                work_start=datetime.time(8),
                work_end=datetime.time(18) if i < CAREGIVERS else datetime.time(19),
            )
            if i < CAREGIVERS:
                c.skills.add(skills["visiting"], skills["vital_signs"])
                if i % 5 == 0:
                    c.skills.add(skills["cleaning"])
                    Certificate.objects.create(
                        caregiver=c,
                        kind=housekeeper,
                        number=f"R{i:06d}",
                        expires_on=datetime.date.today() + datetime.timedelta(days=900),
                    )
                RoutingProfile.objects.create(caregiver=c, region=antai, organisation=org, mode="ebike")
            else:
                RoutingProfile.objects.create(
                    caregiver=c, region=antai, organisation=org, mode="ebike", does_care=False, does_meals=True, capacity=25
                )
    if not Base.objects.filter(organisation=org).exists():
        spot = offset(ANTAI, 2000, 2000)
        canteen = Merchant.objects.create(region=antai, name="路线基准食堂", kind="canteen", lat=spot[0], lng=spot[1])
        Base.objects.create(organisation=org, region=antai, name=ORG, lat=ANTAI[0], lng=ANTAI[1], canteen=canteen)
    return org, antai


def _orders(rng, org, antai, day):
    from django.utils import timezone

    from catalogue.models import ServiceItem
    from elders.models import Elder
    from orders.models import Order
    from routing.models import DayPlan

    DayPlan.objects.filter(organisation=org).delete()
    Order.objects.filter(notes=NOTE).delete()
    elders = list(
        Elder.objects.filter(region__path__startswith=antai.path, home_lat__isnull=False)
        .order_by("pk")
        .values_list("pk", "region_id")
    )
    items = {
        i.code: i for i in ServiceItem.objects.filter(code__in=["home_visit", "blood_pressure", "cleaning", "meal_delivery"])
    }
    tz = timezone.get_current_timezone()
    rows = []

    def order(item, start, minutes, quantity=1):
        elder, region = rng.choice(elders)
        rows.append(
            Order(
                elder_id=elder,
                region_id=region,
                item=item,
                quantity=quantity,
                status="dispatched",
                organisation=org,
                scheduled_start=start,
                scheduled_end=start + datetime.timedelta(minutes=minutes),
                notes=NOTE,
            )
        )

    for _ in range(VISITS):
        roll = rng.random()
        code, minutes = ("home_visit", 30) if roll < 0.5 else ("blood_pressure", 15) if roll < 0.9 else ("cleaning", 120)
        latest = 16 * 60 + 30 if code != "cleaning" else 15 * 60
        minute = rng.randrange(8 * 60, latest, 15)
        order(items[code], datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=tz), minutes)
    for i in range(MEALS):
        hour = 11 if i < MEALS // 2 else 17
        order(items["meal_delivery"], datetime.datetime.combine(day, datetime.time(hour), tzinfo=tz), 20)
    Order.objects.bulk_create(rows, batch_size=2000)


@benchmark(key="routing_city_day", title="Day routes: a city day (50 caregivers / 500 visits; 8 couriers / 300 meals)")
def run(ctx: Context) -> Result:
    from accounts.models import User
    from routing.check import plan_violations
    from routing.services import day_plan_create

    ctx.seed_demo()
    # One generator each, so the day is the same whether the staff were made in this run or before.
    org, antai = _setup(random.Random(14))
    day = _day()
    _orders(random.Random(14), org, antai, day)
    admin = User.objects.get(username="admin")
    figures = []
    for kind, label, count in (("care", "visits", VISITS), ("meals", "meal deliveries", MEALS)):
        began = time.monotonic()
        plan = day_plan_create(by=admin, owner=org, day=day, kind=kind, seconds=SECONDS)
        took = time.monotonic() - began
        violations = plan_violations(plan)
        travel_minutes = sum(r.get("travel_minutes") or 0 for r in plan.routes)
        for v in violations[:10]:
            print(f"  violation ({kind}): {v}")
        figures += [
            Figure(f"{label}: seconds to plan (build, solve, write)", round(took, 1), "s", f"≤ {TARGET_S} s", TARGET_S),
            Figure(f"{label}: planned of {count}", plan.planned_count, ""),
            Figure(f"{label}: unplanned", plan.unplanned_count, ""),
            # On the road: the routes' travel legs, the way back included (routing.services._write).
            Figure(f"{label}: time on the road over all routes", round(travel_minutes / 60, 1), "h"),
            # plan.cost is the solver's objective, "duration": each route from leaving to coming back,
            # so travel plus waiting for windows plus the service itself.
            Figure(f"{label}: working time over all routes (leave to back)", round(plan.cost / 3600, 1), "h"),
            Figure(f"{label}: people with a route", len(plan.routes), ""),
            Figure(f"{label}: hard-constraint violations (independent check)", len(violations), "", "0", 0.5),
        ]
        print(
            f"  {kind}: {plan.planned_count} planned, {plan.unplanned_count} unplanned in {took:.1f} s, {len(violations)} violations"
        )
        reasons: dict[tuple, int] = {}
        for code, item in plan.unplanned.values_list("code", "order__item__code"):
            reasons[(item, code)] = reasons.get((item, code), 0) + 1
        print(f"  {kind}: unplanned by (item, reason) {reasons}")
    return Result(figures=figures)
