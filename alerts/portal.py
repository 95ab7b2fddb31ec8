"""The family portal's alerts panel (orders.family.register_portal_panel, wired in
AlertsConfig.ready): a relative sees the linked elder's recent alerts — when, what, where it
stands and how it ended — never the timeline's names and numbers."""

from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import Alert, Status

PORTAL_ALERTS = 10


def portal_alerts_panel(user, elder) -> dict:
    """The last PORTAL_ALERTS alerts of `elder` (an elder the caller read through the account's
    family links: orders.family.portal_panels), newest first."""
    alerts = Alert.objects.filter(elder=elder).order_by("-received_at", "-id")[:PORTAL_ALERTS]
    rows = []
    for a in alerts:
        status = str(a.get_status_display())
        if a.status == Status.RESOLVED and a.outcome:
            status = _("%(status)s：%(outcome)s") % {"status": status, "outcome": a.get_outcome_display()}
        rows.append(
            {
                "when": f"{timezone.localtime(a.received_at):%Y-%m-%d %H:%M}",
                "text": str(a.get_kind_display()),
                "status": status,
                "tone": "danger" if a.status != Status.RESOLVED else "",
            }
        )
    return {"title": _("紧急呼叫"), "rows": rows, "empty": _("没有紧急呼叫记录。")}
