"""The background job of the time bank: importing a sheet of transfers (docs/timebank.md)."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

TRANSFER_IMPORT = "timebank_import"


def register_job_kinds() -> None:
    """Called once from TimebankConfig.ready."""
    register_job_kind(
        TRANSFER_IMPORT,
        label=_("时间币交易导入"),
        task="timebank.tasks.transfer_import_task",
        template="timebank/jobs/import.html",
        back_url="timebank:import",
        back_label=_("交易导入"),
        can_rerun=True,
        stale_message=_("导入进程意外中止，文件未写入任何数据，请重新运行"),
    )
