"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

from django_tasks import task

from jobs.services import job_run


def _export_work(job):
    from settlements.exporter import export_job_work

    return export_job_work(job)


@task()
def statement_export_task(job_id: int) -> None:
    job_run(job_id, _export_work)
