"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

from django_tasks import task

from jobs.services import job_progress, job_run


def _recompute_work(job):
    from assessments.models import Instrument
    from assessments.services import assessment_recompute

    instrument = Instrument.objects.get(pk=job.params["instrument"])
    report = job_progress(job.pk)
    return assessment_recompute(by=job.by, instrument=instrument, progress=lambda done, total: report(done, total, "recompute"))


@task()
def assessment_recompute_task(job_id: int) -> None:
    job_run(job_id, _recompute_work)
