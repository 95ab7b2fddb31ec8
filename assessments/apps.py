from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = "能力评估"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from assessments.jobs import register_job_kinds
        from assessments.selectors import assessment_names
        from audit.subjects import Subject, register_subject

        register_job_kinds()
        # Viewing or printing a report is logged: "能力评估 王秀兰 2026-05-01 的评估报告".
        register_subject(
            "assessments.assessment",
            Subject(
                noun=_("能力评估"), names=assessment_names, url_name="assessments:detail", field_labels={"report": _("评估报告")}
            ),
        )
