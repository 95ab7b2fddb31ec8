"""Background jobs a user starts (an import, an export) and follows on a page."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


class Job(models.Model):
    """One run of a background task for one user; its progress, result and output file."""

    SCOPE_PATH = "region__path"
    # An organisation's users (no region) reach the jobs of their organisation's users;
    # job_list and job_get keep each user to their own jobs on top of this.
    SCOPE_ORG = "by__organisation"

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("进行中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    # a kind an app registered (jobs.registry.register_job_kind): label, task, result page
    kind = models.CharField(_("类型"), max_length=20)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    params = models.JSONField(default=dict)
    input_name = models.CharField(max_length=255, blank=True, default="")
    input_file = models.FileField(upload_to="jobs/in/", blank=True)
    output_name = models.CharField(max_length=255, blank=True, default="")
    output_file = models.FileField(upload_to="jobs/out/", blank=True)
    phase = models.CharField(max_length=20, blank=True, default="")
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)
    error = models.TextField(blank=True, default="")
    task_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # the worker's lease: refreshed by progress and by a heartbeat while the job runs; a running
    # job not heard from for JOB_LEASE_SECONDS lost its worker (jobs.services.job_expire_stale)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["by", "created_at"])]

    def __str__(self):
        return f"{self.kind_label} #{self.pk}"

    @property
    def kind_info(self):
        from jobs.registry import job_kind

        return job_kind(self.kind)

    @property
    def kind_label(self) -> str:
        return str(self.kind_info.label)

    @property
    def phase_label(self) -> str:
        """What the running job is doing, in words its kind registered ("" when it said none)."""
        return str(self.kind_info.phases.get(self.phase, "")) if self.phase else ""

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def output_expired(self) -> bool:
        """The output file was made, and deleted after its retention (job_files_prune)."""
        return bool(self.output_name) and not self.output_file

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(self.progress_done * 100 / self.progress_total))


class ScheduledRun(models.Model):
    """When a periodic task of jobs.schedule.SCHEDULE was last enqueued: one row per task,
    claimed with a conditional UPDATE, so restarts and a second scheduler never run it twice."""

    name = models.CharField(max_length=64, unique=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return self.name
