"""The 时间币 payer of the settlement (settlements.payers): a time-coin order is paid in coins,
so its whole price is the bank's and the elder's share is 0 (docs/timebank-ledger.md)."""

from django.utils.translation import gettext_lazy as _

from settlements.payers import Payer

TIME_COIN = "time_coin"


class TimeCoin(Payer):
    """时间币: claims everything left of an order placed in the time_coin payment mode; the
    statement's party is the bank that serves the elder's region (key: its id)."""

    code = TIME_COIN
    label = _("时间币")
    order = 5  # before every other payer: a time-coin order is paid in coins entirely

    def load(self, ctx):
        from timebank.orders_link import bank_for

        bank = bank_for(ctx.order.region) if ctx.payment_mode == TIME_COIN else None
        ctx.facts[self.code] = (
            {"key": bank.pk, "label": f"{bank.name}·{self.label}"} if bank else {"key": "", "label": self.label}
        )

    def claim(self, ctx):
        return ctx.left if ctx.payment_mode == TIME_COIN else 0
