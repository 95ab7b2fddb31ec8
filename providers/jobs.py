"""The background jobs of providers: staff and volunteer import and export (jobs.registry)."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

CAREGIVER_IMPORT = "caregiver_import"
CAREGIVER_EXPORT = "caregiver_export"
VOLUNTEER_IMPORT = "volunteer_import"
VOLUNTEER_EXPORT = "volunteer_export"


def register_job_kinds() -> None:
    stale = _("导入进程意外中止，文件未写入任何数据，请重新运行")
    register_job_kind(
        CAREGIVER_IMPORT,
        label=_("服务人员导入"),
        task="providers.tasks.provider_import_task",
        template="providers/jobs/import.html",
        back_url="providers:caregiver_import",
        back_label=_("Excel 导入"),
        can_rerun=True,
        stale_message=stale,
    )
    register_job_kind(
        VOLUNTEER_IMPORT,
        label=_("志愿者导入"),
        task="providers.tasks.provider_import_task",
        template="providers/jobs/import.html",
        back_url="providers:volunteer_import",
        back_label=_("Excel 导入"),
        can_rerun=True,
        stale_message=stale,
    )
    register_job_kind(
        CAREGIVER_EXPORT,
        label=_("服务人员导出"),
        task="providers.tasks.provider_export_task",
        back_url="providers:caregiver_list",
        back_label=_("服务人员"),
    )
    register_job_kind(
        VOLUNTEER_EXPORT,
        label=_("志愿者导出"),
        task="providers.tasks.provider_export_task",
        back_url="providers:volunteer_list",
        back_label=_("志愿者"),
    )
