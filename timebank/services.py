"""Writes of the time bank that are not ledger postings (those are timebank.ledger): opening a
bank with its own accounts, and a member's personal account."""

from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import change_record
from timebank.models import Account, AccountKind, Bank, Member

# The bank's own accounts, opened with it: service hours are credited from `issue` (its
# balance is minus every coin ever earned, so the sum over all accounts stays zero), `hold`
# keeps what time-coin orders reserved, `clearing` is what coins cross between banks, and one
# pool takes donations and pays incentives (a bank may open more pools).
SYSTEM_ACCOUNTS = (
    (AccountKind.ISSUE, _("服务记账账户")),
    (AccountKind.HOLD, _("预扣账户")),
    (AccountKind.CLEARING, _("跨行清算账户")),
    (AccountKind.POOL, _("公益池")),
)


@transaction.atomic
def bank_open(*, by, region, name: str, rules=None, rates=None, credit_line_minutes: int = 0, levels=None) -> Bank:
    bank = Bank(
        region=region,
        name=name,
        rules=rules or {},
        rates=rates or {},
        credit_line_minutes=credit_line_minutes,
        levels=levels or [],
    )
    bank.full_clean()
    bank.save()
    for kind, label in SYSTEM_ACCOUNTS:
        Account.objects.create(bank=bank, kind=kind, name=f"{name}{label}")
    change_record(obj=bank, action="create", changes={"name": [None, name]}, by=by, region=region)
    return bank


@transaction.atomic
def member_account_open(*, member: Member) -> Account:
    """The member's personal account (once): named after them."""
    account, _created = Account.objects.get_or_create(
        member=member, defaults={"bank": member.bank, "kind": AccountKind.PERSONAL, "name": member.name}
    )
    return account
