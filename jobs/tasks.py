"""Entry points for the task layer (django-tasks) that belong to no one app: the periodic tasks."""

import logging

from django_tasks import task

log = logging.getLogger(__name__)


@task()
def periodic_task(name: str) -> None:
    """Run the periodic task `name` of jobs.schedule.SCHEDULE (enqueued by run_scheduler)."""
    from jobs.schedule import periodic_get

    periodic = periodic_get(name)
    if periodic is None:
        log.warning("periodic task %r is no longer in the schedule", name)
        return
    result = periodic.run()
    log.info("periodic task %s: %r", name, result)
