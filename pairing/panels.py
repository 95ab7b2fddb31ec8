"""Panels on the watcher's phone page (/pairing/mine/) from the apps above pairing: alerts shows
an elder's open alerts, visits the visits due. pairing sits below them (core/tests/test_layers.py),
so they register here in their AppConfig.ready:

    register_watcher_panel("alerts", alerts.panels.watcher_alerts)

A panel is `fn(user, elders) -> dict[elder_id, dict]` — one call for all the watcher's elders
(no query per elder) — each value `{"title", "rows": [{"text", "url", "tone"}], "link"}` or
absent for an elder with nothing to show. The page renders them in registration order.
"""

from collections.abc import Callable

_PANELS: dict[str, Callable] = {}


def register_watcher_panel(name: str, fn: Callable) -> None:
    """Show `fn(user, elders)` on the watcher's phone page as `name`."""
    _PANELS[name] = fn


def unregister_watcher_panel(name: str) -> None:
    _PANELS.pop(name, None)


def watcher_panels(user, elders) -> dict[int, list[dict]]:
    """Each elder's panels (by elder id), in registration order; a failing panel is left out
    rather than take the watcher's page down."""
    import logging

    out: dict[int, list[dict]] = {e.pk: [] for e in elders}
    for name, fn in _PANELS.items():
        try:
            found = fn(user, elders) or {}
        except Exception:  # a broken upper app must not cost the watcher the page
            logging.getLogger("yinling.pairing").exception("watcher panel %s failed", name)
            continue
        for elder_id, panel in found.items():
            if elder_id in out and panel:
                out[elder_id].append({"name": name, **panel})
    return out
