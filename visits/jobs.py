"""The background jobs of visits: the visit records' export (jobs.registry)."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

VISIT_EXPORT = "visit_export"


def register_job_kinds() -> None:
    register_job_kind(
        VISIT_EXPORT,
        label=_("探访记录导出"),
        task="visits.tasks.visit_export_task",
        template="visits/jobs/visit_export.html",
        back_url="visits:list",
        back_label=_("探访记录"),
    )
