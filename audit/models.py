"""The history of every change, and the log of every full view or export of personal data."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


class ChangeRecord(models.Model):
    """Who changed what, when, before and after. Written by services, in their transaction.

    Application-level (not database triggers) so it works the same on SQLite and PostgreSQL.
    Personal numbers appear here only masked.
    """

    SCOPE_PATH = "region__path"

    model = models.CharField(max_length=64)  # "elders.elder"
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=32)  # create, update, status, merge, import …
    changes = models.JSONField(default=dict)  # {field: [before, after]}
    note = models.CharField(max_length=255, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("regions.Region", null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("变更记录")
        indexes = [models.Index(fields=["model", "object_id", "at"])]
        ordering = ["-at", "-id"]


class AccessLog(models.Model):
    """One full view or export of personal data."""

    SCOPE_PATH = "region__path"

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("查看完整号码")
        EXPORT = "export", _("导出")
        IMPORT = "import", _("导入")
        SEARCH = "search", _("按完整号码搜索")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    model = models.CharField(max_length=64)
    object_id = models.BigIntegerField(null=True, blank=True)
    fields = models.CharField(max_length=128, blank=True, default="")  # "id_number,phone"
    detail = models.JSONField(default=dict)  # the filter of an export, the row count …
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey("regions.Region", null=True, on_delete=models.PROTECT, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("个人信息访问日志")
        ordering = ["-at", "-id"]


class SearchEvent(models.Model):
    """One search of the register by one user, kept an hour for the per-user search limit.

    What was searched is not kept (searches by a full number go to AccessLog, without the
    number); only that a search happened, so that guessing the hidden digits of a phone takes
    days instead of minutes (issue 8)."""

    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    at = models.DateTimeField(db_index=False)

    class Meta:
        indexes = [models.Index(fields=["by", "at"], name="audit_search_by_at")]
