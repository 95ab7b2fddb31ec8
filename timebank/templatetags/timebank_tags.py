"""Minutes of time coins in words: {{ 200|coins }} → 3小时20分."""

from django import template

from timebank.members import minutes_text

register = template.Library()


@register.filter
def coins(minutes):
    try:
        return minutes_text(int(minutes))
    except (TypeError, ValueError):
        return "—"


@register.filter
def signed_coins(minutes):
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        return "—"
    return ("+" if value > 0 else "") + minutes_text(value)
