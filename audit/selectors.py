"""Reads of history and access logs, scoped."""

from audit.models import AccessLog, ChangeRecord


def change_records_for(*, user, obj, whole: bool = False):
    """The history of `obj`. By default the records written in the user's subtree; `whole`
    gives every record of `obj`, for a caller that read `obj` itself through restrict(): a
    record that moved between regions (an elder received from another community) keeps one
    history, and whoever may see it now sees all of it."""
    label = f"{obj._meta.app_label}.{obj._meta.model_name}"
    if whole:
        records = ChangeRecord.objects.all() if user.may("view", ChangeRecord) else ChangeRecord.objects.none()
    else:
        records = ChangeRecord.objects.restrict(user, "view")
    return records.filter(model=label, object_id=obj.pk).select_related("by")


def access_log_list(*, user, kind: str | None = None, username: str | None = None):
    qs = AccessLog.objects.restrict(user, "view").select_related("by", "region")
    if kind:
        qs = qs.filter(kind=kind)
    if username:
        qs = qs.filter(by__username=username)
    return qs
