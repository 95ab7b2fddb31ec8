"""Reads of settlements; each list begins with restrict() (shares and lines with the statements'
permissions, settlements/models.py), and the facts the payers load for a split."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Prefetch, Sum, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import check
from core.scoping import Scope
from settlements.models import Share, Statement, StatementLine

# --- months -------------------------------------------------------------------------------------


def month_parse(text, field: str = "month") -> datetime.date:
    """A month typed as "2026-05" (or a date in it) → 2026-05-01; a clear refusal otherwise."""
    if isinstance(text, datetime.date):
        return text.replace(day=1)
    value = (text or "").strip()
    try:
        year, month = value[:7].split("-")
        return datetime.date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise ValidationError({field: _("请按“年-月”填写月份，例如 2026-05")}) from None


def this_month() -> datetime.date:
    return timezone.localdate().replace(day=1)


def previous_month(month: datetime.date | None = None) -> datetime.date:
    month = month or this_month()
    return (month - datetime.timedelta(days=1)).replace(day=1)


# --- what the payers load for a split (settlements/payers.py) -----------------------------------

_GOVERNMENT_LEVELS = {"city": 2, "district": 3, "street": 4}  # regions.models.Level


def _ancestors(region):
    from regions.selectors import region_ancestors

    return region_ancestors(region)


def government_of(region):
    """The government that pays for a government purchase in `region`: its ancestor at
    SETTLEMENTS_GOVERNMENT_LEVEL (a district by default), else the nearest one above."""
    level = _GOVERNMENT_LEVELS.get(getattr(settings, "SETTLEMENTS_GOVERNMENT_LEVEL", "district"), 3)
    chain = _ancestors(region)
    above = [r for r in chain if r.level <= level]
    return above[-1] if above else chain[0]


def community_of(region):
    """The community (社区/村) of a grid or community; a node above one: itself."""
    from regions.models import Level

    chain = _ancestors(region)
    found = [r for r in chain if r.level == Level.COMMUNITY]
    return found[-1] if found else chain[-1]


def merchant_discount(order, *, on: datetime.date) -> dict | None:
    """The discount of the order's merchant, if its agreement is in force on `on`."""
    from merchants.models import AgreementStatus, Merchant

    if not order.merchant_id:
        return None
    merchant = Merchant.objects.filter(pk=order.merchant_id).only(
        "name", "discount_tenths", "status", "period_start", "period_end"
    )
    merchant = merchant.first()
    if merchant is None or not merchant.discount_tenths or merchant.status != AgreementStatus.ACTIVE:
        return None
    if (merchant.period_start and merchant.period_start > on) or (merchant.period_end and merchant.period_end < on):
        return None
    return {"key": merchant.pk, "label": merchant.name, "tenths": merchant.discount_tenths}


def quota_used(*, elder_id: int, month: datetime.date) -> dict[str, int]:
    """Units of each quota this month's subsidy shares of the elder already used."""
    rows = (
        Share.objects.filter(order__elder_id=elder_id, month=month, payer_kind="subsidy")
        .values("quota_key")
        .annotate(used=Sum("units"))
    )
    return {r["quota_key"]: r["used"] or 0 for r in rows}


def quota_sources(order, *, on: datetime.date) -> list:
    """The grants of the elder's packages that cover the order's item (the item itself, or its
    category, in the item's unit), each with what this month left of it; package-code order,
    item grants before category grants."""
    from catalogue.selectors import entitlements_for
    from settlements.payers import QuotaSource

    item = order.item
    entitled = entitlements_for(order.elder, on)
    used = quota_used(elder_id=order.elder_id, month=on.replace(day=1))
    sources = []
    for package in entitled.packages:
        grants = [g for g in package.grants_list if g.unit == item.unit]
        grants = [g for g in grants if g.item_id == item.pk] + [g for g in grants if g.category_id == item.category_id]
        for grant in grants:
            what = f"item:{grant.item_id}" if grant.item_id else f"category:{grant.category_id}"
            key = f"{package.code}/{what}/{grant.unit}"[:60]
            left = grant.quantity - used.get(key, 0)
            if left > 0:
                sources.append(QuotaSource(str(package.pk), package.name[:80], package.payment_mode, key, left))
    return sources


# --- statements -------------------------------------------------------------------------------------


@dataclass
class StatementFilter:
    month: datetime.date | None = None
    kind: str = ""
    state: str = ""
    payer_kind: str = ""
    region: object = None  # a region in the user's scope (already checked): its subtree
    q: str = ""  # a few characters of the party's name


def statement_list(*, user, filters: StatementFilter | None = None):
    """Statements in the user's scope (an organisation: its own and its workers'), the latest
    month first, payers before organisations before workers."""
    f = filters or StatementFilter()
    check(user, "view", Statement)
    qs = Statement.objects.restrict(user, "view")
    if f.region is not None:
        qs = qs.within(f.region)
    if f.month:
        qs = qs.filter(month=f.month)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.payer_kind:
        qs = qs.filter(payer_kind=f.payer_kind)
    if f.q:
        qs = qs.filter(party_label__contains=f.q.strip()[:40])
    # payers first, then organisations, then workers
    rank = Case(*(When(kind=k, then=Value(i)) for i, k in enumerate(Statement.Kind.values)), output_field=IntegerField())
    return (
        qs.select_related("region", "organisation", "caregiver", "issued_by")
        .annotate(kind_rank=rank)
        .order_by("-month", "kind_rank", "party_label", "id")
    )


def statement_get(*, user, statement_id: int, action: str = "view") -> Statement:
    """One statement for `action`: 403 when the role cannot at all, 404 outside the scope."""
    check(user, action, Statement)
    found = (
        Statement.objects.restrict(user, action)
        .select_related("region", "organisation", "caregiver", "issued_by")
        .filter(pk=statement_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def statement_lines(*, statement: Statement):
    """The lines of a statement already read through statement_get, in the order of the visits.
    An organisation's statement holds no lines of its own: its workers' statements of the same
    month and region are its lines."""
    if statement.kind == Statement.Kind.ORGANISATION:
        lines = StatementLine.objects.filter(
            statement__kind=Statement.Kind.WORKER,
            statement__month=statement.month,
            statement__region_id=statement.region_id,
            statement__organisation_id=statement.organisation_id,
        )
    else:
        lines = StatementLine.objects.filter(statement=statement)
    return lines.select_related(
        "share",
        "share__order",
        "share__order__elder",
        "share__order__item",
        "share__organisation",
        "share__caregiver",
        "share__volunteer",
    ).order_by("share__order__scheduled_start", "share__order_id", "id")


def statement_figures(*, statement: Statement) -> dict:
    """What the page shows above the lines: late lines and corrections counted."""
    lines = statement_lines(statement=statement).order_by()
    return {
        "late": lines.filter(is_late=True).count(),
        "corrections": lines.filter(share__corrects__isnull=False).count(),
    }


def _order_in_scope(user, order_id: int):
    """The order `order_id` if it lies in the user's scope (region subtree or organisation)."""
    from orders.models import Order

    order = Order.objects.select_related("region", "item").filter(pk=order_id).first()
    if order is None or not Scope.of(user).covers(path=order.region.path, org_id=order.organisation_id):
        raise Http404
    return order


def shares_of_order(*, user, order_id: int):
    """The order's shares and corrections (404 when the order is outside the user's scope)."""
    check(user, "view", Statement)
    order = _order_in_scope(user, order_id)
    shares = (
        Share.objects.restrict(user, "view")
        .filter(order_id=order.pk)
        .select_related("corrects")
        .prefetch_related(Prefetch("lines", queryset=StatementLine.objects.select_related("statement").order_by("kind")))
        .order_by("id")
    )
    return order, shares


def share_get(*, user, share_id: int, action: str = "view") -> Share:
    check(user, action, Statement)
    found = (
        Share.objects.restrict(user, action)
        .select_related("order", "order__elder", "order__item", "region", "corrects")
        .filter(pk=share_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def share_effective_fen(share: Share) -> int:
    """What the payer owes for the order after every correction of this share."""
    original = share.corrects or share
    total = Share.objects.filter(corrects=original).aggregate(n=Sum("amount_fen"))["n"] or 0
    return original.amount_fen + total


def month_choices(*, count: int = 13) -> list[datetime.date]:
    """This month and the twelve before it, newest first (the pages' month picker)."""
    months, month = [], this_month()
    for _i in range(count):
        months.append(month)
        month = previous_month(month)
    return months


def drafts_in(*, user, month: datetime.date, region):
    """The draft statements of `month` in `region`'s subtree the user may issue."""
    return Statement.objects.restrict(user, "issue").within(region).filter(month=month, state=Statement.State.DRAFT)


def statement_names(user, ids) -> dict:
    """{id: "安泰社区·老人自付 2026-05"} of the statements `user` may see (the access log's words)."""
    if not user.may("view", Statement):
        return {}
    rows = Statement.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "party_label", "month")
    return {pk: f"{label} {month:%Y-%m}" for pk, label, month in rows}
