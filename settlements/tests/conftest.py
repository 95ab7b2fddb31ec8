import pytest

from conftest import make_user
from orders.tests.factories import LoopWorld


@pytest.fixture
def loop(tree):
    return LoopWorld.build(tree)


@pytest.fixture
def office(tree):
    """The district's aging office: builds and issues the statements (settlements.issue_statement)."""
    return make_user("office", "aging_office", tree.district)
