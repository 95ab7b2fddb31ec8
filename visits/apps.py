from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "探访关爱"

    def ready(self):
        from alerts import hooks
        from core.desk import register_desk_panel
        from orders.family import register_portal_panel
        from pairing.panels import register_watcher_panel
        from visits.panels import watcher_visits_panel
        from visits.portal import portal_visits_panel
        from visits.selectors import desk_figures
        from visits.services import alert_resolved

        register_desk_panel("visits", lambda user: desk_figures(user=user))
        from visits.jobs import register_job_kinds

        register_job_kinds()
        # The family portal and the watcher's phone page show an elder's visits.
        register_portal_panel("visits", portal_visits_panel)
        register_watcher_panel("visits", watcher_visits_panel)
        # An alert resolved as "sent to hospital" is a major event (docs/visits.md, "Events").
        if alert_resolved not in hooks.AFTER_RESOLVE:
            hooks.AFTER_RESOLVE.append(alert_resolved)
