"""Delete the files of finished jobs older than --days (uploaded sheets and error/export
workbooks hold personal data; keep them no longer than needed). Run it daily (cron/systemd)."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs.models import Job


class Command(BaseCommand):
    help = "Delete input and output files of jobs finished more than --days ago (default 7)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days, **options):
        cutoff = timezone.now() - timedelta(days=days)
        removed = 0
        for job in Job.objects.filter(created_at__lt=cutoff).exclude(input_file="", output_file="").iterator():
            for f in (job.input_file, job.output_file):
                if f:
                    f.delete(save=False)
                    removed += 1
            job.save(update_fields=["input_file", "output_file"])
        self.stdout.write(f"prune_jobs: {removed} files removed")
