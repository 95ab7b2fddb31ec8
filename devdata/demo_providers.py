"""The demo's providers (seed 000): 安泰社区's 康乃馨家政 with its 30 nannies and 10 caregivers,
the 居家养老服务站 with its 13 助老服务员, three volunteer teams (党员, 团员青年, 低龄老人) with
their volunteers; a smaller set for 驻春路社区. Certificates of 养老护理员 and 健康证, a few
expiring within the reminder window and one expired. Called once from seed_demo; idempotent.

Everything goes through providers.services (the one write path), acting as the demo admin.
"""

import datetime
import random

from django.utils import timezone

from devdata import demo

SKILLS = [
    ("cooking", "做饭"),
    ("cleaning", "保洁"),
    ("bathing", "助浴"),
    ("rehab", "康复护理"),
    ("escort", "陪同就医"),
    ("medication", "协助服药"),
    ("haircut", "理发"),
    ("chat", "聊天陪伴"),
    ("shopping", "代购代缴"),
]
CERTIFICATE_KINDS = [
    ("elder-care-1", "养老护理员（初级）", "elder-care", 1),
    ("elder-care-2", "养老护理员（中级）", "elder-care", 2),
    ("elder-care-3", "养老护理员（高级）", "elder-care", 3),
    ("health", "健康证", "health", 1),
    ("housekeeping", "家政服务员", "housekeeping", 1),
    ("nurse", "护士执业证书", "nurse", 1),
]
WEEKDAYS = [1, 2, 3, 4, 5]
# The demo's organisations by name, as seed_providers returns them (their users: "@name" in seed_demo).
ORGANISATIONS = ("康乃馨家政", "安泰社区居家养老服务站", "驻春路社区日间照料中心")


def _catalogue():
    """The skills and certificate kinds the staff hold (found by name if the catalogue has them)."""
    from catalogue.models import CertificateKind, Skill
    from catalogue.services import catalogue_initial_load

    # After a flush (a transactional test) the catalogue is empty: load it first, or the demo's
    # own "保洁" would take the name the catalogue's skill needs when seed_demo loads it later.
    catalogue_initial_load()

    skills = {}
    for code, name in SKILLS:
        skill = Skill.objects.filter(name=name).first() or Skill.objects.create(code=f"demo-{code}", name=name)
        skills[name] = skill.pk
    kinds = {}
    for code, name, family, rank in CERTIFICATE_KINDS:
        kind = CertificateKind.objects.filter(name=name).first() or CertificateKind.objects.create(
            code=f"demo-{code}", name=name, family=family, rank=rank
        )
        kinds[name] = kind.pk
    return skills, kinds


def _staff(by, org, rng, *, kind, count, skills, kinds, today, serial, expiring_every=6):
    from providers import services

    for i in range(count):
        sex = "F" if rng.random() < 0.85 else "M"
        birth = demo.birth_date_for_age(rng, today, 35, 58)
        person = services.caregiver_create(
            by=by,
            data={
                "organisation": org.pk,
                "kind": kind,
                "name": demo.person_name(rng, sex),
                "id_number": demo.id_number(rng, birth, sex, serial + i),
                "phone": demo.mobile(rng),
                # nannies and hourly workers all clean (打扫卫生 and 洗衣 need 保洁 and 家政服务员)
                "skills": sorted(
                    set(rng.sample(list(skills.values()), 3))
                    | ({skills["保洁"]} if kind not in ("carer", "aide", "nurse") else set())
                ),
                "work_start": "08:00" if kind != "nanny" else "07:30",
                "work_end": "17:30" if kind != "nanny" else "19:00",
                "work_days": WEEKDAYS if kind == "aide" else sorted(rng.sample(range(1, 8), 6)),
                "languages": rng.choice(["普通话", "普通话、本地话", "普通话、山东话"]),
                # homes around 安泰社区 (WGS-84), a few hundred metres apart
                "home_lat": round(36.70 + rng.uniform(-0.01, 0.01), 6),
                "home_lng": round(118.47 + rng.uniform(-0.01, 0.01), 6),
            },
        )
        # a certificate each: most valid for years, every `expiring_every`-th soon, one expired
        if kind in ("carer", "aide"):
            name = rng.choice(["养老护理员（初级）", "养老护理员（中级）", "养老护理员（高级）"])
        elif kind == "nurse":
            name = "护士执业证书"
        else:
            name = "健康证"
        days = rng.randint(200, 900)
        if i % expiring_every == 1:
            days = rng.randint(5, 55)
        if i == 2:
            days = -rng.randint(3, 20)
        issued = today + datetime.timedelta(days=days) - datetime.timedelta(days=365 * (1 if name == "健康证" else 3))
        services.certificate_create(
            by=by,
            caregiver=person,
            data={
                "kind": kinds[name],
                "number": f"{rng.randint(10, 99)}{rng.randint(10**9, 10**10 - 1)}",
                "issued_on": issued,
                "expires_on": today + datetime.timedelta(days=days),
            },
        )
        if kind not in ("carer", "aide", "nurse"):
            services.certificate_create(
                by=by,
                caregiver=person,
                data={
                    "kind": kinds["家政服务员"],
                    "number": f"JZ{serial + i:08d}",
                    "issued_on": today - datetime.timedelta(days=400),
                    "expires_on": today + datetime.timedelta(days=330 + 20 * i),
                },
            )


def _volunteers(by, region, team, rng, *, count, skills, today, ages=(25, 55), pending=2):
    from providers import services

    for i in range(count):
        sex = rng.choice("MF")
        v = services.volunteer_create(
            by=by,
            data={
                "region": region.pk,
                "team": team.pk,
                "name": demo.person_name(rng, sex),
                "phone": demo.mobile(rng),
                "birth_year": today.year - rng.randint(*ages),
                "skills": rng.sample(list(skills.values()), 2),
                "available_days": sorted(rng.sample(range(1, 8), 2)),
                "available_from": "09:00",
                "available_to": "11:30",
            },
        )
        if i >= pending:
            services.volunteer_decide(by=by, volunteer=v, action="approve")


def seed_providers(*, regions: dict, users: dict) -> dict:
    """Create the demo's providers unless they exist; returns the organisations the demo's
    organisation logins belong to, by name."""
    from providers import services
    from providers.selectors import organisation_list

    admin = users["admin"]
    found = organisation_list(user=admin, q="康乃馨家政").first()
    if found is not None:
        _hourly_workers(admin, found)
        return {name: organisation_list(user=admin, q=name).filter(name=name).first() for name in ORGANISATIONS}
    rng = random.Random(10)
    today = timezone.localdate()
    skills, kinds = _catalogue()
    antai, zhuchun = regions["community"], regions["community2"]
    knx = services.organisation_create(
        by=admin,
        data={
            "name": "康乃馨家政",
            "kind": "housekeeping",
            "region": antai.pk,
            "rating": "4A",
            "rated_on": today.replace(month=1, day=15),
            "contract_number": "DC-JJYL-2025-007",
            "contract_start": today.replace(month=1, day=1),
            "contract_end": today.replace(month=12, day=31),
            "service_area": [antai.pk, zhuchun.pk],
            "contact_name": "周丽娟",
            "contact_phone": "0536-5637001",
            "quota_amount": 400,
            "quota_unit": "hours",
            "quota_period": "month",
        },
    )
    station = services.organisation_create(
        by=admin,
        data={
            "name": "安泰社区居家养老服务站",
            "kind": "station",
            "region": antai.pk,
            "rating": "3A",
            "rated_on": today.replace(month=3, day=1),
            "service_area": [antai.pk],
            "contact_name": "张书记",
            "quota_amount": 25000000,  # 25 万元 (seed 000), in fen
            "quota_unit": "fen",
            "quota_period": "year",
        },
    )
    daycare = services.organisation_create(
        by=admin,
        data={
            "name": "驻春路社区日间照料中心",
            "kind": "day_care",
            "region": zhuchun.pk,
            "rating": "2A",
            "rated_on": today.replace(month=5, day=20),
            "service_area": [zhuchun.pk],
            "quota_amount": 120,
            "quota_unit": "hours",
            "quota_period": "month",
        },
    )
    _staff(admin, knx, rng, kind="nanny", count=30, skills=skills, kinds=kinds, today=today, serial=600)
    _staff(admin, knx, rng, kind="carer", count=10, skills=skills, kinds=kinds, today=today, serial=640)
    _staff(admin, station, rng, kind="aide", count=13, skills=skills, kinds=kinds, today=today, serial=660)
    _staff(admin, daycare, rng, kind="aide", count=5, skills=skills, kinds=kinds, today=today, serial=680)
    _staff(admin, daycare, rng, kind="nurse", count=2, skills=skills, kinds=kinds, today=today, serial=690)

    teams = [
        ("party", "安泰社区党员志愿服务队", "林湘玲", (35, 70), 10),
        ("youth", "安泰社区团员青年志愿服务队", "刘晓", (18, 32), 8),
        ("young_old", "安泰社区低龄老人志愿服务队", "付占玲", (60, 70), 12),
    ]
    for kind, name, leader, ages, count in teams:
        team = services.team_create(by=admin, data={"region": antai.pk, "kind": kind, "name": name, "leader": leader})
        _volunteers(admin, antai, team, rng, count=count, skills=skills, today=today, ages=ages)
    team = services.team_create(by=admin, data={"region": zhuchun.pk, "kind": "party", "name": "驻春路党员志愿服务队"})
    _volunteers(admin, zhuchun, team, rng, count=4, skills=skills, today=today, ages=(40, 68), pending=1)
    _hourly_workers(admin, knx)

    return {"康乃馨家政": knx, "安泰社区居家养老服务站": station, "驻春路社区日间照料中心": daycare}


def _hourly_workers(admin, knx) -> None:
    """Seed 000's 小时工 (10 hourly-worker services a year, devdata/demo_orders.py): three on
    康乃馨家政's staff. Added after the rest, from a generator of their own, so a demo seeded
    before them gains them on the next run and everyone else stays the same person."""
    from providers.selectors import caregiver_list

    if caregiver_list(user=admin, organisation_id=knx.pk, kind="hourly").exists():
        return
    skills, kinds = _catalogue()
    _staff(
        admin, knx, random.Random(11), kind="hourly", count=3, skills=skills, kinds=kinds, today=timezone.localdate(), serial=700
    )
