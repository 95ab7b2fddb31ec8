"""Reads of history and access logs, scoped."""

import datetime

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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


# What a history row says a record did; a model adds or renames through HISTORY_ACTIONS.
ACTION_LABELS = {
    "create": gettext_lazy("登记"),
    "update": gettext_lazy("修改"),
    "status": gettext_lazy("状态变更"),
    "merge": gettext_lazy("合并"),
    "merged": gettext_lazy("被合并"),
    "import": gettext_lazy("导入"),
}


def history_rows(*, user, records, model) -> list[dict]:
    """Change records of `model` made readable for `user` (templates/audit/_history.html):
    each field by its label (the model's HISTORY_LABELS, else the field's verbose name), each
    value through its choices' labels, a foreign key by the name of the row it names (if the
    user may see it), a field the model hides from this user (history_hidden_fields) as "已修改"."""
    records = list(records)
    hidden = model.history_hidden_fields(user) if hasattr(model, "history_hidden_fields") else set()
    labels = getattr(model, "HISTORY_LABELS", {})
    actions = {**ACTION_LABELS, **getattr(model, "HISTORY_ACTIONS", {})}
    fields = {}
    for name in {name for r in records for name in r.changes}:
        try:
            fields[name] = model._meta.get_field(name)
        except FieldDoesNotExist:
            fields[name] = None
    names = {}  # field name -> {pk: str} for the foreign keys in these records
    for name, field in fields.items():
        if field is None or not field.many_to_one:
            continue
        ids = {v for r in records for v in (r.changes.get(name) or []) if isinstance(v, int)}
        related = field.related_model.objects
        rows = related.restrict(user, "view") if hasattr(related, "restrict") else related.none()
        names[name] = {row.pk: str(row) for row in rows.filter(pk__in=ids)} if ids else {}

    def show(name, value):
        field = fields.get(name)
        if value in (None, "", []):
            return ""
        if name in hidden:
            return _("已修改")
        if isinstance(value, bool):
            return _("是") if value else _("否")
        if name in names and isinstance(value, int):  # a foreign key recorded by its name is shown as is
            return names[name].get(value, f"#{value}")
        if isinstance(value, dict):
            return _("已保留")
        if isinstance(value, list):
            return "；".join(str(v) for v in value)
        if field is not None and field.choices:
            return dict(field.choices).get(value, value)
        return str(value)

    rows = []
    for record in records:
        changes = []
        for name, pair in record.changes.items():
            field = fields.get(name)
            label = labels.get(name) or (field.verbose_name if field is not None else name)
            before, after = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
            changes.append({"label": label, "before": show(name, before), "after": show(name, after)})
        rows.append({"record": record, "action": actions.get(record.action, record.action), "changes": changes})
    return rows


def changes_shown(*, user, model, changes):
    """A record's `changes` as `user` may read them raw (the API): the values of the fields
    the model hides from them (history_hidden_fields), also inside a snapshot, read "已修改"."""
    hidden = model.history_hidden_fields(user) if hasattr(model, "history_hidden_fields") else set()
    if not hidden:
        return changes

    def hide(value):
        if isinstance(value, dict):
            return {
                k: ([_("已修改") if x not in (None, "") else x for x in v] if isinstance(v, list) else _("已修改"))
                if k in hidden
                else hide(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [hide(v) for v in value]
        return value

    return hide(changes)
