"""python manage.py create_admin USERNAME — the first platform admin of a new deployment.

Creates the root region 全国 if the tree is empty, and a user with the admin role attached to
it (Django's createsuperuser makes a user without a region or role, who would see nothing).
The password comes from the environment variable YINLING_ADMIN_PASSWORD or is asked for.
"""

import getpass
import os

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from accounts.roles import Role
from regions.models import Level, Region
from regions.services import region_create


class Command(BaseCommand):
    help = "Create the first platform admin (and the root region if missing)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--full-name", default="平台管理员")

    def handle(self, *args, username, full_name, **options):
        if User.objects.filter(username=username).exists():
            raise CommandError(f"用户“{username}”已存在")
        password = os.environ.get("YINLING_ADMIN_PASSWORD") or getpass.getpass("密码 / Password: ")
        user = User(username=username, full_name=full_name, role=Role.ADMIN, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(";".join(exc.messages)) from None
        with transaction.atomic():
            root = Region.objects.filter(parent=None, level=Level.COUNTRY).first()
            if root is None:
                root = region_create(name="全国", level=Level.COUNTRY, parent=None)
            user.region = root
            user.set_password(password)
            user.save()
        self.stdout.write(f"已创建平台管理员 {username}(区域:{root.name})")
