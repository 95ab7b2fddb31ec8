"""A year of service orders in the demo's two communities (issue 11, item 8).

安泰社区 (seed 000) gets the year the seed reports, delivered: 635 free services, 51 paid and 1
government-purchased, among them 康乃馨家政's 12 caregiver (护工), 20 nanny (保姆) and 10
hourly-worker (小时工) services. 驻春路社区 (seed 004) gets its 爱心时间银行's 112 services of
203 hours ("完成服务110余次,累计服务203小时") by its volunteers, paid in time coins, and 安泰's
mix scaled to its 340 elders (200 free, 16 paid, 1 government-purchased; the seeds give no
other figure for it). Beside the mix, not counted in it: recurring plans (送餐 every working
day, 打扫卫生 every Friday; 低偿) with their orders, two signed agreements, a few cancelled
orders, today's visits for the caregivers' phones, the days ahead and the dispatch board.

Exceptions (EVV): five late check-ins (four accepted by the community, one open), one no-show,
one check-in outside the 200 m geofence, one check-in sent late by a phone that was offline in
a basement. Ratings are mostly 4–5; two of 2 or less opened follow-ups. The
government-purchased visit was called back. Phone accounts `caregiver`, `caregiver2` and
`caregiver3` are linked to one caregiver each; `elder` and `family2` are relatives linked to an
elder with the elder's consent (FamilyLink).

Called from seed_demo; idempotent: a community that already has orders gets no second year,
and accounts, links, preferences, plans and agreements are made only when missing.
Deterministic: seeded generators, dates counted from the day of the run. On a later day's run
the caregivers with a phone account get that day's visits if they have none.

Rows are written in bulk, as generate_city writes elders, not through orders.services: a year
through order_create, order_dispatch … would be ~8,000 service calls, and the services stamp
every move with the present moment where a year of history needs its own times. What the
services would leave is written beside each order: its history (a "create" record and one
"status" record per move, replayed through ORDER_MACHINE, with the actor and the time of the
move), its exceptions, follow-up and call-back. No settlement shares: the settlements app
writes those at check-out.
"""

import dataclasses
import datetime
import random

from django.utils import timezone

from devdata.order_drafts import Drafter, Worker, age_on, local_at, minutes_of, named, plan_days, point_near
from orders.models import (
    Agreement,
    ElderPreference,
    FamilyLink,
    Order,
    OrderPlan,
    Source,
    Status,
    StrayCheckin,
)

YEAR = 365
PLAN_AHEAD_DAYS = 6  # plans' orders exist up to a week ahead (generated_until)

# 安泰社区's free services: (item, weight, who serves). Seed 000 names 测血压、量体温、健康档案
# and 心理卫生 at the health room, the free 援通呼叫器, and volunteers paying bills and bringing
# rice and oil (代缴, 购物).
ANTAI_FREE = [
    ("home_visit", 22, "aide"),
    ("home_visit", 8, "volunteer"),
    ("blood_pressure", 22, "aide"),
    ("temperature", 6, "aide"),
    ("health_record", 4, "aide"),
    ("mental_health", 2, "aide"),
    ("call_device", 5, "aide"),
    ("chat", 16, "volunteer"),
    ("shopping", 10, "volunteer"),
    ("mediation", 3, "volunteer"),
    ("legal_advice", 2, "volunteer"),
]
# Paid: (item, quantity, who, how many). 护工 11 + the government-purchased 助浴 = 12, 保姆 20,
# 小时工 10, and 10 by the station's aides: 51.
ANTAI_PAID = [
    ("escort", 4, "carer", 4),
    ("medical_escort", 3, "carer", 5),
    ("bathing", 1, "carer", 2),
    ("cooking", 1, "nanny", 8),
    ("cleaning", 3, "nanny", 6),
    ("laundry", 1, "nanny", 3),
    ("meal_prep", 2, "nanny", 3),
    ("cleaning", 2, "hourly", 7),
    ("laundry", 1, "hourly", 3),
    ("haircut", 1, "aide", 6),
    ("shopping", 1, "aide", 4),
]
ANTAI_COUNTS = {"free": 635, "paid": 51, "government": 1}
ZHUCHUN_FREE = [
    ("home_visit", 30, "aide"),
    ("blood_pressure", 35, "aide"),
    ("temperature", 8, "aide"),
    ("health_record", 5, "aide"),
    ("chat", 15, "volunteer"),
    ("shopping", 7, "volunteer"),
]
ZHUCHUN_PAID = [
    ("bathing", 1, "aide", 4),
    ("cooking", 1, "aide", 4),
    ("laundry", 1, "aide", 3),
    ("rehab", 1, "nurse", 3),
    ("home_sickbed", 1, "nurse", 2),
]
ZHUCHUN_COUNTS = {"free": 200, "paid": 16, "government": 1}
# Seed 004's time bank: 112 services of 203 hours (41 of one hour, 51 of two, 20 of three).
TIME_BANK = [("tb_companionship", 40), ("tb_errand", 30), ("tb_vital_signs", 22), ("tb_hardship_visit", 20)]
TIME_BANK_HOURS = [1] * 41 + [2] * 51 + [3] * 20
CANCELLED = {"community": 8, "community2": 3}

# The exceptions and low ratings of 安泰's year: (kind, days ago, the worker kinds or items it
# may fall on).
SPECIALS = [
    ("late", 200, ("aide",)),
    ("late", 140, ("nanny",)),
    ("late", 95, ("aide",)),
    ("late", 33, ("hourly",)),
    ("late_open", 2, ("aide",)),
    ("outside", 6, ("aide",)),
    ("delayed", 12, ("hourly", "nanny")),
    ("low_closed", 40, ("cooking",)),
    ("low_open", 4, ("aide",)),
]


@dataclasses.dataclass
class Place:
    """One demo community: its region, its worker, its elders with a home, who serves there."""

    key: str
    region: object
    desk: object
    elders: list
    weights: list
    workers: dict  # "aide", "carer", "nanny", "hourly", "nurse", "volunteer" -> [Worker]


def seed_demo_orders(*, regions: dict, users: dict) -> int:
    """The demo's orders and everything around them; returns how many orders were made."""
    today = timezone.localdate()
    organisations = _organisations(users)
    accounts = _accounts(users, organisations)
    places = {key: _place(key, regions[key], users, accounts, organisations) for key in ("community", "community2")}
    family = _family(users, places, today)
    _preferences(places, accounts)
    builder = Builder(today=today, now=timezone.now(), users=users, family=family)
    for place in places.values():
        if Order.objects.filter(region__path__startswith=place.region.path).exists():
            continue
        builder.plans(place, accounts)  # first: the plans' caregivers keep their hours
        builder.year(place)
        builder.open_orders(place)
    builder.today_visits(places, accounts)
    made = builder.write()
    _stray_checkin(places, accounts, users)
    return made


# --- accounts, links, preferences, who serves -----------------------------------------------------


def _organisations(users) -> dict:
    from devdata.demo_providers import ORGANISATIONS
    from providers.selectors import organisation_list

    return {name: organisation_list(user=users["admin"], q=name).filter(name=name).first() for name in ORGANISATIONS}


def _staff(users, organisation, kind) -> list:
    from providers.selectors import caregiver_list

    return list(caregiver_list(user=users["admin"], organisation_id=organisation.pk, kind=kind).order_by("id"))


def _accounts(users, organisations) -> dict:
    """Link the phone accounts to a caregiver each, the first free one of the kind (the same
    person every run): `caregiver` a 康乃馨家政 护工, `caregiver2` an aide of 安泰's station,
    `caregiver3` an aide of 驻春路's day-care centre. Returns {username: Caregiver}."""
    out = {}
    for username, org_name, kind in (
        ("caregiver", "康乃馨家政", "carer"),
        ("caregiver2", "安泰社区居家养老服务站", "aide"),
        ("caregiver3", "驻春路社区日间照料中心", "aide"),
    ):
        user = users[username]
        staff = _staff(users, organisations[org_name], kind)
        person = next((c for c in staff if c.user_id == user.pk), None)
        if person is None:
            person = next(c for c in staff if c.user_id is None)
            person.user = user
            person.save(update_fields=["user"])
        out[username] = person
    return out


def _place(key, region, users, accounts, organisations) -> Place:
    """The community's active elders with a home point, weighted towards those a community
    looks after first (disabled, living alone, 80+), and the workers who serve there."""
    from elders.selectors import ElderFilter, elder_list
    from providers.selectors import volunteer_list

    desk = users[key]
    today = timezone.localdate()
    elders = list(
        elder_list(user=desk, filters=ElderFilter()).filter(home_lat__isnull=False).select_related("region").order_by("id")
    )
    weights = [
        6 if e.ability_level not in ("intact", "") or e.living_arrangement == "alone" or age_on(e, today) >= 80 else 1
        for e in elders
    ]
    linked = {c.pk: c.user for c in accounts.values()}

    def staff(org_name, kind, acting):
        return [
            Worker(
                caregiver=c,
                organisation=organisations[org_name],
                acting=linked.get(c.pk) or acting,
                days=tuple(c.work_days or (1, 2, 3, 4, 5)),
                hours=(minutes_of(c.work_start, 8 * 60), minutes_of(c.work_end, 17 * 60 + 30)),
            )
            for c in _staff(users, organisations[org_name], kind)
        ]

    volunteers = [
        Worker(
            volunteer=v,
            acting=desk,
            days=tuple(v.available_days or (2, 4)),
            hours=(minutes_of(v.available_from, 9 * 60), minutes_of(v.available_to, 11 * 60 + 30)),
        )
        for v in volunteer_list(user=desk, status="approved").filter(region=region)
    ]
    if key == "community":
        workers = {
            "aide": staff("安泰社区居家养老服务站", "aide", desk),
            "carer": staff("康乃馨家政", "carer", users["provider"]),
            "nanny": staff("康乃馨家政", "nanny", users["provider"]),
            "hourly": staff("康乃馨家政", "hourly", users["provider"]),
            "volunteer": volunteers,
        }
    else:
        workers = {
            "aide": staff("驻春路社区日间照料中心", "aide", desk),
            "nurse": staff("驻春路社区日间照料中心", "nurse", desk),
            "volunteer": volunteers,
        }
    return Place(key=key, region=region, desk=desk, elders=elders, weights=weights, workers=workers)


def _family(users, places, today) -> dict:
    """`elder` (冷国兴家属) linked to 冷国兴, `family2` to the oldest elder of 驻春路社区, each
    with the elder's consent on file. Returns {elder id: the relative's account}."""
    pairs = [
        (users["elder"], named(places["community"].elders, "冷国兴"), users["community"], "AT"),
        (users["family2"], min(places["community2"].elders, key=lambda e: e.birth_date), users["community2"], "ZC"),
    ]
    out = {}
    for user, elder, by, prefix in pairs:
        if elder is None:
            continue
        out[elder.pk] = user
        if not FamilyLink.objects.filter(user=user, elder=elder, ended_at__isnull=True).exists():
            FamilyLink.objects.create(
                user=user,
                elder=elder,
                relation=FamilyLink.Relation.CHILD,
                consent_on=today - datetime.timedelta(days=200),
                consent_note=f"本人签字同意书，存档编号 {prefix}-JS-{today.year}-{elder.pk % 1000:03d}",
                linked_by=by,
            )
    return out


def _preferences(places, accounts) -> None:
    """What three elders asked for in who serves them (dispatch ranks by it)."""
    antai = places["community"].elders
    wishes = [
        ("冷国兴", {"preferred_caregiver": accounts["caregiver"], "notes": "家属希望固定护工，熟悉老人病情"}),
        ("刘玉琴", {"caregiver_sex": "F", "languages": "本地话"}),
        ("李淑珍", {"caregiver_sex": "F", "notes": "喜欢聊天，服务时多陪她说说话"}),
    ]
    for name, values in wishes:
        elder = named(antai, name)
        if elder is not None and not ElderPreference.objects.filter(elder=elder).exists():
            ElderPreference.objects.create(elder=elder, **values)


def _stray_checkin(places, accounts, users) -> None:
    """One check-in that matched no visit, for the community to resolve: caregiver2 at a door
    in 安泰 yesterday afternoon."""
    person = accounts["caregiver2"]
    if StrayCheckin.objects.filter(caregiver=person).exists():
        return
    place = places["community"]
    elder = place.elders[len(place.elders) // 2]
    lat, lng = point_near(random.Random(7), (elder.home_lat, elder.home_lng), 15)
    at = local_at(timezone.localdate() - datetime.timedelta(days=1), 16 * 60 + 10)
    StrayCheckin.objects.create(
        caregiver=person,
        organisation=person.organisation,
        region=elder.region,
        at=at,
        device_at=at,
        lat=lat,
        lng=lng,
        accuracy_m=18,
        note="老人临时来电请求上门，未找到对应的预约服务",
    )


# --- the builder -------------------------------------------------------------------------------


class Builder(Drafter):
    """The demo's year, plans, days ahead and today, drafted through Drafter's moves."""

    # --- the year ---------------------------------------------------------------------------

    def year(self, place: Place) -> None:
        """The delivered mix, its exceptions and low ratings, a few cancelled orders, one no-show."""
        rng = self.rng
        if place.key == "community":
            free, paid, counts, government = ANTAI_FREE, ANTAI_PAID, ANTAI_COUNTS, ("bathing", 1, "carer")
        else:
            free, paid, counts, government = ZHUCHUN_FREE, ZHUCHUN_PAID, ZHUCHUN_COUNTS, ("rehab", 1, "nurse")
        drawn = rng.choices(free, [weight for _code, weight, _who in free], k=counts["free"])
        entries = [(code, "free", 1, who) for code, _weight, who in drawn]
        entries += [(code, "paid", quantity, who) for code, quantity, who, n in paid for _ in range(n)]
        entries.append((government[0], "government", government[1], government[2]))
        if place.key == "community2":
            hours = TIME_BANK_HOURS[:]
            rng.shuffle(hours)
            codes = [code for code, n in TIME_BANK for _ in range(n)]
            entries += [(code, "time_coin", h, "volunteer") for code, h in zip(codes, hours, strict=True)]
        rng.shuffle(entries)
        specials = {}
        if place.key == "community":
            for kind, days_ago, whos in SPECIALS:
                whos = set(whos)
                index = next(
                    i for i, e in enumerate(entries) if whos & {e[0], e[3]} and e[1] != "government" and i not in specials
                )
                specials[index] = (kind, days_ago)
        # 冷国兴's 护工 is always the same one (continuity): the carer with the phone account.
        regular = next((w for w in place.workers.get("carer", []) if w.caregiver.user_id), None)
        kept_from = named(place.elders, "冷国兴")
        for index, (code, mode, quantity, who) in enumerate(entries):
            item = self.items[code]
            special, days_ago = specials.get(index, (None, None))
            if mode == "government":
                elder = kept_from if place.key == "community" else self._severe(place)
            elif who == "carer" and rng.random() < 0.5:
                elder = kept_from
            else:
                elder = self._elder(place)
            worker = regular if who == "carer" and elder is kept_from else rng.choice(place.workers[who])
            # A slot is all but always found; the loop tries other workers before giving up.
            start = None
            for _ in range(5):
                start = self._slot(worker, item, quantity, (days_ago, days_ago) if days_ago else (1, YEAR - 1))
                if start is not None:
                    break
                worker = rng.choice(place.workers[who])
            if start is None:
                raise ValueError(f"demo orders: no free slot for {code} in {place.key}")
            self.delivered(place, elder, item, mode, quantity, worker, start, special=special)
        for _ in range(CANCELLED[place.key]):
            code, _weight, who = rng.choices(free, [weight for _code, weight, _who in free])[0]
            worker = rng.choice(place.workers[who])
            start = self._slot(worker, self.items[code], 1, (1, YEAR - 1))
            if start is not None:
                self.cancelled(place, self._elder(place), self.items[code], worker, start)
        if place.key == "community":
            worker = place.workers["aide"][3]
            start = self._slot(worker, self.items["home_visit"], 1, (3, 3), minute=9 * 60 + 30)
            if start is not None:
                self.no_show(place, self._elder(place), self.items["home_visit"], worker, start)

    def _elder(self, place):
        return self.rng.choices(place.elders, place.weights)[0]

    def _severe(self, place):
        return max(place.elders, key=lambda e: (e.ability_level in ("severe", "complete", "moderate"), age_on(e, self.today)))

    # --- plans and agreements ----------------------------------------------------------------

    def plans(self, place, accounts) -> None:
        """送餐 every working day (调休 Saturdays included, chinese-calendar) and 打扫卫生 every
        Friday but on a public holiday, each with a fixed caregiver and its orders from the
        plan's first day to a week ahead; two of them under a signed agreement."""
        aides = place.workers["aide"]
        mine = {w.caregiver.pk: w for w in aides}
        if place.key == "community":
            phone = mine[accounts["caregiver2"].pk]
            others = [w for w in aides if w is not phone]
            alone = [e for e in place.elders if e.living_arrangement == "alone" and e.name not in ("刘玉琴", "李淑珍")]
            specs = [
                ("刘玉琴", "meal_delivery", "FREQ=DAILY", OrderPlan.Calendar.WORKING_DAYS, 300, (11, 0), phone, "002"),
                ("李淑珍", "meal_delivery", "FREQ=DAILY", OrderPlan.Calendar.WORKING_DAYS, 180, (11, 40), phone, None),
                (
                    max(alone, key=lambda e: age_on(e, self.today)).name,
                    "meal_delivery",
                    "FREQ=DAILY",
                    OrderPlan.Calendar.WORKING_DAYS,
                    90,
                    (11, 0),
                    others[0],
                    None,
                ),
                ("冷国兴", "cleaning", "FREQ=WEEKLY;BYDAY=FR", OrderPlan.Calendar.SKIP_HOLIDAYS, 250, (14, 30), others[1], "001"),
                ("崔保仁", "cleaning", "FREQ=WEEKLY;BYDAY=FR", OrderPlan.Calendar.SKIP_HOLIDAYS, 150, (9, 0), others[2], None),
            ]
            prefix = "AT"
        else:
            phone = mine[accounts["caregiver3"].pk]
            oldest = sorted(place.elders, key=lambda e: e.birth_date)
            specs = [(oldest[1].name, "meal_delivery", "FREQ=DAILY", OrderPlan.Calendar.WORKING_DAYS, 120, (11, 0), phone, None)]
            prefix = "ZC"
        for name, code, rule, calendar, days, (hour, minute), worker, number in specs:
            elder = named(place.elders, name)
            item = self.items[code]
            starts_on = self.today - datetime.timedelta(days=days)
            quantity = 2 if code == "cleaning" else 1
            agreement = None
            if number:
                agreement = self._agreement(
                    place, elder, item, worker.organisation, quantity, rule, starts_on, f"{prefix}-XY-{starts_on.year}-{number}"
                )
            plan = OrderPlan.objects.create(
                elder=elder,
                region_id=elder.region_id,
                item=item,
                quantity=quantity,
                payment_mode="low_cost",
                rrule=rule,
                calendar=calendar,
                starts_on=starts_on,
                start_time=datetime.time(hour, minute),
                duration_minutes=item.duration_minutes * (quantity if code == "cleaning" else 1),
                organisation=worker.organisation,
                caregiver=worker.caregiver,
                agreement=agreement,
                generated_until=self.today + datetime.timedelta(days=PLAN_AHEAD_DAYS),
                notes="每个工作日午餐送到家" if code == "meal_delivery" else "每周五上门打扫，遇法定节假日暂停",
                created_by=place.desk,
            )
            OrderPlan.objects.filter(pk=plan.pk).update(created_at=local_at(starts_on - datetime.timedelta(days=3), 10 * 60))
            for day in plan_days(rule, calendar, starts_on, plan.generated_until):
                start = self._plan_slot(worker, item, quantity, day, hour * 60 + minute)
                if start is None:
                    continue
                if day < self.today:
                    self.delivered(
                        place,
                        elder,
                        item,
                        "low_cost",
                        quantity,
                        worker,
                        start,
                        plan=plan,
                        agreement=agreement,
                        rated=0.1 if code == "meal_delivery" else 0.4,
                    )
                else:
                    # the plan's own caregiver accepts its week the morning after it is generated
                    self.upcoming(
                        place, elder, item, "low_cost", quantity, worker, start, Status.ACCEPTED, plan=plan, agreement=agreement
                    )

    def _plan_slot(self, worker, item, quantity, day, minute):
        from orders.services import default_end

        probe = local_at(day, minute)
        length = int((default_end(item, probe, quantity) - probe).total_seconds() // 60)
        if not self._free(worker, day, minute, minute + length):
            return None
        self._book(worker, day, minute, minute + length)
        return probe

    def _agreement(self, place, elder, item, organisation, quantity, rule, starts_on, number):
        """A signed service agreement (签订协议, seed 000): parties, the item, its price and who pays."""
        found = Agreement.objects.filter(region_id=elder.region_id, number=number).first()
        if found is not None:
            return found
        price = self._price(item, elder, "low_cost", starts_on)
        weekly = "FR" in rule
        agreement = Agreement.objects.create(
            elder=elder,
            region_id=elder.region_id,
            organisation=organisation,
            number=number,
            status=Agreement.Status.SIGNED,
            valid_from=starts_on,
            valid_to=starts_on + datetime.timedelta(days=364),
            lines=[
                {
                    "item": item.pk,
                    "name": item.name,
                    "unit": str(item.get_unit_display()),
                    "unit_price_fen": price,
                    "quantity": quantity,
                    "frequency": "每周五一次" if weekly else "每个工作日一次",
                    "payers": [{"kind": "elder", "label": "老人自付", "share": "全部（低偿价）"}],
                }
            ],
            elder_signatory=elder.name if elder.name != "冷国兴" else "冷国兴（子女代签）",
            signed_on=starts_on - datetime.timedelta(days=3),
            terms="服务人员按约定时间上门，签到签退以手机定位为准；遇法定节假日暂停；任何一方可提前七日书面终止。",
            created_by=place.desk,
        )
        Agreement.objects.filter(pk=agreement.pk).update(created_at=local_at(starts_on - datetime.timedelta(days=3), 10 * 60))
        return agreement

    # --- the days ahead, today, the board ----------------------------------------------------------

    def open_orders(self, place) -> None:
        """The station's dispatch board: orders waiting to be dispatched, one sent to 康乃馨家政
        for its dispatcher to assign, one past its acceptance deadline; and the coming days'
        visits of workers without a phone account."""
        w = place.workers
        created, dispatched, accepted = Status.CREATED, Status.DISPATCHED, Status.ACCEPTED
        if place.key == "community":
            plan = [
                ("home_visit", "free", 1, w["aide"][5], 0, 15 * 60 + 30, created, {"source": Source.HOTLINE}),
                ("cleaning", "paid", 2, w["hourly"][0], -1, 9 * 60, created, {"source": Source.RELATIVE}),
                ("blood_pressure", "free", 1, w["aide"][6], -1, 10 * 60, created, {"source": Source.VISIT}),
                ("cooking", "paid", 1, w["nanny"][0], -2, 9 * 60, dispatched, {"organisation_only": True}),
                ("haircut", "paid", 1, w["aide"][7], -1, 14 * 60, dispatched, {"overdue": True}),
                ("cooking", "paid", 1, w["nanny"][1], -1, 10 * 60, accepted, {}),
                ("cleaning", "paid", 2, w["hourly"][1], -3, 14 * 60, dispatched, {}),
                ("home_visit", "free", 1, w["aide"][8], -2, 9 * 60 + 30, accepted, {}),
                ("chat", "free", 1, w["volunteer"][0], -4, 9 * 60 + 30, accepted, {}),
            ]
        else:
            plan = [
                ("blood_pressure", "free", 1, w["aide"][1], -1, 9 * 60 + 30, created, {"source": Source.HOTLINE}),
                ("rehab", "paid", 1, w["nurse"][0], -2, 10 * 60, accepted, {}),
                ("tb_companionship", "time_coin", 2, w["volunteer"][0], -3, 9 * 60, dispatched, {}),
            ]
        for code, mode, quantity, worker, day, minute, status, options in plan:
            item = self.items[code]
            start = self._slot(worker, item, quantity, (day, day), minute=minute)
            if start is not None:
                self.upcoming(place, self._elder(place), item, mode, quantity, worker, start, status, **options)

    def today_visits(self, places, accounts) -> None:
        """Today's visits on the three phone accounts (besides their plans' 送餐): accepted ones
        to check in to, and one just dispatched to accept. Made on a later day's run too, when
        the account has no visit but its plans' that day."""
        from django.db.models import Q

        antai, zhuchun = places["community"], places["community2"]
        visits = {
            "caregiver": (
                antai,
                "carer",
                [
                    ("escort", "paid", 2, 8 * 60, Status.ACCEPTED, "冷国兴"),
                    ("bathing", "paid", 1, 13 * 60, Status.DISPATCHED, None),
                    ("medical_escort", "paid", 1, 14 * 60 + 30, Status.ACCEPTED, None),
                ],
            ),
            "caregiver2": (
                antai,
                "aide",
                [
                    ("blood_pressure", "free", 1, 9 * 60, Status.ACCEPTED, None),
                    ("home_visit", "free", 1, 15 * 60, Status.DISPATCHED, None),
                ],
            ),
            "caregiver3": (
                zhuchun,
                "aide",
                [
                    ("bathing", "paid", 1, 9 * 60 + 30, Status.ACCEPTED, None),
                    ("home_visit", "free", 1, 15 * 60 + 30, Status.DISPATCHED, None),
                ],
            ),
        }
        for username, (place, kind, plan) in visits.items():
            person = accounts[username]
            worker = next(w for w in place.workers[kind] if w.caregiver.pk == person.pk)
            today = Q(scheduled_start__date=self.today, caregiver=person) & ~Q(source=Source.PLAN)
            if Order.objects.filter(today).exists() or any(
                d.order.caregiver == person
                and d.order.source != Source.PLAN
                and timezone.localtime(d.order.scheduled_start).date() == self.today
                for d in self.drafts
            ):
                continue
            for code, mode, quantity, minute, status, name in plan:
                item = self.items[code]
                start = self._slot(worker, item, quantity, (0, 0), minute=minute)
                elder = named(place.elders, name) if name else self._elder(place)
                if start is not None:
                    self.upcoming(place, elder, item, mode, quantity, worker, start, status, source=Source.HOTLINE)
