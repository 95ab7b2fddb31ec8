"""Starting and running jobs. The task layer (django-tasks) only calls `job_run`."""

import datetime
import logging
import time
import traceback
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from jobs.models import Job

log = logging.getLogger(__name__)
PHASES = {"validate": "校验", "match": "比对", "write": "写入", "export": "导出"}


def job_create(*, by, kind: str, params: dict, upload=None, input_name: str = "") -> Job:
    job = Job(kind=kind, by=by, region=by.region, params=params, input_name=input_name)
    if upload is not None:
        job.input_file.save(f"{kind}-{timezone.now():%Y%m%d%H%M%S}.bin", upload, save=False)
    job.save()
    return job


def job_enqueue(job: Job, task) -> None:
    """Start `task(job.pk)` once the job row is committed (STYLE: tasks start from on_commit)."""

    def start():
        result = task.enqueue(job.pk)
        Job.objects.filter(pk=job.pk, task_id="").update(task_id=str(result.id))

    transaction.on_commit(start)


def job_progress(job_id: int, *, in_transaction: bool = False) -> Callable[[int, int, str], None]:
    """A callback recording a job's progress where the user's page can see it.

    Work that runs inside one long transaction (an import writes as it checks) cannot show
    progress through that transaction (`in_transaction=True`); on PostgreSQL the update then
    goes through a short connection of its own, in autocommit. SQLite allows one writer at a time, so there the
    progress inside a transaction is skipped (the page shows the phase it started with)."""
    last = [0.0]

    def report(done: int, total: int, phase: str = "") -> None:
        if not in_transaction:
            Job.objects.filter(pk=job_id).update(progress_done=done, progress_total=total, phase=phase)
            return
        if connection.vendor != "postgresql" or time.monotonic() - last[0] < 0.5:
            return
        last[0] = time.monotonic()
        import psycopg

        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as side:
            side.execute(
                f"UPDATE {Job._meta.db_table} SET progress_done = %s, progress_total = %s, phase = %s WHERE id = %s",
                (done, total, phase, job_id),
            )

    return report


def job_run(job_id: int, work: Callable[[Job], dict]) -> Job:
    """Run `work(job)` and record its result or its failure; never leaves a job 'running'."""
    job = Job.objects.select_related("by", "by__region").get(pk=job_id)
    if job.is_finished:
        return job
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        result = work(job)
    except Exception as exc:  # the user sees what went wrong on the job page
        log.exception("job %s failed", job_id)
        message = getattr(exc, "messages", None)
        job.error = "；".join(message) if message else f"{type(exc).__name__}: {exc}"
        if not message:
            job.error += "\n" + traceback.format_exc(limit=3)
        job.status = Job.Status.FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["error", "status", "finished_at"])
        return job
    job.refresh_from_db()
    job.result = result
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save(update_fields=["result", "status", "finished_at", "output_file", "output_name"])
    return job


def job_files_prune(*, now=None, keep_days: int | None = None) -> int:
    """Delete the files of jobs past their retention (they hold personal data): uploaded
    sheets, error workbooks and exports after JOB_FILE_RETENTION_DAYS (or `keep_days`),
    exports holding full numbers after FULL_NUMBER_EXPORT_RETENTION_HOURS. A running job keeps
    its files. The job rows stay, so the page can say the file has expired. Returns how many
    files were deleted. Run by the scheduler (jobs.schedule) and by `manage.py prune_jobs`."""
    now = now or timezone.now()
    days = settings.JOB_FILE_RETENTION_DAYS if keep_days is None else keep_days
    full_numbers = Q(kind=Job.Kind.ELDER_EXPORT) & (Q(params__reveal=True) | Q(result__full_numbers=True))
    expired = Q(created_at__lt=now - datetime.timedelta(days=days)) | (
        full_numbers & Q(created_at__lt=now - datetime.timedelta(hours=settings.FULL_NUMBER_EXPORT_RETENTION_HOURS))
    )
    removed = 0
    jobs = Job.objects.filter(expired).exclude(input_file="", output_file="").exclude(status=Job.Status.RUNNING)
    for job in jobs.iterator():
        for field in ("input_file", "output_file"):
            stored = getattr(job, field)
            if not stored:
                continue
            name = stored.name
            stored.delete(save=False)  # a file already gone (a shared dry-run upload) is no error
            # a confirmed dry run shares its upload with the dry run: clear it on both
            Job.objects.filter(**{field: name}).update(**{field: ""})
            removed += 1
    if removed:
        log.info("job_files_prune: %d files deleted", removed)
    return removed
