"""Reads of the time bank; each begins with restrict(), narrowed for the member roles.

A volunteer's or elder's (or relative's) account reaches only its own member rows and those it
is an active proxy of (with can_view): never the bank's other members, whatever its region.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from accounts.roles import Role
from core.access import NoRegion, NotPermitted, check, get_scoped_or_404, no_region_message, not_permitted_message
from core.scoping import Scope
from timebank.members import SERVED_KINDS
from timebank.models import (
    Account,
    AccountKind,
    Bank,
    Member,
    MemberStatus,
    Movement,
    Proxy,
    Transfer,
    TransferKind,
    proxies_in_force,
    proxy_active_q,
)

MEMBER_ROLES = (Role.VOLUNTEER, Role.ELDER)


CODES = {
    "view": "timebank.view_bank",
    "change": "timebank.change_member",
    "record": "timebank.record_transfer",
    "reverse": "timebank.reverse_transfer",
}


def staff_scope(user, action: str = "view") -> Scope | None:
    """The staff way in: the user's region subtree when their role holds the bank's code for
    `action` (view_bank, change_member, record_transfer, reverse_transfer); None when it does
    not; NoRegion (403) for an account with no region. Lists, rows and the ledger's account
    access all start here."""
    if not getattr(user, "is_authenticated", False) or not user.may_code(CODES[action]):
        return None
    scope = Scope.of(user)
    if scope.is_empty:
        raise NoRegion(no_region_message())
    return scope


def scoped(model, user, action: str = "view"):
    """restrict() for the bank's rows, whose permissions are the bank's codes rather than one
    per model: nothing without the code or a region."""
    try:
        scope = staff_scope(user, action)
    except NoRegion:
        scope = None
    return model.objects.none() if scope is None else model.objects.filter(scope.q(model))


def get_scoped(queryset, user, pk, action: str = "view"):
    """One row in scope: 403 when the role may not at all or the account has no region, 404
    outside the scope (core.access's rule, with the bank's codes)."""
    scope = staff_scope(user, action)
    if scope is None:
        raise NotPermitted(not_permitted_message())
    row = queryset.filter(scope.q(queryset.model), pk=pk).first()
    if row is None:
        raise Http404
    return row


def is_member_role(user) -> bool:
    return getattr(user, "role", None) in MEMBER_ROLES


def own_member_q(user, today=None, right: str = "can_view") -> Q:
    """Members that are the user's own or that they hold a proxy in force with `right` for."""
    return Q(user=user) | Q(pk__in=proxies_in_force(user, right, today).values("member_id"))


def member_scope(user, action: str = "view"):
    if is_member_role(user):
        if not user.is_authenticated or not user.may_code("timebank.use_account"):
            return Member.objects.none()
        return Member.objects.filter(own_member_q(user))
    return scoped(Member, user, action)


def _ancestor_ids(user) -> list[int]:
    region = getattr(user, "region", None)
    if region is None:
        return []
    return [int(p) for p in region.path.strip("/").split("/") if p][:-1]


def bank_list(*, user):
    """Banks of the user's subtree, and the shared banks above it (a street's or the city's bank
    that serves the user's community: its members there are the user's to keep)."""
    own = Bank.objects.restrict(user, "view")
    if not own.query.is_empty() and _ancestor_ids(user):
        own = Bank.objects.filter(Q(pk__in=own.values("pk")) | Q(region_id__in=_ancestor_ids(user)))
    return own.select_related("region").order_by("region__path", "id")


def bank_get(*, user, bank_id: int, action: str = "view") -> Bank:
    """A bank to read (one of bank_list's) or, for change, one of the user's subtree."""
    if action != "view":
        return get_scoped_or_404(Bank.objects.select_related("region"), user, bank_id, action)
    check(user, "view", Bank)
    bank = bank_list(user=user).filter(pk=bank_id).first()
    if bank is None:
        raise Http404
    return bank


@dataclass
class MemberFilter:
    bank: Bank | None = None
    region: object = None
    status: str = ""
    q: str = ""
    cadre: bool = False


def member_list(*, user, filters: MemberFilter | None = None):
    """Members in the user's scope, newest first ((bank, status, id) and (region, status, id))."""
    f = filters or MemberFilter()
    qs = member_scope(user, "view")
    if f.bank is not None:
        qs = qs.filter(bank=f.bank)
    if f.region is not None:
        qs = qs.filter(region__path__startswith=f.region.path)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.q:
        qs = qs.filter(name__startswith=f.q[:32]) if not f.q.isdigit() else qs.filter(pk=int(f.q[:12]))
    if f.cadre:
        qs = qs.filter(is_retired_cadre=True)
    return qs.select_related("bank", "region", "account").order_by("-id")


def member_get(*, user, member_id: int, action: str = "view") -> Member:
    qs = Member.objects.select_related("bank", "bank__region", "region", "account", "volunteer", "elder", "user")
    if is_member_role(user):
        if not user.may_code("timebank.use_account"):
            raise Http404
        member = qs.filter(own_member_q(user), pk=member_id).first()
        if member is None:
            raise Http404
        return member
    return get_scoped(qs, user, member_id, action)


def acting_member(*, user, member_id: int | None) -> Member:
    """The member a member-role user acts as on their phone or through the API: the one named
    (their own, or one they are a proxy of: member_get's rule), else their own active membership."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if member_id:
        return member_get(user=user, member_id=member_id)
    own, _proxies = my_members(user=user)
    me = next((m for m in own if m.status == MemberStatus.ACTIVE), None)
    if me is None:
        raise ValidationError({"member": _("您还不是时间银行的会员。")})
    return me


def my_members(*, user):
    """The user's own memberships (active first) and the members they may act for."""
    own = list(
        Member.objects.filter(user=user)
        .exclude(status__in=[MemberStatus.REFUSED, MemberStatus.MOVED, MemberStatus.LEFT])
        .select_related("bank", "account")
        .order_by("status", "-id")[:5]
    )
    proxies = list(
        Proxy.objects.filter(proxy_active_q(), user=user, member__status=MemberStatus.ACTIVE)
        .select_related("member", "member__account", "member__bank")
        .order_by("-starts_on")[:20]
    )
    return own, proxies


def movements(*, account: Account, start=None, end=None):
    """An account's movements (the account already read through a selector), newest first, with
    the transfer's kind, category and note, and balance_after: the statement's running balance."""
    qs = Movement.objects.filter(account=account).select_related("transfer", "transfer__proxy", "transfer__created_by")
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lt=end)
    return qs.order_by("-at", "-id")


def pools(*, bank: Bank):
    return Account.objects.filter(bank=bank, kind=AccountKind.POOL).order_by("id")


def proxies_of(*, member: Member):
    return member.proxies.select_related("user").order_by("-starts_on", "-id")


def transfer_list(*, user, bank: Bank | None = None):
    qs = scoped(Transfer, user, "view")
    if bank is not None:
        qs = qs.filter(bank=bank)
    return qs.select_related("bank").order_by("-at", "-id")


def served_minutes(*, member: Member) -> int:
    account = getattr(member, "account", None)
    if account is None:
        return 0
    total = Movement.objects.filter(
        account=account,
        minutes__gt=0,
        transfer__kind__in=SERVED_KINDS,
        transfer__served_minutes__isnull=False,
        transfer__reversed_by__isnull=True,
    ).aggregate(s=Sum("transfer__served_minutes"))["s"]
    return int(total or 0)


def tasks_i_can_take(*, user, limit: int = 20):
    """Open volunteer orders sent to this volunteer that they may accept (orders' own scope: the
    /orders/my/ phone pages take them)."""
    from orders.models import Status
    from orders.selectors import order_scope

    if not user.may_code("orders.serve_order"):
        return []
    return list(
        order_scope(user, "serve")
        .filter(status=Status.DISPATCHED)
        .select_related("elder", "item")
        .order_by("scheduled_start")[:limit]
    )


# --- figures (seed 004's numbers, live) ------------------------------------------------------

DESK_KINDS = (TransferKind.DESK_DEPOSIT, TransferKind.DESK_WITHDRAWAL)
# 存取 (seed 004's "时间币存取次数"): coins put in or taken out at the bank — at the desk, by a
# sheet, or exchanged for a service; a service credited from an order is counted as a service.
DEPOSIT_WITHDRAW_KINDS = (
    TransferKind.SPEND,
    TransferKind.TAKE,
    TransferKind.DESK_DEPOSIT,
    TransferKind.DESK_WITHDRAWAL,
    TransferKind.IMPORT,
)


@dataclass
class Figures:
    region: object
    start: datetime.datetime | None
    end: datetime.datetime | None
    members: dict
    retired_cadres: int
    services: int
    served_minutes: int
    transactions: int
    deposits_withdrawals: int
    by_category: list
    pools: list
    banks: int
    ledger_sum: int
    balance_sum: int

    @property
    def healthy(self) -> bool:
        return self.ledger_sum == 0 and self.balance_sum == 0

    @property
    def members_total(self) -> int:
        return sum(self.members.values())

    @property
    def hours_served(self) -> float:
        return round(self.served_minutes / 60, 1)


def figures_transfers_sql(*, user, region, start=None, end=None):
    """The SQL and parameters of the figures' read of the rollup (the benchmark explains it)."""
    from timebank.models import DayFigure

    check(user, "view", Bank)
    qs = DayFigure.objects.filter(region__path__startswith=region.path)
    if start is not None:
        qs = qs.filter(day__gte=timezone.localdate(start))
    if end is not None:
        qs = qs.filter(day__lt=timezone.localdate(end))
    qs = qs.values("kind", "category").annotate(n=Sum("transfers"), s=Sum("services"), m=Sum("served_minutes")).order_by()
    return qs.query.sql_with_params()


def figures(*, user, region, start=None, end=None) -> Figures:
    """The figures of seed 004 for a community, street or city (a region in the user's scope)
    and a period [start, end): members by status, services and hours served, transactions and
    desk deposits and withdrawals, the balance of every pool, and the ledger's health (the sum
    over all accounts of the region's banks, stored and moved, is zero). Set-based: a handful
    of grouped queries whatever the size."""
    check(user, "view", Bank)
    path = region.path
    by_status = list(
        scoped(Member, user, "view")
        .filter(region__path__startswith=path)
        .values("status")
        .annotate(n=Count("id"), cadres=Count("id", filter=Q(is_retired_cadre=True)))
        .order_by()
    )
    members = {r["status"]: r["n"] for r in by_status}
    cadres = sum(r["cadres"] for r in by_status if r["status"] == MemberStatus.ACTIVE)
    from timebank.figures import ledger_sum as ledger_sum_of
    from timebank.figures import transfer_rows

    rows = transfer_rows(region=region, start=start, end=end)
    served_rows = [r for r in rows if r["services"]]
    by_category = sorted(
        (
            {
                "category": c,
                "n": sum(r["services"] for r in served_rows if r["category"] == c),
                "m": sum(r["minutes"] or 0 for r in served_rows if r["category"] == c),
            }
            for c in {r["category"] for r in served_rows}
        ),
        key=lambda r: -r["m"],
    )
    service_row = {"n": sum(r["services"] for r in rows), "m": sum(r["minutes"] or 0 for r in rows)}
    transactions = sum(r["n"] for r in rows)
    deposits_withdrawals = sum(r["n"] for r in rows if r["kind"] in DEPOSIT_WITHDRAW_KINDS)
    banks = Bank.objects.restrict(user, "view").filter(region__path__startswith=path)
    pool_rows = list(
        Account.objects.filter(bank__in=banks, kind=AccountKind.POOL).select_related("bank").order_by("bank_id", "id")[:50]
    )
    ledger_sum = ledger_sum_of(banks=banks)
    balance_sum = Account.objects.filter(bank__in=banks).aggregate(s=Sum("balance_minutes"))["s"] or 0
    from timebank.models import Category

    labels = dict(Category.choices)
    return Figures(
        region=region,
        start=start,
        end=end,
        members=members,
        retired_cadres=cadres,
        services=service_row["n"] or 0,
        served_minutes=int(service_row["m"] or 0),
        transactions=transactions,
        deposits_withdrawals=deposits_withdrawals,
        by_category=[
            {
                "category": r["category"],
                "label": str(labels.get(r["category"], r["category"] or "—")),
                "services": r["n"],
                "minutes": int(r["m"] or 0),
            }
            for r in by_category
        ],
        pools=[{"bank": a.bank.name, "name": a.name, "balance_minutes": a.balance_minutes} for a in pool_rows],
        banks=banks.count(),
        ledger_sum=int(ledger_sum),
        balance_sum=int(balance_sum),
    )


def period(name: str, today: datetime.date | None = None) -> tuple[datetime.datetime | None, datetime.datetime | None]:
    """all, year, month, or last30: [start, end) in the platform's time zone."""
    today = today or timezone.localdate()

    def at(day):
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))

    if name == "year":
        return at(today.replace(month=1, day=1)), None
    if name == "month":
        return at(today.replace(day=1)), None
    if name == "last30":
        return at(today - datetime.timedelta(days=30)), None
    return None, None
