"""{% needs_panel elder %}: the elder's needs on the elder detail page (elders sits below needs,
so the panel comes in by a tag rather than the elders view)."""

from django import template

from needs.models import NEED_ACTIONS, NEED_MACHINE, REASON_REQUIRED, Need
from needs.selectors import is_overdue, needs_of_elder

register = template.Library()


@register.inclusion_tag("needs/_elder_panel.html", takes_context=True)
def needs_panel(context, elder):
    user = context["request"].user
    if not user.may("view", Need):
        return {"show": False}
    needs = list(needs_of_elder(user=user, elder=elder)[:30])
    can_change = user.may("change", Need)
    rows = [
        {
            "need": n,
            "overdue": is_overdue(n),
            "actions": [(a, NEED_ACTIONS[a], a in REASON_REQUIRED) for a in NEED_MACHINE.actions_from(n.state)]
            if can_change
            else [],
        }
        for n in needs
    ]
    return {
        "show": True,
        "elder": elder,
        "rows": rows,
        "can_add": user.may("add", Need),
        "csrf_token": context.get("csrf_token"),
    }
