"""The ledger and the closed loop: a time-coin order holds the elder's coins when created, takes
them at check-out and releases them on cancellation; a volunteer's order completed, verified and
rated deposits once; the settlement's 时间币 payer pays a time-coin order's whole price."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from orders.models import Order, VisitException
from timebank import ledger
from timebank.models import Account, AccountKind, Category, Transfer, TransferKind
from timebank.orders_link import CATEGORY_OF_CATALOGUE, category_of, served_minutes
from timebank.tests.factories import member_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tree, bank, desk):
    from catalogue.models import ServiceItem
    from catalogue.services import catalogue_initial_load
    from elders.tests.factories import ElderFactory
    from providers.services import volunteer_decide
    from providers.tests.factories import admin_of, volunteer

    if not ServiceItem.objects.filter(code="tb_companionship").exists():
        catalogue_initial_load()
    w = type("W", (), {})()
    w.bank, w.desk = bank, desk
    w.admin = admin_of(tree)
    w.elder = ElderFactory(region=tree.grid, name="欧阳奶奶")
    w.item = ServiceItem.objects.get(code="tb_companionship")  # 互助养老, 60 minutes, time coins only
    w.chat = ServiceItem.objects.get(code="chat")  # 聊天谈心: free or time coins, 60 minutes
    w.volunteer = volunteer(tree, name="林湘玲")
    volunteer_decide(by=w.admin, volunteer=w.volunteer, action="approve")
    w.volunteer.refresh_from_db()
    w.elder_member = member_of(bank, "欧阳奶奶", elder=w.elder)
    w.volunteer_member = member_of(bank, "林湘玲", volunteer=w.volunteer)
    ledger.deposit_service(member_account=w.elder_member.account, minutes_served=100, category="mutual_care", by=desk)
    w.start = timezone.make_aware(datetime.datetime.combine(timezone.localdate() + datetime.timedelta(days=1), datetime.time(9)))
    return w


def bal(account):
    return Account.objects.get(pk=account.pk).balance_minutes


def hold_account(bank):
    return ledger.system_account(bank.pk, AccountKind.HOLD)


def create(w, **kw):
    from orders.services import order_create

    kw.setdefault("payment_mode", "time_coin")
    item = w.chat if kw["payment_mode"] == "free" else w.item
    return order_create(by=w.desk, elder=w.elder, item=item, scheduled_start=w.start, **kw)


def deliver(w, order, *, minutes=60, verification="verified"):
    """Dispatched to the volunteer, accepted, checked in and out `minutes` later (the moves through
    order_move, as the EVV does after its own checks)."""
    from orders.services import order_dispatch, order_move

    order = order_dispatch(by=w.desk, order=order, volunteer=w.volunteer)
    order_move(by=w.desk, order=order, action="accept")
    order.checkin_at = w.start
    order_move(by=w.desk, order=order, action="check_in", update_fields=["checkin_at"])
    order.checkout_at = w.start + datetime.timedelta(minutes=minutes)
    order.verification = verification
    order_move(by=w.desk, order=order, action="check_out", update_fields=["checkout_at", "verification"])
    return order


def rate(w, order, rating=5):
    from orders.quality import order_rate

    return order_rate(by=w.desk, order=order, rating=rating, via="callback")


# --- time-coin orders ------------------------------------------------------------------------------


def test_a_time_coin_order_holds_the_elders_coins_when_created(world):
    order = create(world)

    account = world.elder_member.account
    assert bal(account) == 40 and bal(hold_account(world.bank)) == 60
    hold = Transfer.objects.get(order=order, kind=TransferKind.HOLD)
    assert hold.idempotency_key == f"order:{order.pk}:hold" and hold.category == "mutual_care"


def test_too_few_coins_refuse_the_order_and_nothing_is_written(world):
    from orders.services import order_create

    create(world)  # 60 of her 100 held
    before = (Order.objects.count(), Transfer.objects.count())

    with pytest.raises(ValidationError) as caught:
        order_create(by=world.desk, elder=world.elder, item=world.item, scheduled_start=world.start, payment_mode="time_coin")

    assert caught.value.message_dict["payment_mode"] == ["余额不足：欧阳奶奶 的账户余额 40 分钟，本次需 60 分钟"]
    assert (Order.objects.count(), Transfer.objects.count()) == before


def test_an_elder_who_is_not_a_member_cannot_order_in_time_coins(world):
    from elders.tests.factories import ElderFactory
    from orders.services import order_create

    other = ElderFactory(region=world.elder.region, name="未入会")
    with pytest.raises(ValidationError, match="尚未加入安泰社区时间银行"):
        order_create(by=world.desk, elder=other, item=world.item, scheduled_start=world.start, payment_mode="time_coin")


def test_check_out_takes_the_held_coins(world):
    order = deliver(world, create(world))

    take = Transfer.objects.get(order=order, kind=TransferKind.TAKE)
    assert bal(hold_account(world.bank)) == 0 and bal(world.elder_member.account) == 40
    assert sorted(take.movements.values_list("account__kind", "minutes")) == [("hold", -60), ("issue", 60)]


def test_cancellation_releases_the_held_coins(world):
    from orders.services import order_cancel

    order = create(world)
    order_cancel(by=world.desk, order=order, reason="老人住院")

    assert bal(world.elder_member.account) == 100 and bal(hold_account(world.bank)) == 0
    assert Transfer.objects.filter(order=order, kind=TransferKind.RELEASE).count() == 1
    assert ledger.audit().ok


def test_a_plans_order_made_without_the_hook_holds_at_dispatch(world):
    from orders.services import order_dispatch

    order = create(world, payment_mode="free")
    Order.objects.filter(pk=order.pk).update(payment_mode="time_coin")  # as a plan's bulk insert leaves it
    order.refresh_from_db()
    order_dispatch(by=world.desk, order=order, volunteer=world.volunteer)

    assert Transfer.objects.filter(order=order, kind=TransferKind.HOLD).count() == 1


def test_the_time_coin_payer_pays_the_whole_price_and_the_elder_nothing(world):
    from settlements.models import Share
    from settlements.split import context_for, split

    order = create(world)
    Order.objects.filter(pk=order.pk).update(unit_price_fen=2000, amount_fen=2000)
    order.refresh_from_db()

    parts = split(context_for(order))

    assert [(p.kind, p.amount_fen) for p in parts] == [("time_coin", 2000)]
    assert parts[0].key == str(world.bank.pk) and parts[0].label == "安泰社区时间银行·时间币"
    deliver(world, order)
    assert list(Share.objects.filter(order=order).values_list("payer_kind", "amount_fen")) == [("time_coin", 2000)]


# --- volunteer earnings ----------------------------------------------------------------------------


def test_a_verified_and_rated_volunteer_order_deposits_once(world):
    order = deliver(world, create(world, payment_mode="free"), minutes=45)
    assert not Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).exists()  # not rated yet

    rate(world, order)

    deposit = Transfer.objects.get(order=order, kind=TransferKind.SERVICE)
    assert deposit.served_minutes == 45 and deposit.idempotency_key == f"order:{order.pk}:service"
    assert bal(world.volunteer_member.account) == 45
    # The moves replayed (a hook called again) do not pay twice.
    from timebank.orders_link import deposit_for_order, on_order_move

    order.refresh_from_db()
    on_order_move(order=order, action="rate", by=world.desk)
    deposit_for_order(order=order, by=world.desk)
    assert Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).count() == 1
    assert bal(world.volunteer_member.account) == 45


def test_the_deposit_follows_the_categorys_rate_and_the_cap(world, settings):
    world.bank.rates = {"mutual_care": 1500}
    world.bank.save()
    order = deliver(world, create(world, payment_mode="free"), minutes=200)  # 60 scheduled

    rate(world, order)

    assert bal(world.volunteer_member.account) == 90  # capped at 60 minutes × 1.5
    settings.TIMEBANK_SERVED_CAP_PERCENT = 150
    order.refresh_from_db()
    assert served_minutes(order) == 90


def test_a_visit_verified_after_the_rating_deposits_when_the_exception_is_accepted(world):
    from orders.evv import visit_exception_resolve

    order = create(world, payment_mode="free")
    order = deliver(world, order, verification="pending")
    exception = VisitException.objects.create(order=order, code="late", detail="迟到 20 分钟")
    rate(world, order)
    assert not Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).exists()

    visit_exception_resolve(by=world.desk, exception=exception, resolution="accepted", note="交通管制，情况属实")

    assert Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).count() == 1
    assert bal(world.volunteer_member.account) == 60


def test_a_rejected_visit_deposits_nothing(world):
    order = deliver(world, create(world, payment_mode="free"), verification="rejected")
    rate(world, order)
    assert not Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).exists()


def test_a_volunteer_without_membership_gets_no_deposit_and_the_orders_history_says_so(world):
    from audit.models import ChangeRecord

    world.volunteer_member.status = "left"
    world.volunteer_member.save()
    order = deliver(world, create(world, payment_mode="free"))
    rate(world, order)

    assert not Transfer.objects.filter(order=order, kind=TransferKind.SERVICE).exists()
    record = ChangeRecord.objects.filter(action="timebank_skip", object_id=order.pk).get()
    assert "未加入时间银行" in record.note


def test_every_catalogue_category_of_the_time_bank_maps_to_one_of_the_ten(world):
    from catalogue.models import ServiceItem

    tb = ServiceItem.objects.filter(category__code__startswith="tb_").select_related("category")
    assert {category_of(item) for item in tb} == set(Category.values)
    assert set(CATEGORY_OF_CATALOGUE.values()) <= set(Category.values)


# --- an overturned verification --------------------------------------------------------------------


def reject(w, order, code="late"):
    """A person rejects the visit's exception (orders.evv): its verification becomes rejected."""
    from orders.evv import visit_exception_resolve

    exception = VisitException.objects.create(order=order, code=code, detail="迟到 40 分钟")
    return visit_exception_resolve(by=w.desk, exception=exception, resolution="rejected", note="老人反映未上门")


def test_a_visit_rejected_after_check_out_gives_the_taken_coins_back(world):
    order = deliver(world, create(world), verification="pending")
    assert bal(world.elder_member.account) == 40

    reject(world, order)

    take = Transfer.objects.get(order=order, kind=TransferKind.TAKE)
    reversal = Transfer.objects.get(reverses=take)
    assert reversal.kind == TransferKind.REVERSAL and "核验不通过" in reversal.note
    refund = Transfer.objects.get(idempotency_key=f"order:{order.pk}:refund:{take.pk}")
    assert refund.kind == TransferKind.RELEASE
    assert bal(world.elder_member.account) == 100 and bal(hold_account(world.bank)) == 0
    assert ledger.audit().ok


def test_a_second_rejection_or_a_rerun_never_refunds_twice(world):
    from timebank.orders_link import on_order_verify, refund_for_order

    order = deliver(world, create(world), verification="pending")
    reject(world, order)
    before = Transfer.objects.count()
    order.refresh_from_db()

    on_order_verify(order=order, by=world.desk)
    refund_for_order(order=order, by=world.desk)
    reject(world, order, code="short")  # another exception rejected: the verification stays rejected

    assert Transfer.objects.count() == before
    assert bal(world.elder_member.account) == 100


def test_a_visit_already_rejected_at_check_out_is_taken_and_refunded_at_once(world):
    order = deliver(world, create(world), verification="rejected")

    assert bal(world.elder_member.account) == 100 and bal(hold_account(world.bank)) == 0
    assert list(Transfer.objects.filter(order=order).order_by("id").values_list("kind", flat=True)) == [
        "hold",
        "take",
        "reversal",
        "release",
    ]


def test_a_dispute_reverses_the_volunteers_deposit_and_its_acceptance_pays_again(world):
    from orders.evv import order_dispute, visit_exception_resolve
    from timebank.orders_link import on_order_verify

    order = deliver(world, create(world))
    rate(world, order)
    assert bal(world.volunteer_member.account) == 60 and bal(world.elder_member.account) == 40

    dispute = order_dispute(by=world.desk, order=order, reason="女儿来电：那天志愿者没来")
    order.refresh_from_db()
    assert order.verification == "disputed"

    deposit = Transfer.objects.get(order=order, kind=TransferKind.SERVICE)
    assert Transfer.objects.filter(reverses=deposit).exists()
    assert bal(world.volunteer_member.account) == 0 and bal(world.elder_member.account) == 100

    visit_exception_resolve(by=world.desk, exception=dispute, resolution="accepted", note="志愿者有签到照片，老人记错了")
    order.refresh_from_db()
    assert order.verification == "verified"
    on_order_verify(order=order, by=world.desk)  # replayed: once

    assert bal(world.volunteer_member.account) == 60 and bal(world.elder_member.account) == 40
    assert Transfer.objects.filter(order=order, idempotency_key=f"order:{order.pk}:service:2").count() == 1
    assert Transfer.objects.filter(order=order, idempotency_key=f"order:{order.pk}:take:2").count() == 1
    assert ledger.audit().ok


def test_a_deposit_the_volunteer_already_spent_is_not_forced_and_the_history_says_so(world):
    from audit.models import ChangeRecord
    from timebank.orders_link import on_order_verify

    order = deliver(world, create(world, payment_mode="free"))
    rate(world, order)
    ledger.donate(from_account=world.volunteer_member.account, minutes=50, by=world.desk)

    Order.objects.filter(pk=order.pk).update(verification="disputed")
    order.refresh_from_db()
    on_order_verify(order=order, by=world.desk)

    assert bal(world.volunteer_member.account) == 10
    assert not Transfer.objects.filter(kind=TransferKind.REVERSAL).exists()
    record = ChangeRecord.objects.filter(action="timebank_skip", object_id=order.pk).latest("id")
    assert "未能冲正" in record.note and "余额不足" in record.note


def test_a_take_again_that_would_overdraw_the_elder_is_left_to_the_desk(world):
    from audit.models import ChangeRecord
    from timebank.orders_link import on_order_verify

    order = deliver(world, create(world), verification="rejected")  # refunded: 100
    ledger.donate(from_account=world.elder_member.account, minutes=90, by=world.desk)
    Order.objects.filter(pk=order.pk).update(verification="verified")
    order.refresh_from_db()

    on_order_verify(order=order, by=world.desk)

    assert bal(world.elder_member.account) == 10
    assert "未能重新扣除" in ChangeRecord.objects.filter(action="timebank_skip", object_id=order.pk).latest("id").note


def test_the_desk_still_cannot_reverse_an_orders_take_by_hand(world):
    order = deliver(world, create(world))
    take = Transfer.objects.get(order=order, kind=TransferKind.TAKE)

    with pytest.raises(ValidationError, match="不能手工冲正"):
        ledger.reverse(transfer=take, by=world.desk, note="手工退回")
