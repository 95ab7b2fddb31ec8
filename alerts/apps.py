from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "紧急呼叫"

    def ready(self):
        from alerts.panels import watcher_alerts_panel
        from alerts.portal import portal_alerts_panel
        from alerts.selectors import alert_desk_figures
        from core.desk import register_desk_panel
        from orders.family import register_portal_panel
        from pairing.panels import register_watcher_panel

        register_desk_panel("alerts", lambda user: alert_desk_figures(user=user))
        # The family portal and the watcher's phone page show an elder's alerts (orders and
        # pairing sit below alerts: they keep the registries).
        register_portal_panel("alerts", portal_alerts_panel)
        register_watcher_panel("alerts", watcher_alerts_panel)
