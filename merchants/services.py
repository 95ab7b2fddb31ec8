"""Writes of partner merchants: keyword-only, `by=` for the actor, atomic, full_clean, history."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import change_record
from catalogue.models import ServiceItem
from merchants.models import Merchant
from merchants.validation import clean_merchant_input
from regions.models import Level, Region

PLAIN_FIELDS = [
    "name",
    "kind",
    "address",
    "lat",
    "lng",
    "phone",
    "contact_name",
    "agreement_no",
    "signed_on",
    "period_start",
    "period_end",
    "status",
    "discount_tenths",
    "goods",
    "opening_hours",
    "notes",
]


class MerchantChanged(Exception):
    """A stale edit: someone saved the merchant since the form was opened."""


def merchant_region_for(*, by, region_id) -> Region:
    """The community or street a merchant belongs to; inside `by`'s subtree."""
    if region_id in (None, ""):
        raise ValidationError({"region": _("请选择所属社区或街道")})
    try:
        region = Region.objects.restrict(by, "view").get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"region": _("所选区域不存在或不在您的管辖范围内")}) from None
    if region.level not in (Level.STREET, Level.COMMUNITY):
        raise ValidationError({"region": _("签约服务网点只能登记到街道或社区，请选择具体的街道或社区")})
    return region


def _items(ids) -> list[ServiceItem]:
    items = list(ServiceItem.objects.filter(pk__in=ids, is_active=True))
    if len(items) != len(set(ids)):
        raise ValidationError({"items": _("所选服务项目不存在或已停用，请重新选择")})
    return items


def _snapshot(merchant: Merchant) -> dict:
    snap = {f: getattr(merchant, f) for f in PLAIN_FIELDS}
    snap["region"] = merchant.region_id
    return snap


def _jsonable(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _changes(before: dict, after: dict) -> dict:
    return {k: [_jsonable(before.get(k)), _jsonable(v)] for k, v in after.items() if before.get(k) != v}


@transaction.atomic
def merchant_create(*, by, data: dict) -> Merchant:
    if not by.may("change", Merchant):
        raise PermissionDenied(_("您没有登记签约服务网点的权限"))
    errors = {}
    try:
        clean = clean_merchant_input(data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    region = None
    try:
        region = merchant_region_for(by=by, region_id=data.get("region"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    items = []
    if "items" in clean:
        try:
            items = _items(clean["items"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    merchant = Merchant(region=region, created_by=by, **{k: v for k, v in clean.items() if k in PLAIN_FIELDS})
    merchant.full_clean(exclude=["items"])
    merchant.save()
    if items:
        merchant.items.set(items)
    after = _snapshot(merchant)
    changes = {k: [None, _jsonable(v)] for k, v in after.items() if v not in ("", None, {}, [])}
    if items:
        changes["items"] = [[], [i.name for i in items]]
    change_record(obj=merchant, action="create", changes=changes, by=by, region=region)
    return merchant


@transaction.atomic
def merchant_update(*, by, merchant: Merchant, data: dict, version: int | None = None, action: str = "update") -> Merchant:
    """Change the fields present in `data`; a stale `version` is refused (MerchantChanged)."""
    if not by.may("change", Merchant):
        raise PermissionDenied(_("您没有修改签约服务网点的权限"))
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if version is not None and version != merchant.version:
        raise MerchantChanged(_("这个网点在您打开页面后已被他人修改，请重新打开后再改"))
    errors = {}
    try:
        clean = clean_merchant_input(data, partial=True)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        clean = {}
    region = None
    if "region" in data and str(data.get("region")) != str(merchant.region_id):
        try:
            region = merchant_region_for(by=by, region_id=data.get("region"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    items = None
    if "items" in clean:
        try:
            items = _items(clean["items"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    before = _snapshot(merchant)
    before_items = sorted(merchant.items.values_list("name", flat=True))
    for key, value in clean.items():
        if key in PLAIN_FIELDS:
            setattr(merchant, key, value)
    if region is not None:
        merchant.region = region
    merchant.full_clean(exclude=["items"])
    changes = _changes(before, _snapshot(merchant))
    if items is not None:
        after_items = sorted(i.name for i in items)
        if after_items != before_items:
            changes["items"] = [before_items, after_items]
    if not changes:
        return merchant
    merchant.version += 1
    merchant.save()
    if items is not None:
        merchant.items.set(items)
    change_record(obj=merchant, action=action, changes=changes, by=by, region=merchant.region)
    return merchant


def merchant_set_point(*, by, merchant: Merchant, lat, lng) -> Merchant:
    """The location set on the plain map (or cleared with both empty)."""
    return merchant_update(by=by, merchant=merchant, data={"lat": lat, "lng": lng}, action="locate")


@transaction.atomic
def merchant_bulk_write(*, by, rows: list[tuple[dict, Region]], note: str = "") -> tuple[int, int]:
    """The importer's write: each (clean, region) row created, or updated when the region
    already holds a merchant of that name (the sheet's key). One history row each, as the
    single services write. Returns (created, updated)."""
    if not by.may("import", Merchant):
        raise PermissionDenied(_("您没有导入签约服务网点的权限"))
    created = updated = 0
    existing = {
        (m.region_id, m.name): m
        for m in Merchant.objects.select_for_update().filter(
            region_id__in={r.pk for _c, r in rows}, name__in={c["name"] for c, _r in rows}
        )
    }
    for clean, region in rows:
        current = existing.get((region.pk, clean["name"]))
        data = {k: v for k, v in clean.items() if k in PLAIN_FIELDS}
        if current is None:
            merchant = Merchant(region=region, created_by=by, **data)
            merchant.full_clean()
            merchant.save()
            changes = {k: [None, _jsonable(v)] for k, v in _snapshot(merchant).items() if v not in ("", None, {}, [])}
            change_record(obj=merchant, action="import", changes=changes, by=by, region=region, note=note)
            existing[(region.pk, clean["name"])] = merchant
            created += 1
        else:
            before = _snapshot(current)
            for key, value in data.items():
                if value not in ("", None):  # a blank cell keeps what is on file
                    setattr(current, key, value)
            current.full_clean()
            changes = _changes(before, _snapshot(current))
            if changes:
                current.version += 1
                current.save()
                change_record(obj=current, action="import", changes=changes, by=by, region=region, note=note)
                updated += 1
    return created, updated


# --- Excel import as a background job (merchants.excel.import_job_work runs it) -----------------


def merchant_import_start(*, by, upload, dry_run: bool, skip_invalid: bool, via: str = "web"):
    """Store `upload` and start its import as a background job (the request reads only its
    size and first bytes: elders.services.import_upload_refusal); returns the Job. The job
    acts as `by`: rows resolve to regions in `by`'s scope when it runs."""
    from core.access import check
    from elders.services import import_upload_refusal
    from jobs.services import job_create, job_enqueue
    from merchants.jobs import MERCHANT_IMPORT
    from merchants.tasks import merchant_import_task

    check(by, "import", Merchant)
    if message := import_upload_refusal(upload):
        raise ValidationError({"file": message})
    params = {"dry_run": dry_run, "skip_invalid": skip_invalid, "via": via}
    job = job_create(by=by, kind=MERCHANT_IMPORT, params=params, upload=upload, input_name=upload.name)
    job_enqueue(job, merchant_import_task)
    return job


def merchant_import_confirm(*, by, dry_run_job, skip_invalid: bool):
    """After a dry run: the same file for real (all rows, or only the good ones) as a new job;
    ValidationError when the file is gone (imported or cleaned up meanwhile)."""
    from core.access import check
    from jobs.services import job_create_on_file_of, job_enqueue
    from merchants.jobs import MERCHANT_IMPORT
    from merchants.tasks import merchant_import_task

    check(by, "import", Merchant)
    if dry_run_job.kind != MERCHANT_IMPORT or not dry_run_job.input_file:
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    job = job_create_on_file_of(job=dry_run_job, by=by, params={"dry_run": False, "skip_invalid": skip_invalid, "via": "web"})
    job_enqueue(job, merchant_import_task)
    return job
