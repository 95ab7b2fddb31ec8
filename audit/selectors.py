"""Reads of history and access logs, scoped."""

from audit.models import AccessLog, ChangeRecord


def change_records_for(*, user, obj):
    label = f"{obj._meta.app_label}.{obj._meta.model_name}"
    return ChangeRecord.objects.restrict(user, "view").filter(model=label, object_id=obj.pk).select_related("by")


def access_log_list(*, user, kind: str | None = None, username: str | None = None):
    qs = AccessLog.objects.restrict(user, "view").select_related("by", "region")
    if kind:
        qs = qs.filter(kind=kind)
    if username:
        qs = qs.filter(by__username=username)
    return qs
