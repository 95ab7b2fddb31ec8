"""A user sees the jobs they started, inside their scope."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from jobs.models import Job


def job_list(*, user, kind: str | None = None):
    from jobs.services import job_expire_stale

    # lazily, as well as on the schedule: a job whose worker died shows as failed when read
    if user.is_authenticated:
        job_expire_stale(by=user)
    qs = Job.objects.restrict(user, "view").filter(by=user)
    return qs.filter(kind=kind) if kind else qs


def job_get(*, user, job_id: int) -> Job:
    """One of the user's own jobs: 403 when the role may not see jobs or the account has no
    region (core.access), 404 for anyone else's job."""
    from core.access import check

    check(user, "view", Job)
    return get_object_or_404(job_list(user=user), pk=job_id)


# How long a job may wait in the queue before its page says the task worker seems not to run.
WORKER_WAIT_SECONDS = 30


def job_waiting_for_worker(*, job: Job, now=None) -> bool:
    """True when `job` has been queued for WORKER_WAIT_SECONDS and no task worker was seen in
    that time. django-tasks-db's worker keeps no heartbeat, so "seen" means it started or
    finished some task lately (the scheduler's included), or is running one now: a worker
    that is up claims a queued task within its polling interval (a second in `make run`)."""
    if job.status != Job.Status.QUEUED or "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
        return False
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    since = now - timedelta(seconds=WORKER_WAIT_SECONDS)
    if job.created_at > since:
        return False
    seen = Q(started_at__gte=since) | Q(finished_at__gte=since)
    busy = Q(status=TaskResultStatus.RUNNING, started_at__gte=now - timedelta(hours=1))
    return not DBTaskResult.objects.filter(seen | busy).exists()
