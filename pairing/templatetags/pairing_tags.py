"""{% pairing_panel elder %}: the elder's watchers and helpers on the elder detail page (elders
sits below pairing, so the panel comes in by a tag rather than the elders view)."""

from django import template
from django.utils import timezone

from pairing.models import Pairing
from pairing.selectors import at_risk_labels, is_active, pairings_of_elder

register = template.Library()


@register.inclusion_tag("pairing/_elder_panel.html", takes_context=True)
def pairing_panel(context, elder):
    user = context["request"].user
    if not user.may("view", Pairing):
        return {"show": False}
    today = timezone.localdate()
    rows = [{"p": p, "active": is_active(p, today)} for p in pairings_of_elder(user=user, elder=elder, day=today)]
    at_risk = at_risk_labels(elder, today)
    has_watcher = any(r["active"] and r["p"].role == "watcher" for r in rows)
    return {
        "show": True,
        "elder": elder,
        "rows": rows,
        "at_risk": at_risk,
        "missing_watcher": bool(at_risk) and not has_watcher and elder.status == "active",
        "can_add": user.may("change", Pairing) and elder.status == "active",
        "csrf_token": context.get("csrf_token"),
    }
