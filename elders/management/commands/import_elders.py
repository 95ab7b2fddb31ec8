"""python manage.py import_elders FILE [--dry-run] [--skip-invalid] [--errors-out FILE] [--user NAME]

Exit status: 0 every row imported (or would be, with --dry-run); 1 rows were rejected (and,
without --skip-invalid, nothing written); 2 the file cannot be read (or --user may not import).
Without --user it acts with the whole tree in scope, as an operator at the console would,
and still records who ran it (the OS user) in the history and the access log.
"""

import getpass
import os
import sys

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.roles import Role
from elders.importer import UnreadableFile, import_elders, write_error_report
from regions.models import Level, Region


def console_operator() -> User:
    """A user at the root of the tree standing for the console; one per OS account."""
    login = getpass.getuser() or "operator"
    root = (
        Region.objects.filter(level=Level.COUNTRY).order_by("id").first()
        or Region.objects.filter(parent=None).order_by("id").first()
    )
    if root is None:
        raise CommandError("没有区域树:请先建立区域(或运行 seed_demo)")
    user, _ = User.objects.get_or_create(
        username=f"console:{login}"[:150],
        defaults={"role": Role.ADMIN, "region": root, "full_name": f"控制台操作员 {login}", "is_active": False},
    )
    # Inactive for logins (no password), but acting here with the admin role's permissions.
    user.is_active = True
    return user


class Command(BaseCommand):
    help = "Import elders from an Excel workbook."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        parser.add_argument("--skip-invalid", action="store_true", help="import the good rows even if some are bad")
        parser.add_argument("--errors-out", help="write the bad rows with an error column to this xlsx file")
        parser.add_argument("--user", help="act as this user (their region scope and role)")

    def handle(self, *args, **options):
        if not os.path.isfile(options["file"]):
            # checked here: the reader would only say "os error 2", in English
            self.stderr.write(f"找不到文件:{options['file']}")
            sys.exit(2)
        if options["user"]:
            user = User.objects.select_related("region").filter(username=options["user"], is_active=True).first()
            if user is None:
                self.stderr.write(f"用户“{options['user']}”不存在或已停用")
                sys.exit(2)
            via = f"cli --user {user.username}"
        else:
            user = console_operator()
            via = f"cli as {user.username}"
        try:
            report = import_elders(
                options["file"],
                by=user,
                dry_run=options["dry_run"],
                skip_invalid=options["skip_invalid"],
                filename=options["file"],
                acting_label=via,
                progress=lambda done, total, phase: (
                    self.stderr.write(f"\r{phase} {done}/{total}", ending="") if done % 20000 == 0 else None
                ),
            )
        except UnreadableFile as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        except PermissionDenied as exc:
            self.stderr.write(str(exc))
            sys.exit(2)
        self.stderr.write("")
        for error in report.errors[:50]:
            self.stdout.write(f"第{error.row}行 [{error.column}] {error.message}")
        if len(report.errors) > 50:
            self.stdout.write(f"……另有 {len(report.errors) - 50} 条错误")
        if options["errors_out"] and report.bad_rows:
            write_error_report(report, options["errors_out"])
            self.stdout.write(f"错误行已写入 {options['errors_out']}")
        verb = "将" if report.dry_run else ""
        state = "(试导入,未写入)" if report.dry_run else ("" if report.written else "(有错误行,未写入任何数据)")
        self.stdout.write(
            f"共 {report.total_rows} 行:{verb}新增 {report.created},{verb}更新 {report.updated},无变化 {report.unchanged},错误 {report.rejected} {state}"
        )
        sys.exit(1 if report.rejected else 0)
