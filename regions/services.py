"""Writes of the region tree."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import change_record
from core.text import refuse_invisible_characters
from regions.models import Level, Region


def _check_parent(*, parent: Region | None, level: int, by) -> None:
    if parent is None:
        if level != Level.COUNTRY:
            raise ValidationError({"parent": _("请选择上级区域")})
        if by is not None and by.region is not None:
            raise ValidationError({"parent": _("只能在本人管辖范围内新建区域")})
        return
    if level <= parent.level:
        raise ValidationError({"level": _("下级区域的层级必须低于上级（%(parent)s）") % {"parent": parent.get_level_display()}})
    if by is not None and not by.region.contains(parent):
        raise ValidationError({"parent": _("只能在本人管辖范围内新建区域")})


def _check_code(*, code: str, by, exclude_pk=None) -> None:
    # The conditional unique constraint would only say "constraint violated", with no field.
    # The region holding the code is named only if the user may see it: the message must not
    # reveal what exists outside the user's subtree.
    if not code:
        return
    taken = Region.objects.filter(code=code).exclude(pk=exclude_pk).first()
    if taken is None:
        return
    if by is None or by.region is None or by.region.contains(taken):
        message = _("区划代码 %(code)s 已被“%(name)s”使用，请核对") % {"code": code, "name": taken.name}
    else:
        message = _("区划代码 %(code)s 已被其他区域使用，请核对") % {"code": code}
    raise ValidationError({"code": message})


def _check_name(name: str) -> None:
    try:
        refuse_invisible_characters(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None


@transaction.atomic
def region_create(*, name: str, level: int, parent: Region | None, code: str = "", by=None) -> Region:
    """Create a region under `parent` (inside the user's subtree) and set its path."""
    _check_parent(parent=parent, level=level, by=by)
    _check_name(name)
    _check_code(code=code.strip(), by=by)
    region = Region(name=name.strip(), level=level, parent=parent, code=code.strip())
    region.full_clean(exclude=["path"])
    region.save()
    region.path = f"{parent.path if parent else '/'}{region.pk}/"
    region.save(update_fields=["path"])
    change_record(obj=region, action="create", changes={"name": [None, region.name]}, by=by, region=region)
    return region


@transaction.atomic
def region_update(*, region: Region, name: str, code: str, by) -> Region:
    """Rename a region or set its code; the tree shape does not change."""
    before = {"name": region.name, "code": region.code}
    region.name = name.strip()
    region.code = code.strip()
    _check_name(region.name)
    _check_code(code=region.code, by=by, exclude_pk=region.pk)
    region.full_clean(exclude=["path"])
    region.save(update_fields=["name", "code"])
    changes = {k: [v, getattr(region, k)] for k, v in before.items() if v != getattr(region, k)}
    if changes:
        change_record(obj=region, action="update", changes=changes, by=by, region=region)
    return region
