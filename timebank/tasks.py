"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

from django_tasks import task

from jobs.services import job_run


def _import_work(job):
    from timebank.imports import import_job_work

    return import_job_work(job)


@task()
def transfer_import_task(job_id: int) -> None:
    job_run(job_id, _import_work)
