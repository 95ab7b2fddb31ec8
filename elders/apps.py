from django.apps import AppConfig


class EldersConfig(AppConfig):
    name = "elders"
    verbose_name = "老年人信息库"

    def ready(self):
        # The access log says "老年人 王秀兰 的身份证号和电话" and an export's filters in words.
        from django.utils.translation import gettext_lazy as _

        from audit.subjects import Subject, register_subject
        from core.desk import register_desk_panel
        from elders.jobs import register_job_kinds
        from elders.selectors import elder_names, elder_overview, filters_in_words

        register_job_kinds()

        register_subject(
            "elders.elder",
            Subject(
                noun=_("老年人"),
                names=elder_names,
                url_name="elders:detail",
                filters_text=filters_in_words,
                field_labels={
                    "id_number": _("身份证号"),
                    "phone": _("电话"),
                    "contacts": _("紧急联系人电话"),
                    "address": _("住址"),
                },
            ),
        )
        # The desk's figures: those in residence, by category, and those without a grid.
        register_desk_panel("overview", lambda user: elder_overview(user=user) if user.may_code("elders.view_elder") else None)
