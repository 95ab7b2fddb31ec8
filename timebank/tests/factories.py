"""Builders for the ledger's tests: a bank with its own accounts, members with personal
accounts (Member rows made here: joining is the members module's), funded through the ledger."""

import itertools

from django.utils import timezone

from conftest import make_user

_n = itertools.count(1)


def bank_of(region, *, by=None, name=None, credit_line_minutes=0, rates=None):
    from timebank.services import bank_open

    by = by or make_user(f"tbadmin{next(_n)}", "admin", region)
    return bank_open(
        by=by, region=region, name=name or f"{region.name}时间银行", credit_line_minutes=credit_line_minutes, rates=rates
    )


def member_of(bank, name=None, *, elder=None, volunteer=None, user=None, region=None, status="active"):
    from timebank.models import Member
    from timebank.services import member_account_open

    member = Member.objects.create(
        bank=bank,
        region=region or bank.region,
        name=name or f"会员{next(_n)}",
        elder=elder,
        volunteer=volunteer,
        user=user,
        status=status,
        joined_on=timezone.localdate(),
    )
    member_account_open(member=member)
    return member


def account_of(bank, name=None, *, minutes=0, by=None, **kw):
    """A member's personal account with `minutes` deposited (a 互助养老 service at rate 1000)."""
    from timebank.ledger import deposit_service

    member = member_of(bank, name, **kw)
    account = member.account
    if minutes:
        deposit_service(member_account=account, minutes_served=minutes * 1000 // _rate(bank), category="mutual_care", by=by)
        account.refresh_from_db()
    return account


def _rate(bank):
    from timebank.ledger import rate_of

    return rate_of(bank, "mutual_care") or 1000


def pool_of(bank):
    from timebank.models import Account

    return Account.objects.filter(bank=bank, kind="pool").order_by("id").first()
