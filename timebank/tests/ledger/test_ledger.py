"""The ledger's postings: double entry, limits, reversal, the shapes callers use, moves between
banks, idempotency and the audit (docs/timebank-ledger.md)."""

import pytest
from django.core.exceptions import ValidationError

from timebank import ledger
from timebank.models import Account, AccountKind, Member, MemberStatus, Movement, Transfer, TransferKind
from timebank.tests.factories import account_of, bank_of, member_of, pool_of

pytestmark = pytest.mark.django_db


def bal(account):
    return Account.objects.get(pk=account.pk).balance_minutes


def total(bank):
    return sum(Account.objects.filter(bank=bank).values_list("balance_minutes", flat=True))


def test_a_deposit_credits_the_member_from_the_issue_account_at_the_categorys_rate(bank, desk):
    bank.rates = {"health_care": 1500}
    bank.save()
    account = account_of(bank, "张三")

    transfer = ledger.deposit_service(member_account=account, minutes_served=61, category="health_care", by=desk)

    assert bal(account) == 91  # 61 × 1.5 = 91.5, floored
    assert bal(ledger.system_account(bank.pk, AccountKind.ISSUE)) == -91
    assert transfer.kind == TransferKind.SERVICE and transfer.served_minutes == 61 and transfer.category == "health_care"
    assert sorted(transfer.movements.values_list("minutes", flat=True)) == [-91, 91]
    assert Movement.objects.get(transfer=transfer, account=account).balance_after == 91
    assert total(bank) == 0


def test_post_refuses_legs_that_do_not_sum_to_zero_and_writes_nothing(bank, desk):
    a, b = account_of(bank, minutes=100), account_of(bank)
    before = Transfer.objects.count()

    with pytest.raises(ValidationError, match="合计应为 0"):
        ledger.post(bank=bank, kind=TransferKind.GIFT, legs=[(a, -10), (b, 9)], by=desk)
    with pytest.raises(ValidationError, match="分钟数为 0"):
        ledger.post(bank=bank, kind=TransferKind.GIFT, legs=[(a, 0), (b, 0)], by=desk)
    with pytest.raises(ValidationError, match="至少涉及两个账户"):
        ledger.post(bank=bank, kind=TransferKind.GIFT, legs=[(a, 0)], by=desk)

    assert Transfer.objects.count() == before and bal(a) == 100 and bal(b) == 0


def test_a_personal_account_may_not_go_below_zero_and_the_message_names_it(bank, desk):
    a, b = account_of(bank, "张三", minutes=30), account_of(bank, "李四")

    with pytest.raises(ValidationError) as caught:
        ledger.gift(from_account=a, to_account=b, minutes=60, by=desk)

    assert caught.value.message_dict["minutes"] == ["余额不足：张三 的账户余额 30 分钟，本次需 60 分钟"]
    assert bal(a) == 30 and bal(b) == 0


def test_the_banks_credit_line_lets_a_member_go_below_zero_up_to_it(tree, desk):
    bank = bank_of(tree.community, credit_line_minutes=60)
    a, b = account_of(bank, "张三", minutes=30), account_of(bank)

    ledger.gift(from_account=a, to_account=b, minutes=90, by=desk)
    assert bal(a) == -60
    with pytest.raises(ValidationError, match="可透支 60 分钟"):
        ledger.gift(from_account=a, to_account=b, minutes=1, by=desk)


def test_an_accounts_own_credit_line_overrides_the_banks(tree, desk):
    bank = bank_of(tree.community, credit_line_minutes=60)
    a, b = account_of(bank, minutes=0), account_of(bank)
    Account.objects.filter(pk=a.pk).update(credit_line_minutes=0)
    a.refresh_from_db()

    with pytest.raises(ValidationError, match="余额不足"):
        ledger.gift(from_account=a, to_account=b, minutes=1, by=desk)


def test_a_pool_may_not_go_below_zero_but_the_issue_account_may(bank, desk):
    pool = pool_of(bank)
    a = account_of(bank)
    with pytest.raises(ValidationError, match="余额不足"):
        ledger.group(bank=bank, payer_account=pool, payees=[(a, 10)], by=desk, kind=TransferKind.INCENTIVE)
    ledger.deposit_service(member_account=a, minutes_served=10, category="mutual_care", by=desk)
    assert bal(ledger.system_account(bank.pk, AccountKind.ISSUE)) == -10


def test_an_account_of_another_bank_is_refused(bank, bank2, desk):
    a, b = account_of(bank, minutes=10), account_of(bank2)
    with pytest.raises(ValidationError, match="跨行只能办理会员转出"):
        ledger.gift(from_account=a, to_account=b, minutes=5, by=desk)


def test_a_closed_account_is_refused(bank, desk):
    a, b = account_of(bank, minutes=10), account_of(bank, "李四")
    Account.objects.filter(pk=b.pk).update(closed_at="2026-01-01T00:00:00+08:00")
    with pytest.raises(ValidationError, match="李四 的账户已销户"):
        ledger.gift(from_account=a, to_account=b, minutes=5, by=desk)


def test_group_pays_each_participant_in_one_transfer_and_collect_the_reverse(bank, desk):
    pool = pool_of(bank)
    a, b, c = account_of(bank, minutes=50), account_of(bank, minutes=50), account_of(bank)
    ledger.donate(from_account=a, minutes=50, by=desk)
    ledger.donate(from_account=b, minutes=20, by=desk)

    paid = ledger.group(bank=bank, payer_account=pool, payees=[(a, 30), (c, 40)], by=desk, category="culture", note="重阳节活动")
    got = ledger.collect(bank=bank, payee_account=pool, payers=[(a, 10), (b, 10)], by=desk, note="集体观影")

    assert paid.movements.count() == 3 and got.movements.count() == 3
    assert (bal(pool), bal(a), bal(b), bal(c)) == (70 - 70 + 20, 20, 20, 40)
    assert total(bank) == 0


def test_group_refuses_a_participant_listed_twice(bank, desk):
    pool, a = pool_of(bank), account_of(bank)
    with pytest.raises(ValidationError, match="重复出现"):
        ledger.group(bank=bank, payer_account=pool, payees=[(a, 1), (a, 2)], by=desk)


def test_a_gift_goes_to_a_relatives_account_and_a_donation_to_the_pool(bank, desk):
    a, b = account_of(bank, minutes=100), account_of(bank)

    ledger.gift(from_account=a, to_account=b, minutes=30, by=desk, note="给母亲")
    ledger.donate(from_account=a, minutes=20, by=desk)

    assert (bal(a), bal(b), bal(pool_of(bank))) == (50, 30, 20)
    with pytest.raises(ValidationError, match="转赠只能在会员个人账户之间"):
        ledger.gift(from_account=a, to_account=pool_of(bank), minutes=1, by=desk)


def test_a_proxy_gives_only_with_the_right_in_force(bank, desk):
    import datetime

    from timebank.models import Proxy

    a, b = account_of(bank, "王奶奶", minutes=100), account_of(bank)
    proxy = Proxy.objects.create(
        member=a.member,
        name="王小明",
        relation="儿子",
        can_give=False,
        starts_on=datetime.date(2026, 1, 1),
        consent_note="书面同意",
    )
    with pytest.raises(ValidationError, match="没有代为转赠、捐赠的权限"):
        ledger.gift(from_account=a, to_account=b, minutes=10, by=desk, proxy=proxy)
    proxy.can_give = True
    proxy.save()
    t = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk, proxy=proxy)
    assert t.proxy_id == proxy.pk and t.confirmation == "proxy"


def test_withdraw_needs_the_members_confirmation(bank, desk):
    a = account_of(bank, minutes=100)
    with pytest.raises(ValidationError, match="本人确认方式"):
        ledger.withdraw(member_account=a, minutes=10, by=desk, confirmation="")
    t = ledger.withdraw(
        member_account=a, minutes=10, by=desk, confirmation="signature", confirmation_ref="sig/1.png", note="理发"
    )
    assert t.kind == TransferKind.DESK_WITHDRAWAL and bal(a) == 90
    assert bal(ledger.system_account(bank.pk, AccountKind.ISSUE)) == -90


# --- reversal --------------------------------------------------------------------------------------


def test_a_reversal_negates_every_leg_and_restores_every_balance(bank, desk):
    pool = pool_of(bank)
    a, b, c = account_of(bank, minutes=100), account_of(bank), account_of(bank)
    ledger.donate(from_account=a, minutes=60, by=desk)
    paid = ledger.group(bank=bank, payer_account=pool, payees=[(b, 25), (c, 35)], by=desk)

    reversal = ledger.reverse(transfer=paid, by=desk, note="名单登记错误")

    assert reversal.kind == TransferKind.REVERSAL and reversal.reverses_id == paid.pk
    assert (bal(pool), bal(b), bal(c)) == (60, 0, 0)
    assert sorted(reversal.movements.values_list("minutes", flat=True)) == [-35, -25, 60]


def test_a_transfer_is_reversed_once_and_a_reversal_never(bank, desk):
    a, b = account_of(bank, minutes=100), account_of(bank)
    gift = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk)
    reversal = ledger.reverse(transfer=gift, by=desk, note="转错了人")

    with pytest.raises(ValidationError, match="已于 .* 冲正，不能重复冲正"):
        ledger.reverse(transfer=gift, by=desk, note="再来一次")
    with pytest.raises(ValidationError, match="冲正交易不能再冲正"):
        ledger.reverse(transfer=reversal, by=desk, note="撤销冲正")
    assert bal(a) == 100 and bal(b) == 0


def test_a_reversal_that_would_overdraw_the_receiver_is_refused(bank, desk):
    a, b, c = account_of(bank, minutes=100), account_of(bank, "李四"), account_of(bank)
    gift = ledger.gift(from_account=a, to_account=b, minutes=50, by=desk)
    ledger.gift(from_account=b, to_account=c, minutes=30, by=desk)

    with pytest.raises(ValidationError, match="余额不足：李四 的账户余额 20 分钟，本次需 50 分钟"):
        ledger.reverse(transfer=gift, by=desk, note="转错了人")
    assert not Transfer.objects.filter(reverses=gift).exists()


def test_a_reversal_needs_a_reason(bank, desk):
    a, b = account_of(bank, minutes=10), account_of(bank)
    gift = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk)
    with pytest.raises(ValidationError, match="请填写冲正原因"):
        ledger.reverse(transfer=gift, by=desk, note=" ")


# --- idempotency -----------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_transfer(bank, desk):
    a, b = account_of(bank, minutes=100), account_of(bank)
    first = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk, idempotency_key="k-1")
    again = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk, idempotency_key="k-1")

    assert again.pk == first.pk and bal(a) == 90
    with pytest.raises(ValidationError, match="另一类交易"):
        ledger.donate(from_account=a, minutes=10, by=desk, idempotency_key="k-1")


# --- moves between banks ---------------------------------------------------------------------------


def test_a_member_who_moves_takes_their_coins_to_the_new_bank(bank, bank2, desk):
    a = account_of(bank, "张三", minutes=120)
    old_member = a.member

    moved = ledger.move_member(member=old_member, to_bank=bank2, by=desk)

    old_member.refresh_from_db()
    a.refresh_from_db()
    assert old_member.status == MemberStatus.MOVED and a.closed_at is not None and a.balance_minutes == 0
    assert moved.bank_id == bank2.pk and moved.status == MemberStatus.ACTIVE and moved.name == "张三"
    assert moved.account.balance_minutes == 120
    out = Transfer.objects.get(bank=bank, kind=TransferKind.MOVE_OUT)
    came = Transfer.objects.get(bank=bank2, kind=TransferKind.MOVE_IN)
    assert out.counterpart_id == came.pk and came.counterpart_id == out.pk
    assert bal(ledger.system_account(bank.pk, AccountKind.CLEARING)) == 120
    assert bal(ledger.system_account(bank2.pk, AccountKind.CLEARING)) == -120
    assert total(bank) == 0 and total(bank2) == 0
    assert ledger.audit().ok


def test_a_move_to_another_city_is_refused(bank, desk, tree):
    from regions.models import Level
    from regions.services import region_create

    city = region_create(name="邻市", level=Level.CITY, parent=tree.province, code="990200000000")
    far = bank_of(region_create(name="邻市社区", level=Level.COMMUNITY, parent=city))
    member = member_of(bank)
    with pytest.raises(ValidationError, match="只能转入同一城市"):
        ledger.move_member(member=member, to_bank=far, by=desk)
    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE and not Member.objects.filter(bank=far).exists()


# --- audit -----------------------------------------------------------------------------------------


def test_the_audit_finds_a_stored_balance_that_differs_from_its_movements(bank, desk):
    a, b = account_of(bank, minutes=100), account_of(bank)
    ledger.gift(from_account=a, to_account=b, minutes=10, by=desk)
    assert ledger.audit().ok

    Account.objects.filter(pk=b.pk).update(balance_minutes=11)  # what no code path does
    result = ledger.audit()

    assert not result.ok
    checks = {(p["check"], p.get("account")) for p in result.problems}
    assert ("balance", b.pk) in checks and ("bank_sum", None) in checks
    assert ledger.balance(b) == 10


def test_the_daily_audit_notifies_the_admins_and_repairs_nothing(bank, desk, tree):
    from conftest import make_user
    from core import notify

    admin = make_user("tbroot", "admin", tree.root)
    a = account_of(bank, minutes=100)
    Account.objects.filter(pk=a.pk).update(balance_minutes=1)
    notify.outbox.clear()

    assert ledger.audit_daily().startswith("FAILED")

    assert bal(a) == 1
    (notice,) = notify.outbox
    assert admin.pk in notice.to_user_ids and "不一致" in notice.subject


def test_the_audit_is_a_daily_periodic_task():
    import datetime

    from jobs.schedule import periodic_get

    periodic = periodic_get("timebank_audit")
    assert periodic is not None and periodic.every == datetime.timedelta(days=1)
    assert periodic.function == "timebank.ledger.audit_daily"


def test_a_member_with_no_coins_moves_without_a_transfer(bank, bank2, desk):
    member = member_of(bank, "王五")
    moved = ledger.move_member(member=member, to_bank=bank2, by=desk)
    assert moved.account.balance_minutes == 0
    assert not Transfer.objects.filter(kind__in=[TransferKind.MOVE_OUT, TransferKind.MOVE_IN]).exists()
    assert Account.objects.get(member=member).closed_at is not None


def test_a_member_in_credit_cannot_move_until_settled(tree, desk, bank2):
    bank = bank_of(tree.community, credit_line_minutes=60)
    a, b = account_of(bank, "张三"), account_of(bank)
    ledger.gift(from_account=a, to_account=b, minutes=20, by=desk)
    with pytest.raises(ValidationError, match="请先结清透支再转出"):
        ledger.move_member(member=a.member, to_bank=bank2, by=desk)


def test_a_proxy_spends_at_the_desk_only_with_the_right(bank, desk):
    import datetime

    from timebank.models import Proxy

    a = account_of(bank, "王奶奶", minutes=100)
    proxy = Proxy.objects.create(
        member=a.member,
        name="王小明",
        relation="儿子",
        can_spend=False,
        starts_on=datetime.date(2026, 1, 1),
        consent_note="书面同意",
    )
    with pytest.raises(ValidationError, match="没有代为兑换服务的权限"):
        ledger.withdraw(member_account=a, minutes=10, by=desk, confirmation="proxy", proxy=proxy)
    proxy.can_spend = True
    proxy.save()
    ledger.withdraw(member_account=a, minutes=10, by=desk, confirmation="proxy", proxy=proxy)
    assert bal(a) == 90


def test_a_proxy_ended_today_no_longer_acts_in_the_ledger_as_on_the_member_pages():
    """One rule for "in force" (timebank.models.proxy_active_q): ending a proxy today ends it
    today, for the ledger's check as for the lists; the day before it still acts."""
    import datetime

    from django.core.exceptions import ValidationError

    from timebank.ledger import proxy_check
    from timebank.models import Account, Proxy

    today = datetime.date(2026, 12, 2)
    account = Account(member_id=7, name="王秀英")
    proxy = Proxy(member_id=7, name="王小明", starts_on=datetime.date(2026, 1, 1), ends_on=today, can_give=True)
    with pytest.raises(ValidationError):
        proxy_check(proxy=proxy, account=account, right="can_give", on=today)
    proxy_check(proxy=proxy, account=account, right="can_give", on=today - datetime.timedelta(days=1))
