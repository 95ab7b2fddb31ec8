import pytest

from conftest import make_user
from timebank.tests.factories import bank_of


@pytest.fixture
def desk(tree):
    """安泰社区's time bank desk (a community worker)."""
    return make_user("tbdesk", "community", tree.community)


@pytest.fixture
def bank(tree, desk):
    return bank_of(tree.community, by=desk, name="安泰社区时间银行")


@pytest.fixture
def bank2(tree, desk):
    return bank_of(tree.community2, name="驻春路社区时间银行")
