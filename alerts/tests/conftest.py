import datetime

import pytest
from django.utils import timezone

from alerts.tests.factories import World


@pytest.fixture
def world(tree):
    return World(tree)


@pytest.fixture
def t0():
    """A fixed moment: the clock every escalation test starts from."""
    return timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 0, 0))
