"""The ledger on PostgreSQL: concurrent spends from one account never overdraw it and none is
lost; concurrent duplicates of one idempotency key make one transfer and no 500; the trigger
keeps movements and transfers append-only. Skipped on SQLite, which serialises every writer
(nothing concurrent to prove) and has no trigger (migration 0002 is PostgreSQL only)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, connections, transaction

from timebank import ledger
from timebank.models import Account, AccountKind, Movement, Transfer

pytestmark = pytest.mark.django_db(transaction=True)

NEEDS_PG = "needs concurrent connections and the append-only trigger (PostgreSQL; set DATABASE_URL)"


@pytest.fixture
def pg():
    if connection.vendor != "postgresql":
        pytest.skip(NEEDS_PG)


def _threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except ValidationError as exc:
            results[i] = exc
        except Exception as exc:  # noqa: BLE001 — a 500 in the making: the test names it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_simultaneous_spends_never_overdraw_and_none_is_lost(pg, tree, desk):
    from timebank.tests.factories import account_of, bank_of

    bank = bank_of(tree.community, by=desk)
    spender = account_of(bank, "张三", minutes=1000)
    receivers = [account_of(bank, f"收{i}") for i in range(5)]
    amount = 30  # 1000 // 30 = 33 spends fit, 17 must be refused

    def spend(i):
        source = Account.objects.get(pk=spender.pk)
        target = Account.objects.get(pk=receivers[i % 5].pk)
        return ledger.gift(from_account=source, to_account=target, minutes=amount, by=desk)

    results = _threads(50, spend)

    accepted = [r for r in results if isinstance(r, Transfer)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    others = [r for r in results if not isinstance(r, (Transfer, ValidationError))]
    assert others == []
    assert len(accepted) == 1000 // amount and len(refused) == 50 - 1000 // amount
    assert all("余额不足：张三" in r.messages[0] for r in refused)
    spender.refresh_from_db()
    assert spender.balance_minutes == 1000 - len(accepted) * amount == ledger.balance(spender)
    assert sum(Account.objects.get(pk=r.pk).balance_minutes for r in receivers) == len(accepted) * amount
    balances = sorted(Movement.objects.filter(account=spender, minutes__lt=0).values_list("balance_after", flat=True))
    assert balances == sorted(1000 - amount * k for k in range(1, len(accepted) + 1))  # a strict queue
    assert ledger.audit().ok


def test_concurrent_duplicates_of_one_key_make_one_transfer(pg, tree, desk):
    from timebank.tests.factories import account_of, bank_of

    bank = bank_of(tree.community, by=desk)
    a, b = account_of(bank, minutes=100), account_of(bank)

    results = _threads(
        8,
        lambda i: ledger.gift(
            from_account=Account.objects.get(pk=a.pk),
            to_account=Account.objects.get(pk=b.pk),
            minutes=10,
            by=desk,
            idempotency_key="dup",
        ),
    )

    assert all(isinstance(r, Transfer) for r in results), results
    assert len({r.pk for r in results}) == 1
    a.refresh_from_db()
    assert a.balance_minutes == 90 and Transfer.objects.filter(idempotency_key="dup").count() == 1


def test_movements_and_transfers_are_append_only(pg, tree, desk):
    from timebank.tests.factories import account_of, bank_of

    bank = bank_of(tree.community, by=desk)
    a, b = account_of(bank, minutes=100), account_of(bank)
    gift = ledger.gift(from_account=a, to_account=b, minutes=10, by=desk)
    movement = gift.movements.first()

    for attempt in (
        lambda: Movement.objects.filter(pk=movement.pk).update(minutes=999),
        lambda: Movement.objects.filter(pk=movement.pk).delete(),
        lambda: Transfer.objects.filter(pk=gift.pk).update(note="改了"),
        lambda: Transfer.objects.filter(pk=gift.pk).update(bank=bank, kind="donation"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    # The one update the code makes: a move's transfers name each other once.
    other = ledger.gift(from_account=a, to_account=b, minutes=1, by=desk)
    Transfer.objects.filter(pk=gift.pk).update(counterpart=other)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Transfer.objects.filter(pk=gift.pk).update(counterpart=None)
    assert Movement.objects.get(pk=movement.pk).minutes == movement.minutes


def test_a_move_between_banks_runs_under_the_trigger(pg, tree, desk):
    from timebank.tests.factories import account_of, bank_of

    bank, bank2 = bank_of(tree.community, by=desk), bank_of(tree.community2, by=desk)
    a = account_of(bank, minutes=50)
    moved = ledger.move_member(member=a.member, to_bank=bank2, by=desk)
    assert moved.account.balance_minutes == 50
    assert ledger.system_account(bank2.pk, AccountKind.CLEARING).balance_minutes == -50
    assert ledger.audit().ok
