"""Delete the files of jobs past their retention now (the scheduler runs the same service,
jobs.services.job_files_prune, every hour; this is for cron or an operator)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from jobs.services import job_files_prune


class Command(BaseCommand):
    help = "Delete input and output files of jobs older than --days (default JOB_FILE_RETENTION_DAYS)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, days, **options):
        removed = job_files_prune(keep_days=days if days is not None else settings.JOB_FILE_RETENTION_DAYS)
        self.stdout.write(f"prune_jobs: {removed} files removed")
