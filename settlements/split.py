"""The split of one visit's price among its payers (docs/settlements.md, "The split").

    ctx = context_for(order)          # the price, quantity, payment mode, visit day
    parts = split(ctx)                # [Part(kind, key, label, amount_fen, units, quota_key), …]

The payers (settlements/payers.py) are walked in their order; each takes min(its claim, what is
left); the elder pays the rest. What always holds, whatever the payers and their order
(settlements/tests/test_split.py, hypothesis):

- the parts add up to the price, exactly, in integer fen;
- no part is negative; a zero part is never written, except
- a visit whose price is 0 (a free, 无偿 service) gets one zero part of the elder: the visit is
  still on the month's statements (the elders', its organisation's and its worker's: a count of
  services delivered) and is settled with them.
"""

import datetime

from django.conf import settings
from django.utils import timezone, translation

from settlements.payers import Part, Payer, SplitContext, payers


class SplitError(Exception):
    """A payer broke the rules (its parts do not add up to what it was granted, or are negative)."""


def visit_day(order) -> datetime.date:
    """The day the visit happened: its check-in, else its check-out, else its window's start."""
    at = order.checkin_at or order.checkout_at or order.scheduled_start
    return timezone.localtime(at).date()


def month_of(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def context_for(order) -> SplitContext:
    """The split's view of a real order (its payers load their facts lazily, in split())."""
    return SplitContext(
        price_fen=order.amount_fen,
        quantity=order.quantity,
        unit_price_fen=order.unit_price_fen,
        payment_mode=order.payment_mode,
        order=order,
        on=visit_day(order),
    )


def split(ctx: SplitContext, kinds: list[Payer] | None = None) -> list[Part]:
    """The parts of `ctx.price_fen`, payer by payer (`kinds`: the registry's, in order)."""
    kinds = payers() if kinds is None else list(kinds)
    rest = [p for p in kinds if p.pays_rest]
    if len(rest) != 1:
        raise SplitError("exactly one payer pays the rest")
    if ctx.price_fen < 0:
        raise SplitError("a price is never negative")
    ctx.left = ctx.price_fen
    out: list[Part] = []
    with translation.override(settings.LANGUAGE_CODE):  # stored labels are in the site's language
        for kind in kinds:
            if kind.pays_rest or ctx.left == 0:
                continue
            if ctx.order is not None:
                kind.load(ctx)
            amount = min(max(int(kind.claim(ctx)), 0), ctx.left)
            if amount == 0:
                continue
            parts = [p for p in kind.parts(ctx, amount) if p.amount_fen != 0]
            if sum(p.amount_fen for p in parts) != amount or any(p.amount_fen < 0 for p in parts):
                raise SplitError(f"payer {kind.code!r}: parts {parts} do not add up to {amount}")
            out += parts
            ctx.left -= amount
        if ctx.left > 0 or not out:
            (elder,) = rest
            if ctx.order is not None:
                elder.load(ctx)
            out += elder.parts(ctx, ctx.left)
            ctx.left = 0
    return out
