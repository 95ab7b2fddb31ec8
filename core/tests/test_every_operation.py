"""The API half of the route test: every operation of /api/ refused to anonymous, to a user
without the permission, to another region and to an account without one — the tables, the
world and the check are core/tests/test_every_route.py's (a file of its own only so the two
halves run on two pytest-xdist workers)."""

import pytest

from core.tests.test_every_route import API_CASES, check_route_refuses, world  # noqa: F401 (world: the fixture)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("kind", "key", "method", "who"), API_CASES)
def test_operation_refuses(world, kind, key, method, who):  # noqa: F811 (world: the fixture)
    check_route_refuses(world, kind, key, method, who)
