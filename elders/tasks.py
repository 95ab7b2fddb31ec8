"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

import os
import tempfile

from django.core.files import File
from django_tasks import task

from jobs.services import job_progress, job_run


def _import_work(job):
    from elders.importer import import_elders, write_error_report
    from jobs.models import Job

    params = job.params
    try:
        source = job.input_file.path  # read by path: the reader runs in a child process
    except NotImplementedError:  # a storage without local paths: the importer copies the file
        source = job.input_file.open("rb")
    try:
        report = import_elders(
            source,
            by=job.by,
            dry_run=params.get("dry_run", False),
            skip_invalid=params.get("skip_invalid", False),
            filename=job.input_name,
            progress=job_progress(job.pk, in_transaction=True),  # the import writes as it checks
            acting_label="web" if params.get("via") != "api" else "api",
        )
    finally:
        if hasattr(source, "close"):
            source.close()
    if report.bad_rows:
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
            path = tmp.name
        try:
            write_error_report(report, path)
            base = os.path.splitext(job.input_name or "导入")[0]
            job.output_name = f"{base}-错误行.xlsx"
            with open(path, "rb") as fh:
                job.output_file.save(f"import-errors-{job.pk}.xlsx", File(fh), save=True)
        finally:
            os.unlink(path)
    if report.written:
        # the uploaded sheet holds personal data: keep it no longer than needed
        name = job.input_file.name
        job.input_file.delete(save=True)
        # a confirmed dry run shares the file; clear it there too, so a second confirm
        # says "re-upload" instead of failing on a missing file
        Job.objects.filter(input_file=name).update(input_file="")
    return report.summary()


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
