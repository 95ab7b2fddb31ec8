"""Who is asking: the one reading of a client's address, for the login throttle and for every
access-log row (behind a reverse proxy REMOTE_ADDR is the proxy's own address)."""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address a login came from: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies, the
    X-Forwarded-For entry the outermost of them added (entries further left are the client's own
    claims and are ignored). Anything not an IP address counts as unknown."""
    remote = _ip_or_none(request.META.get("REMOTE_ADDR"))
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return _ip_or_none(hops[-count]) or remote
    return remote


def _ip_or_none(value) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None
