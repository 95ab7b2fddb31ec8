"""The watcher's phone page panel (pairing.panels.register_watcher_panel, wired in
AlertsConfig.ready): each of the watcher's elders' open alerts, the newest first."""

from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, Status

OPEN = (Status.RAISED, Status.ACKNOWLEDGED)


def watcher_alerts_panel(user, elders) -> dict:
    """{elder_id: panel} for the elders with an open alert; `elders` are the watcher's own
    (pairing.selectors.watcher_pairings). One query for all of them."""
    ids = [e.pk for e in elders]
    if not ids:
        return {}
    found: dict[int, list] = {}
    for a in Alert.objects.filter(elder_id__in=ids, status__in=OPEN).order_by("-received_at", "-id")[:100]:
        found.setdefault(a.elder_id, []).append(a)
    return {
        elder_id: {
            "title": _("未处置的紧急呼叫"),
            "rows": [
                {
                    "text": _("%(at)s %(kind)s · %(status)s")
                    % {
                        "at": f"{timezone.localtime(a.received_at):%m-%d %H:%M}",
                        "kind": a.get_kind_display(),
                        "status": a.get_status_display(),
                    },
                    "url": "",
                    "tone": "danger" if a.status == Status.RAISED else "warn",
                }
                for a in alerts[:5]
            ],
            "link": None,
        }
        for elder_id, alerts in found.items()
    }
