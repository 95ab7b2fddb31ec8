"""What the desk (the home page, core.views.home) shows of each app.

core is the bottom layer and imports no app above it (core/tests/test_layers.py): an app that
has something for the desk registers it in its AppConfig.ready, under the name the desk's
template reads, as a function of the user that returns None when the user may not see it."""

from collections.abc import Callable

_PANELS: dict[str, Callable] = {}


def register_desk_panel(name: str, panel: Callable) -> None:
    """Show `panel(user)` on the desk as `name` (None: not for this user)."""
    _PANELS[name] = panel


def desk_panels(user) -> dict:
    return {name: panel(user) for name, panel in _PANELS.items()}
