"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

import os
import tempfile

from django.core.files import File
from django_tasks import task

from jobs.services import job_progress, job_run


def _import_work(job):
    from elders.importer import import_elders, write_error_report
    from jobs.services import error_report_bytes, import_job_run

    params = job.params
    return import_job_run(
        job,
        lambda source: import_elders(
            source,
            by=job.by,
            dry_run=params.get("dry_run", False),
            skip_invalid=params.get("skip_invalid", False),
            filename=job.input_name,
            progress=job_progress(job.pk, in_transaction=True),  # the import writes as it checks
            acting_label="web" if params.get("via") != "api" else "api",
        ),
        error_file=lambda report: error_report_bytes(report, write_error_report),
    )


def _export_work(job):
    from elders.exporter import elder_export, export_job_filters

    report = job_progress(job.pk)
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        count, full = elder_export(
            user=job.by,
            filters=export_job_filters(job.params),
            reveal=job.params.get("reveal", False),
            out=path,
            progress=lambda done, total: report(done, total, "export"),
            detail={"job": job.pk},
        )
        job.output_name = f"老年人名单-{job.created_at:%Y%m%d-%H%M}.xlsx"
        with open(path, "rb") as fh:
            job.output_file.save(f"export-{job.pk}.xlsx", File(fh), save=True)
    finally:
        os.unlink(path)
    return {"rows": count, "full_numbers": full}


@task()
def elder_import_task(job_id: int) -> None:
    job_run(job_id, _import_work)


@task()
def elder_export_task(job_id: int) -> None:
    job_run(job_id, _export_work)
