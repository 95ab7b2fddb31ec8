import pytest

from orders.tests.factories import LoopWorld


@pytest.fixture
def loop(tree):
    return LoopWorld.build(tree)
