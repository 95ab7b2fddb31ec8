"""What upper apps hang on alerts (alerts sits below visits in core/tests/test_layers.py).

    from alerts.hooks import AFTER_RESOLVE
    AFTER_RESOLVE.append(lambda *, alert, by: ...)   # in the upper app's AppConfig.ready

Each callable of AFTER_RESOLVE is called with `alert=` (resolved, its outcome set) and `by=`
inside the resolving transaction, after the alert is saved: visits registers "sent to hospital →
a major event that needs a visit within 24 hours". An exception rolls the resolution back.
"""

from collections.abc import Callable

AFTER_RESOLVE: list[Callable] = []


def after_resolve(*, alert, by) -> None:
    for hook in list(AFTER_RESOLVE):
        hook(alert=alert, by=by)
