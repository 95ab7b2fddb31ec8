"""The figures' rollup (timebank.figures): the figures are the same read from the rollup as
counted live, transfers after the watermark still count, and a reversal takes its service out."""

import pytest

from timebank import ledger
from timebank.figures import figures_rollup, rolled_to
from timebank.models import DayFigure
from timebank.tests.factories import account_of

pytestmark = pytest.mark.django_db


def numbers(f):
    return (
        f.services,
        f.served_minutes,
        f.transactions,
        f.deposits_withdrawals,
        sorted((r["category"], r["services"], r["minutes"]) for r in f.by_category),
        f.ledger_sum,
        f.balance_sum,
    )


def test_the_figures_read_from_the_rollup_are_the_live_ones(tree, bank, desk):
    from timebank.selectors import figures

    a = account_of(bank, "甲", minutes=120)
    b = account_of(bank, "乙", minutes=45)
    ledger.gift(from_account=a, to_account=b, minutes=20, by=desk)
    wrong = ledger.deposit_service(member_account=b, minutes_served=30, category="health_care", by=desk)
    ledger.reverse(transfer=wrong, by=desk, note="登记错误")
    ledger.withdraw(member_account=a, minutes=10, by=desk, confirmation="online")
    live = numbers(figures(user=desk, region=tree.community))

    figures_rollup()  # marks what it saw
    assert rolled_to() == 0
    figures_rollup()  # rolls it up

    assert rolled_to() > 0 and DayFigure.objects.exists()
    assert numbers(figures(user=desk, region=tree.community)) == live == numbers(figures(user=desk, region=tree.city))
    assert live[:4] == (2, 165, 5, 1)  # 120 + 45 served (the reversed 30 out); 3 deposits, a gift, a withdrawal


def test_transfers_after_the_watermark_count_live_and_a_later_reversal_takes_its_service_out(tree, bank, desk):
    from timebank.selectors import figures

    a = account_of(bank, "甲", minutes=60)
    figures_rollup()
    figures_rollup()
    before = figures(user=desk, region=tree.community)

    later = ledger.deposit_service(member_account=a, minutes_served=40, category="mutual_care", by=desk)
    after = figures(user=desk, region=tree.community)
    assert (after.services, after.served_minutes) == (before.services + 1, before.served_minutes + 40)

    first = a.movements.order_by("id").first().transfer
    ledger.reverse(transfer=first, by=desk, note="重复登记")
    figures_rollup()
    figures_rollup()
    final = figures(user=desk, region=tree.community)

    assert (final.services, final.served_minutes) == (1, 40) and later.served_minutes == 40
    assert final.ledger_sum == 0 and final.healthy


def test_rolling_twice_adds_nothing(tree, bank, desk):
    account_of(bank, "甲", minutes=60)
    figures_rollup()
    figures_rollup()
    rows = list(DayFigure.objects.values_list("transfers", "services", "served_minutes", "minutes_sum"))

    assert figures_rollup() == 0
    assert list(DayFigure.objects.values_list("transfers", "services", "served_minutes", "minutes_sum")) == rows
