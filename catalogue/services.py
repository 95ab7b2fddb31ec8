"""Writes of the catalogue, price lists and packages: keyword-only, `by=`, atomic, full_clean,
one change record each."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import change_record
from catalogue.models import EntitlementGrant, EntitlementPackage, PriceEntry, PriceList, ServiceItem
from core.access import check
from core.text import refuse_invisible_characters


def catalogue_initial_load() -> None:
    """The initial catalogue (migration 0003's rows), added where missing by code; never
    overwrites an edit. For a database whose tables were emptied after migrating (a test
    flush, a hand-cleared install): seed_demo and the test fixtures call it."""
    import importlib

    from django.apps import apps

    if ServiceItem.objects.exists():
        return
    importlib.import_module("catalogue.migrations.0003_initial_catalogue").load(apps, None)


def _value(obj, name):
    value = getattr(obj, name)
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _check_text(data: dict, fields) -> None:
    errors = {}
    for name in fields:
        value = data.get(name)
        if isinstance(value, str):
            try:
                refuse_invisible_characters(value)
            except ValidationError as exc:
                errors[name] = exc.messages
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def vocabulary_save(*, by, obj, data: dict, m2m: dict | None = None):
    """Create or change a catalogue row (an item, a category, a skill, a certificate kind): the
    platform admin's edit. `data` holds field values, `m2m` the many-to-many lists."""
    check(by, "change", ServiceItem)
    _check_text(data, ("name", "description", "code"))
    creating = obj.pk is None
    if not creating:
        obj = type(obj).objects.get(pk=obj.pk)  # the stored values (a ModelForm may have set the new ones)
    before = {name: _value(obj, name) for name in data} if not creating else {}
    for name, value in data.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    changes = {name: [before.get(name), _value(obj, name)] for name in data if creating or before.get(name) != _value(obj, name)}
    for name, values in (m2m or {}).items():
        manager = getattr(obj, name)
        old = sorted(manager.values_list("pk", flat=True)) if not creating else []
        manager.set(values)
        new = sorted(v.pk if hasattr(v, "pk") else v for v in values)
        if old != new:
            changes[name] = [old, new]
    if changes:
        change_record(obj=obj, action="create" if creating else "update", changes=changes, by=by, region=None)
    return obj


@transaction.atomic
def price_entry_set(
    *, by, region, item, price_fen: int, valid_from: datetime.date, valid_to: datetime.date | None = None
) -> PriceEntry:
    """Set `item`'s price in the list of `region` (made on first use) from `valid_from`. An
    open entry of the same item that began earlier is ended the day before, so a new price
    replaces the old one without a gap or an overlap."""
    check(by, "change", PriceList)
    price_list, _created = PriceList.objects.get_or_create(region=region)
    if price_fen is None or price_fen < 0:
        raise ValidationError({"price_fen": _("价格应为不小于 0 的整数（单位：分）")})
    earlier_open = PriceEntry.objects.filter(price_list=price_list, item=item, valid_to__isnull=True, valid_from__lt=valid_from)
    for old in earlier_open:
        old.valid_to = valid_from - datetime.timedelta(days=1)
        old.full_clean()
        old.save(update_fields=["valid_to"])
    entry = PriceEntry(price_list=price_list, item=item, price_fen=price_fen, valid_from=valid_from, valid_to=valid_to)
    entry.full_clean()
    entry.save()
    change_record(
        obj=price_list,
        action="price_set",
        changes={item.name: [None, f"{price_fen / 100:.2f}"], "valid_from": [None, valid_from.isoformat()]},
        by=by,
        region=region,
        note=_("%(item)s 价格") % {"item": item.name},
    )
    return entry


@transaction.atomic
def price_entry_delete(*, by, entry: PriceEntry) -> None:
    check(by, "change", PriceList)
    price_list = entry.price_list
    change_record(
        obj=price_list,
        action="price_delete",
        changes={entry.item.name: [f"{entry.price_fen / 100:.2f}", None]},
        by=by,
        region=price_list.region,
    )
    entry.delete()


@transaction.atomic
def package_save(
    *, by, package: EntitlementPackage | None = None, data: dict, grants: list[dict] | None = None
) -> EntitlementPackage:
    """Create or change a package (set on a node of `by`'s subtree) and, when given, replace its
    grants: [{"item": ServiceItem | None, "category": ServiceCategory | None, "quantity", "unit"}]."""
    check(by, "change", EntitlementPackage)
    package = package if package is not None else EntitlementPackage()
    _check_text(data, ("name", "code"))
    creating = package.pk is None
    before = {name: _value(package, name) for name in data} if not creating else {}
    for name, value in data.items():
        setattr(package, name, value)
    package.full_clean()
    package.save()
    changes = {n: [before.get(n), _value(package, n)] for n in data if creating or before.get(n) != _value(package, n)}
    if grants is not None:
        if not grants:
            raise ValidationError({"grants": _("服务包至少要有一项额度（服务项目或类别及每月数量）")})
        old = [str(g) for g in package.grants.all()]
        package.grants.all().delete()
        for index, g in enumerate(grants):
            grant = EntitlementGrant(package=package, **g)
            try:
                grant.full_clean()
            except ValidationError as exc:
                raise ValidationError({f"grants[{index}].{k}": v for k, v in exc.message_dict.items()}) from None
            grant.save()
        new = [str(g) for g in package.grants.all()]
        if old != new:
            changes["grants"] = [old, new]
    if changes:
        change_record(obj=package, action="create" if creating else "update", changes=changes, by=by, region=package.region)
    return package
