"""驻春路社区's 爱心时间银行 as seed 004 reports it (issue 13, item 8): 103 retired cadres who
brought 630 residents into the bank (733 members), 112 services ("完成服务110余次") of 203 hours
("累计服务203小时") — the delivered time-coin orders of its volunteers (devdata/demo_orders.py),
each credited through the ledger — and 81 desk withdrawals ("时间币存取次数达81次"), each with the
member's confirmation. Beside them, not counted in the seed's figures: a few gifts to a parent's
account and donations to the pool, a pending application, and a relative registered as an
elder's proxy.

Members are written in bulk (rows, accounts and their "create" records at once: 733 service
calls would be most of the seed's time); every coin moves through timebank.ledger, so balances
are the ledger's and its audit holds. Idempotent: a community whose bank exists is left alone.
Deterministic: a seeded generator; times counted back from the day of the run.
"""

import datetime
import random

from django.utils import timezone

from devdata import demo

CADRES = 103
RESIDENTS = 630
WITHDRAWALS = 81
CATEGORY_OF_ITEM = {
    "tb_companionship": "mutual_care",
    "tb_errand": "mutual_care",
    "tb_vital_signs": "health_care",
    "tb_hardship_visit": "relief",
}
LEVELS = [
    {
        "level": 1,
        "label": "一星义工",
        "min_minutes": 600,
        "min_rating": 0,
        "incentive": "颁发一星义工证书，优先参加社区文体活动。",
    },
    {"level": 2, "label": "二星义工", "min_minutes": 1800, "min_rating": 4.0, "incentive": "每年一次免费体检，社区公示栏表扬。"},
    {
        "level": 3,
        "label": "三星义工",
        "min_minutes": 3000,
        "min_rating": 4.5,
        "incentive": "推荐参评“最美志愿者”，纳入全市评先评优人选。",
    },
]


def seed_timebank(*, regions, users) -> dict | None:
    """The bank, its members and a year of its ledger; None when it is already there."""
    from timebank.models import Bank

    community = regions["community2"]
    if Bank.objects.filter(region=community).exists():
        return None
    try:
        from timebank import ledger
    except ImportError:  # before h/tbledger is merged: the bank and its members, no coins
        ledger = None
    desk = users["community2"]
    rng = random.Random(20240013)
    bank = _bank(community, desk)
    members = _members(bank, regions, users, desk, rng)
    if ledger is None:
        return {"members": sum(map(len, members.values())), "transfers": 0}
    transfers = _ledger(ledger, bank, members, users, desk, rng)
    return {"members": sum(map(len, members.values())), "transfers": transfers}


def _bank(community, desk):
    from timebank.services import bank_open

    return bank_open(
        by=desk,
        region=community,
        name="驻春路社区爱心时间银行",
        rules={"min_age": 16, "residence": True, "approval": True},
        rates={"health_care": 1200, "legal_aid": 1500},
        credit_line_minutes=120,
        levels=LEVELS,
    )


def _members(bank, regions, users, desk, rng) -> dict:
    """733 active members in bulk: the four volunteers of the community (one with the demo login
    `volunteer2`), 103 retired cadres (the register's first), and residents; one application
    waits. Answers {"volunteers": [Member], "cadres": [...], "residents": [...]}."""
    from audit.services import change_records_from_rows
    from core.phones import store_phone
    from elders.models import Elder
    from providers.models import Volunteer
    from timebank.models import Account, AccountKind, Member, MemberStatus

    community = regions["community2"]
    grids = regions["grids2"]
    today = timezone.localdate()
    volunteers = list(Volunteer.objects.filter(region=community, status="approved").order_by("id"))
    login = users.get("volunteer2")
    if login is not None and volunteers and not Volunteer.objects.filter(user=login).exists() and volunteers[0].user_id is None:
        volunteers[0].user = login
        volunteers[0].save(update_fields=["user"])
    elders = list(Elder.objects.filter(region__path__startswith=community.path, status="active").order_by("id")[:400])
    rows = []

    def member(name, region, *, elder=None, volunteer=None, user=None, cadre=False, phone=""):
        m = Member(
            bank=bank,
            region=region,
            name=name,
            elder=elder,
            volunteer=volunteer,
            user=user,
            is_retired_cadre=cadre,
            status=MemberStatus.ACTIVE,
            joined_on=today - datetime.timedelta(days=rng.randint(20, 400)),
            decided_by=desk,
        )
        if phone:
            store_phone(m, phone)
        rows.append(m)
        return m

    made = {"volunteers": [], "cadres": [], "residents": []}
    for v in volunteers:
        made["volunteers"].append(member(v.name, v.region, volunteer=v, user=v.user, phone=demo.mobile(rng)))
    for i in range(CADRES):
        elder = elders[i] if i < len(elders) else None
        name = elder.name if elder else demo.person_name(rng, rng.choice("MF"))
        region = elder.region if elder else grids[i % len(grids)]
        made["cadres"].append(member(name, region, elder=elder, cadre=True, phone=demo.mobile(rng)))
    for i in range(RESIDENTS - len(volunteers)):
        k = CADRES + i
        elder = elders[k] if k < len(elders) else None
        name = elder.name if elder else demo.person_name(rng, rng.choice("MF"))
        region = elder.region if elder else grids[k % len(grids)]
        made["residents"].append(member(name, region, elder=elder, phone=demo.mobile(rng) if rng.random() < 0.7 else ""))
    Member.objects.bulk_create(rows, batch_size=1000)
    Account.objects.bulk_create(
        [Account(bank=bank, kind=AccountKind.PERSONAL, member=m, name=m.name) for m in rows], batch_size=1000
    )
    change_records_from_rows(
        model=Member,
        rows=[{"object_id": m.pk, "changes": {"name": [None, m.name]}, "region_id": m.region_id} for m in rows],
        by=desk,
        action="create",
        note="演示数据",
    )
    # one application to decide, and a relative as an elder's proxy (family2's elder if linked)
    from timebank.members import member_apply, proxy_register

    member_apply(
        by=desk, bank=bank, name="周桂芳", region=grids[0], birth_date=today.replace(year=today.year - 58), phone=demo.mobile(rng)
    )
    family = users.get("family2")
    if family is not None and made["cadres"]:
        proxy_register(
            by=desk,
            member=made["cadres"][0],
            user=family,
            name=family.full_name or "家属",
            relation="子女",
            consent_note="本人签字的授权书，存档于社区",
            can_give=True,
            starts_on=today - datetime.timedelta(days=30),
        )
    return made


def _ledger(ledger, bank, members, users, desk, rng) -> int:
    """The services (one per delivered time-coin order, at its time), the 81 desk withdrawals
    with confirmations, and a few gifts and donations, in time order."""
    from core.crypto import lookup_hash
    from orders.models import DELIVERED, Order
    from timebank.ledger import system_account
    from timebank.models import Account, Confirmation, TransferKind

    accounts = {a.member_id: a for a in Account.objects.filter(bank=bank, kind="personal")}
    by_volunteer = {m.volunteer_id: m for m in members["volunteers"]}
    orders = list(
        Order.objects.filter(
            region__path__startswith=bank.region.path, payment_mode="time_coin", status__in=DELIVERED, volunteer__isnull=False
        )
        .select_related("item")
        .order_by("checkout_at", "id")
    )
    events = []
    for o in orders:
        member = by_volunteer.get(o.volunteer_id)
        if member is None:
            continue
        minutes = int((o.scheduled_end - o.scheduled_start).total_seconds() // 60)
        events.append((o.checkout_at or o.scheduled_end, "service", member, minutes, o))
    if not events:
        return 0
    first = min(e[0] for e in events)
    now = timezone.now()
    span = max((now - first).total_seconds(), 3600 * 24)
    spenders = members["cadres"] + members["residents"]
    # gifts from the volunteers to elders (a parent, a neighbour), who then withdraw at the desk
    receivers = rng.sample(spenders, 24)
    for i, r in enumerate(receivers):
        at = first + datetime.timedelta(seconds=span * (0.25 + 0.5 * i / len(receivers)))
        events.append((at, "gift", members["volunteers"][i % len(members["volunteers"])], 90, r))
    for i in range(WITHDRAWALS):
        at = first + datetime.timedelta(seconds=span * (0.3 + 0.69 * i / WITHDRAWALS))
        events.append((at, "withdraw", receivers[i % len(receivers)], rng.choice([20, 30, 30]), None))
    for i, v in enumerate(members["volunteers"]):
        events.append((first + datetime.timedelta(seconds=span * (0.6 + 0.05 * i)), "donate", v, 60, None))
    events.sort(key=lambda e: (e[0], e[1] != "service"))
    issue = system_account(bank.pk, "issue")
    pool = system_account(bank.pk, "pool")
    written = 0
    for at, what, member, minutes, extra in events:
        account = accounts[member.pk]
        if what == "service":
            category = CATEGORY_OF_ITEM.get(extra.item.code, "mutual_care")
            credited = minutes * int(bank.rates.get(category, 1000)) // 1000
            ledger.post(
                bank=bank,
                kind=TransferKind.SERVICE,
                legs=[(issue, -credited), (account, credited)],
                by=desk,
                category=category,
                note=extra.item.name,
                order=extra,
                served_minutes=minutes,
                idempotency_key=f"demo-service-{extra.pk}",
                at=at,
            )
        elif what == "gift":
            ledger.post(
                bank=bank,
                kind=TransferKind.GIFT,
                legs=[(account, -minutes), (accounts[extra.pk], minutes)],
                by=desk,
                note="转赠给老人",
                at=at,
            )
        elif what == "donate":
            ledger.post(
                bank=bank,
                kind=TransferKind.DONATION,
                legs=[(account, -minutes), (pool, minutes)],
                by=desk,
                note="捐赠公益池",
                at=at,
            )
        else:
            ledger.post(
                bank=bank,
                kind=TransferKind.DESK_WITHDRAWAL,
                legs=[(account, -minutes), (issue, minutes)],
                by=desk,
                note=rng.choice(["兑换助浴服务", "兑换理发服务", "兑换陪同就医", "兑换上门保洁"]),
                confirmation=Confirmation.CODE,
                confirmation_ref=lookup_hash(f"demo-{member.pk}-{written}"),
                at=at,
            )
        written += 1
    from timebank.members import levels_recompute

    levels_recompute(by=desk, bank=bank)
    return written
