"""The time bank and the orders of the closed loop (issue 13, item 3; docs/timebank-ledger.md).

Registered from TimebankConfig.ready (orders is below the time bank):

- **Volunteer earnings.** A volunteer's order that is completed, verified (EVV) and rated gets
  its deposit once: minutes served × the category's rate / 1000 from the bank's issue account to
  the volunteer's personal account (idempotency key `order:<id>:service`). Whichever of the
  three comes last posts it: the rating (move "rate"), or a person resolving the last exception
  (AFTER_VERIFY). Minutes served: check-out − check-in, at most the scheduled length ×
  TIMEBANK_SERVED_CAP_PERCENT / 100 (the price, like the coins, follows the planned window;
  over-runs are only a flag). A volunteer with no active membership gets no deposit: a line in
  the order's history says so.
- **Time-coin orders** (payment mode `time_coin`): the elder's coins, the scheduled length × the
  category's rate / 1000, are held when the order is created (hook AFTER_CREATE; a plan's orders,
  made in bulk, at their dispatch instead), from their personal account to the bank's hold
  account; too few coins refuse the order. Check-out takes them (hold → issue: spent); a
  cancellation releases them (hold → elder).
- **Overturned verification** (AFTER_VERIFY, or a check-out whose verification is already
  rejected): a visit rejected or disputed after its coins were taken gives them back — the take
  is reversed (ledger.reverse, naming it: hold ← issue) and released to the elder (key
  `order:<id>:refund:<take id>`). A volunteer's deposit for that visit is reversed too (the
  visit is not a service the bank pays for); when the volunteer has already spent the coins the
  reversal would overdraw them and is refused: the resolution stands and a line in the order's
  history asks the desk to settle it. Each is once: a second rejection, a replayed hook or a
  re-run finds the take or the deposit already reversed. A later acceptance (a dispute settled
  for the visit) takes the coins again (`order:<id>:take:<n>`, elder → issue) and pays the
  deposit again (`order:<id>:service:<n>`); an elder without the coins by then is not
  overdrawn: the order's history says so, for the desk.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import change_record
from timebank.ledger import coins_for, post, system_account
from timebank.models import Account, AccountKind, Bank, Category, Member, MemberStatus, Transfer, TransferKind

log = logging.getLogger(__name__)

TIME_COIN = "time_coin"

# The catalogue's categories (catalogue.ServiceCategory.code) → the bank's ten categories. The
# ten `tb_*` categories of seed 004 map one to one; items of the general catalogue a volunteer
# may serve map to the nearest; anything else is 互助养老.
CATEGORY_OF_CATALOGUE = {
    "tb_mutual_aid": Category.MUTUAL_CARE,
    "tb_hardship": Category.POVERTY_RELIEF,
    "tb_tutoring": Category.TUTORING,
    "tb_legal_aid": Category.LEGAL_AID,
    "tb_security": Category.SECURITY,
    "tb_health": Category.HEALTH_CARE,
    "tb_health_talk": Category.HEALTH_TALK,
    "tb_education": Category.EDUCATION,
    "tb_culture": Category.CULTURE_SPORTS,
    "tb_environment": Category.ENVIRONMENT,
    "comfort": Category.MUTUAL_CARE,
    "daily_care": Category.MUTUAL_CARE,
    "health_care": Category.HEALTH_CARE,
    "culture": Category.CULTURE_SPORTS,
    "legal": Category.LEGAL_AID,
}


def category_of(item) -> str:
    code = getattr(getattr(item, "category", None), "code", "")
    return str(CATEGORY_OF_CATALOGUE.get(code, Category.MUTUAL_CARE))


def bank_for(region) -> Bank | None:
    """The bank serving `region`: its own, else the nearest ancestor's (a street's or the city's shared bank)."""
    ids = region.depth_ids
    banks = {b.region_id: b for b in Bank.objects.filter(region_id__in=ids, active=True)}
    for pk in reversed(ids):
        if pk in banks:
            return banks[pk]
    return None


def cap_percent() -> int:
    return int(getattr(settings, "TIMEBANK_SERVED_CAP_PERCENT", 100))


def served_minutes(order) -> int:
    """The visit's actual length (check-in to check-out), at most the scheduled length × the cap."""
    planned = int((order.scheduled_end - order.scheduled_start).total_seconds() // 60)
    if order.checkin_at is None or order.checkout_at is None:
        return planned
    actual = int((order.checkout_at - order.checkin_at).total_seconds() // 60)
    return max(0, min(actual, planned * cap_percent() // 100))


def scheduled_minutes(order) -> int:
    return int((order.scheduled_end - order.scheduled_start).total_seconds() // 60)


# --- volunteer earnings ---------------------------------------------------------------------------


def _volunteer_account(order, bank: Bank | None) -> Account | None:
    volunteer = order.volunteer
    members = Member.objects.filter(status=MemberStatus.ACTIVE).select_related("bank")
    found = members.filter(volunteer=volunteer)
    if not found.exists() and getattr(volunteer, "user_id", None):
        found = members.filter(user_id=volunteer.user_id)
    member = None
    if bank is not None:
        member = found.filter(bank=bank).order_by("id").first()
    member = member or found.order_by("id").first()
    if member is None:
        return None
    from timebank.services import member_account_open

    return member_account_open(member=member)


def _service_deposits(order):
    return Transfer.objects.filter(order_id=order.pk, kind=TransferKind.SERVICE)


def _earned(order) -> bool:
    # orders.models.Status.EVALUATED / SETTLED and Verification.VERIFIED, by their codes.
    return (
        order.volunteer_id is not None
        and order.status in ("evaluated", "settled")
        and order.rating is not None
        and order.verification == "verified"
    )


def deposit_for_order(*, order, by) -> Transfer | None:
    """The volunteer's deposit for `order` when it is earned (see the module), once."""
    from timebank.ledger import deposit_service

    if not _earned(order):
        return None
    deposits = _service_deposits(order)
    if deposits.filter(reversed_by__isnull=True).exists():
        return None
    # Paid once per verification: after a deposit reversed for an overturned visit, the visit
    # accepted again pays again under a new key (see the module).
    paid_before = deposits.count()
    key = f"order:{order.pk}:service" if not paid_before else f"order:{order.pk}:service:{paid_before + 1}"
    bank = bank_for(order.region)
    account = _volunteer_account(order, bank)
    minutes = served_minutes(order)
    category = category_of(order.item)
    if account is None:
        change_record(
            obj=order,
            action="timebank_skip",
            changes={},
            by=by,
            region=order.region,
            note=_("志愿者%(name)s 未加入时间银行（或会员状态不是“正常”），本次服务未存入时间币")
            % {"name": order.volunteer.name},
        )
        return None
    if minutes <= 0 or coins_for(account.bank, category, minutes) <= 0:
        change_record(
            obj=order,
            action="timebank_skip",
            changes={},
            by=by,
            region=order.region,
            note=_("服务时长或折算后时间币为 0，本次服务未存入时间币"),
        )
        return None
    return deposit_service(
        member_account=account,
        minutes_served=minutes,
        category=category,
        by=by,
        order=order,
        note=_("工单 %(id)d：%(item)s") % {"id": order.pk, "item": order.item.name},
        idempotency_key=key,
    )


# --- time-coin orders ------------------------------------------------------------------------------


def _hold_of(order) -> Transfer | None:
    return Transfer.objects.filter(order_id=order.pk, kind=TransferKind.HOLD).first()


def hold_for_order(*, order, by) -> Transfer | None:
    """Hold the elder's coins for a time-coin order (once); refuse when they have too few."""
    if order.payment_mode != TIME_COIN:
        return None
    if _hold_of(order) is not None:
        return None
    bank = bank_for(order.region)
    if bank is None:
        raise ValidationError({"payment_mode": _("老人所在社区尚未开办时间银行，不能用时间币付费，请选择其他付费方式")})
    member = Member.objects.filter(bank=bank, elder_id=order.elder_id, status=MemberStatus.ACTIVE).first()
    if member is None:
        raise ValidationError(
            {"payment_mode": _("%(name)s 尚未加入%(bank)s，不能用时间币付费") % {"name": order.elder.name, "bank": bank.name}}
        )
    from timebank.services import member_account_open

    account = member_account_open(member=member)
    minutes = coins_for(bank, category_of(order.item), scheduled_minutes(order))
    if minutes <= 0:
        return None
    try:
        return post(
            bank=bank,
            kind=TransferKind.HOLD,
            legs=[(account, -minutes), (system_account(bank.pk, AccountKind.HOLD), minutes)],
            by=by,
            category=category_of(order.item),
            order=order,
            note=_("工单 %(id)d 预扣") % {"id": order.pk},
            idempotency_key=f"order:{order.pk}:hold",
        )
    except ValidationError as exc:
        # The order's form shows it beside the payment mode.
        raise ValidationError({"payment_mode": exc.messages}) from None


def _settle_hold(*, order, by, kind: str) -> Transfer | None:
    hold = _hold_of(order)
    if hold is None:
        return None
    key = f"order:{order.pk}:{kind}"
    if Transfer.objects.filter(bank_id=hold.bank_id, idempotency_key=key).exists():
        return None
    if Transfer.objects.filter(order_id=order.pk, kind__in=(TransferKind.TAKE, TransferKind.RELEASE)).exists():
        return None
    held = hold.movements.select_related("account").order_by("id")
    elder_leg = next(m for m in held if m.minutes < 0)
    hold_account = system_account(hold.bank_id, AccountKind.HOLD)
    minutes = -elder_leg.minutes
    if kind == TransferKind.TAKE:
        to, note = system_account(hold.bank_id, AccountKind.ISSUE), _("工单 %(id)d 服务完成，扣除时间币") % {"id": order.pk}
    else:
        to, note = elder_leg.account, _("工单 %(id)d 取消，退回时间币") % {"id": order.pk}
    return post(
        bank=hold.bank,
        kind=kind,
        legs=[(hold_account, -minutes), (to, minutes)],
        by=by,
        category=hold.category,
        order=order,
        note=note,
        idempotency_key=key,
    )


# --- an overturned verification ----------------------------------------------------------------

OVERTURNED = ("rejected", "disputed")  # orders.models.Verification.REJECTED / DISPUTED, by their codes


def _history_note(order, by, note: str) -> None:
    change_record(obj=order, action="timebank_skip", changes={}, by=by, region=order.region, note=note)


def refund_for_order(*, order, by) -> list[Transfer]:
    """Give an elder back the coins taken for a visit whose verification was rejected or
    disputed: every take of the order not yet reversed is reversed (naming it); a take from the
    hold (the check-out's) is then released to the elder. Once: a second call finds nothing to do."""
    if order.payment_mode != TIME_COIN or order.verification not in OVERTURNED:
        return []
    done = []
    for take in Transfer.objects.filter(order_id=order.pk, kind=TransferKind.TAKE, reversed_by__isnull=True).order_by("id"):
        reason = _("工单 %(id)d 服务%(v)s，退回时间币") % {
            "id": order.pk,
            "v": _("核验不通过") if order.verification == "rejected" else _("有争议"),
        }
        try:
            with transaction.atomic():
                done.extend(_refund_take(order=order, take=take, by=by, reason=reason))
        except ValidationError as exc:
            # e.g. the elder left the bank meanwhile (a closed account): the resolution stands.
            _history_note(order, by, _("未能退回时间币：%(m)s。请窗口处理。") % {"m": "；".join(exc.messages)})
    return done


def _refund_take(*, order, take: Transfer, by, reason: str) -> list[Transfer]:
    from timebank.ledger import reverse

    legs = list(take.movements.select_related("account").order_by("id"))
    reversal = reverse(transfer=take, by=by, note=reason, for_order=True)
    hold_leg = next((m for m in legs if m.account.kind == AccountKind.HOLD), None)
    if hold_leg is None:
        return [reversal]  # a take again after a refund (elder → issue): its reversal is the refund
    elder_account = next(m.account for m in _hold_of(order).movements.select_related("account") if m.minutes < 0)
    release = post(
        bank=take.bank,
        kind=TransferKind.RELEASE,
        legs=[(hold_leg.account, hold_leg.minutes), (elder_account, -hold_leg.minutes)],
        by=by,
        category=take.category,
        order=order,
        note=reason,
        idempotency_key=f"order:{order.pk}:refund:{take.pk}",
    )
    return [reversal, release]


def retake_for_order(*, order, by) -> Transfer | None:
    """A visit verified again after its coins were given back (a dispute settled for the visit):
    take the coins again from the elder's account, once per acceptance. Too few coins by then: no
    overdraft — the order's history says so, for the desk."""
    if order.payment_mode != TIME_COIN or order.verification != "verified":
        return None
    takes = Transfer.objects.filter(order_id=order.pk, kind=TransferKind.TAKE)
    if not takes.exists() or takes.filter(reversed_by__isnull=True).exists():
        return None  # never taken (not checked out), or the take stands
    hold = _hold_of(order)
    elder_leg = next(m for m in hold.movements.select_related("account").order_by("id") if m.minutes < 0)
    minutes = -elder_leg.minutes
    try:
        with transaction.atomic():
            return post(
                bank=hold.bank,
                kind=TransferKind.TAKE,
                legs=[(elder_leg.account, -minutes), (system_account(hold.bank_id, AccountKind.ISSUE), minutes)],
                by=by,
                category=hold.category,
                order=order,
                note=_("工单 %(id)d 复核通过，重新扣除时间币") % {"id": order.pk},
                idempotency_key=f"order:{order.pk}:take:{takes.count() + 1}",
            )
    except ValidationError as exc:
        _history_note(order, by, _("复核通过，但未能重新扣除时间币：%(m)s。请窗口办理取出。") % {"m": "；".join(exc.messages)})
        return None


def reverse_deposit_for_order(*, order, by) -> Transfer | None:
    """The volunteer's deposit for a visit whose verification was overturned is reversed (the
    bank does not pay for a visit it does not accept). Refused when the volunteer has spent the
    coins (the limits hold): the resolution stands, the order's history asks the desk to settle."""
    from timebank.ledger import reverse

    if order.verification not in OVERTURNED:
        return None
    deposit = _service_deposits(order).filter(reversed_by__isnull=True).order_by("id").first()
    if deposit is None:
        return None
    try:
        with transaction.atomic():
            return reverse(
                transfer=deposit,
                by=by,
                note=_("工单 %(id)d 服务核验未通过，冲正志愿者存入的时间币") % {"id": order.pk},
            )
    except ValidationError as exc:
        _history_note(
            order, by, _("服务核验未通过，但志愿者存入的时间币未能冲正：%(m)s。请窗口处理。") % {"m": "；".join(exc.messages)}
        )
        return None


# --- the hooks -------------------------------------------------------------------------------------


def on_order_create(*, order, by) -> None:
    hold_for_order(order=order, by=by)


def on_order_move(*, order, action: str, by) -> None:
    if action in ("dispatch", "reassign") and order.payment_mode == TIME_COIN:
        hold_for_order(order=order, by=by)  # a plan's order, created in bulk without the hook
    elif action == "check_out":
        _settle_hold(order=order, by=by, kind=TransferKind.TAKE)
        refund_for_order(order=order, by=by)  # an exception already rejected before check-out
    elif action == "cancel":
        _settle_hold(order=order, by=by, kind=TransferKind.RELEASE)
    if action in ("rate", "check_out"):
        deposit_for_order(order=order, by=by)


def on_order_verify(*, order, by) -> None:
    if order.verification in OVERTURNED:
        refund_for_order(order=order, by=by)
        reverse_deposit_for_order(order=order, by=by)
    else:
        retake_for_order(order=order, by=by)
        deposit_for_order(order=order, by=by)
