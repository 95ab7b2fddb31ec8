"""Notices to users: one small interface, a pluggable channel (SMS is a later issue).

    from core.notify import notify
    notify([user.pk, ...], subject="…", body="…")

`settings.NOTIFY_CHANNEL` names the channel class (a dotted path); it gets
`send(to_user_ids, subject, body)`. The default, `LogChannel`, logs one line per notice (the
recipients' ids and the subject, never the body) and keeps the last notices in memory
(`outbox`, for tests and a developer's shell). A channel must not put a personal number in a
log: callers write subjects and bodies without them (names, kinds and dates only).
"""

import logging
from collections import deque
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


def channel():
    return import_string(settings.NOTIFY_CHANNEL)()


def notify(to_user_ids, *, subject: str, body: str) -> None:
    """Send one notice to the users `to_user_ids` through the configured channel."""
    ids = [int(i) for i in to_user_ids]
    if ids:
        channel().send(ids, subject, body)
