"""The clock of the periodic tasks (jobs.schedule): enqueue what is due, every --interval
seconds, until stopped; with --once, one round (for cron or a systemd timer)."""

import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from jobs.schedule import SCHEDULE, schedule_tick

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue the periodic tasks of jobs.schedule.SCHEDULE when due (a worker runs them)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one round, then exit (cron, systemd timer)")
        parser.add_argument("--interval", type=int, default=30, help="seconds between rounds (default 30)")

    def handle(self, *args, once, interval, **options):
        verbose = options["verbosity"] >= 1
        if once:
            enqueued = schedule_tick()  # a failure exits non-zero, for cron or systemd to report
            if verbose and enqueued:
                self.stdout.write(f"run_scheduler: enqueued {', '.join(enqueued)}")
            return
        stop = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.append(True))
        if verbose:
            names = ", ".join(f"{p.name} (every {p.every})" for p in SCHEDULE)
            self.stdout.write(f"run_scheduler: {names}; checking every {interval} s")
        while not stop:
            close_old_connections()  # a long-lived process: drop a connection the database closed
            self._round(verbose)
            for _ in range(max(interval, 1)):
                if stop:
                    break
                time.sleep(1)

    def _round(self, verbose):
        try:
            enqueued = schedule_tick()
        except Exception:  # a database restart must not stop the clock; the next round retries
            log.exception("run_scheduler: round failed")
            return
        if verbose and enqueued:
            self.stdout.write(f"run_scheduler: enqueued {', '.join(enqueued)}")
