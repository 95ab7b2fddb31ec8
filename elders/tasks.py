"""Entry points for the task layer (django-tasks); each calls a service through jobs.job_run."""

import os
import tempfile

from django.core.files import File
from django_tasks import task

from jobs.services import job_progress, job_run


def _import_work(job):
    from elders.exporter import write_error_report
    from elders.importer import import_elders
    from jobs.models import Job

    params = job.params
    with job.input_file.open("rb") as source:
        report = import_elders(
            source,
            by=job.by,
            dry_run=params.get("dry_run", False),
            skip_invalid=params.get("skip_invalid", False),
            filename=job.input_name,
            progress=job_progress(job.pk),
            acting_label="web" if params.get("via") != "api" else "api",
        )
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
    from audit.services import access_log
    from elders.exporter import export_elders
    from elders.selectors import elder_list, parse_filter

    filters = parse_filter(job.params.get("filters", {}))
    reveal = job.params.get("reveal", False) and job.by.may_code("elders.reveal_elder")
    qs = elder_list(user=job.by, filters=filters, action="export")
    report = job_progress(job.pk)
    total = qs.count()
    report(0, total, "export")
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        count = export_elders(qs, path, reveal=reveal, progress=lambda n: report(n, total, "export"))
        job.output_name = f"老年人名单-{job.created_at:%Y%m%d-%H%M}.xlsx"
        with open(path, "rb") as fh:
            job.output_file.save(f"export-{job.pk}.xlsx", File(fh), save=True)
    finally:
        os.unlink(path)
    access_log(
        kind="export",
        model="elders.elder",
        by=job.by,
        region=job.by.region,
        fields=("id_number", "phone") if reveal else (),
        detail={"filters": filters.as_dict(), "rows": count, "full_numbers": reveal, "job": job.pk},
    )
    return {"rows": count, "full_numbers": reveal}


@task()
def elder_import_task(job_id: int) -> None:
    job_run(job_id, _import_work)


@task()
def elder_export_task(job_id: int) -> None:
    job_run(job_id, _export_work)
