"""The ledger's invariants under random sequences (hypothesis, stateful): whatever the gifts,
donations, group payments, collections, deposits, withdrawals and reversals, accepted or refused,

- the sum over every account of the bank is zero;
- no limited account is ever below its floor (refused postings change nothing);
- every stored balance equals the sum of its movements (the audit passes);
- a reversal restores every balance its transfer moved.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from timebank import ledger
from timebank.models import Account, AccountKind, TransferKind

pytestmark = pytest.mark.django_db

minutes = st.integers(min_value=1, max_value=120)


@pytest.fixture
def machine(tree, desk):
    from timebank.tests.factories import account_of, bank_of, pool_of

    bank = bank_of(tree.community, by=desk, credit_line_minutes=30)
    people = [account_of(bank, f"会员{i}") for i in range(4)]
    Account.objects.filter(pk=people[0].pk).update(credit_line_minutes=0)  # one with no credit at all
    return bank, desk, people, pool_of(bank)


def run_machine(bank, desk, people, pool):
    class Ledger(RuleBasedStateMachine):
        """Random postings against one bank; the model is the database itself (the invariants
        read it back), plus the transfers made so far for reversals."""

        def __init__(self):
            super().__init__()
            self.transfers = []
            # Each example starts from the same database: a savepoint rolled back at its end.
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        def fresh(self, i):
            return Account.objects.get(pk=people[i].pk)

        def attempt(self, fn, **kw):
            before = dict(Account.objects.filter(bank=bank).values_list("pk", "balance_minutes"))
            try:
                transfer = fn(**kw)
            except ValidationError:
                after = dict(Account.objects.filter(bank=bank).values_list("pk", "balance_minutes"))
                assert after == before, "a refused posting changed a balance"
                return None
            self.transfers.append(transfer)
            return transfer

        @rule(i=st.integers(0, 3), m=minutes)
        def deposit(self, i, m):
            self.attempt(ledger.deposit_service, member_account=self.fresh(i), minutes_served=m, category="mutual_care", by=desk)

        @rule(i=st.integers(0, 3), j=st.integers(0, 3), m=minutes)
        def gift(self, i, j, m):
            if i != j:
                self.attempt(ledger.gift, from_account=self.fresh(i), to_account=self.fresh(j), minutes=m, by=desk)

        @rule(i=st.integers(0, 3), m=minutes)
        def donate(self, i, m):
            self.attempt(ledger.donate, from_account=self.fresh(i), minutes=m, by=desk)

        @rule(payees=st.dictionaries(st.integers(0, 3), minutes, min_size=1, max_size=4))
        def group(self, payees):
            self.attempt(
                ledger.group,
                bank=bank,
                payer_account=Account.objects.get(pk=pool.pk),
                payees=[(self.fresh(i), m) for i, m in payees.items()],
                by=desk,
            )

        @rule(payers=st.dictionaries(st.integers(0, 3), minutes, min_size=1, max_size=4))
        def collect(self, payers):
            self.attempt(
                ledger.collect,
                bank=bank,
                payee_account=Account.objects.get(pk=pool.pk),
                payers=[(self.fresh(i), m) for i, m in payers.items()],
                by=desk,
            )

        @rule(i=st.integers(0, 3), m=minutes)
        def withdraw(self, i, m):
            self.attempt(ledger.withdraw, member_account=self.fresh(i), minutes=m, by=desk, confirmation="online")

        @precondition(lambda self: self.transfers)
        @rule(k=st.integers(min_value=0, max_value=10**6))
        def reverse(self, k):
            transfer = self.transfers[k % len(self.transfers)]
            moved = {m.account_id: m.minutes for m in transfer.movements.all()}
            before = dict(Account.objects.filter(pk__in=moved).values_list("pk", "balance_minutes"))
            reversal = self.attempt(ledger.reverse, transfer=transfer, by=desk, note="核对更正")
            if reversal is not None:
                after = dict(Account.objects.filter(pk__in=moved).values_list("pk", "balance_minutes"))
                assert after == {pk: before[pk] - moved[pk] for pk in moved}
                assert reversal.kind == TransferKind.REVERSAL

        @invariant()
        def sums_to_zero(self):
            assert sum(Account.objects.filter(bank=bank).values_list("balance_minutes", flat=True)) == 0

        @invariant()
        def never_below_a_floor(self):
            for account in Account.objects.filter(bank=bank):
                floor = ledger.floor_of(account, bank)
                assert floor is None or account.balance_minutes >= floor, (account.name, account.balance_minutes)

        @invariant()
        def stored_equals_derived(self):
            for account in Account.objects.filter(bank=bank, kind__in=[AccountKind.PERSONAL, AccountKind.POOL]):
                assert account.balance_minutes == ledger.balance(account)
            assert ledger.audit().ok

    Ledger.TestCase.settings = settings(
        max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)
    )
    Ledger.TestCase().runTest()


def test_random_sequences_keep_the_ledger_balanced_and_within_its_limits(machine):
    run_machine(*machine)


def test_a_reversal_of_a_group_payment_restores_each_participant(machine):
    bank, desk, people, pool = machine
    ledger.deposit_service(member_account=people[0], minutes_served=90, category="mutual_care", by=desk)
    ledger.donate(from_account=Account.objects.get(pk=people[0].pk), minutes=90, by=desk)
    paid = ledger.group(bank=bank, payer_account=pool, payees=[(people[1], 40), (people[2], 50)], by=desk)
    ledger.reverse(transfer=paid, by=desk, note="重复登记")
    assert [Account.objects.get(pk=a.pk).balance_minutes for a in (pool, people[1], people[2])] == [90, 0, 0]
