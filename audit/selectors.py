"""Reads of history and access logs, scoped."""

import datetime

from django.utils import timezone

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


def access_log_list(
    *,
    user,
    kind: str | None = None,
    username: str | None = None,
    by_id: int | None = None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
):
    """The access log in `user`'s subtree; `date_from`/`date_to` are whole days (inclusive) in
    the site's time zone."""
    qs = AccessLog.objects.restrict(user, "view").select_related("by", "region")
    if kind:
        qs = qs.filter(kind=kind)
    if username:
        qs = qs.filter(by__username=username)
    if by_id:
        qs = qs.filter(by_id=by_id)
    if date_from:
        qs = qs.filter(at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    return qs


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def access_log_users(*, user):
    """The people who appear in `user`'s access log (the log's user picker), by name."""
    from django.contrib.auth import get_user_model

    ids = AccessLog.objects.restrict(user, "view").exclude(by=None).values("by_id").distinct()
    return get_user_model().objects.filter(pk__in=ids).order_by("full_name", "username")
