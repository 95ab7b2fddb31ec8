"""Periodic tasks: what runs by itself, how often, and the loop that starts it.

django-tasks runs tasks but has no clock. `manage.py run_scheduler` is the clock: every few
seconds it looks at SCHEDULE and enqueues, through django-tasks, each entry that is due; a
worker (`db_worker`) runs it like any other task. When an entry last ran is a row in the
database (jobs.ScheduledRun), claimed with a conditional UPDATE (`... WHERE last_run_at IS
NULL OR last_run_at <= now - every`): a restart does not run it again early, and of two
schedulers only one claims each run. `run_scheduler --once` does one round, for cron or a
systemd timer instead of the loop.

To add a periodic task, add a line to SCHEDULE: a name (stable: it keys the database row),
the interval, and the dotted path of a function taking no arguments (a service; its result
is logged). Nothing else: the worker runs it through jobs.tasks.periodic_task.
"""

import datetime
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    """One periodic task: `function` (a dotted path) is run every `every`."""

    name: str
    every: datetime.timedelta
    function: str

    def run(self):
        return import_string(self.function)()


SCHEDULE: tuple[Periodic, ...] = (
    # A job whose worker died (killed, out of memory) fails once its lease (JOB_LEASE_SECONDS) runs out.
    Periodic("job_expire_stale", datetime.timedelta(minutes=1), "jobs.services.job_expire_stale"),
    # Uploaded sheets, error workbooks and exports hold personal data (settings: JOB_FILE_RETENTION_DAYS,
    # FULL_NUMBER_EXPORT_RETENTION_HOURS); hourly, so a 24-hour export is gone within 25 hours.
    Periodic("job_files_prune", datetime.timedelta(hours=1), "jobs.services.job_files_prune"),
    # Login attempts are kept LOGIN_ATTEMPT_DAYS for the throttle and the audit; expired tokens go.
    Periodic("login_records_prune", datetime.timedelta(days=1), "accounts.services.login_records_prune"),
    # Each organisation hears of its staff's certificates expiring within CERTIFICATE_EXPIRY_DAYS (core.notify).
    Periodic("certificate_reminders", datetime.timedelta(days=1), "providers.services.certificate_reminders_send"),
    # Needs keep a copy of their person's region (docs/needs.md); this repairs moves written in bulk.
    Periodic("need_regions_sync", datetime.timedelta(days=1), "needs.services.need_regions_sync"),
    Periodic("pairing_regions_sync", datetime.timedelta(days=1), "pairing.services.pairing_regions_sync"),
    # Recurring plans' orders, ORDERS_PLAN_DAYS_AHEAD days ahead, dispatched when the plan says so (docs/orders-plans.md).
    Periodic("order_plans_generate", datetime.timedelta(days=1), "orders.plans.order_plans_generate_daily"),
    # Call-backs (回访, docs/orders-quality.md): ORDERS_CALLBACK_PERCENT of government-purchased deliveries + ratings ≤ 2.
    Periodic("order_call_backs_draw", datetime.timedelta(days=1), "orders.quality.call_backs_draw"),
    # Accepted visits with no check-in EVV_NO_SHOW_MINUTES after their start get a no_show exception (docs/orders-visits.md).
    Periodic("visit_no_show_sweep", datetime.timedelta(minutes=5), "orders.evv.no_show_sweep"),
    # Call devices silent past two heartbeat intervals: their duty users (or community workers) are
    # told once per silence, names and counts (docs/alerts.md, "Silent devices").
    Periodic("silent_devices_notify", datetime.timedelta(hours=1), "alerts.services.silent_devices_notify"),
    # Emergency alerts' escalation chains (docs/alerts.md): the next step of every raised alert that
    # is due. Every 10 s; the scheduler's --interval bounds it (run_scheduler --interval 5 on the alert host).
    Periodic("alerts_escalate", datetime.timedelta(seconds=10), "alerts.escalation.escalate_due"),
    # Care visits (docs/visits.md): the rule dues of the current and next periods, set-based; then the reminders.
    Periodic("visit_dues_build", datetime.timedelta(days=1), "visits.tasks.dues_build_daily"),
    Periodic("visit_reminders", datetime.timedelta(days=1), "visits.tasks.reminders_send"),
    # Time-bank star levels from hours served and ratings, every bank, nightly (docs/timebank.md).
    Periodic("timebank_levels", datetime.timedelta(days=1), "timebank.members.levels_recompute_all"),
    # The time bank's ledger proved: balances equal their movements, transfers and banks sum to zero (docs/timebank-ledger.md).
    Periodic("timebank_audit", datetime.timedelta(days=1), "timebank.ledger.audit_daily"),
    # The figures' rollup of the time bank's transfers, up to the ids the previous run saw (docs/timebank.md, "Figures").
    Periodic("timebank_figures", datetime.timedelta(minutes=10), "timebank.figures.figures_rollup"),
)


def periodic_get(name: str, schedule=None) -> Periodic | None:
    return next((p for p in (schedule or SCHEDULE) if p.name == name), None)


def schedule_tick(*, now=None, schedule=None) -> list[str]:
    """Enqueue every entry of `schedule` that is due at `now`; returns the names enqueued.

    Each claim (the conditional UPDATE) and its enqueue are one transaction: an entry whose
    enqueue fails stays due."""
    from jobs.models import ScheduledRun
    from jobs.tasks import periodic_task

    now = now or timezone.now()
    schedule = SCHEDULE if schedule is None else schedule
    ScheduledRun.objects.bulk_create([ScheduledRun(name=p.name) for p in schedule], ignore_conflicts=True)
    enqueued = []
    for periodic in schedule:
        with transaction.atomic():
            claimed = (
                ScheduledRun.objects.filter(name=periodic.name)
                .filter(Q(last_run_at__isnull=True) | Q(last_run_at__lte=now - periodic.every))
                .update(last_run_at=now)
            )
            if claimed:
                periodic_task.enqueue(periodic.name)
                enqueued.append(periodic.name)
    if enqueued:
        log.info("scheduler enqueued %s", ", ".join(enqueued))
    return enqueued
