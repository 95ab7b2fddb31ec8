from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "探访关爱"

    def ready(self):
        from core.desk import register_desk_panel
        from visits.selectors import desk_figures

        register_desk_panel("visits", lambda user: desk_figures(user=user))
        # An alert resolved as "sent to hospital" is a major event (docs/visits.md, "Events").
        try:
            from alerts import hooks
        except ImportError:  # TODO(lead, merge): alerts.hooks comes with the alerts helper's branch
            return
        from visits.services import alert_resolved

        if alert_resolved not in hooks.AFTER_RESOLVE:
            hooks.AFTER_RESOLVE.append(alert_resolved)
