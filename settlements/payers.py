"""Who pays a delivered visit's price: a registry of payer kinds (docs/settlements.md).

A payer kind is a small class with

- `code` (stored in `Share.payer_kind`, at most 16 characters), `label`, `order` (lower pays first);
- `load(ctx)`: read what its rule needs about the visit from the database into
  `ctx.facts[code]`. Called once per split of a real order, just before `claim`; the arithmetic
  tests give the facts directly and never touch the database;
- `claim(ctx) -> int`: the fen it would pay of what is still left (`ctx.left`), by its own rule;
- `parts(ctx, amount) -> list[Part]`: the share(s) it writes for the `amount` the split grants
  it (at most its claim). One share by default, keyed by `key(ctx)` and named by `party(ctx)`:
  the key is also its statement's party (settlements/services.py builds one payer statement per
  kind and key).

The split (settlements/split.py) walks the kinds in order, each taking min(claim, left); the one
kind with `pays_rest` (the elder) pays what is left. A new payer — time coins, when the time bank
plugs in — is one class registered from its app's AppConfig.ready with `register_payer(...)`; no
other payer changes (settlements/tests/test_split.py registers a throwaway one).

Rounding, everywhere: a percentage is computed on integer fen with floor division
(`fen * percent // 100`, `fen * tenths // 1000`), so a payer never pays a fraction of a fen more
than its rule; what the floors leave over goes on down the line and finally to the elder.
"""

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _


@dataclass
class Part:
    """One share the split writes: who (kind + key + label) and how much; a subsidy share also
    says how many units of which quota it used."""

    kind: str
    key: str
    label: str
    amount_fen: int
    units: int = 0
    quota_key: str = ""


@dataclass
class SplitContext:
    """What the payers see of one visit. `order` is None in arithmetic tests."""

    price_fen: int  # the visit's price (Order.amount_fen = unit price × quantity)
    quantity: int = 1
    unit_price_fen: int = 0
    payment_mode: str = "paid"
    order: Any = None
    on: Any = None  # the visit's day
    facts: dict = field(default_factory=dict)  # what each payer's load() found, by its code
    left: int = 0  # what is still to pay, set by the split as it walks


class Payer:
    """The base of every payer kind: pays nothing, one share keyed by `key(ctx)`."""

    code = ""
    label = ""
    order = 100
    pays_rest = False  # the elder: takes what the others leave

    def load(self, ctx: SplitContext) -> None:
        """Read this payer's facts about `ctx.order` (a real visit) into ctx.facts[self.code]."""

    def claim(self, ctx: SplitContext) -> int:
        return 0

    def key(self, ctx: SplitContext) -> str:
        return str((ctx.facts.get(self.code) or {}).get("key", ""))

    def party(self, ctx: SplitContext) -> str:
        return str((ctx.facts.get(self.code) or {}).get("label") or self.label)

    def parts(self, ctx: SplitContext, amount: int) -> list[Part]:
        return [Part(self.code, self.key(ctx), self.party(ctx), amount)]


_PAYERS: dict[str, Payer] = {}


def register_payer(payer: Payer) -> Payer:
    """Add a payer kind (an instance); called at import here and from other apps' ready()."""
    if not payer.code or len(payer.code) > 16:
        raise ValueError(f"payer code {payer.code!r}: 1 to 16 characters (Share.payer_kind)")
    if payer.code in _PAYERS:
        raise ValueError(f"payer {payer.code!r} is registered twice")
    if payer.pays_rest and any(p.pays_rest for p in _PAYERS.values()):
        raise ValueError("only one payer pays the rest (the elder)")
    _PAYERS[payer.code] = payer
    return payer


def unregister_payer(code: str) -> None:
    """Take a payer kind out again (tests)."""
    _PAYERS.pop(code, None)


def payers() -> list[Payer]:
    """The registered kinds in the order they pay: by `order`, then code."""
    return sorted(_PAYERS.values(), key=lambda p: (p.order, p.code))


def payer(code: str) -> Payer | None:
    return _PAYERS.get(code)


def payer_label(code: str) -> str:
    """The words for a kind's code (a kind no longer registered: its code)."""
    found = _PAYERS.get(code)
    return str(found.label) if found else code


def payer_choices() -> list[tuple[str, str]]:
    return [(p.code, str(p.label)) for p in payers()]


# --- the kinds of today -----------------------------------------------------------------------------

GOVERNMENT = "government"
SUBSIDY = "subsidy"
MERCHANT = "merchant"
ELDER = "elder"


class GovernmentPurchase(Payer):
    """政府购买: an order placed in the government payment mode is paid in full by the
    government of the elder's district (SETTLEMENTS_GOVERNMENT_LEVEL: district, city or street)."""

    code = GOVERNMENT
    label = _("政府购买")
    order = 10

    def load(self, ctx):
        from settlements.selectors import government_of

        region = government_of(ctx.order.region)
        ctx.facts[self.code] = {"key": region.pk, "label": f"{region.name}·{self.label}"}

    def claim(self, ctx):
        return ctx.left if ctx.payment_mode == GOVERNMENT else 0


@dataclass
class QuotaSource:
    """One grant of one package the elder is entitled to, as this visit may draw on it."""

    key: str  # the package's id: the subsidy statement's party
    label: str  # the package's name
    mode: str  # the package's payment mode: how much of a unit's price it pays
    quota_key: str  # "<package code>/item:<id>/<unit>": what the month's shares count against
    left_units: int  # the quota less what this month's earlier visits used


def low_cost_percent() -> int:
    return int(getattr(settings, "SETTLEMENTS_LOW_COST_PERCENT", 50))


class SubsidyQuota(Payer):
    """分级分类 entitlements (catalogue.selectors.entitlements_for): the packages the elder's level
    and categories give, a monthly quantity of an item or a category. A visit draws units from
    them in package-code order (an item grant before a category grant); what this month's earlier
    shares used is gone. How much of a covered unit's price the package pays follows its payment
    mode: 政府购买 and 无偿 all of it, 低偿 SETTLEMENTS_LOW_COST_PERCENT (floor), 有偿 and 时间币
    nothing (the entitlement is then a right to order, not money)."""

    code = SUBSIDY
    label = _("分级分类补贴")
    order = 20

    def load(self, ctx):
        from settlements.selectors import quota_sources

        ctx.facts[self.code] = quota_sources(ctx.order, on=ctx.on)

    @staticmethod
    def percent(mode: str) -> int:
        if mode in ("government", "free"):
            return 100
        if mode == "low_cost":
            return low_cost_percent()
        return 0

    def _plan(self, ctx) -> list[tuple[QuotaSource, int, int]]:
        """(source, units, fen) the quotas would cover, in order, for the whole visit."""
        wanted = ctx.quantity
        plan = []
        for source in ctx.facts.get(self.code) or []:
            if wanted <= 0:
                break
            units = min(source.left_units, wanted)
            fen = units * ctx.unit_price_fen * self.percent(source.mode) // 100
            if units <= 0 or fen <= 0:
                continue
            plan.append((source, units, fen))
            wanted -= units
        return plan

    def claim(self, ctx):
        return sum(fen for _, _, fen in self._plan(ctx))

    def parts(self, ctx, amount):
        out = []
        for source, units, fen in self._plan(ctx):
            got = min(fen, amount)
            if got <= 0:
                break
            # Granted less than claimed (an earlier payer took part): the units actually paid
            # for, a part unit counting as used.
            used = units if got == fen else -(-got * units // fen)
            out.append(Part(self.code, source.key, source.label, got, units=used, quota_key=source.quota_key))
            amount -= got
        return out


class MerchantDiscount(Payer):
    """The partner merchant's discount (爱心助老卡, 000: 5–10 %): an order placed with a merchant
    whose agreement is in force on the visit's day gets `discount_tenths` tenths of a percent off
    what is left; the merchant bears it (floor: 7.5 % of 1,999 fen is 149)."""

    code = MERCHANT
    label = _("商户优惠")
    order = 30

    def load(self, ctx):
        from settlements.selectors import merchant_discount

        ctx.facts[self.code] = merchant_discount(ctx.order, on=ctx.on)

    def claim(self, ctx):
        tenths = (ctx.facts.get(self.code) or {}).get("tenths") or 0
        return ctx.left * tenths // 1000


class Elder(Payer):
    """The elder (or their family) pays what the others leave. Key: the elder's community, so the
    elders' payer statement is one per community, a line per visit."""

    code = ELDER
    label = _("老人自付")
    order = 1000
    pays_rest = True

    def load(self, ctx):
        from settlements.selectors import community_of

        community = community_of(ctx.order.region)
        ctx.facts[self.code] = {"key": community.pk, "label": f"{community.name}·{self.label}"}

    def claim(self, ctx):
        return ctx.left


for _kind in (GovernmentPurchase(), SubsidyQuota(), MerchantDiscount(), Elder()):
    register_payer(_kind)
del _kind
