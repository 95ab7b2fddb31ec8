"""The time bank's ledger: every posting of time coins goes through `post` (docs/timebank-ledger.md).

Double entry. A `Transfer` is one event; its `Movement`s (legs) say how many minutes go into
(positive) or out of (negative) which account, and always sum to zero. The bank's own accounts
make that possible: service hours come out of the **issue** account (its balance is minus every
coin ever earned and not spent), a time-coin order's coins wait in **hold**, coins cross between
banks through each bank's **clearing** account. So the sum over every account of a bank is zero,
always, and `audit()` proves it every day.

Limits and locks. `post` locks every account of the transfer in id order (SELECT … FOR UPDATE:
two transfers over the same accounts queue, never deadlock), applies the legs, and only then
checks each account that paid: a personal account may not end below minus its credit line (its
own, else the bank's), a pool not below zero; issue, hold and clearing are not limited. Refused:
nothing is written. The stored `Account.balance_minutes` moves in the same transaction, so it
always equals the sum of the account's movements (the audit checks that too).

Append-only. Nothing here updates or deletes a movement or a transfer (on PostgreSQL a trigger
refuses it, migration 0002); a correction is a `reverse`, a new transfer with every leg negated.

Idempotency. A posting with an `idempotency_key` is made once per bank: a retry (or a concurrent
duplicate, which waits on the same account locks) gets the first transfer back.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from timebank.models import (
    Account,
    AccountKind,
    Bank,
    Confirmation,
    Member,
    MemberStatus,
    Movement,
    Proxy,
    Transfer,
    TransferKind,
)

log = logging.getLogger(__name__)

# Kinds a desk may not reverse by hand: the order link posts and undoes them itself, and a move
# between banks crosses two ledgers (docs/timebank-ledger.md, "Reversal").
NOT_REVERSIBLE = frozenset(
    {TransferKind.HOLD, TransferKind.TAKE, TransferKind.RELEASE, TransferKind.MOVE_OUT, TransferKind.MOVE_IN}
)
# Member states whose account no longer moves (a closed account is refused anyway).
GONE = frozenset({MemberStatus.LEFT, MemberStatus.MOVED, MemberStatus.REFUSED})
NOTE_MAX = 200
KEY_MAX = 64
CITY_LEVEL = 2  # regions.models.Level.CITY (a bank moves coins within one city)


# --- limits --------------------------------------------------------------------------------------


def floor_of(account: Account, bank: Bank) -> int | None:
    """The lowest balance `account` may end at; None: not limited (issue, hold, clearing)."""
    if account.kind == AccountKind.PERSONAL:
        line = account.credit_line_minutes if account.credit_line_minutes is not None else bank.credit_line_minutes
        return -int(line or 0)
    if account.kind == AccountKind.POOL:
        return 0
    return None


def _shortfall_message(account: Account, before: int, need: int, floor: int) -> str:
    if floor < 0:
        return _("余额不足：%(name)s 的账户余额 %(b)d 分钟（可透支 %(c)d 分钟），本次需 %(n)d 分钟") % {
            "name": account.name,
            "b": before,
            "c": -floor,
            "n": need,
        }
    return _("余额不足：%(name)s 的账户余额 %(b)d 分钟，本次需 %(n)d 分钟") % {"name": account.name, "b": before, "n": need}


# --- the one posting -------------------------------------------------------------------------------


def _clean_legs(legs) -> list[tuple[Account, int]]:
    if not legs or len(legs) < 2:
        raise ValidationError({"legs": _("一笔交易至少涉及两个账户")})
    out = []
    for account, minutes in legs:
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise ValidationError({"minutes": _("分钟数应为整数")})
        if minutes == 0:
            raise ValidationError({"minutes": _("%(name)s 的分钟数为 0，请删去这一项或填写分钟数") % {"name": account.name}})
        if abs(minutes) > 10**9:
            raise ValidationError({"minutes": _("分钟数过大，请核对")})
        out.append((account, minutes))
    if sum(m for _a, m in out) != 0:
        raise ValidationError({"legs": _("交易各方分钟数合计应为 0（复式记账），请核对")})
    return out


def _clean_text(value: str, field_name: str, label, max_length: int) -> str:
    from core.text import refuse_invisible_characters

    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field_name: exc.messages}) from None
    if len(value) > max_length:
        raise ValidationError({field_name: _("%(label)s最多 %(n)d 个字，请精简") % {"label": label, "n": max_length}})
    return value


def _existing(bank: Bank, key: str, kind: str) -> Transfer | None:
    if not key:
        return None
    found = Transfer.objects.filter(bank=bank, idempotency_key=key).first()
    if found is not None and found.kind != kind:
        raise ValidationError({"idempotency_key": _("此幂等键已用于另一类交易，请换一个")})
    return found


@transaction.atomic
def post(
    *,
    bank: Bank,
    kind: str,
    legs: list[tuple[Account, int]],
    by,
    category: str = "",
    note: str = "",
    order=None,
    served_minutes: int | None = None,
    confirmation: str = "",
    confirmation_ref: str = "",
    proxy: Proxy | None = None,
    idempotency_key: str = "",
    at: datetime.datetime | None = None,
    reverses: Transfer | None = None,
) -> Transfer:
    """Post one transfer of `bank`: its legs (account, minutes) sum to zero; every account is the
    bank's and open; after the legs apply, no account that paid is below its floor. Atomic; with
    `idempotency_key`, once per bank (a retry returns the first transfer)."""
    if kind not in TransferKind.values:
        raise ValidationError({"kind": _("交易类型不正确")})
    legs = _clean_legs(legs)
    note = _clean_text(note, "note", _("说明"), NOTE_MAX)
    key = (idempotency_key or "").strip()
    if len(key) > KEY_MAX or (key and not key.isprintable()):
        raise ValidationError({"idempotency_key": _("幂等键应为 1 至 64 个可见字符")})
    earlier = _existing(bank, key, kind)
    if earlier is not None:
        return earlier
    ids = sorted({a.pk for a, _m in legs})
    if len(ids) != len(legs):
        raise ValidationError({"legs": _("同一账户在一笔交易中只能出现一次，请合并")})
    # Locks in id order: two transfers over the same accounts queue instead of deadlocking.
    locked = {a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    if len(locked) != len(ids):
        raise ValidationError({"legs": _("账户不存在，请刷新后重试")})
    # A concurrent duplicate waited on the locks above: it finds the first one now.
    earlier = _existing(bank, key, kind)
    if earlier is not None:
        return earlier
    members = {m.pk: m for m in Member.objects.filter(pk__in=[a.member_id for a in locked.values() if a.member_id])}
    for account in locked.values():
        if account.bank_id != bank.pk:
            raise ValidationError(
                {"legs": _("%(name)s 不是%(bank)s的账户：跨行只能办理会员转出") % {"name": account.name, "bank": bank.name}}
            )
        if account.closed_at is not None:
            raise ValidationError({"legs": _("%(name)s 的账户已销户，不能记账") % {"name": account.name}})
        member = members.get(account.member_id)
        if member is not None and member.status in GONE and reverses is None:
            raise ValidationError(
                {"legs": _("%(name)s 的会员状态为“%(s)s”，不能记账") % {"name": account.name, "s": member.get_status_display()}}
            )
    after: dict[int, int] = {}
    for account, minutes in legs:
        current = locked[account.pk]
        before = current.balance_minutes
        after[current.pk] = before + minutes
        floor = floor_of(current, bank)
        if minutes < 0 and floor is not None and after[current.pk] < floor:
            raise ValidationError({"minutes": _shortfall_message(current, before, -minutes, floor)})
    at = at or timezone.now()
    transfer = Transfer(
        bank=bank,
        kind=kind,
        category=category or "",
        note=note,
        order=order,
        served_minutes=served_minutes,
        confirmation=confirmation or "",
        confirmation_ref=(confirmation_ref or "")[:200],
        proxy=proxy,
        idempotency_key=key,
        at=at,
        created_by=by if getattr(by, "pk", None) else None,
        reverses=reverses,
    )
    transfer.full_clean(
        exclude=["bank", "order", "proxy", "reverses", "counterpart", "created_by"],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        with transaction.atomic():
            transfer.save()
    except IntegrityError:
        # The same key from a request the locks did not serialise (other accounts): the first wins.
        earlier = _existing(bank, key, kind) if key else None
        if earlier is not None:
            return earlier
        if reverses is not None:
            raise ValidationError({"transfer": _("这笔交易已冲正，不能重复冲正")}) from None
        raise
    Movement.objects.bulk_create(
        [
            Movement(transfer=transfer, account_id=account.pk, minutes=minutes, balance_after=after[account.pk], at=at)
            for account, minutes in legs
        ]
    )
    for pk, balance in after.items():
        Account.objects.filter(pk=pk).update(balance_minutes=balance)
    for account, _minutes in legs:
        account.balance_minutes = after[account.pk]  # the caller's objects show the new balance
    return transfer


# --- reversal -------------------------------------------------------------------------------------


# Kinds the orders link itself may reverse (`for_order=True`): a take whose visit's verification
# was rejected or disputed (timebank.orders_link.refund_for_order).
ORDER_REVERSIBLE = frozenset({TransferKind.TAKE})


@transaction.atomic
def reverse(*, transfer: Transfer, by, note: str, for_order: bool = False) -> Transfer:
    """冲正: a new transfer with every leg of `transfer` negated, naming it. Once per transfer; a
    reversal is not reversed (record the right transfer again instead); the limits still hold.
    `for_order`: the orders link undoing its own take (not offered to the desk or the API)."""
    note = _clean_text(note, "note", _("冲正原因"), NOTE_MAX)
    if not note:
        raise ValidationError({"note": _("请填写冲正原因")})
    original = Transfer.objects.select_for_update().select_related("bank").get(pk=transfer.pk)
    if original.kind == TransferKind.REVERSAL:
        raise ValidationError({"transfer": _("冲正交易不能再冲正；如需更正，请重新登记一笔正确的交易")})
    if original.kind in NOT_REVERSIBLE and not (for_order and original.kind in ORDER_REVERSIBLE):
        raise ValidationError(
            {"transfer": _("“%(k)s”由系统随工单或转出自动记账，不能手工冲正") % {"k": original.get_kind_display()}}
        )
    done = Transfer.objects.filter(reverses=original).first()
    if done is not None:
        raise ValidationError(
            {
                "transfer": _("这笔交易已于 %(at)s 冲正，不能重复冲正")
                % {"at": timezone.localtime(done.at).strftime("%Y-%m-%d %H:%M")}
            }
        )
    legs = [(m.account, -m.minutes) for m in original.movements.select_related("account").order_by("id")]
    reversal = post(
        bank=original.bank,
        kind=TransferKind.REVERSAL,
        legs=legs,
        by=by,
        category=original.category,
        note=note,
        order=original.order,
        reverses=original,
    )
    change_record(
        obj=original.bank,
        action="reverse",
        changes={"transfer": [original.pk, reversal.pk]},
        by=by,
        region=original.bank.region,
        note=note,
    )
    return reversal


# --- the shapes callers use ------------------------------------------------------------------------


def _distinct(accounts) -> None:
    seen = set()
    for account in accounts:
        if account.pk in seen:
            raise ValidationError({"payees": _("%(name)s 重复出现，请合并为一项") % {"name": account.name}})
        seen.add(account.pk)


def _positive(minutes, label="minutes") -> int:
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ValidationError({label: _("分钟数应为正整数")})
    return minutes


def group(
    *,
    bank: Bank,
    payer_account: Account,
    payees: list[tuple[Account, int]],
    by,
    category: str = "",
    note: str = "",
    kind: str = TransferKind.GROUP,
    idempotency_key: str = "",
    at=None,
) -> Transfer:
    """One account pays many (a group activity pays each participant; a pool pays incentives): one transfer."""
    if not payees:
        raise ValidationError({"payees": _("请至少选择一位参与者")})
    _distinct([a for a, _m in payees])
    total = sum(_positive(m) for _a, m in payees)
    legs = [(payer_account, -total), *payees]
    return post(bank=bank, kind=kind, legs=legs, by=by, category=category, note=note, idempotency_key=idempotency_key, at=at)


def collect(
    *,
    bank: Bank,
    payee_account: Account,
    payers: list[tuple[Account, int]],
    by,
    category: str = "",
    note: str = "",
    kind: str = TransferKind.GROUP,
    idempotency_key: str = "",
    at=None,
) -> Transfer:
    """Many accounts pay one (participants pay for a shared service): one transfer."""
    if not payers:
        raise ValidationError({"payers": _("请至少选择一位付款人")})
    _distinct([a for a, _m in payers])
    total = sum(_positive(m) for _a, m in payers)
    legs = [*((a, -m) for a, m in payers), (payee_account, total)]
    return post(bank=bank, kind=kind, legs=legs, by=by, category=category, note=note, idempotency_key=idempotency_key, at=at)


def proxy_check(*, proxy: Proxy | None, account: Account, right: str, on: datetime.date | None = None) -> None:
    """A proxy acting for `account`'s member must be theirs, in force, and hold `right` (can_give, can_spend)."""
    if proxy is None:
        return
    on = on or timezone.localdate()
    if proxy.member_id != account.member_id:
        raise ValidationError({"proxy": _("%(p)s 不是 %(name)s 的代理人") % {"p": proxy.name, "name": account.name}})
    if not proxy.in_force_on(on):
        raise ValidationError({"proxy": _("%(p)s 的代理期限不包括今天，请先续期") % {"p": proxy.name}})
    if not getattr(proxy, right):
        words = _("转赠、捐赠") if right == "can_give" else _("兑换服务")
        raise ValidationError({"proxy": _("%(p)s 没有代为%(w)s的权限") % {"p": proxy.name, "w": words}})


def gift(
    *, from_account: Account, to_account: Account, minutes: int, by, note: str = "", proxy=None, idempotency_key: str = ""
) -> Transfer:
    """转赠: a member gives coins to another member of the same bank (a relative's account)."""
    _positive(minutes)
    if from_account.kind != AccountKind.PERSONAL or to_account.kind != AccountKind.PERSONAL:
        raise ValidationError({"to_account": _("转赠只能在会员个人账户之间进行；捐给公益池请选择捐赠")})
    if from_account.pk == to_account.pk:
        raise ValidationError({"to_account": _("不能转赠给自己")})
    proxy_check(proxy=proxy, account=from_account, right="can_give")
    return post(
        bank=from_account.bank,
        kind=TransferKind.GIFT,
        legs=[(from_account, -minutes), (to_account, minutes)],
        by=by,
        note=note,
        proxy=proxy,
        confirmation=Confirmation.PROXY if proxy else "",
        idempotency_key=idempotency_key,
    )


def donate(
    *, from_account: Account, minutes: int, by, pool: Account | None = None, note: str = "", proxy=None, idempotency_key: str = ""
) -> Transfer:
    """捐赠: a member gives coins to a pool of their bank (its first pool unless named)."""
    _positive(minutes)
    if from_account.kind != AccountKind.PERSONAL:
        raise ValidationError({"from_account": _("捐赠只能从会员个人账户发起")})
    if pool is None:
        pool = (
            Account.objects.filter(bank_id=from_account.bank_id, kind=AccountKind.POOL, closed_at__isnull=True)
            .order_by("id")
            .first()
        )
    if pool is None or pool.kind != AccountKind.POOL:
        raise ValidationError({"pool": _("请选择本行的公益池")})
    proxy_check(proxy=proxy, account=from_account, right="can_give")
    return post(
        bank=from_account.bank,
        kind=TransferKind.DONATION,
        legs=[(from_account, -minutes), (pool, minutes)],
        by=by,
        note=note,
        proxy=proxy,
        confirmation=Confirmation.PROXY if proxy else "",
        idempotency_key=idempotency_key,
    )


def spend(
    *, from_account: Account, minutes: int, by, note: str = "", category: str = "", proxy=None, idempotency_key: str = ""
) -> Transfer:
    """兑换服务: a member (or their proxy with can_spend) pays coins for a service outside the
    orders (a neighbour's help, the bank's own offer): a withdrawal of kind spend, confirmed
    online (or by the proxy). A time-coin order holds and takes its coins itself (orders_link)."""
    return withdraw(
        member_account=from_account,
        minutes=minutes,
        by=by,
        confirmation=Confirmation.PROXY if proxy else Confirmation.ONLINE,
        note=note,
        category=category,
        proxy=proxy,
        idempotency_key=idempotency_key,
        kind=TransferKind.SPEND,
    )


def system_account(bank_id: int, kind: str) -> Account:
    found = Account.objects.filter(bank_id=bank_id, kind=kind).order_by("id").first()
    if found is None:
        raise ValidationError({"bank": _("本行缺少%(k)s账户，请联系管理员") % {"k": AccountKind(kind).label}})
    return found


def rate_of(bank: Bank, category: str) -> int:
    """The bank's per-mille rate for `category` (Bank.rates; not listed: 1000)."""
    try:
        rate = int((bank.rates or {}).get(category, 1000))
    except (TypeError, ValueError):
        rate = 1000
    return max(rate, 0)


def coins_for(bank: Bank, category: str, minutes: int) -> int:
    """Minutes credited for `minutes` served: × the category's rate / 1000, floored."""
    return minutes * rate_of(bank, category) // 1000


def deposit_service(
    *,
    member_account: Account,
    minutes_served: int,
    category: str,
    by,
    order=None,
    note: str = "",
    kind: str = TransferKind.SERVICE,
    idempotency_key: str = "",
    at=None,
    confirmation: str = "",
    confirmation_ref: str = "",
) -> Transfer:
    """存入: service hours credited from the bank's issue account to the member, minutes served ×
    the category's rate / 1000 (floor). An order's deposit is once (key order:<id>:service); the
    desk's deposit carries the member's confirmation."""
    _positive(minutes_served, "minutes_served")
    if member_account.kind != AccountKind.PERSONAL:
        raise ValidationError({"member_account": _("服务时长只能存入会员个人账户")})
    bank = member_account.bank
    coins = coins_for(bank, category, minutes_served)
    if coins <= 0:
        raise ValidationError({"category": _("该类别折算率为 0，本次服务不存入时间币")})
    if order is not None and not idempotency_key:
        idempotency_key = f"order:{order.pk}:service"
    return post(
        bank=bank,
        kind=kind,
        legs=[(system_account(bank.pk, AccountKind.ISSUE), -coins), (member_account, coins)],
        by=by,
        category=category,
        note=note,
        order=order,
        served_minutes=minutes_served,
        idempotency_key=idempotency_key,
        at=at,
        confirmation=confirmation,
        confirmation_ref=confirmation_ref,
    )


def withdraw(
    *,
    member_account: Account,
    minutes: int,
    by,
    confirmation: str,
    confirmation_ref: str = "",
    note: str = "",
    category: str = "",
    proxy=None,
    idempotency_key: str = "",
    kind: str = TransferKind.DESK_WITHDRAWAL,
) -> Transfer:
    """取出 at the desk: coins spent on a service outside the orders go back to the issue account,
    with the member's confirmation (online, signature, one-time code or their proxy)."""
    _positive(minutes)
    if member_account.kind != AccountKind.PERSONAL:
        raise ValidationError({"member_account": _("只能从会员个人账户取出")})
    if confirmation not in Confirmation.values or not confirmation:
        raise ValidationError({"confirmation": _("请选择本人确认方式")})
    if confirmation == Confirmation.PROXY and proxy is None:
        raise ValidationError({"proxy": _("代理人确认请选择代理人")})
    proxy_check(proxy=proxy, account=member_account, right="can_spend")
    bank = member_account.bank
    return post(
        bank=bank,
        kind=kind,
        legs=[(member_account, -minutes), (system_account(bank.pk, AccountKind.ISSUE), minutes)],
        by=by,
        category=category,
        note=note,
        confirmation=confirmation,
        confirmation_ref=confirmation_ref,
        proxy=proxy,
        idempotency_key=idempotency_key,
    )


# --- moving to another bank -------------------------------------------------------------------------


def city_of(region) -> int | None:
    """The id of the city (level CITY) `region` is in, or None."""
    from regions.selectors import region_ancestors

    return next((r.pk for r in region_ancestors(region) if r.level == CITY_LEVEL), None)


@transaction.atomic
def move_member(*, member: Member, to_bank: Bank, by, region=None) -> Member:
    """转出: the member moves to another community's bank of the same city and their coins follow:
    their account → bank A's clearing (MOVE_OUT), bank B's clearing → their new account in B
    (MOVE_IN), the two transfers naming each other; the old account is closed, the old
    membership marked moved, a new one opened in B (active, the same person). Returns it."""
    from timebank.services import member_account_open

    member = Member.objects.select_for_update().select_related("bank__region").get(pk=member.pk)
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError(
            {
                "member": _("只有状态为“正常”的会员可以转出，%(name)s 当前为“%(s)s”")
                % {"name": member.name, "s": member.get_status_display()}
            }
        )
    if to_bank.pk == member.bank_id:
        raise ValidationError({"to_bank": _("转入的时间银行与原银行相同，请重新选择")})
    if not to_bank.active:
        raise ValidationError({"to_bank": _("%(bank)s 已停止运营，不能转入") % {"bank": to_bank.name}})
    city = city_of(member.bank.region)
    if city is None or city != city_of(to_bank.region):
        raise ValidationError({"to_bank": _("只能转入同一城市的时间银行；跨市转移请先退出再在新社区入会")})
    old = Account.objects.select_for_update().filter(member=member).first()
    balance = old.balance_minutes if old is not None else 0
    if balance < 0:
        raise ValidationError(
            {"member": _("%(name)s 的账户余额为 %(b)d 分钟，请先结清透支再转出") % {"name": member.name, "b": balance}}
        )
    moved = Member(
        bank=to_bank,
        region=region or to_bank.region,
        name=member.name,
        elder=member.elder,
        volunteer=member.volunteer,
        user=member.user,
        phone_enc=member.phone_enc,
        phone_hash=member.phone_hash,
        phone_masked=member.phone_masked,
        is_retired_cadre=member.is_retired_cadre,
        status=MemberStatus.ACTIVE,
        joined_on=timezone.localdate(),
        decided_by=by if getattr(by, "pk", None) else None,
        level=member.level,
    )
    moved.full_clean(exclude=["decided_by", "user", "elder", "volunteer"])
    moved.save()
    new_account = member_account_open(member=moved)
    if old is not None and balance > 0:
        now = timezone.now()
        note = _("%(name)s 转入%(bank)s") % {"name": member.name, "bank": to_bank.name}
        out = post(
            bank=member.bank,
            kind=TransferKind.MOVE_OUT,
            legs=[(old, -balance), (system_account(member.bank_id, AccountKind.CLEARING), balance)],
            by=by,
            note=note,
            at=now,
        )
        came = post(
            bank=to_bank,
            kind=TransferKind.MOVE_IN,
            legs=[(system_account(to_bank.pk, AccountKind.CLEARING), -balance), (new_account, balance)],
            by=by,
            note=_("%(name)s 自%(bank)s转入") % {"name": member.name, "bank": member.bank.name},
            at=now,
        )
        Transfer.objects.filter(pk=came.pk).update(counterpart=out)
        Transfer.objects.filter(pk=out.pk).update(counterpart=came)
    if old is not None:
        Account.objects.filter(pk=old.pk).update(closed_at=timezone.now())
    before_status = member.status
    member.status = MemberStatus.MOVED
    member.save(update_fields=["status"])
    change_record(
        obj=member,
        action="move",
        changes={
            "status": [before_status, member.status],
            "bank": [member.bank.name, to_bank.name],
            "balance_minutes": [balance, 0],
        },
        by=by,
        region=member.region,
    )
    change_record(
        obj=moved,
        action="create",
        changes={"bank": [member.bank.name, to_bank.name], "balance_minutes": [0, balance]},
        by=by,
        region=moved.region,
    )
    return moved


# --- reading and proving -----------------------------------------------------------------------------


def balance(account: Account) -> int:
    """The account's balance derived from its movements (the stored one must equal it)."""
    return Movement.objects.filter(account_id=account.pk).aggregate(s=Coalesce(Sum("minutes"), 0))["s"]


@dataclass
class AuditResult:
    """What `audit` found: ok when every check held; `problems` say which and where, in words."""

    ok: bool = True
    banks: int = 0
    accounts: int = 0
    transfers: int = 0
    problems: list[dict] = field(default_factory=list)

    def add(self, **problem) -> None:
        self.ok = False
        self.problems.append(problem)


def audit(*, banks=None, limit: int = 100) -> AuditResult:
    """Prove the ledger, set-based (a few GROUP BY queries, whatever the size): every stored
    balance equals the sum of its movements; every transfer has ≥ 2 legs summing to zero; each
    bank's accounts sum to zero (so all do). `banks`: a queryset (a user's scope), default all.
    Problems are reported, never repaired (at most `limit` of each kind)."""
    accounts = Account.objects.all() if banks is None else Account.objects.filter(bank__in=banks)
    transfers = Transfer.objects.all() if banks is None else Transfer.objects.filter(bank__in=banks)
    result = AuditResult()
    result.accounts = accounts.count()
    result.transfers = transfers.count()
    bank_sums = accounts.values("bank_id").annotate(total=Sum("balance_minutes"), n=Count("id")).order_by("bank_id")
    result.banks = 0
    for row in bank_sums:
        result.banks += 1
        if row["total"] != 0:
            result.add(check="bank_sum", bank=row["bank_id"], expected=0, found=row["total"])
    wrong = (
        accounts.annotate(derived=Coalesce(Sum("movements__minutes"), 0))
        .exclude(balance_minutes=F("derived"))
        .values("pk", "bank_id", "balance_minutes", "derived")
        .order_by("pk")[:limit]
    )
    for row in wrong:
        result.add(check="balance", bank=row["bank_id"], account=row["pk"], expected=row["derived"], found=row["balance_minutes"])
    unbalanced = (
        transfers.annotate(total=Coalesce(Sum("movements__minutes"), 0), legs=Count("movements"))
        .filter(~Q(total=0) | Q(legs__lt=2))
        .values("pk", "bank_id", "total", "legs")
        .order_by("pk")[:limit]
    )
    for row in unbalanced:
        result.add(check="transfer", bank=row["bank_id"], transfer=row["pk"], expected=0, found=row["total"], legs=row["legs"])
    return result


def audit_daily() -> str:
    """The scheduled audit (jobs/schedule.py): a failure is logged and every active platform
    administrator is notified (core.notify); nothing is repaired."""
    from django.contrib.auth import get_user_model

    from accounts.roles import Role
    from core.notify import notify

    result = audit()
    if result.ok:
        return f"ok: {result.banks} banks, {result.accounts} accounts, {result.transfers} transfers"
    log.error("time bank audit failed: %d problems, first %s", len(result.problems), result.problems[:5])
    admins = get_user_model().objects.filter(role=Role.ADMIN, is_active=True).values_list("pk", flat=True)
    lines = [
        _("%(check)s：银行 %(bank)s，期望 %(e)s，实际 %(f)s")
        % {"check": p["check"], "bank": p["bank"], "e": p["expected"], "f": p["found"]}
        for p in result.problems[:20]
    ]
    notify(
        list(admins),
        subject=_("时间银行对账发现 %(n)d 处不一致") % {"n": len(result.problems)},
        body="\n".join([_("请核查，系统未作任何自动修正。"), *lines]),
    )
    return f"FAILED: {len(result.problems)} problems"
