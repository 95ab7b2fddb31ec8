"""Catalogue template helpers: money in yuan, a dict lookup, and the elder's entitlements panel
({% entitlements_panel elder %} on the elder detail page: elders sits below catalogue)."""

from django import template
from django.utils.translation import gettext as _

from catalogue.models import EntitlementPackage
from catalogue.selectors import entitlements_for

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """Integer fen as yuan for display: 3500 → ¥35.00, 0 → 免费."""
    try:
        fen = int(fen)
    except (TypeError, ValueError):
        return "—"
    if fen == 0:
        return _("免费")
    return f"¥{fen // 100}.{fen % 100:02d}"


@register.filter
def get(mapping, key):
    return mapping.get(key, key) if hasattr(mapping, "get") else key


@register.inclusion_tag("catalogue/_elder_entitlements.html", takes_context=True)
def entitlements_panel(context, elder):
    user = context["request"].user
    if not user.may("view", EntitlementPackage):
        return {"show": False}
    return {"show": True, "entitlements": entitlements_for(elder)}
