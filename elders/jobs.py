"""The background jobs of the register: what jobs.registry knows about an import and an export."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

ELDER_IMPORT = "elder_import"
ELDER_EXPORT = "elder_export"


def register_job_kinds() -> None:
    """Called once from EldersConfig.ready."""
    register_job_kind(
        ELDER_IMPORT,
        label=_("老年人导入"),
        task="elders.tasks.elder_import_task",
        template="elders/jobs/elder_import.html",
        back_url="elders:import",
        back_label=_("Excel 导入"),
        can_rerun=True,  # on the same uploaded file, while it is kept
        # true: an import writes in one transaction, which the database rolls back when its
        # connection is lost
        stale_message=_("导入进程意外中止，文件未写入任何数据，请重新运行"),
        phases={"validate": _("正在校验")},
    )
    register_job_kind(
        ELDER_EXPORT,
        label=_("老年人导出"),
        task="elders.tasks.elder_export_task",
        template="elders/jobs/elder_export.html",
        back_url="elders:list",
        back_label=_("老年人信息库"),
        phases={"export": _("正在导出")},
    )
