"""The watcher's phone page panel (pairing.panels.register_watcher_panel, wired in
VisitsConfig.ready): each of the watcher's elders' visits due (unmet, soonest first) and the
last visit."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from visits.models import Visit, VisitDue


def watcher_visits_panel(user, elders) -> dict:
    """{elder_id: panel}; `elders` are the watcher's own (pairing.selectors.watcher_pairings).
    Two queries for all of them."""
    ids = [e.pk for e in elders]
    if not ids:
        return {}
    now = timezone.now()
    dues: dict[int, list] = {}
    for d in VisitDue.objects.filter(elder_id__in=ids, visited_at__isnull=True, opens_at__lte=now).order_by("due_at", "id")[:200]:
        dues.setdefault(d.elder_id, []).append(d)
    last = {}
    year_ago = now - datetime.timedelta(days=365)
    for elder_id, at in (
        Visit.objects.filter(elder_id__in=ids, missed=False, visited_at__gte=year_ago)
        .order_by("elder_id", "-visited_at")
        .values_list("elder_id", "visited_at")
    ):
        last.setdefault(elder_id, at)
    out = {}
    for elder_id in ids:
        rows = []
        for d in dues.get(elder_id, [])[:3]:
            overdue = d.due_at < now
            rows.append(
                {
                    "text": (_("已逾期：应于 %(on)s 前探访（%(why)s）") if overdue else _("应于 %(on)s 前探访（%(why)s）"))
                    % {"on": f"{timezone.localtime(d.due_at):%m-%d}", "why": d.get_source_display()},
                    "url": "",
                    "tone": "danger" if overdue else "warn",
                }
            )
        if elder_id in last:
            rows.append(
                {"text": _("上次探访：%(on)s") % {"on": f"{timezone.localtime(last[elder_id]):%Y-%m-%d}"}, "url": "", "tone": ""}
            )
        if rows:
            out[elder_id] = {"title": _("探访"), "rows": rows, "link": None}
    return out
