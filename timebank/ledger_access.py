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

from core.access import NotPermitted, not_permitted_message
from timebank.models import Account, AccountKind, Proxy, Transfer, proxies_in_force
from timebank.selectors import get_scoped, own_member_q, staff_scope

# The bank's action (selectors.CODES) a staff user needs for each purpose, and a proxy's right.
STAFF_ACTION = {"view": "view", "give": "record", "spend": "record"}
PROXY_RIGHT = {"view": "can_view", "give": "can_give", "spend": "can_spend"}
MEMBER_CODE = "timebank.use_account"


def account_get(*, user, account_id: int, purpose: str = "view") -> tuple[Account, Proxy | None]:
    """The account `user` may use for `purpose` (view, give, spend), and the proxy they act as
    (None: their own account, or staff). 404 when out of reach; 403 when the role has neither
    way in. Staff through selectors.get_scoped; a member through selectors.own_member_q with the
    proxy's right (proxies in force: timebank.models.proxy_active_q)."""
    base = Account.objects.select_related("bank__region", "member")
    if staff_scope(user, STAFF_ACTION[purpose]) is not None:
        return get_scoped(base, user, account_id, STAFF_ACTION[purpose]), None
    if not user.may_code(MEMBER_CODE):
        raise NotPermitted(not_permitted_message())
    right = PROXY_RIGHT[purpose]
    found = (
        base.filter(pk=account_id, kind=AccountKind.PERSONAL, closed_at__isnull=True)
        .filter(member__in=_members_for(user, right))
        .first()
    )
    if found is None:
        raise Http404
    if found.member.user_id == user.pk:
        return found, None
    return found, proxies_in_force(user, right).filter(member_id=found.member_id).order_by("-starts_on").first()


def _members_for(user, right: str):
    from timebank.models import Member

    return Member.objects.filter(own_member_q(user, right=right)).values("pk")


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
    return get_scoped(Transfer.objects.select_related("bank__region"), user, transfer_id, action)
