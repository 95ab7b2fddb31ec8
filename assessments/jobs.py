"""The background job of the ability assessment: regrading after a cut-off change."""

from django.utils.translation import gettext_lazy as _

from jobs.registry import register_job_kind

ASSESSMENT_RECOMPUTE = "assess_recompute"


def register_job_kinds() -> None:
    """Called once from AssessmentsConfig.ready."""
    register_job_kind(
        ASSESSMENT_RECOMPUTE,
        label=_("能力评估重新分级"),
        task="assessments.tasks.assessment_recompute_task",
        back_url="assessments:instruments",
        back_label=_("评估量表与版本"),
        phases={"recompute": _("正在重新分级")},
        # each batch commits on its own; a rerun regrades everything again, which is idempotent
        can_rerun=False,
        stale_message=_("重新分级意外中止，已完成的批次已生效，请重新发布或联系管理员重新运行"),
    )
