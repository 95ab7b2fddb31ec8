import os

from django.core.management.base import BaseCommand

from devdata.management.commands.seed_demo import DEMO_USERS, PASSWORD


class Command(BaseCommand):
    help = "Print the demo logins (demo data only)."

    def handle(self, *args, **options):
        port = os.environ.get("PORT", "8000")  # `make run` passes its PORT
        self.stdout.write(f"\n银龄 Yinling — http://127.0.0.1:{port}   (demo logins, password for all: {PASSWORD})")
        for username, role, _key, full_name in DEMO_USERS:
            self.stdout.write(f"  {username:<11} {role:<13} {full_name}")
        self.stdout.write("  Time bank (驻春路社区爱心时间银行): volunteer2 — my coins at /timebank/me/;")
        self.stdout.write("    community2 — the desk at /timebank/desk/, members at /timebank/, figures at /timebank/figures/")
        self.stdout.write("")
