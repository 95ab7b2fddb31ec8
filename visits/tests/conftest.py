import datetime

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _default_rules(db):
    """The rules of migration 0003 (a transactional test elsewhere may have flushed them)."""
    from catalogue.services import catalogue_initial_load
    from visits.rules import rules_initial_load

    catalogue_initial_load()
    rules_initial_load()


def at(y, m, d, hh=10, mm=0):
    """A local (Asia/Shanghai) time."""
    return timezone.make_aware(datetime.datetime(y, m, d, hh, mm))


def registered(elder, when=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)):
    """Back-date an elder's registration (visits before it are refused)."""
    type(elder).objects.filter(pk=elder.pk).update(created_at=when)
    elder.refresh_from_db()
    return elder


@pytest.fixture
def grid_worker(tree):
    from conftest import make_user

    return make_user("grid1", "grid", tree.grid)


@pytest.fixture
def community_worker(tree):
    from conftest import make_user

    return make_user("comm1", "community", tree.community)
