"""Build the demo: 安泰社区 of seed 000 (1080 elders in residence: 55 aged 80+, 36 孤寡独居,
34 空巢) and 驻春路社区 of seed 004, with a demo user for each role. Idempotent."""

import datetime
import random
from typing import NamedTuple

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from devdata import demo
from devdata.demo_assessments import seed_assessments
from devdata.demo_merchants import seed_merchants
from devdata.demo_needs import seed_demo_needs
from devdata.demo_orders import seed_demo_orders
from devdata.demo_providers import seed_providers
from devdata.demo_routing import seed_demo_routing
from devdata.demo_safety import seed_demo_safety
from devdata.demo_timebank import seed_timebank
from elders.models import Elder
from elders.services import ElderRowBuilder, elder_bulk_create, elder_change_status
from regions.models import Level, Region
from regions.services import region_create

PASSWORD = "demo12345"


class DemoPerson(NamedTuple):
    clean: dict  # the elder's values as elders.validation cleans them
    region: Region | None  # a region of their own, else the grids in turn
    status: tuple[str, str] | None  # (action, status) for the gone: moved out, deceased, in an institution


DEMO_USERS = [
    # username, role, region key, full name
    ("admin", "admin", "root", "平台管理员"),
    ("city", "aging_office", "city", "示范市老龄办"),
    ("street", "street", "street", "东城街道办"),
    ("community", "community", "community", "安泰社区 张书记"),
    ("community2", "community", "community2", "驻春路社区 工作人员"),
    ("grid", "grid", "grid", "安泰社区 第一网格 网格员"),
    # No region: their organisation is their scope (key "@name": an organisation of devdata/demo_providers.py).
    ("provider", "provider", "@康乃馨家政", "康乃馨家政 负责人"),
    ("caregiver", "caregiver", "@康乃馨家政", "康乃馨家政 护工"),
    # Phone accounts of caregivers (issue 11: their day, check-in and check-out); each is linked
    # to one of the organisation's staff by devdata/demo_orders.py, as is "caregiver".
    ("caregiver2", "caregiver", "@安泰社区居家养老服务站", "居家养老服务站 助老服务员"),
    ("caregiver3", "caregiver", "@驻春路社区日间照料中心", "日间照料中心 助老服务员"),
    ("volunteer", "volunteer", "community", "青年志愿者"),
    # 驻春路社区's volunteer with time coins (issue 13: devdata/demo_timebank.py links them).
    ("volunteer2", "volunteer", "community2", "驻春路社区 志愿者"),
    ("merchant", "merchant", "community", "安泰理发店"),
    ("elder", "elder", "community", "冷国兴家属"),
    # A neighbour's phone (issue 12): 守望员 张玉华 of seed 000 sees her elders on /pairing/mine/.
    ("watcher", "elder", "community", "守望员 张玉华"),
    # Relatives' accounts, linked to their elder with consent (orders.FamilyLink, demo_orders.py).
    ("family2", "elder", "community2", "驻春路社区 老人家属"),
    ("auditor", "auditor", "city", "示范市审计员"),
]

# The people seed 000 names, as they appear there.
NAMED = [
    # name, sex, age range, living, marital, children, extras
    (
        "冷国兴",
        "M",
        (81, 86),
        "spouse",
        "married",
        2,
        {
            "address": "经济房15号楼7单元6楼东户",
            "ability_level": "severe",
            "chronic_illnesses": "小脑萎缩",
            "notes": "行动不便;守望员张玉华,互助员李树林",
        },
    ),
    ("崔保仁", "M", (74, 78), "spouse", "married", 2, {"children_away": True}),
    (
        "刘玉琴",
        "F",
        (76, 79),
        "alone",
        "widowed",
        0,
        {"ability_level": "moderate", "notes": "行动不便,志愿者定期代缴电话费、水电费"},
    ),
    ("陈秀兰", "F", (70, 75), "children", "widowed", 2, {"is_dibao": True}),
    ("王秀珍", "F", (68, 72), "children", "married", 1, {"is_dibao": True}),
    ("侯秋萍", "F", (66, 70), "children", "married", 2, {"is_dibao": True}),
    (
        "林湘玲",
        "F",
        (66, 69),
        "children",
        "married",
        1,
        {"is_party_member": True, "is_retired_cadre": True, "interests": "功拳剑操、健身操;老年体协常务副主席"},
    ),
    ("付占玲", "F", (70, 74), "children", "married", 2, {"is_party_member": True}),
    ("张德清", "M", (72, 76), "children", "married", 2, {"is_retired_cadre": True}),
    ("张久玉", "M", (70, 74), "children", "married", 1, {"is_retired_cadre": True}),
    ("单井英", "F", (61, 64), "children", "married", 1, {"interests": "守望员"}),
    (
        "李淑珍",
        "F",
        (72, 76),
        "alone",
        "widowed",
        0,
        {"family_situation": "两个女儿相继去世;聊天互助组、健身操互助组骨干", "is_family_planning_special": False},
    ),
]


class Command(BaseCommand):
    help = "Load the demo community of seed 000 and its neighbour (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--elders-only",
            action="store_true",
            help="Only the regions, the demo logins and the two communities' elders (the register; no services, "
            "orders, visits or time bank): for trying imports and for tests that need only the register.",
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            regions = self._regions()
            users = self._users(regions)
            made = 0
            if not Elder.objects.filter(region__path__startswith=regions["community"].path).exists():
                made += self._antai(regions, users["community"])
            if not Elder.objects.filter(region__path__startswith=regions["community2"].path).exists():
                made += self._zhuchun(regions, users["community2"])
            if options.get("elders_only"):
                self.stdout.write(f"seed_demo: {made} elders created (the register only)")
                return
            seed_merchants(regions, users)  # issue 10: locations, partner merchants (devdata/demo_merchants.py)
            organisations = seed_providers(regions=regions, users=users)
            users = self._users(regions, organisations)
            seed_demo_needs(regions=regions, users=users)  # issue 10: needs, price lists, packages
            seed_assessments(by_region={regions[k].path: users[k] for k in ("community", "community2")})
            orders = seed_demo_orders(regions=regions, users=users)  # issue 11: a year of orders
            if orders:
                self._shares(users["community"])
            safety = seed_demo_safety(regions=regions, users=users)  # issue 12: pairings, devices, visits, alerts
            timebank = seed_timebank(regions=regions, users=users)  # issue 13: 驻春路社区's 爱心时间银行
            seed_demo_routing(users=users)  # issue 14: the station's place and routing profiles
        if any(safety.values()):
            self.stdout.write("seed_demo: " + ", ".join(f"{n} {what}" for what, n in safety.items()) + " created")
        if timebank:
            self.stdout.write(f"seed_demo: time bank with {timebank['members']} members, {timebank['transfers']} transfers")
        if orders:
            self.stdout.write(f"seed_demo: {orders} orders created")
        self.stdout.write(f"seed_demo: {made} elders created" if made else "seed_demo: demo data already present")

    def _shares(self, by):
        """Who pays what of each delivered demo visit, as a check-out writes it (settlements), so the
        monthly statements of the demo have lines."""
        from orders.models import DELIVERED, Order
        from settlements.services import shares_write

        delivered = Order.objects.filter(status__in=DELIVERED, shares__isnull=True).select_related("elder", "item", "region")
        for order in delivered.order_by("id").iterator(chunk_size=500):
            shares_write(order=order, by=by)

    # --- regions and users -------------------------------------------------------------
    def _node(self, name, level, parent, code=""):
        found = Region.objects.filter(name=name, parent=parent).first()
        return found or region_create(name=name, level=level, parent=parent, code=code)

    def _regions(self):
        r = {}
        r["root"] = self._node("全国", Level.COUNTRY, None)
        r["province"] = self._node("示范省", Level.PROVINCE, r["root"], "990000000000")
        r["city"] = self._node("示范市", Level.CITY, r["province"], "990100000000")
        r["district"] = self._node("锦山区", Level.DISTRICT, r["city"], "990102000000")
        r["street"] = self._node("东城街道", Level.STREET, r["district"], "990102001000")
        r["community"] = self._node("安泰社区", Level.COMMUNITY, r["street"], "990102001001")
        r["grids"] = [self._node(f"安泰第{n}网格", Level.GRID, r["community"]) for n in "一二三四五六七八"]
        r["grid"] = r["grids"][0]
        r["street2"] = self._node("和平路街道", Level.STREET, r["district"], "990102002000")
        r["community2"] = self._node("驻春路社区", Level.COMMUNITY, r["street2"], "990102002001")
        r["grids2"] = [self._node(f"驻春路第{n}网格", Level.GRID, r["community2"]) for n in "一二三"]
        return r

    def _users(self, regions, organisations=None):
        """The demo users; those of an organisation ("@name") once the organisations exist."""
        users = {}
        hashed = None
        for username, role, key, full_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                if key.startswith("@") and organisations is None:
                    continue
                region = None if key.startswith("@") else regions[key]
                organisation = organisations[key[1:]] if key.startswith("@") else None
                user = User(username=username, role=role, region=region, full_name=full_name, is_staff=role == "admin")
                user.organisation = organisation
                # One hash for every demo login: they share the published password, and a
                # hash is deliberately slow (~0.7 s each, most of a first seed_demo's time).
                hashed = hashed or make_password(PASSWORD)
                user.password = hashed
                user.save()
            users[username] = user
        return users

    # --- elders -----------------------------------------------------------------------
    def _people(self, rng, today, plan, compounds, used_ids, serial_start):
        """plan: list of (count, dict of traits) → people as clean values (what the form's
        validation gives), with their region key and status."""
        out = []
        serial = serial_start
        for count, traits in plan:
            for _ in range(count):
                serial += 1
                sex = traits.get("sex") or rng.choice("MF")
                lo, hi = traits["age"]
                while True:
                    birth = demo.birth_date_for_age(rng, today, lo, hi)
                    number = demo.id_number(rng, birth, sex, serial)
                    if number not in used_ids:
                        used_ids.add(number)
                        break
                    serial += 1
                # the same draws of `rng` in the same order as ever: the demo stays the same people
                clean = {
                    "sex": sex,
                    "birth_date": birth,
                    "address": traits.get("address") or demo.address(rng, compounds),
                    "hukou": "urban" if rng.random() < 0.85 else "rural",
                    "living_arrangement": traits["living"],
                    "marital_status": traits["marital"],
                    "children_count": traits["children"],
                    "children_away": traits.get("children_away", False),
                    "pension_type": rng.choice(["employee", "employee", "resident", "public"]),
                    "income_level": rng.choice(["low", "middle", "middle", "high"]),
                    "ability_level": traits.get("ability_level", rng.choice(["intact"] * 8 + ["mild"])),
                    "care_preference": rng.choice(["home"] * 6 + ["community", "institution", "undecided"]),
                    "is_party_member": traits.get("is_party_member", rng.random() < 0.08),
                    "is_retired_cadre": traits.get("is_retired_cadre", rng.random() < 0.03),
                    "is_veteran_family": traits.get("is_veteran_family", rng.random() < 0.02),
                    "is_dibao": traits.get("is_dibao", False),
                    "disability_grade": traits.get("disability_grade", "4" if rng.random() < 0.02 else ""),
                }
                for key in ("chronic_illnesses", "notes", "interests", "family_situation", "is_family_planning_special"):
                    if key in traits:
                        clean[key] = traits[key]
                clean["name"] = traits.get("name") or demo.person_name(rng, sex)
                clean["id_number"] = number
                clean["phone"] = demo.mobile(rng) if rng.random() < 0.85 else f"0534-{rng.randint(2000000, 8999999)}"
                clean["contacts"] = []
                if clean["children_count"]:
                    clean["contacts"].append(
                        {
                            "name": clean["name"][0] + demo.person_name(rng, rng.choice("MF"))[1:],
                            "relation": "child",
                            "phone": demo.mobile(rng),
                        }
                    )
                out.append(DemoPerson(clean, traits.get("region"), traits.get("status")))
        return out, serial

    def _save(self, people, regions_cycle, by, rng):
        """Through the services the importer and the forms use: elder_bulk_create (rows, contacts,
        a "create" record each), then elder_change_status for the moved-out, deceased and
        institutionalised."""
        builder = ElderRowBuilder(by_id=by.pk, now=timezone.now(), action="create", note="演示数据")
        rows = [
            builder.new(person.clean, (person.region or regions_cycle[i % len(regions_cycle)]).pk)
            for i, person in enumerate(people)
        ]
        pks = elder_bulk_create(by=by, rows=rows)
        today = timezone.localdate()
        for person, pk in zip(people, pks, strict=True):
            if person.status:
                action, _status = person.status
                when = today - datetime.timedelta(days=rng.randint(20, 300))
                elder_change_status(by=by, elder=Elder.objects.get(pk=pk), action=action, effective_on=when, reason="演示数据")

    def _antai(self, regions, by) -> int:
        """1080 in residence: 55 aged 80+, 36 孤寡 living alone, 34 空巢 (seed 000)."""
        rng = random.Random(20240001)
        today = timezone.localdate()
        # Ages keep a margin from the 60 and 80 boundaries so the counts hold for a year.
        young, old = (61.2, 78.6), (81.2, 95)
        named_plan = []
        named_old = named_alone = named_nest = 0
        for name, sex, ages, living, marital, children, extra in NAMED:
            traits = {"name": name, "sex": sex, "age": ages, "living": living, "marital": marital, "children": children, **extra}
            named_plan.append((1, traits))
            named_old += ages[0] >= 80
            named_alone += living == "alone" and children == 0 and marital != "married"
            named_nest += living in ("alone", "spouse") and children > 0
        # Of the named: 冷国兴 is 80+ and 空巢 (with his wife, children elsewhere); 崔保仁 空巢;
        # 刘玉琴 and 李淑珍 孤寡独居.
        plan = named_plan + [
            # 孤寡独居: widowed or unmarried, no children, alone. Two are 80+.
            (2, {"age": old, "living": "alone", "marital": "widowed", "children": 0}),
            (36 - named_alone - 2, {"age": young, "living": "alone", "marital": "widowed", "children": 0}),
            # 空巢: couples whose children live elsewhere (one of them 80+).
            (1, {"age": old, "living": "spouse", "marital": "married", "children": 2, "children_away": True}),
            (34 - named_nest - 1, {"age": young, "living": "spouse", "marital": "married", "children": 2}),
        ]
        placed = sum(n for n, _ in plan)
        old_so_far = named_old + 2 + 1
        plan += [
            (55 - old_so_far, {"age": old, "living": "children", "marital": "widowed", "children": 3, "ability_level": "mild"}),
            (1080 - placed - (55 - old_so_far), {"age": young, "living": "children", "marital": "married", "children": 2}),
            # Gone from the default list, found through the status filter:
            (8, {"age": young, "living": "children", "marital": "married", "children": 2, "status": ("move_out", "moved_out")}),
            (6, {"age": old, "living": "children", "marital": "widowed", "children": 2, "status": ("decease", "deceased")}),
            (
                3,
                {
                    "age": old,
                    "living": "institution",
                    "marital": "widowed",
                    "children": 1,
                    "status": ("enter_institution", "institution"),
                },
            ),
        ]
        used = set()
        people, _ = self._people(rng, today, plan, demo.COMPOUNDS[:4], used, 0)
        self._save(people, regions["grids"], by, rng)
        return len(people)

    def _zhuchun(self, regions, by) -> int:
        rng = random.Random(20240004)
        today = timezone.localdate()
        young, old = (61.2, 78.6), (81.2, 93)
        plan = [
            (20, {"age": old, "living": "children", "marital": "widowed", "children": 2}),
            (14, {"age": young, "living": "alone", "marital": "widowed", "children": 0}),
            (25, {"age": young, "living": "spouse", "marital": "married", "children": 1, "children_away": True}),
            (281, {"age": young, "living": "children", "marital": "married", "children": 2, "is_party_member": False}),
        ]
        used = set()
        people, _ = self._people(rng, today, plan, ["驻春路小区", "绸都花园", "和平里"], used, 10000)
        self._save(people, regions["grids2"], by, rng)
        return len(people)
