"""Periodic work of visits (jobs/schedule.py): the dues of the current and next periods, and the
daily reminders to grid workers and watchers (core.notify: names and counts, no numbers)."""

import datetime
import logging

from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from core.notify import notify
from jobs.services import job_run
from visits.duties import dues_build_daily
from visits.models import dues_of_elder_q

log = logging.getLogger(__name__)

__all__ = ["dues_build_daily", "reminders_send", "visit_export_task"]


def _export_work(job):
    from visits.exporter import export_job_work

    return export_job_work(job)


@task()
def visit_export_task(job_id: int) -> None:
    """The visit records' export (visits.jobs.VISIT_EXPORT), through jobs.job_run."""
    job_run(job_id, _export_work)


REMIND_DAYS = 2
NAMES_IN_NOTICE = 10


def reminders_send(*, now=None) -> int:
    """Tell each grid worker (role grid, their region's subtree) and each watcher with an account
    (their active pairings) how many of their elders are due within REMIND_DAYS days and how many
    are overdue, naming the first few. Returns how many notices were sent."""
    from core.scoping import Scope
    from visits.models import VisitDue
    from visits.selectors import reminder_grid_workers, reminder_watchers

    now = now or timezone.now()
    soon = now + datetime.timedelta(days=REMIND_DAYS)
    today = timezone.localdate(now)
    open_dues = VisitDue.objects.filter(visited_at__isnull=True, opens_at__lte=soon)
    sent = 0
    for user in reminder_grid_workers():
        sent += _remind(user.pk, open_dues.filter(Scope.of(user).q(VisitDue)), now, soon)
    for user_id, elder_ids in reminder_watchers(today):
        dues = open_dues.filter(dues_of_elder_q(elder_id__in=elder_ids))
        sent += _remind(user_id, dues, now, soon)
    log.info("visit reminders: %d notices", sent)
    return sent


def _remind(user_id, dues, now, soon) -> int:
    overdue = dues.filter(due_at__lt=now).order_by()[:10001].count()
    coming = dues.filter(due_at__gte=now, due_at__lt=soon).order_by()[:10001].count()
    if not overdue and not coming:
        return 0
    names = list(dues.filter(due_at__lt=soon).order_by("due_at", "id").values_list("elder__name", flat=True)[:NAMES_IN_NOTICE])
    body = _("%(days)d 天内到期 %(coming)d 人，已逾期 %(overdue)d 人：%(names)s") % {
        "days": REMIND_DAYS,
        "coming": coming,
        "overdue": overdue,
        "names": "、".join(dict.fromkeys(names)),
    }
    notify([user_id], subject=_("探访提醒"), body=body)
    return 1
