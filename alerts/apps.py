from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "紧急呼叫"

    def ready(self):
        from alerts.selectors import alert_desk_figures
        from core.desk import register_desk_panel

        register_desk_panel("alerts", lambda user: alert_desk_figures(user=user))
