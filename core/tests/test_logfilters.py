"""The worker's console: the scheduler's ticks are not printed; other tasks and failures are."""

import logging

import pytest

from core.logfilters import QuietPeriodicTicks


def _record(level, path):
    return logging.LogRecord("django_tasks", level, __file__, 1, "Task id=%s path=%s state=%s", ("x1", path, "SUCCESSFUL"), None)


@pytest.mark.parametrize(
    ("level", "path", "shown"),
    [
        (logging.INFO, "jobs.tasks.periodic_task", False),
        (logging.ERROR, "jobs.tasks.periodic_task", True),
        (logging.INFO, "elders.tasks.import_run", True),
    ],
)
def test_only_the_periodic_ticks_are_dropped(level, path, shown):
    assert QuietPeriodicTicks().filter(_record(level, path)) is shown


def test_the_filter_is_on_the_task_logger():
    logger = logging.getLogger("django_tasks")
    assert any(isinstance(f, QuietPeriodicTicks) for f in logger.filters)
