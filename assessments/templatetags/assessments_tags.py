"""{% load assessments_tags %}{% assessment_panel elder %}: the 能力评估 panel of the elder page."""

from django import template
from django.utils import timezone

register = template.Library()


@register.inclusion_tag("assessments/_elder_panel.html", takes_context=True)
def assessment_panel(context, elder):
    from assessments.models import Assessment
    from assessments.selectors import drafts_for, latest_for

    user = context["request"].user
    if not user.may("view", Assessment):
        return {"hidden": True}
    return {
        "elder": elder,
        "latest": latest_for(user=user, elder=elder),
        "drafts": drafts_for(user=user, elder=elder),
        "can_add": user.may("add", Assessment),
        "today": timezone.localdate(),
    }
