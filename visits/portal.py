"""The family portal's visits panel (orders.family.register_portal_panel, wired in
VisitsConfig.ready): a relative sees the linked elder's recent visits — the date, how, and the
outcome in a word — not the checklist's details nor the visitor's notes."""

from django.utils import timezone
from django.utils.translation import gettext as _

from visits.models import Visit

PORTAL_VISITS = 10


def portal_visits_panel(user, elder) -> dict:
    """The last PORTAL_VISITS visits of `elder` (an elder the caller read through the account's
    family links: orders.family.portal_panels), newest first; a missed visit says so and why."""
    visits = Visit.objects.filter(elder=elder).order_by("-visited_at", "-id")[:PORTAL_VISITS]
    rows = []
    for v in visits:
        if v.missed:
            text = _("%(via)s（未见到老人：%(why)s）") % {
                "via": v.get_via_display(),
                "why": v.get_missed_reason_display() or _("未说明"),
            }
            status, tone = "", ""
        else:
            text = str(v.get_via_display())
            status = _("探访结果：%(outcome)s") % {"outcome": v.get_outcome_display()}
            tone = {"concern": "warn", "emergency": "danger"}.get(v.outcome, "")
        rows.append({"when": f"{timezone.localtime(v.visited_at):%Y-%m-%d}", "text": text, "status": status, "tone": tone})
    return {"title": _("探访记录"), "rows": rows, "empty": _("还没有探访记录。")}
