from django.apps import AppConfig


class ProvidersConfig(AppConfig):
    name = "providers"
    verbose_name = "服务队伍"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from audit.subjects import Subject, register_subject
        from core.desk import register_desk_panel
        from providers.jobs import register_job_kinds
        from providers.selectors import caregiver_names, expiring_panel, volunteer_names

        register_job_kinds()
        register_subject(
            "providers.caregiver",
            Subject(
                noun=_("服务人员"),
                names=caregiver_names,
                url_name="providers:caregiver_detail",
                field_labels={"id_number": _("身份证号"), "phone": _("电话")},
            ),
        )
        register_subject(
            "providers.volunteer",
            Subject(
                noun=_("志愿者"), names=volunteer_names, url_name="providers:volunteer_detail", field_labels={"phone": _("电话")}
            ),
        )
        # The desk shows an organisation (and a region) its certificates about to expire.
        register_desk_panel("certificates", expiring_panel)
