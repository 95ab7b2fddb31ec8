"""Writing history and access logs. Callers are services, inside their own transaction."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AccessLog, ChangeRecord, SearchEvent


class SearchThrottled(Exception):
    """Too many searches by one user: answered 429 with `message`."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _label(obj) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def _masked(value, mask):
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list | tuple):
        return [_masked(v, mask) for v in value]
    return value


def history_changes(*, model, changes: dict, masked: dict | None = None) -> dict:
    """`changes` ({field: [before, after]}) as history keeps them: the values of the personal
    fields the model declares in HISTORY_MASKED ({field: mask function}) or the caller in
    `masked` go through their mask, also inside a snapshot dict (a merged record)."""
    masks = {**getattr(model, "HISTORY_MASKED", {}), **(masked or {})}
    if not masks:
        return changes

    def clean(values: dict) -> dict:
        out = {}
        for name, value in values.items():
            if name in masks:
                value = _masked(value, masks[name])
            elif isinstance(value, list | tuple):
                value = [clean(v) if isinstance(v, dict) else v for v in value]
            out[name] = value
        return out

    return clean(changes)


def change_record(*, obj, action: str, changes: dict, by, region, note: str = "", masked: dict | None = None) -> ChangeRecord:
    """The one way a model's change reaches its history: who, what, before and after (the
    personal fields masked: history_changes), in the caller's transaction."""
    return ChangeRecord.objects.create(
        model=_label(obj),
        object_id=obj.pk,
        action=action,
        changes=history_changes(model=type(obj), changes=changes, masked=masked),
        by=by,
        region=region,
        note=note[:255],
    )


def change_records_from_rows(*, model, rows: list[dict], by, action: str, note: str = "", at=None) -> int:
    """Many objects' records at once, set-based (core.bulk: COPY on PostgreSQL), for a service
    that writes many rows in one go (the generator of recurring plans' orders). Each row is
    {"object_id", "changes", "region_id"}; the changes are masked as change_record masks them.
    In the caller's transaction; returns how many records were written."""
    from core.bulk import defaults_for, insert_rows, reserve_ids

    if not rows:
        return 0
    label = f"{model._meta.app_label}.{model._meta.model_name}"
    at = at or timezone.now()
    template = defaults_for(ChangeRecord)
    records = []
    for row, pk in zip(rows, reserve_ids(ChangeRecord, len(rows)), strict=True):
        records.append(
            {
                **template,
                "id": pk,
                "model": label,
                "object_id": row["object_id"],
                "action": action,
                "changes": history_changes(model=model, changes=row["changes"]),
                "note": note[:255],
                "by_id": getattr(by, "pk", None),
                "region_id": row["region_id"],
                "at": at,
            }
        )
    insert_rows(ChangeRecord, records)
    return len(records)


def change_records_from_queryset(*, queryset, action: str, changes: dict, by, note: str = "", region: str = "region_id") -> int:
    """One ChangeRecord per row of `queryset`, written by a single INSERT … SELECT (a set-based
    move of a city's rows: settlements issuing a month, through StateMachine.move_many).
    `changes` maps a field to [before, after], each a plain value or an expression over the row
    (`F("status")`); `region` names the rows' region column. Values are not masked: pass only
    fields that are not personal (a status, a date). Returns the number of records."""
    from django.db import connections, router
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Cast, JSONArray, JSONObject

    def expression(value):
        if hasattr(value, "resolve_expression"):
            return value
        # a text constant typed as text, so PostgreSQL's jsonb_build_array knows what it holds
        if value is None:
            return Value(None, output_field=CharField())
        return Cast(Value(str(value)), CharField()) if isinstance(value, str) else Value(value)

    built = JSONObject(**{name: JSONArray(expression(before), expression(after)) for name, (before, after) in changes.items()})
    rows = queryset.order_by().values(yl_object=F("pk"), yl_changes=built, yl_region=F(region))
    sql, params = rows.query.sql_with_params()
    connection = connections[router.db_for_write(ChangeRecord)]
    table = connection.ops.quote_name(ChangeRecord._meta.db_table)
    label = f"{queryset.model._meta.app_label}.{queryset.model._meta.model_name}"
    at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (model, object_id, action, changes, note, by_id, region_id, at) "
            f"SELECT %s, t.yl_object, %s, t.yl_changes, %s, %s, t.yl_region, %s FROM ({sql}) t",
            [label, action, note[:255], getattr(by, "pk", None), at, *params],
        )
        return cursor.rowcount


def access_log(*, kind: str, model: str, by, region, object_id=None, fields=(), detail=None, ip=None) -> AccessLog:
    return AccessLog.objects.create(
        kind=kind, model=model, object_id=object_id, fields=",".join(fields), detail=detail or {}, by=by, region=region, ip=ip
    )


def search_throttle(*, user) -> None:
    """Count one search by `user`, or raise SearchThrottled past SEARCH_MAX_PER_MINUTE in the
    last minute or SEARCH_MAX_PER_HOUR in the last hour (settings). Kept in the database, so
    the limit holds across web processes. Refused searches are not counted."""
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    SearchEvent.objects.filter(by=user, at__lt=hour_ago).delete()
    times = list(SearchEvent.objects.filter(by=user, at__gte=hour_ago).order_by("-at").values_list("at", flat=True))
    per_minute, per_hour = settings.SEARCH_MAX_PER_MINUTE, settings.SEARCH_MAX_PER_HOUR
    in_minute = [t for t in times if t >= now - timedelta(minutes=1)]
    if len(in_minute) >= per_minute:
        wait = int((in_minute[per_minute - 1] + timedelta(minutes=1) - now).total_seconds()) + 1
        raise SearchThrottled(
            _("搜索太频繁：每分钟最多搜索 %(n)d 次，请 %(s)d 秒后再试") % {"n": per_minute, "s": wait}, retry_after=wait
        )
    if len(times) >= per_hour:
        wait = int((times[per_hour - 1] + timedelta(hours=1) - now).total_seconds()) + 1
        raise SearchThrottled(
            _("搜索太频繁：每小时最多搜索 %(n)d 次，请 %(m)d 分钟后再试") % {"n": per_hour, "m": (wait + 59) // 60},
            retry_after=wait,
        )
    SearchEvent.objects.create(by=user, at=now)
