"""The panels alerts and visits register at merge (their AppConfig.ready), for tests: registered
for the duration of a `with`, and the registries restored as they were afterwards (so a test never
removes panels an app registered for the rest of the run)."""

import contextlib


@contextlib.contextmanager
def safety_panels():
    from alerts.panels import watcher_alerts_panel
    from alerts.portal import portal_alerts_panel
    from orders import family
    from pairing import panels
    from visits.panels import watcher_visits_panel
    from visits.portal import portal_visits_panel

    saved_watch, saved_portal = dict(panels._PANELS), dict(family.PORTAL_PANELS)
    panels.register_watcher_panel("alerts", watcher_alerts_panel)
    panels.register_watcher_panel("visits", watcher_visits_panel)
    family.register_portal_panel("visits", portal_visits_panel)
    family.register_portal_panel("alerts", portal_alerts_panel)
    try:
        yield
    finally:
        panels._PANELS.clear()
        panels._PANELS.update(saved_watch)
        family.PORTAL_PANELS.clear()
        family.PORTAL_PANELS.update(saved_portal)
