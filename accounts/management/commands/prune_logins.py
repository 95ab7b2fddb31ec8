from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.services import login_records_prune


class Command(BaseCommand):
    help = "Delete login attempts older than LOGIN_ATTEMPT_DAYS and expired API tokens (run daily)."

    def handle(self, *args, **options):
        attempts, tokens = login_records_prune()
        self.stdout.write(
            f"Deleted {attempts} login attempts older than {settings.LOGIN_ATTEMPT_DAYS} days and {tokens} expired API tokens."
        )
