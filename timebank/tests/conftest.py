import importlib.util

import pytest

from accounts.roles import Role
from conftest import make_user

# Tests that post through timebank.ledger (branch h/tbledger) run once it is merged; until then
# they are skipped with this reason, so the lead sees them in the report after the merge.
LEDGER = importlib.util.find_spec("timebank.ledger") is not None
needs_ledger = pytest.mark.skipif(not LEDGER, reason="needs timebank.ledger (h/tbledger): runs after the merge")


@pytest.fixture
def desk_user(tree):
    return make_user("desk", Role.COMMUNITY, tree.community)


@pytest.fixture
def bank(tree, desk_user):
    from timebank.members import DEFAULT_LEVELS
    from timebank.services import bank_open

    return bank_open(
        by=desk_user,
        region=tree.community,
        name="安泰社区爱心时间银行",
        rules={"min_age": 18, "residence": True, "approval": True},
        levels=DEFAULT_LEVELS,
    )


@pytest.fixture
def other_bank(tree):
    from timebank.services import bank_open

    return bank_open(by=None, region=tree.community2, name="驻春路社区爱心时间银行")


@pytest.fixture
def member(bank, desk_user, tree):
    import datetime

    from timebank.members import member_apply, member_decide

    m = member_apply(
        by=desk_user, bank=bank, name="王秀英", region=tree.grid, birth_date=datetime.date(1950, 3, 1), phone="13812345678"
    )
    return member_decide(by=desk_user, member=m, approve=True)


@pytest.fixture
def member_user(tree):
    return make_user("vol1", Role.VOLUNTEER, tree.community)
