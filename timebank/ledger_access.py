"""Who reaches which account and transfer of the ledger (the API's reads; docs/timebank-ledger.md).

Two ways in, checked in this order:

- **staff** — a role with the permission code (timebank.view_bank to read, record_transfer to
  post for a member at the desk, reverse_transfer to reverse): the accounts of the banks in their
  region subtree (restrict()'s rule; an account elsewhere is a 404; an account with no region a 403);
- **member** — timebank.use_account: their own personal account (Member.user) and those of the
  members they are a proxy for, in force today, with the right the action needs (can_view to
  read, can_give to give or donate, can_spend to spend). Anything else is a 404.
"""

from django.http import Http404

from core.access import NoRegion, NotPermitted, no_region_message, not_permitted_message
from core.scoping import Scope
from timebank.models import Account, AccountKind, Proxy, Transfer, proxy_active_q

STAFF_CODE = {"view": "timebank.view_bank", "give": "timebank.record_transfer", "spend": "timebank.record_transfer"}
PROXY_RIGHT = {"view": "can_view", "give": "can_give", "spend": "can_spend"}
MEMBER_CODE = "timebank.use_account"


def _staff_scope(user, code: str) -> Scope | None:
    """The user's scope when their role holds `code` (NoRegion when they have none), else None."""
    if not user.may_code(code):
        return None
    scope = Scope.of(user)
    if scope.is_empty:
        raise NoRegion(no_region_message())
    return scope


def _proxies_in_force(user, right: str):
    return Proxy.objects.filter(proxy_active_q(), user=user, **{right: True})


def account_get(*, user, account_id: int, purpose: str = "view") -> tuple[Account, Proxy | None]:
    """The account `user` may use for `purpose` (view, give, spend), and the proxy they act as
    (None: their own account, or staff). 404 when out of reach; 403 when the role has neither way in."""
    base = Account.objects.select_related("bank__region", "member")
    scope = _staff_scope(user, STAFF_CODE[purpose])
    if scope is not None:
        found = base.filter(scope.q(Account), pk=account_id).first()
        if found is None:
            raise Http404
        return found, None
    if not user.may_code(MEMBER_CODE):
        raise NotPermitted(not_permitted_message())
    found = base.filter(pk=account_id, kind=AccountKind.PERSONAL, member__user=user, closed_at__isnull=True).first()
    if found is not None:
        return found, None
    proxy = _proxies_in_force(user, PROXY_RIGHT[purpose]).filter(member__account__pk=account_id).first()
    if proxy is None:
        raise Http404
    return base.get(pk=account_id), proxy


def counterparty_get(*, from_account: Account, account_id: int) -> Account:
    """The account a member gives to: any open account of the same bank (ids of other banks, or
    none, are a 404)."""
    found = (
        Account.objects.filter(pk=account_id, bank_id=from_account.bank_id, closed_at__isnull=True).select_related("bank").first()
    )
    if found is None:
        raise Http404
    return found


def transfer_get(*, user, transfer_id: int, action: str = "reverse") -> Transfer:
    """A transfer of a bank in the user's subtree (staff with timebank.<action>_transfer), else 404/403."""
    if not user.may_code(f"timebank.{action}_transfer"):
        raise NotPermitted(not_permitted_message())
    scope = Scope.of(user)
    if scope.is_empty:
        raise NoRegion(no_region_message())
    found = Transfer.objects.filter(scope.q(Transfer), pk=transfer_id).select_related("bank__region").first()
    if found is None:
        raise Http404
    return found
