"""Starting and running jobs. The task layer (django-tasks) only calls `job_run`.

A job's worker holds a lease: `heartbeat_at` is refreshed by every progress report and by a
heartbeat thread while the work runs. A worker that dies (killed, out of memory, the machine
restarted) stops refreshing it; once it is older than JOB_LEASE_SECONDS the job is marked
failed with a message the user understands, by `job_expire_stale` (run on a schedule, and
whenever jobs are read), and a failed import can be run again on the same file (`job_rerun`).
"""

import datetime
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from jobs.models import Job
from jobs.registry import job_kind

log = logging.getLogger(__name__)


def job_create(*, by, kind: str, params: dict, upload=None, input_name: str = "", region=None) -> Job:
    """A new job of `by`, recorded in `by`'s region (or `region`: an organisation's user has
    none, their jobs sit in the organisation's region)."""
    job = Job(kind=kind, by=by, region=region or by.region, params=params, input_name=input_name)
    if upload is not None:
        job.input_file.save(f"{kind}-{timezone.now():%Y%m%d%H%M%S}.bin", upload, save=False)
    job.save()
    return job


def job_enqueue(job: Job, task=None) -> None:
    """Start `task(job.pk)` once the job row is committed (STYLE: tasks start from on_commit);
    by default the task its kind registered (jobs.registry)."""
    if task is None:
        task = import_string(job_kind(job.kind).task)

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
            Job.objects.filter(pk=job_id).update(
                progress_done=done, progress_total=total, phase=phase, heartbeat_at=timezone.now()
            )
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
                f"UPDATE {Job._meta.db_table} SET progress_done = %s, progress_total = %s, phase = %s,"
                " heartbeat_at = %s WHERE id = %s",
                (done, total, phase, timezone.now(), job_id),
            )

    return report


def _stale_message(kind: str) -> str:
    return str(job_kind(kind).stale_message or _("任务进程意外中止，没有完成，请重新运行"))


def job_expire_stale(*, by=None) -> int:
    """Mark failed every running job whose worker has not been heard from within the lease
    (JOB_LEASE_SECONDS); returns how many. Called on a schedule and whenever jobs are read
    (`by` limits it to one user's jobs)."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.JOB_LEASE_SECONDS)
    stale = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    if by is not None:
        stale = stale.filter(by=by)
    count = 0
    for kind in stale.order_by().values_list("kind", flat=True).distinct():
        count += stale.filter(kind=kind).update(status=Job.Status.FAILED, error=_stale_message(kind), finished_at=now)
    if count:
        log.warning("jobs: %d running job(s) lost their worker and were marked failed", count)
    return count


def job_can_rerun(job: Job) -> bool:
    return (
        job.status == Job.Status.FAILED
        and job_kind(job.kind).can_rerun
        and bool(job.input_file)
        and job.input_file.storage.exists(job.input_file.name)
    )


def job_rerun(*, job: Job, by) -> Job:
    """A new job doing a failed job's work again, on the same uploaded file."""
    if job.status != Job.Status.FAILED:
        raise ValidationError({"job": _("只有失败的任务可以重新运行")})
    if not job_kind(job.kind).can_rerun:
        raise ValidationError({"job": _("这类任务不能重新运行，请重新发起")})
    if not job_can_rerun(job):
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    again = job_create_on_file_of(job=job, by=by, params={**job.params, "rerun_of": job.pk})
    job_enqueue(again)
    return again


def job_create_on_file_of(*, job: Job, by, params: dict) -> Job:
    """A new job of `job`'s kind on the file `job` was given (a re-run, or the real import
    after a dry run): the file is shared, not copied."""
    return Job.objects.create(
        kind=job.kind,
        by=by,
        region=by.region or job.region,  # an organisation's user has no region: the first job's
        params=params,
        input_name=job.input_name,
        input_file=job.input_file.name,
    )


class _Heartbeat(threading.Thread):
    """Refreshes a running job's lease while its work runs, on a connection of its own."""

    def __init__(self, job_id: int):
        super().__init__(name=f"job-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self.interval = max(5.0, settings.JOB_LEASE_SECONDS / 5)
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
                except Exception:  # SQLite busy while the work writes: the next beat tries again
                    log.warning("job %s: heartbeat not recorded", self.job_id, exc_info=True)
        finally:
            connections.close_all()  # this thread's connections only

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


def job_run(job_id: int, work: Callable[[Job], dict]) -> Job:
    """Run `work(job)` and record its result or its failure; never leaves a job 'running'
    while its worker lives, and a lease (heartbeat_at) tells when it died."""
    job = Job.objects.select_related("by", "by__region").get(pk=job_id)
    if job.is_finished:
        return job
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=now, heartbeat_at=now)
    heartbeat = _Heartbeat(job.pk)
    heartbeat.start()
    try:
        result = work(job)
    except Exception as exc:  # the user sees what went wrong on the job page
        log.exception("job %s failed", job_id)
        message = getattr(exc, "messages", None)
        # our own messages (ValidationError, UnreadableFile) are for the user; anything else
        # stays in the server log: no class name, traceback or server path reaches a page
        job.error = (
            "；".join(message)
            if message
            else _("任务意外出错，没有完成（任务 #%(id)d）。请重新运行；如果再次出错，请联系管理员") % {"id": job.pk}
        )
        job.status = Job.Status.FAILED
        job.finished_at = timezone.now()
        job.save(update_fields=["error", "status", "finished_at"])
        return job
    finally:
        heartbeat.stop()
    job.refresh_from_db()
    job.result = result
    job.error = ""
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.save(update_fields=["result", "error", "status", "finished_at", "output_file", "output_name"])
    return job


def job_files_prune(*, now=None, keep_days: int | None = None) -> int:
    """Delete the files of jobs past their retention (they hold personal data): uploaded
    sheets, error workbooks and exports after JOB_FILE_RETENTION_DAYS (or `keep_days`),
    files holding full numbers (a job whose params ask `reveal` or whose result says
    `full_numbers`, whatever its kind) after FULL_NUMBER_EXPORT_RETENTION_HOURS. A running job keeps
    its files. The job rows stay, so the page can say the file has expired. Returns how many
    files were deleted. Run by the scheduler (jobs.schedule) and by `manage.py prune_jobs`."""
    now = now or timezone.now()
    days = settings.JOB_FILE_RETENTION_DAYS if keep_days is None else keep_days
    full_numbers = Q(params__reveal=True) | Q(result__full_numbers=True)
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


def import_job_run(job: Job, run_import: Callable, *, error_file: Callable | None = None) -> dict:
    """The one shape of every import job of the apps that import sheets: the uploaded
    sheet read by path (the reader runs in a child process; a storage without local paths gives
    the open file, which the importer copies), `run_import(source)` → its ImportReport, the bad
    rows saved as the job's output file, and the uploaded sheet — personal data — deleted once
    its rows are written (on every job sharing it: a confirmed dry run's, so a second confirm says
    "re-upload" instead of failing on a missing file). `error_file(report)` gives the error
    workbook's bytes (default: `report.error_file`). Returns the report's summary."""
    import os

    from django.core.files.base import ContentFile

    try:
        source = job.input_file.path
    except NotImplementedError:
        source = job.input_file.open("rb")
    try:
        report = run_import(source)
    finally:
        if hasattr(source, "close"):
            source.close()
    data = error_file(report) if error_file else getattr(report, "error_file", None)
    if data:
        job.output_name = f"{os.path.splitext(job.input_name or '导入')[0]}-错误行.xlsx"
        job.output_file.save(f"import-errors-{job.pk}.xlsx", ContentFile(data), save=True)
    if report.written:
        name = job.input_file.name
        job.input_file.delete(save=True)
        Job.objects.filter(input_file=name).update(input_file="")
    return report.summary()


def error_report_bytes(report, write) -> bytes | None:
    """The error workbook of a report whose writer takes a path (`write(report, path)`), as bytes;
    None when no row was bad."""
    import os
    import tempfile

    if not report.bad_rows:
        return None
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        write(report, path)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)
