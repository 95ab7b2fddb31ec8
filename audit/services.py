"""Writing history and access logs. Callers are services, inside their own transaction."""

from audit.models import AccessLog, ChangeRecord


def _label(obj) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def change_record(*, obj, action: str, changes: dict, by, region, note: str = "") -> ChangeRecord:
    return ChangeRecord.objects.create(
        model=_label(obj), object_id=obj.pk, action=action, changes=changes, by=by, region=region, note=note[:255]
    )


def access_log(*, kind: str, model: str, by, region, object_id=None, fields=(), detail=None, ip=None) -> AccessLog:
    return AccessLog.objects.create(
        kind=kind, model=model, object_id=object_id, fields=",".join(fields), detail=detail or {}, by=by, region=region, ip=ip
    )
