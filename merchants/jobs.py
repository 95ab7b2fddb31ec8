"""The background job of the merchants app: the coverage of a district or a city."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

MERCHANT_COVERAGE = "merchant_coverage"


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
