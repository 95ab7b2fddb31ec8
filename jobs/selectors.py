"""A user sees the jobs they started, inside their scope."""

from django.shortcuts import get_object_or_404

from jobs.models import Job


def job_list(*, user, kind: str | None = None):
    from jobs.services import job_expire_stale

    # lazily, as well as on the schedule: a job whose worker died shows as failed when read
    if user.is_authenticated:
        job_expire_stale(by=user)
    qs = Job.objects.restrict(user, "view").filter(by=user)
    return qs.filter(kind=kind) if kind else qs


def job_get(*, user, job_id: int) -> Job:
    return get_object_or_404(job_list(user=user), pk=job_id)
