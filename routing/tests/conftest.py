import pytest

from routing.tests.factories import RouteWorld


@pytest.fixture
def rw(tree):
    return RouteWorld.build(tree)


@pytest.fixture(autouse=True)
def _quick(settings):
    # A small day: a second of search finds the optimum of a handful of visits.
    settings.ROUTING = {**settings.ROUTING, "PLAN_SECONDS": 1}
