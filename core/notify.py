"""Notices to users: one small interface, a pluggable channel.

    from core.notify import notify
    notify([user.pk, ...], subject="…", body="…")
    notify(ids, subject=…, body=…, raise_errors=True)   # the caller records a failure itself

`settings.NOTIFY_CHANNEL` names the channel class (a dotted path); it gets
`send(to_user_ids, subject, body)`. The default, `LogChannel`, logs one line per notice (the
recipients' ids and the subject, never the body) and keeps the last notices in memory
(`outbox`, for tests and a developer's shell). A channel must not put a personal number in a
log: callers write subjects and bodies without them (names, kinds and dates only).
"""

import json
import logging
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("yinling.notify")


@dataclass(frozen=True)
class Notice:
    to_user_ids: tuple[int, ...]
    subject: str
    body: str


# The last notices the default channel sent (newest last), like django.core.mail.outbox.
outbox: deque[Notice] = deque(maxlen=200)


class LogChannel:
    """The default channel: a log line and the in-memory outbox."""

    def send(self, to_user_ids, subject: str, body: str) -> None:
        notice = Notice(tuple(to_user_ids), str(subject), str(body))
        outbox.append(notice)
        log.info("notice to users %s: %s", ",".join(map(str, notice.to_user_ids)), notice.subject)


class NotifyFailed(Exception):
    """A channel could not hand the notice over (the gateway down, refused, too slow). Its
    message names the channel and the cause, never a recipient's number."""


# Who turns user ids into phone numbers for an SMS gateway: core knows no app's tables, so an
# app that keeps users' phones registers a function `ids -> {id: phone}` here (none does yet:
# accounts.User has no phone; the gateway then gets the ids and resolves them itself).
_PHONE_RESOLVERS: list[Callable] = []


def register_phone_resolver(resolver: Callable) -> None:
    _PHONE_RESOLVERS.append(resolver)


def phones_for(user_ids) -> dict[int, str]:
    phones: dict[int, str] = {}
    for resolver in _PHONE_RESOLVERS:
        for user_id, phone in (resolver(list(user_ids)) or {}).items():
            phones.setdefault(int(user_id), phone)
    return phones


class SmsGatewayChannel:
    """An SMS gateway over HTTP: one POST of JSON to NOTIFY_SMS_URL per notice, with the key
    NOTIFY_SMS_KEY in `Authorization: Bearer`, NOTIFY_SMS_TIMEOUT seconds at most (default 3).

        {"to": [{"user_id": 12, "phone": "139…"}, …], "subject": "…", "body": "…"}

    Phones are resolved here (phones_for), sent only in the request body, and never logged: a
    failure is logged with the recipient count and the cause's type only, then raised as
    NotifyFailed for a caller that records it (notify(..., raise_errors=True))."""

    def send(self, to_user_ids, subject: str, body: str) -> None:
        ids = [int(i) for i in to_user_ids]
        phones = phones_for(ids)
        payload = {"to": [{"user_id": i, "phone": phones.get(i, "")} for i in ids], "subject": str(subject), "body": str(body)}
        request = urllib.request.Request(
            settings.NOTIFY_SMS_URL,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {settings.NOTIFY_SMS_KEY}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.NOTIFY_SMS_TIMEOUT) as response:  # noqa: S310 - an https URL from settings
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            log.warning("sms gateway unreachable for %d recipients: %s", len(ids), type(exc).__name__)
            raise NotifyFailed(f"sms gateway unreachable: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            log.warning("sms gateway answered %s for %d recipients", status, len(ids))
            raise NotifyFailed(f"sms gateway answered {status}")
        log.info("sms notice to users %s: %s", ",".join(map(str, ids)), subject)


def channel():
    return import_string(settings.NOTIFY_CHANNEL)()


def notify(to_user_ids, *, subject: str, body: str, raise_errors: bool = False) -> None:
    """Send one notice to the users `to_user_ids` through the configured channel. A channel's
    failure is logged (no number) and swallowed, unless `raise_errors`: then it is raised for the
    caller to record (the alert chain writes it on the alert's timeline)."""
    ids = [int(i) for i in to_user_ids]
    if not ids:
        return
    try:
        channel().send(ids, subject, body)
    except Exception as exc:
        if raise_errors:
            raise
        log.warning("notice to %d users failed: %s", len(ids), type(exc).__name__)
