"""The demo's safety net (issue 12; docs/pairing.md "The demo"): watchers and helpers for the
at-risk elders of 安泰社区 and 驻春路社区, call devices for the 70+, veterans' families and the
disabled, a year of visits and a year of alerts — with seed 000's two stories: the fall of
冷国兴 (经济房15号楼7单元6楼东户; 守望员张玉华 and 互助员李树林 carried him downstairs to hospital
and paid the deposit) and the gas leak at 崔保仁's (守望员单井英 smelled gas on a visit, opened
the windows, and stayed to explain).

Pairings go through pairing.services (history, phones stored encrypted); devices, visits and
alerts, a year of rows, are written set-based (bulk_create) the way their services would leave
them. Called from seed_demo (one line); idempotent: a community that already has pairings,
devices, visits or alerts keeps them.
"""

import datetime
import random

from django.utils import timezone

from devdata import demo
from elders.models import Elder
from pairing.models import Pairing
from pairing.selectors import at_risk_q
from pairing.services import pairing_create, pairing_end

SEED = 20261201

# Seed 000's people: (elder, role, partner, kind, address note, start years ago).
NAMED_PAIRINGS = [
    ("冷国兴", "watcher", "张玉华", "neighbour", "同单元对门（7单元6楼西户）", 3),
    ("冷国兴", "helper", "李树林", "neighbour", "同楼7单元5楼", 3),
    ("崔保仁", "watcher", "单井英", "neighbour", "同小区老邻居", 2),
]
# How often the communities reach their at-risk elders each month (the rest of a period's dues
# stay unmet): 安泰's grid workers and watchers are the seed's model, 驻春路 a little behind;
# the Spring Festival and the summer's heat cost a few points.
BASE_RATE = {"community": 0.93, "community2": 0.87}
MONTH_ADJUST = {1: -0.05, 2: -0.06, 7: -0.02, 8: -0.03, 10: -0.02}
ENDED_REASONS = ["结对人搬离小区", "结对人身体原因不能继续", "子女回来同住，改由亲属结对", "结对人外出务工"]
MISSED_REASONS = ["not_home", "not_home", "no_answer", "in_hospital", "away", "refused"]
# A concern found on a visit: (checklist item, option, note, the need it opened).
CONCERNS = [
    ("health", "fair", "血压偏高，头晕", ("general", "高血压，头晕，希望每周测一次血压")),
    ("spirits", "low", "老伴去世后情绪低落，不爱说话", ("special", "情绪低落，需要有人常来聊天谈心")),
    ("food", "hard", "一日三餐凑合，冰箱里没什么吃的", ("urgent", "做饭困难，需要送餐上门")),
    ("gas", "hazard", "燃气软管老化开裂", ("urgent", "燃气软管老化，需要更换并安装燃气报警器")),
    ("housing", "hard", "卫生间地面湿滑，没有扶手", ("special", "卫生间需要加装扶手、防滑垫（适老化改造）")),
    ("medical", "hard", "行动不便，看病没人陪", ("special", "看病需要人陪同")),
    ("power", "hazard", "插线板私拉乱接", ("general", "家中电线老化，需要检修")),
]


def seed_demo_safety(*, regions: dict, users: dict, now=None) -> dict:
    """Pairings, devices, visits and alerts for both demo communities; returns what was made."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    made = {"pairings": 0, "devices": 0, "visits": 0, "alerts": 0}
    _policy(regions["community"], users)
    for index, key in enumerate(("community", "community2")):
        region = regions[key]
        rng = random.Random(SEED + index)
        elders = list(Elder.objects.filter(region__path__startswith=region.path, status="active").order_by("id"))
        at_risk = list(
            Elder.objects.filter(region__path__startswith=region.path, status="active").filter(at_risk_q(today)).order_by("id")
        )
        worker = users[key]
        if not Pairing.objects.filter(region__path__startswith=region.path).exists():
            made["pairings"] += _pairings(rng, key, region, at_risk, worker, users, today)
        from alerts.models import Alert, Device
        from visits.models import Visit

        if not Device.objects.filter(region__path__startswith=region.path).exists():
            made["devices"] += _devices(rng, key, elders, today, now)
        if not Visit.objects.filter(region__path__startswith=region.path).exists():
            made["visits"] += _visits(rng, key, at_risk, worker, users, today, now)
        if not Alert.objects.filter(region__path__startswith=region.path).exists():
            made["alerts"] += _alerts(rng, key, elders, worker, users, today, now)
    _dues(today, now)
    return made


def _named(elders, name):
    return next((e for e in elders if e.name == name), None)


# --- pairings -------------------------------------------------------------------------------------


def _pairings(rng, key, region, at_risk, worker, users, today) -> int:
    """A watcher for ~92 % of the at-risk elders (the rest wait on the "no watcher" list), a
    helper for a third; seed 000's named pairs; a few pairings ended and replaced."""
    from providers.models import Volunteer

    volunteers = list(Volunteer.objects.filter(region=region, status="approved").order_by("id"))
    count = 0
    named_elders = set()
    if key == "community":
        watcher_account = users.get("watcher")
        for elder_name, role, partner, kind, note, years in NAMED_PAIRINGS:
            elder = (
                _named(at_risk, elder_name) or Elder.objects.filter(region__path__startswith=region.path, name=elder_name).first()
            )
            if elder is None:
                continue
            named_elders.add(elder.pk)
            pairing_create(
                by=worker,
                elder=elder,
                role=role,
                partner_kind=kind,
                partner_name=partner,
                phone=demo.mobile(rng),
                user=watcher_account if partner == "张玉华" else None,
                starts_on=today - datetime.timedelta(days=365 * years + rng.randint(0, 60)),
                address_note=note,
                notes="邻里结对，就近、自愿" if role == "watcher" else "",
            )
            count += 1
        # 张玉华 and 单井英 watch two more elders each of 经济房 (张玉华's account shows three).
        jingji = [e for e in at_risk if e.address.startswith("经济房") and e.pk not in named_elders]
        others = [e for e in at_risk if e.pk not in named_elders and e not in jingji]
        for partner, account in (("张玉华", watcher_account), ("单井英", None)):
            phone = demo.mobile(rng)
            for elder in (jingji + others)[:2]:
                (jingji if elder in jingji else others).remove(elder)
                named_elders.add(elder.pk)
                pairing_create(
                    by=worker,
                    elder=elder,
                    role="watcher",
                    partner_kind="neighbour",
                    partner_name=partner,
                    phone=phone,
                    user=account,
                    starts_on=today - datetime.timedelta(days=rng.randint(200, 700)),
                    address_note="同小区",
                )
                count += 1
    unwatched = max(2, round(len(at_risk) * 0.08))
    rest = [e for e in at_risk if e.pk not in named_elders]
    rng.shuffle(rest)
    left_alone, rest = rest[:unwatched], rest[unwatched:]
    ended_left = 4 if key == "community" else 2
    for elder in rest:
        start = today - datetime.timedelta(days=rng.randint(30, 1000))
        if ended_left and start < today - datetime.timedelta(days=500):
            # An earlier pairing that ended, then today's partner.
            old = _partner_pairing(rng, worker, elder, "watcher", volunteers, start - datetime.timedelta(days=400))
            pairing_end(by=worker, pairing=old, reason=rng.choice(ENDED_REASONS), ends_on=start)
            ended_left -= 1
            count += 1
        _partner_pairing(rng, worker, elder, "watcher", volunteers, start)
        count += 1
        if rng.random() < 0.33:
            _partner_pairing(rng, worker, elder, "helper", volunteers, start + datetime.timedelta(days=rng.randint(0, 20)))
            count += 1
    # `left_alone` stay without a watcher: the list the community works from.
    assert all(e.pk not in named_elders for e in left_alone)
    return count


def _partner_pairing(rng, worker, elder, role, volunteers, starts_on):
    roll = rng.random()
    if roll < 0.15 and volunteers:
        volunteer = volunteers[rng.randrange(len(volunteers))]
        if not Pairing.objects.filter(elder=elder, volunteer=volunteer, role=role).exists():
            return pairing_create(by=worker, elder=elder, role=role, volunteer=volunteer, starts_on=starts_on)
    kind = "party_member" if roll < 0.35 else "relative" if roll < 0.47 else "neighbour"
    notes = {"party_member": "党员结对", "relative": "亲属结对", "neighbour": "邻里结对"}[kind]
    address = {
        "party_member": "",
        "relative": "同小区",
        "neighbour": rng.choice(["同楼对门", "楼上", "楼下", "同单元", "隔壁楼"]),
    }[kind]
    sex = rng.choice("MF")
    return pairing_create(
        by=worker,
        elder=elder,
        role=role,
        partner_kind=kind,
        partner_name=(elder.name[0] + demo.person_name(rng, sex)[1:]) if kind == "relative" else demo.person_name(rng, sex),
        phone=demo.mobile(rng),
        starts_on=starts_on,
        address_note=address,
        notes=notes,
    )


# --- devices --------------------------------------------------------------------------------------


def _devices(rng, key, elders, today, now) -> int:
    """Seed 000: free 援通呼叫器 for those aged 70+, veterans' families and the disabled. A call
    button or a watch each; fall sensors for the disabled; gas alarms in some kitchens; a few
    low batteries and a few silent for days."""
    from alerts.models import Device, DeviceKind

    def wanted(e):
        return (
            e.age_on(today) >= 70 or e.is_veteran_family or e.disability_grade != "" or e.ability_level in ("severe", "complete")
        )

    rows = []
    serial = 0
    prefix = "AT" if key == "community" else "ZC"
    for elder in (e for e in elders if wanted(e)):
        disabled = elder.disability_grade != "" or elder.ability_level in ("severe", "complete")
        kinds = [DeviceKind.CALL_BUTTON if rng.random() < 0.7 else DeviceKind.WATCH]
        if disabled or rng.random() < 0.05:
            kinds.append(DeviceKind.FALL_SENSOR)
        if rng.random() < 0.08 or elder.name == "崔保仁":
            kinds.append(DeviceKind.GAS)
        for kind in kinds:
            serial += 1
            installed = today - datetime.timedelta(days=rng.randint(40, 1000))
            if elder.name == "崔保仁" and kind == DeviceKind.GAS:
                installed = today - datetime.timedelta(days=79)  # the day after the leak (below)
            minutes = 60 if kind != DeviceKind.GAS else 240
            silent = rng.random() < 0.012
            beat = now - (
                datetime.timedelta(days=rng.randint(2, 6)) if silent else datetime.timedelta(minutes=rng.randint(0, minutes - 1))
            )
            rows.append(
                Device(
                    elder=elder,
                    region_id=elder.region_id,
                    kind=kind,
                    number=f"YT{prefix}{today.year % 100:02d}{serial:06d}",
                    installed_on=installed,
                    installed_by="社区（援通呼叫器免费安装）"
                    if kind in (DeviceKind.CALL_BUTTON, DeviceKind.WATCH)
                    else "燃气公司/社区",
                    battery=rng.randint(8, 19) if rng.random() < 0.03 else rng.randint(35, 100),
                    last_heartbeat_at=beat,
                    heartbeat_minutes=minutes,
                    silent_after=beat + datetime.timedelta(minutes=2 * minutes),
                )
            )
    Device.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# --- visits ---------------------------------------------------------------------------------------


def _checklist(rng, elder, concern=None) -> dict:
    from visits.models import Outcome

    answers = {
        "health": rng.choice(["good", "good", "good", "fair"]),
        "spirits": "good",
        "food": "ok",
        "clothing": "ok",
        "housing": "ok",
        "transport": "ok" if elder.ability_level in ("", "intact", "mild") else "hard",
        "medical": "ok",
        "family_support": "none" if elder.children_count == 0 else "yes",
        "water": "ok",
        "power": "ok",
        "gas": "ok",
        "heating": "ok",
        "care": "no",
        "rehab": "no",
        "company": rng.choice(["no", "no", "no", "yes"]),
        "adaptation": "no",
    }
    if concern:
        answers[concern[0]] = concern[1]
    outcome = Outcome.CONCERN if concern else Outcome.NORMAL
    return answers, outcome


def _period_days(kind: str, today: datetime.date):
    """(start, end) of each week or month of the past year, the current one up to today."""
    out = []
    if kind == "week":
        start = today - datetime.timedelta(days=today.weekday()) - datetime.timedelta(weeks=52)
        while start <= today:
            out.append((start, min(start + datetime.timedelta(days=6), today)))
            start += datetime.timedelta(days=7)
        return out
    start = (today.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    while start <= today:
        nxt = (start + datetime.timedelta(days=32)).replace(day=1)
        out.append((start, min(nxt - datetime.timedelta(days=1), today)))
        start = nxt
    return out


def _unreached(key, at_risk, monthly, year, month) -> set[int]:
    """The at-risk elders a community does not reach in a month: (1 - its rate that month) of
    them, drawn by a generator seeded by the community and the month, always including one of
    those visited monthly in turn (a realistic rate is never 100 %, 000/004). A month's rate
    is thus the community's rate whatever day the demo is seeded on; dice thrown per elder made
    a small community's month swing by ten points with the seeding date."""
    mrng = random.Random(f"{SEED}-{key}-{year}-{month:02}")
    rate = BASE_RATE[key] + MONTH_ADJUST.get(month, 0) + mrng.uniform(-0.02, 0.02)
    pks = [e.pk for e in at_risk]
    out = set(mrng.sample(pks, round((1 - rate) * len(pks)))) if pks else set()
    if monthly:
        out.add(monthly[(year * 12 + month) % len(monthly)])
    return out


def _visits(rng, key, at_risk, worker, users, today, now) -> int:
    """Each at-risk elder every month (weekly for those 80+ living alone or with their spouse
    only, as the high tier asks), reached at the community's rate; some 空访 first; partners
    visit their elders too; a few concerns open a need."""
    from needs.services import need_create
    from visits.models import MissedReason, Via, Visit

    tz = timezone.get_current_timezone()
    grid_user = users.get("grid") if key == "community" else None
    grid_names = {}
    watchers = {}
    for p in Pairing.objects.filter(elder__in=at_risk).order_by("starts_on", "id"):
        watchers.setdefault(p.elder_id, []).append(p)
    rows = []
    needs_left = 6 if key == "community" else 4
    # Every month someone visited monthly is missed (a realistic rate is never 100 %, 000/004):
    # one of them in turn, whatever the dice say about the others.
    monthly = [e.pk for e in at_risk if not (e.age_on(today) >= 80 and e.living_arrangement in ("alone", "spouse"))]
    unreached: dict[tuple[int, int], set[int]] = {}
    for elder in at_risk:
        weekly = elder.age_on(today) >= 80 and elder.living_arrangement in ("alone", "spouse")
        region_name = elder.region.name
        if region_name not in grid_names:
            grid_names[region_name] = f"{region_name} 网格员 {demo.person_name(rng, 'F')}"
        for start, end in _period_days("week" if weekly else "month", today):
            # The two draws that once decided "reached" per elder stay, so the rest of the demo
            # (concerns, needs, partners) comes out as before; the month's draw decides.
            rng.uniform(-0.02, 0.02)
            days = (end - start).days + 1
            weekly_roll = rng.random()
            first_day = start + datetime.timedelta(days=rng.randrange(days))
            month = (first_day.year, first_day.month) if weekly else (start.year, start.month)
            if month not in unreached:
                unreached[month] = _unreached(key, at_risk, monthly, *month)
            reached = elder.pk not in unreached[month] and (not weekly or weekly_roll < 0.85)
            at = datetime.datetime.combine(first_day, datetime.time(rng.randint(9, 16), rng.randrange(60)), tzinfo=tz)
            if at >= now:
                continue
            partners = [
                p for p in watchers.get(elder.pk, []) if p.starts_on <= first_day and (p.ends_on is None or p.ends_on > first_day)
            ]
            use_partner = partners and rng.random() < (0.7 if weekly else 0.35)
            if use_partner:
                p = partners[0]
                who = {"visitor": p.user, "visitor_name": p.partner_name, "pairing": p, "via": Via.PARTNER}
            elif elder.region_id == getattr(getattr(grid_user, "region", None), "pk", None):
                who = {"visitor": grid_user, "visitor_name": grid_user.full_name, "pairing": None}
                who["via"] = Via.HOME if rng.random() < 0.75 else Via.PHONE
            else:
                who = {"visitor": None, "visitor_name": grid_names[region_name], "pairing": None}
                who["via"] = Via.HOME if rng.random() < 0.75 else Via.PHONE
            if rng.random() < 0.06 or not reached:
                # 空访: nobody home, or the phone rang out; counted as an attempt, never as the visit.
                reason = rng.choice(MISSED_REASONS)
                rows.append(
                    Visit(
                        elder=elder,
                        region_id=elder.region_id,
                        visited_at=at,
                        missed=True,
                        missed_reason=reason,
                        created_by=worker,
                        notes="" if reason != "refused" else "老人说身体挺好，不用常来",
                        **{**who, "via": Via.PHONE if reason == "no_answer" else who["via"]},
                    )
                )
                if not reached:
                    continue
                later = at + datetime.timedelta(days=rng.randint(1, 4), hours=rng.randint(-2, 2))
                if later.date() > end or later >= now:
                    continue
                at = later
                if reason == MissedReason.IN_HOSPITAL:
                    who["via"] = Via.PHONE
            concern = None
            recent = (today - at.date()).days < 120
            if rng.random() < 0.05 or (needs_left and recent and rng.random() < 0.08):
                concern = CONCERNS[rng.randrange(len(CONCERNS))]
            checklist, outcome = _checklist(rng, elder, concern)
            need = None
            if concern and needs_left and recent:
                kind, description = concern[3]
                need = need_create(
                    by=worker,
                    elder=elder,
                    kind=kind,
                    source="visit",
                    description=description,
                    follow_up_on=at.date() + datetime.timedelta(days=14),
                )
                needs_left -= 1
            rows.append(
                Visit(
                    elder=elder,
                    region_id=elder.region_id,
                    visited_at=at,
                    checklist=checklist,
                    outcome=outcome,
                    notes=concern[2] if concern else "",
                    need=need,
                    created_by=worker,
                    **who,
                )
            )
    Visit.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def _dues(today, now) -> None:
    """The visit dues of the year and which visits met them (visits.duties, the visits app's
    set-based writers), so the monthly rate reads the demo's visits."""
    try:
        from visits.duties import dues_build, dues_match
    except ImportError:  # the visits app's writers arrive with its merge (the lead wires the names)
        return
    dues_build(start=today - datetime.timedelta(days=365), end=today, now=now)
    dues_match()


# --- alerts ---------------------------------------------------------------------------------------


def _policy(region, users) -> None:
    """安泰社区's chain: the default steps, its duty workers the community and grid worker."""
    from alerts.models import DEFAULT_STEPS, EscalationPolicy

    policy, created = EscalationPolicy.objects.get_or_create(
        region=region, defaults={"steps": DEFAULT_STEPS, "updated_by": users["community"]}
    )
    if created:
        policy.duty_users.set([users["community"], users["grid"]])


ALERT_MIX = [  # kind, source, weight
    ("sos", "device", 46),
    ("fall", "device", 14),
    ("inactivity", "device", 10),
    ("health", "hotline", 10),
    ("smoke", "device", 4),
    ("gas", "device", 4),
    ("sos", "hotline", 6),
    ("other", "watcher", 6),
]
OUTCOMES = {  # kind -> [(outcome, weight, note)]
    "default": [
        ("false_alarm", 62, "老人误按，电话确认无事"),
        ("helped_home", 24, "守望员上门查看，协助老人处理"),
        ("family", 9, "已联系子女，子女赶回处理"),
        ("hospital", 5, "送社区卫生服务中心就诊"),
    ],
    "smoke": [("false_alarm", 70, "做饭油烟触发，已开窗"), ("hazard_fixed", 30, "锅烧干冒烟，已关火通风")],
    "gas": [("false_alarm", 50, "报警器误报，燃气公司检测正常"), ("hazard_fixed", 50, "燃气阀门未关严，已关闭并通风")],
}
KIND_WORDS = {
    "sos": "一键呼救",
    "fall": "跌倒报警",
    "inactivity": "长时间无活动",
    "health": "老人来电说身体不适",
    "smoke": "烟感报警",
    "gas": "燃气报警",
    "other": "守望员报告老人家中异常",
}


def _pick(rng, options):
    total = sum(w for _o, w, *_rest in options)
    roll = rng.uniform(0, total)
    for option in options:
        roll -= option[1]
        if roll <= 0:
            return option
    return options[-1]


def _alerts(rng, key, elders, worker, users, today, now) -> int:
    """A year of alerts (about one in fifteen device holders a year calls, 驻春路 fewer), mostly
    false alarms and help at home, acknowledged within minutes, each with its timeline; seed
    000's fall and gas leak in 安泰社区; one alert of this morning still open."""
    from alerts.models import DEFAULT_STEPS, Alert, AlertEvent, Device

    devices = {}
    for d in Device.objects.filter(elder__in=elders).order_by("id"):
        devices.setdefault(d.elder_id, []).append(d)
    watchers = {}
    for p in Pairing.objects.filter(elder__in=elders, role="watcher", ends_on__isnull=True).select_related("user"):
        watchers.setdefault(p.elder_id, p)
    duty = [users["community"], users["grid"]] if key == "community" else [users["community2"]]
    holders = [e for e in elders if e.pk in devices]
    count = 70 if key == "community" else 24
    plans = []
    for _n in range(count):
        elder = holders[rng.randrange(len(holders))] if holders else elders[rng.randrange(len(elders))]
        (kind, source), _w = _pick(rng, [((k, s), w) for k, s, w in ALERT_MIX])
        day = today - datetime.timedelta(days=rng.randint(1, 364))
        hour = rng.choice([7, 8, 9, 10, 11, 14, 15, 16, 19, 20, 21, 22, 2, 5])
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60), rng.randrange(60))))
        outcome, _weight, note = _pick(rng, OUTCOMES.get(kind, OUTCOMES["default"]))
        plans.append({"elder": elder, "kind": kind, "source": source, "at": at, "outcome": outcome, "note": note})
    if key == "community":
        plans += _stories(elders, today)
    alerts, events_for = [], []
    for plan in plans:
        elder = plan["elder"]
        device = None
        if plan["source"] == "device":
            owned = devices.get(elder.pk, [])
            wanted_kind = {"gas": "gas", "fall": "fall_sensor"}.get(plan["kind"])
            device = next((d for d in owned if d.kind == wanted_kind), owned[0] if owned else None)
            if device is None:
                plan["source"] = "hotline"
        at = plan["at"]
        watcher = watchers.get(elder.pk)
        ack_minutes = plan.get("ack_minutes") or rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5, 7])
        acked_by = plan.get("acked_by") or (
            watcher.user if watcher and watcher.user_id and ack_minutes <= 3 else duty[rng.randrange(len(duty))]
        )
        acked = at + datetime.timedelta(minutes=ack_minutes, seconds=rng.randrange(50))
        resolved = acked + datetime.timedelta(minutes=plan.get("resolve_minutes") or rng.randint(6, 45))
        still_open = plan.get("open", False)
        alert = Alert(
            elder=elder,
            region_id=elder.region_id,
            device=device,
            source=plan["source"],
            kind=plan["kind"],
            description=plan.get("description", ""),
            occurred_at=at,
            received_at=at + datetime.timedelta(seconds=rng.randint(2, 20)),
            status="acknowledged" if still_open else "resolved",
            steps=DEFAULT_STEPS,
            step=0,
            acknowledged_at=acked,
            acknowledged_by=acked_by,
            resolved_at=None if still_open else resolved,
            resolved_by=None if still_open else acked_by,
            outcome="" if still_open else plan["outcome"],
            outcome_note="" if still_open else plan["note"],
            created_by=worker if plan["source"] != "device" else None,
        )
        events = _timeline(rng, alert, plan, watcher, users, ack_minutes, still_open)
        alert.step = sum(1 for e in events if e.kind in ("notified", "prompt"))
        alerts.append(alert)
        events_for.append(events)
    Alert.objects.bulk_create(alerts, batch_size=500)
    rows = []
    for alert, events in zip(alerts, events_for, strict=True):
        for e in events:
            e.alert = alert
            rows.append(e)
    AlertEvent.objects.bulk_create(rows, batch_size=500)
    if key == "community":
        _story_follow_ups(alerts, worker, users)
    return len(alerts)


def _timeline(rng, alert, plan, watcher, users, ack_minutes, still_open) -> list:
    """接警 → 通知守望员 (→ 家属 after 3 minutes, → 值班 after 6) → 响应 → notes → 处置完毕."""
    from alerts.models import AlertEvent

    t0 = alert.received_at
    words = plan.get("raised_text") or (
        f"{KIND_WORDS[alert.kind]}（设备 {alert.device.number}）" if alert.device else KIND_WORDS[alert.kind]
    )
    events = [AlertEvent(at=t0, kind="raised", text=words[:300])]
    name = watcher.partner_name if watcher else ""
    if watcher:
        text = f"已通知守望员 {name}（{watcher.phone_masked}）"
        ids = [watcher.user_id] if watcher.user_id else []
    else:
        text, ids = "老人无守望员，跳过此步", []
    events.append(AlertEvent(at=t0, kind="notified", step=0, target="watcher", text=text, to_user_ids=ids))
    if ack_minutes >= 3:
        contact = alert.elder.contacts.first() if hasattr(alert.elder, "contacts") else None
        family = f"已通知家属 {contact.name}（{contact.phone_masked}）" if contact else "老人未登记家属联系人，跳过此步"
        events.append(AlertEvent(at=t0 + datetime.timedelta(minutes=3), kind="notified", step=1, target="family", text=family))
    if ack_minutes >= 6:
        events.append(
            AlertEvent(
                at=t0 + datetime.timedelta(minutes=6),
                kind="notified",
                step=2,
                target="duty",
                text="已通知社区值班人员",
                to_user_ids=[users["community"].pk],
            )
        )
    by = alert.acknowledged_by
    events.append(AlertEvent(at=alert.acknowledged_at, kind="acknowledged", text=f"{by.full_name or by.username} 响应", by=by))
    for offset, note in plan.get("notes", []):
        events.append(AlertEvent(at=alert.acknowledged_at + datetime.timedelta(minutes=offset), kind="note", text=note, by=by))
    if not still_open:
        events.append(
            AlertEvent(
                at=alert.resolved_at, kind="resolved", text=f"{alert.get_outcome_display()}：{alert.outcome_note}"[:300], by=by
            )
        )
    return events


def _stories(elders, today) -> list[dict]:
    """Seed 000's two stories, and this morning's open alert on 张玉华's phone page."""
    out = []
    leng = _named(elders, "冷国兴")
    cui = _named(elders, "崔保仁")
    if leng is not None:
        at = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=152), datetime.time(19, 42, 10)))
        out.append(
            {
                "elder": leng,
                "kind": "fall",
                "source": "device",
                "at": at,
                "outcome": "hospital",
                "ack_minutes": 1,
                "resolve_minutes": 38,
                "description": "老伴按下呼叫器：冷国兴在家中突然摔倒，不能起身",
                "notes": [
                    (4, "守望员张玉华、互助员李树林赶到：老人摔倒在卧室，意识清醒，不能站立"),
                    (9, "6楼无电梯，张玉华、李树林背老人下楼，打车送市人民医院急诊"),
                    (31, "已到医院急诊，李树林垫付住院押金；已联系子女"),
                ],
                "note": "守望员、互助员背老人下楼送医，送医及时，未耽误治疗",
            }
        )
    if cui is not None:
        at = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=80), datetime.time(10, 15, 30)))
        out.append(
            {
                "elder": cui,
                "kind": "gas",
                "source": "watcher",
                "at": at,
                "outcome": "hazard_fixed",
                "ack_minutes": 1,
                "resolve_minutes": 50,
                "raised_text": "守望员单井英来电：入户看望时闻到屋内煤气味重",
                "description": "守望员单井英入户看望空巢老人崔保仁老两口，闻到屋内煤气味重，检查发现煤气罐泄漏",
                "notes": [
                    (1, "单井英已关闭煤气罐阀门、开窗通风，老两口已到楼道"),
                    (18, "燃气公司到场更换减压阀和软管，检测无泄漏"),
                ],
                "note": "煤气罐减压阀泄漏，已更换；叮嘱老人用后关阀，次日安装燃气报警器",
            }
        )
    watched = Pairing.objects.filter(partner_name="张玉华", role="watcher", ends_on__isnull=True).exclude(elder__name="冷国兴")
    other = watched.select_related("elder").first()
    if other is not None:
        at = timezone.now() - datetime.timedelta(minutes=25)
        out.append(
            {
                "elder": other.elder,
                "kind": "inactivity",
                "source": "device",
                "at": at,
                "outcome": "",
                "ack_minutes": 2,
                "open": True,
                "notes": [(3, "张玉华正在上门查看")],
                "note": "",
            }
        )
    return out


def _story_follow_ups(alerts, worker, users) -> None:
    """After the stories: 冷国兴's fall is a major event (visits.MajorEvent) with a call while he
    was in hospital and a home visit after he came home, which opened a need; 单井英's visit to
    崔保仁 that found the leak is on record with the alert it raised."""
    from needs.services import need_create
    from visits.models import EventKind, MajorEvent, MissedReason, Outcome, Via, Visit

    for alert in alerts:
        elder = alert.elder
        if alert.kind == "fall" and alert.outcome == "hospital" and elder.name == "冷国兴":
            MajorEvent.objects.create(
                elder=elder,
                region_id=alert.region_id,
                kind=EventKind.FALL,
                happened_at=alert.occurred_at,
                description="在家中摔倒，守望员、互助员背下楼送医",
                alert=alert,
                created_by=worker,
            )
            need = need_create(
                by=worker,
                elder=elder,
                kind="special",
                source="visit",
                description="摔伤出院后行动更不便，需要上门康复护理和助浴",
                follow_up_on=timezone.localdate(alert.occurred_at) + datetime.timedelta(days=26),
            )
            Visit.objects.bulk_create(
                [
                    Visit(
                        elder=elder,
                        region_id=elder.region_id,
                        visited_at=alert.occurred_at + datetime.timedelta(days=1, hours=-4),
                        via=Via.PHONE,
                        visitor=worker,
                        visitor_name=worker.full_name,
                        missed=True,
                        missed_reason=MissedReason.IN_HOSPITAL,
                        notes="住院中，已电话联系子女了解情况",
                        created_by=worker,
                    ),
                    Visit(
                        elder=elder,
                        region_id=elder.region_id,
                        visited_at=alert.occurred_at + datetime.timedelta(days=12, hours=-5),
                        via=Via.HOME,
                        visitor=worker,
                        visitor_name=worker.full_name,
                        outcome=Outcome.CONCERN,
                        checklist={"health": "poor", "spirits": "low", "transport": "hard", "care": "yes", "rehab": "yes"},
                        notes="出院回家，行动更不便，需康复护理",
                        need=need,
                        alert=alert,
                        created_by=worker,
                    ),
                ]
            )
        if alert.kind == "gas" and alert.source == "watcher" and elder.name == "崔保仁":
            partner = Pairing.objects.filter(elder=elder, partner_name="单井英", role="watcher").first()
            Visit.objects.create(
                elder=elder,
                region_id=elder.region_id,
                visited_at=alert.occurred_at - datetime.timedelta(minutes=3),
                via=Via.PARTNER,
                visitor_name="单井英",
                pairing=partner,
                outcome=Outcome.EMERGENCY,
                checklist={"health": "good", "spirits": "good", "gas": "hazard"},
                notes="屋内煤气味重，煤气罐泄漏；已开窗通风、关阀，报社区",
                alert=alert,
                created_by=worker,
            )
