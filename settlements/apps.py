from django.apps import AppConfig


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = "结算"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from audit.subjects import Subject, register_subject
        from orders.services import after_move
        from settlements.jobs import register_job_kinds
        from settlements.selectors import statement_names
        from settlements.services import on_order_move

        # A visit's shares are written in its check-out's transaction (orders.services.AFTER_MOVE).
        after_move(on_order_move)
        register_job_kinds()
        # Exporting a statement (its lines name the elders) is logged: "结算单 安泰社区·老人自付 2026-05".
        register_subject(
            "settlements.statement",
            Subject(noun=_("结算单"), names=statement_names, url_name="settlements:detail", field_labels={"lines": _("明细")}),
        )
