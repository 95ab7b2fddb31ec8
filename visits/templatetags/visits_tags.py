"""{% visits_panel elder %}: the elder's tier, open dues and last visits on the elder page
(elders sits below visits, so the panel comes in by a tag, as needs' does)."""

from django import template
from django.utils import timezone

from visits.models import Visit, VisitRule
from visits.rules import tier_of
from visits.selectors import dues_of_elder, visits_of_elder

register = template.Library()


@register.inclusion_tag("visits/_elder_panel.html", takes_context=True)
def visits_panel(context, elder):
    user = context["request"].user
    if not user.may("view", Visit):
        return {"show": False}
    return {
        "show": True,
        "elder": elder,
        "tier": tier_of(elder),
        "open_dues": list(dues_of_elder(user=user, elder=elder).filter(visited_at__isnull=True)[:5]),
        "visits": list(visits_of_elder(user=user, elder=elder)[:10]),
        "now": timezone.now(),
        "can_add": user.may("add", Visit) and elder.status == "active",
        "can_event": user.may("change", VisitRule),
    }
