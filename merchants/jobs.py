"""The background jobs of the merchants app: the coverage of a district or a city, the Excel import."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

MERCHANT_COVERAGE = "merchant_coverage"
MERCHANT_IMPORT = "merchant_import"


def register_job_kinds() -> None:
    """Called once from MerchantsConfig.ready."""
    register_job_kind(
        MERCHANT_COVERAGE,
        label=_("服务圈覆盖计算"),
        task="merchants.tasks.coverage_task",
        template="merchants/jobs/coverage.html",
        back_url="merchants:coverage",
        back_label=_("服务圈覆盖"),
        can_rerun=False,
        stale_message=_("计算进程意外中止，请重新开始"),
        phases={"count": _("正在计算")},
    )
    register_job_kind(
        MERCHANT_IMPORT,
        label=_("签约服务网点导入"),
        task="merchants.tasks.merchant_import_task",
        template="merchants/jobs/import.html",
        back_url="merchants:import",
        back_label=_("Excel 导入"),
        can_rerun=True,  # on the same uploaded file, while it is kept
        # true: the import writes in one transaction, rolled back when its connection is lost
        stale_message=_("导入进程意外中止，文件未写入任何数据，请重新运行"),
    )
