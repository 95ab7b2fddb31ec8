"""The background jobs of settlements: a statement's Excel export (jobs.registry)."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

STATEMENT_EXPORT = "statement_export"


def register_job_kinds() -> None:
    register_job_kind(
        STATEMENT_EXPORT,
        label=_("结算单导出"),
        task="settlements.tasks.statement_export_task",
        back_url="settlements:list",
        back_label=_("月度结算"),
        stale_message=_("导出进程意外中止，请重新导出"),
    )
