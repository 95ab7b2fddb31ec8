"""The split's arithmetic (no database): shares add up to the price, are never negative, the
rounding is floor with the remainder to the elder, whatever the prices, quantities, quotas,
discounts and the order the payers come in; and a new payer plugs in without touching the others."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from settlements.payers import (
    ELDER,
    GOVERNMENT,
    MERCHANT,
    SUBSIDY,
    Payer,
    QuotaSource,
    SplitContext,
    payer,
    payers,
    register_payer,
    unregister_payer,
)
from settlements.split import SplitError, split

MODES = ["paid", "low_cost", "government", "free", "time_coin"]
PACKAGE_MODES = ["government", "free", "low_cost", "paid", "time_coin"]


def ctx(*, unit=1000, quantity=1, mode="paid", quotas=(), tenths=None):
    c = SplitContext(price_fen=unit * quantity, quantity=quantity, unit_price_fen=unit, payment_mode=mode)
    c.facts = {
        GOVERNMENT: {"key": 3, "label": "锦山区·政府购买"},
        SUBSIDY: list(quotas),
        MERCHANT: {"key": 7, "label": "安泰理发店", "tenths": tenths} if tenths else None,
        ELDER: {"key": 5, "label": "安泰社区·老人自付"},
    }
    return c


def quota(units, mode="government", code="severe"):
    return QuotaSource(key="11", label="重度失能护理包", mode=mode, quota_key=f"{code}/item:1/hour", left_units=units)


def amounts(parts):
    return [(p.kind, p.amount_fen) for p in parts]


def test_an_order_nobody_else_pays_is_the_elders():
    assert amounts(split(ctx(unit=3500))) == [(ELDER, 3500)]


def test_government_purchase_pays_all_and_the_elder_nothing():
    parts = split(ctx(unit=4000, quantity=2, mode="government"))
    assert amounts(parts) == [(GOVERNMENT, 8000)]
    assert parts[0].key == "3" and parts[0].label == "锦山区·政府购买"


def test_a_free_order_is_one_zero_share_of_the_elder():
    assert amounts(split(ctx(unit=0, quantity=3, mode="free"))) == [(ELDER, 0)]


def test_a_quota_covers_its_units_and_the_elder_pays_the_units_beyond():
    parts = split(ctx(unit=3000, quantity=3, quotas=[quota(2)]))
    assert amounts(parts) == [(SUBSIDY, 6000), (ELDER, 3000)]
    assert parts[0].units == 2 and parts[0].quota_key == "severe/item:1/hour"


def test_a_low_cost_quota_pays_the_configured_percentage_floored(settings):
    settings.SETTLEMENTS_LOW_COST_PERCENT = 30
    # 2 units of 333 fen: 666 × 30 % = 199.8 → 199; the elder pays 467.
    assert amounts(split(ctx(unit=333, quantity=2, quotas=[quota(5, "low_cost")]))) == [(SUBSIDY, 199), (ELDER, 467)]


def test_paid_and_time_coin_packages_pay_nothing():
    assert amounts(split(ctx(unit=1000, quotas=[quota(5, "paid"), quota(5, "time_coin")]))) == [(ELDER, 1000)]


def test_two_packages_add_up_in_order():
    parts = split(ctx(unit=1000, quantity=4, quotas=[quota(1, code="a"), quota(2, "low_cost", code="b")]))
    assert [(p.kind, p.amount_fen, p.units, p.quota_key[:1]) for p in parts] == [
        (SUBSIDY, 1000, 1, "a"),
        (SUBSIDY, 1000, 2, "b"),  # 2 units × 1000 fen × 50 % (the default)
        (ELDER, 2000, 0, ""),
    ]


def test_the_merchant_discount_is_floored_and_the_elder_pays_the_rest():
    # 7.5 % of 1,999 fen = 149.925 → 149
    assert amounts(split(ctx(unit=1999, tenths=75))) == [(MERCHANT, 149), (ELDER, 1850)]


def test_the_merchant_discount_is_on_what_the_quota_leaves():
    parts = split(ctx(unit=1000, quantity=3, quotas=[quota(1)], tenths=100))
    assert amounts(parts) == [(SUBSIDY, 1000), (MERCHANT, 200), (ELDER, 1800)]


class Greedy(Payer):
    """A payer that claims more than there is, or less than nothing."""

    pays_rest = False

    def __init__(self, code, order, ask):
        self.code, self.order, self.ask = code, order, ask

    def claim(self, ctx):
        return self.ask(ctx)


prices = st.integers(min_value=0, max_value=5_000_00)
quotas_st = st.lists(
    st.builds(quota, st.integers(min_value=0, max_value=40), st.sampled_from(PACKAGE_MODES), st.sampled_from("abcd")),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    unit=prices,
    quantity=st.integers(min_value=1, max_value=99),
    mode=st.sampled_from(MODES),
    quotas=quotas_st,
    tenths=st.one_of(st.none(), st.integers(min_value=50, max_value=100)),
    percent=st.integers(min_value=0, max_value=100),
    extra=st.integers(min_value=-(10**6), max_value=10**7),
    order=st.permutations(range(4)),
)
def test_shares_always_add_up_to_the_price_and_are_never_negative(unit, quantity, mode, quotas, tenths, percent, extra, order):
    from django.test import override_settings

    c = ctx(unit=unit, quantity=quantity, mode=mode, quotas=quotas, tenths=tenths)
    odd = Greedy("odd", 0, lambda ctx: extra)  # a payer asking anything at all
    kinds = [payer(GOVERNMENT), payer(SUBSIDY), payer(MERCHANT), odd]
    shuffled = [kinds[i] for i in order] + [payer(ELDER)]
    with override_settings(SETTLEMENTS_LOW_COST_PERCENT=percent):
        parts = split(c, shuffled)

    assert sum(p.amount_fen for p in parts) == unit * quantity
    assert all(p.amount_fen >= 0 for p in parts)
    assert parts, "every visit has at least one share"
    if unit * quantity == 0:
        assert amounts(parts) == [(ELDER, 0)]
    else:
        assert all(p.amount_fen > 0 for p in parts), "a zero share is written only for a free visit"
    used = sum(p.units for p in parts if p.kind == SUBSIDY)
    assert used <= quantity and used <= sum(q.left_units for q in quotas)
    if mode == "government" and shuffled[0] is payer(GOVERNMENT) and unit:
        assert amounts(parts) == [(GOVERNMENT, unit * quantity)]


@settings(max_examples=200, deadline=None)
@given(unit=st.integers(min_value=1, max_value=10**6), tenths=st.integers(min_value=50, max_value=100))
def test_the_discount_is_the_floor_of_tenths_of_a_percent(unit, tenths):
    parts = dict(amounts(split(ctx(unit=unit, tenths=tenths))))
    assert parts.get(MERCHANT, 0) == unit * tenths // 1000
    assert parts[ELDER] == unit - unit * tenths // 1000


def test_a_new_payer_plugs_in_without_changing_the_others():
    """Time coins, say: registered like any kind; the others' code is untouched and the split
    walks it in its order."""

    class TimeCoins(Payer):
        code = "test_coins"
        label = "时间币"
        order = 40  # after the merchant, before the elder

        def claim(self, ctx):
            return min(ctx.facts.get(self.code, {}).get("balance", 0), ctx.left)

    register_payer(TimeCoins())
    try:
        # Kinds other apps register (the time bank's time_coin, order 5) are left out of the comparison.
        ours = {GOVERNMENT, SUBSIDY, MERCHANT, "test_coins", ELDER}
        assert [p.code for p in payers() if p.code in ours] == [GOVERNMENT, SUBSIDY, MERCHANT, "test_coins", ELDER]
        c = ctx(unit=1000, quantity=2, quotas=[quota(1)], tenths=100)
        c.facts["test_coins"] = {"key": "42", "label": "王秀兰的时间币", "balance": 500}
        parts = split(c)
        assert amounts(parts) == [(SUBSIDY, 1000), (MERCHANT, 100), ("test_coins", 500), (ELDER, 400)]
        assert parts[2].label == "王秀兰的时间币"
    finally:
        unregister_payer("test_coins")
    assert "test_coins" not in [p.code for p in payers()]


def test_a_payer_whose_parts_do_not_add_up_is_refused():
    class Sloppy(Payer):
        code = "test_sloppy"
        order = 5

        def claim(self, ctx):
            return 100

        def parts(self, ctx, amount):
            return [*super().parts(ctx, amount), *super().parts(ctx, 1)]

    with pytest.raises(SplitError):
        split(ctx(unit=1000), [Sloppy(), payer(ELDER)])


def test_a_second_payer_of_the_rest_is_refused():
    class Another(Payer):
        code = "test_rest"
        pays_rest = True

    with pytest.raises(ValueError):
        register_payer(Another())
