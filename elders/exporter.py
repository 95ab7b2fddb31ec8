"""Excel out: the import template, the error report of an import, and the export of a list.

XlsxWriter in constant_memory mode writes each row to disk as it goes, and the rows come
from the database in chunks (`.iterator()`), so memory stays flat however long the list.
"""

import datetime

import xlsxwriter
from django.utils import timezone

from core import crypto
from elders.categories import categories_of
from elders.excel import COLUMNS, TEMPLATE_COLUMNS

_EXPORT_KEYS = [c.key for c in COLUMNS]


def _formats(book):
    return {
        "head": book.add_format({"bold": True, "bg_color": "#E8F1EE", "border": 1, "text_wrap": True, "valign": "vcenter"}),
        "req": book.add_format({"bold": True, "bg_color": "#FCE8D8", "border": 1, "text_wrap": True, "valign": "vcenter"}),
        "text": book.add_format({"num_format": "@"}),
        "note": book.add_format({"italic": True, "font_color": "#666666", "text_wrap": True}),
        "error": book.add_format({"font_color": "#B42318", "text_wrap": True}),
        "title": book.add_format({"bold": True, "font_size": 14}),
    }


def write_template(out) -> None:
    """The import template: Chinese headers (required ones marked *), notes, an example row;
    the ID and phone columns formatted as text so Excel keeps every digit."""
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("老年人信息")
    fmt = _formats(book)
    for col, column in enumerate(TEMPLATE_COLUMNS):
        sheet.write_string(
            0, col, column.header + ("*" if column.required else ""), fmt["req"] if column.required else fmt["head"]
        )
        sheet.set_column(col, col, 22 if column.key in ("id_number", "address") else 14, fmt["text"])
        if column.note:
            sheet.write_comment(0, col, column.note)
    example = {
        "name": "示例:冷国兴",
        "id_number": "11010519491231002X",
        "phone": "138 1234 5678",
        "hukou": "城镇",
        "living_arrangement": "与配偶同住",
        "marital_status": "有配偶",
        "community": "安泰社区",
        "address": "经济房15号楼7单元6楼东户",
        "contact_name": "冷红",
        "contact_phone": "13912345678",
        "contact_relation": "子女",
    }
    for col, column in enumerate(TEMPLATE_COLUMNS):
        if column.key in example:
            sheet.write_string(1, col, example[column.key], fmt["note"])
    sheet.freeze_panes(1, 2)
    help_sheet = book.add_worksheet("填写说明")
    help_sheet.set_column(0, 0, 22)
    help_sheet.set_column(1, 1, 80)
    help_sheet.write(0, 0, "填写说明", fmt["title"])
    lines = [
        ("标 * 的列", "必填。第2行是示例(姓名以“示例”开头的行不会导入),可以删除或覆盖。"),
        ("身份证号", "18位或15位旧号码;请保持“文本”格式,否则 Excel 会把号码变成数字并丢掉后几位。"),
        ("所属社区", "社区名称、“街道/社区”或12位区划代码,须在您的辖区内。"),
        ("重复导入", "以身份证号为准:已登记的老人会被更新,不会重复登记。"),
        ("出错时", "默认任何一行有错都不导入;下载“错误行”文件,改好后可直接重新上传。"),
    ]
    for row, (k, v) in enumerate(lines, start=2):
        help_sheet.write(row, 0, k)
        help_sheet.write(row, 1, v)
    for row, column in enumerate(COLUMNS, start=len(lines) + 4):
        help_sheet.write(row, 0, column.header + ("(必填)" if column.required else ""))
        help_sheet.write(row, 1, column.note or "")
    book.close()


def write_error_report(report, out) -> None:
    """Only the bad rows, with the original header and an 错误原因 column, ready to fix and re-upload."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("错误行")
    fmt = _formats(book)
    headers = list(report.headers)
    width = len(headers)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, str(header), fmt["head"])
        sheet.set_column(col, col, 16, fmt["text"])
    sheet.write_string(0, width, "错误原因", fmt["req"])
    sheet.write_string(0, width + 1, "原行号", fmt["head"])
    sheet.set_column(width, width, 60)
    for out_row, (number, cells, reasons) in enumerate(report.bad_rows, start=1):
        for col in range(width):
            value = cells[col] if col < len(cells) else ""
            if isinstance(value, float) and value.is_integer():
                value = str(int(value))
            elif isinstance(value, datetime.datetime | datetime.date):
                value = value.strftime("%Y-%m-%d")
            sheet.write_string(out_row, col, "" if value is None else str(value))
        sheet.write_string(out_row, width, reasons, fmt["error"])
        sheet.write_number(out_row, width + 1, number)
    sheet.freeze_panes(1, 0)
    book.close()


def export_elders(queryset, out, *, reveal: bool, progress=None) -> int:
    """Write the elders of `queryset` in the template's columns (so an export can be fixed and
    re-imported); numbers masked unless `reveal`. Returns the row count."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("老年人信息")
    fmt = _formats(book)
    extra = ["性别", "年龄", "类别", "状态"]
    headers = [c.header for c in COLUMNS] + extra
    for col, header in enumerate(headers):
        sheet.write_string(0, col, header, fmt["head"])
    sheet.set_column(0, len(headers), 14)
    today = timezone.localdate()
    count = 0
    rows = queryset.select_related("region", "region__parent").prefetch_related("contacts").order_by("id")
    for count, elder in enumerate(rows.iterator(chunk_size=2000), start=1):
        contacts = list(elder.contacts.all())
        primary = contacts[0] if contacts else None
        region = elder.region
        community, grid = (region.parent, region) if region.level == 6 else (region, None)
        values = {
            "name": elder.name,
            "id_number": crypto.decrypt(elder.id_number_enc) if reveal else elder.id_number_masked,
            "phone": crypto.decrypt(elder.phone_enc) if reveal else elder.phone_masked,
            "hukou": elder.get_hukou_display() if elder.hukou else "",
            "living_arrangement": elder.get_living_arrangement_display() if elder.living_arrangement else "",
            "marital_status": elder.get_marital_status_display() if elder.marital_status else "",
            "community": community.code or community.name,
            "grid": grid.name if grid else "",
            "address": elder.address,
            "contact_name": primary.name if primary else "",
            "contact_phone": (crypto.decrypt(primary.phone_enc) if reveal else primary.phone_masked) if primary else "",
            "contact_relation": primary.get_relation_display() if primary else "",
            "birth_date": elder.birth_date.isoformat(),
            "children_count": str(elder.children_count),
            "children_away": "是" if elder.children_away else "否",
            "income_level": elder.get_income_level_display() if elder.income_level else "",
            "pension_type": elder.get_pension_type_display() if elder.pension_type else "",
            "is_dibao": "是" if elder.is_dibao else "否",
            "is_tekun": "是" if elder.is_tekun else "否",
            "disability_grade": elder.get_disability_grade_display() if elder.disability_grade else "",
            "ability_level": elder.get_ability_level_display() if elder.ability_level else "",
            "chronic_illnesses": elder.chronic_illnesses,
            "is_party_member": "是" if elder.is_party_member else "否",
            "is_retired_cadre": "是" if elder.is_retired_cadre else "否",
            "is_veteran_family": "是" if elder.is_veteran_family else "否",
            "is_model_worker": "是" if elder.is_model_worker else "否",
            "is_family_planning_special": "是" if elder.is_family_planning_special else "否",
            "interests": elder.interests,
            "care_preference": elder.get_care_preference_display() if elder.care_preference else "",
            "family_situation": elder.family_situation,
            "notes": elder.notes,
        }
        for col, key in enumerate(_EXPORT_KEYS):
            sheet.write_string(count, col, values.get(key, "") or "")
        base = len(_EXPORT_KEYS)
        sheet.write_string(count, base, elder.get_sex_display())
        sheet.write_number(count, base + 1, elder.age_on(today))
        sheet.write_string(count, base + 2, "、".join(str(c.label) for c in categories_of(elder, today)))
        sheet.write_string(count, base + 3, elder.get_status_display())
        if progress and count % 5000 == 0:
            progress(count)
    book.close()
    return count


def elder_export(*, user, filters, reveal: bool, out, progress=None, detail: dict | None = None, ip=None) -> tuple[int, bool]:
    """Export `user`'s list as filtered to `out` and log the export (who, filter, rows, whether
    numbers were full). Full numbers only if asked for and the role may see them.
    Returns (rows, full_numbers). The one path for the page's job and the API."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    from audit.services import access_log
    from elders.models import Elder
    from elders.selectors import elder_list

    if not user.may("export", Elder):
        raise PermissionDenied(_("您没有导出的权限"))
    reveal = bool(reveal) and user.may("reveal", Elder)
    qs = elder_list(user=user, filters=filters, action="export")
    on_rows = None
    if progress is not None:
        total = qs.count()
        progress(0, total)
        on_rows = lambda n: progress(n, total)  # noqa: E731
    count = export_elders(qs, out, reveal=reveal, progress=on_rows)
    access_log(
        kind="export",
        model="elders.elder",
        by=user,
        region=user.region,
        fields=("id_number", "phone") if reveal else (),
        detail={"filters": filters.as_dict(), "rows": count, "full_numbers": reveal, **(detail or {})},
        ip=ip,
    )
    return count, reveal
