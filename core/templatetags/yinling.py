"""Template filters used across pages."""

from django import template

register = template.Library()


@register.filter
def yuan(fen):
    """Integer fen shown as yuan with two decimals (money is never a float in storage)."""
    if fen in (None, ""):
        return ""
    fen = int(fen)
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (for pagination links)."""
    # A page may give the parameters its URLs may carry (the elder list: never a number
    # typed in the search box); otherwise the current query string.
    params = context.get("url_params")
    params = (context["request"].GET if params is None else params).copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return "?" + params.urlencode() if params else "?"


@register.filter
def tel(phone):
    """A phone number as a tel: URI, to dial it with one tap: '0531-88881234' -> 'tel:053188881234'."""
    text = str(phone or "")
    return "tel:" + ("+" if text.startswith("+") else "") + "".join(ch for ch in text if ch.isdigit())
