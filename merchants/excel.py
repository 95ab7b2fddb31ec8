"""Excel import and export of partner merchants, with the elders' importer rules:

- the same guarded reading (elders.importer.read.open_rows: elders.workbook_guard inspects the
  file before anything expands, elders.sheet_reader reads it in a child process under a
  memory limit), the same header search (a title may stand above the header; columns by
  their Chinese names and aliases), blank rows and the template's 示例 row skipped;
- every row checked with the rules of the form and the API (merchants.validation), the
  community found by name, "街道/社区" or 12-digit code in the user's scope
  (elders.importer.check.RegionResolver);
- all or nothing: nothing is written if any row is bad (unless the caller skips bad rows);
- the bad rows come back as a workbook with the original header and an 错误原因 column
  (elders.importer.report.write_error_report), ready to fix and re-upload.
The key of a row is (community, name): a merchant already registered is updated.
"""

import io
import itertools
import math
import os
from dataclasses import dataclass, field

import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from core.xlsx import SheetWriter
from elders.excel import Column, normalise_header
from elders.exporter import book_formats
from elders.importer.check import RegionResolver
from elders.importer.read import (
    HEADER_SCAN_ROWS,
    UnreadableFile,
    _cell_text,
    _date_cell,
    _local_path,
    _rows_or_unreadable,
    data_chunks,
    open_rows,
)
from elders.importer.report import ImportReport, reject, write_error_report
from merchants import services
from merchants.hours import WEEKDAYS, day_text
from merchants.models import Merchant
from merchants.validation import clean_merchant_input, label

MAX_ROWS = 20_000

COLUMNS = [
    Column("name", "名称", ("网点名称", "商户名称", "店名", "单位名称"), True),
    Column(
        "kind",
        "类型",
        ("网点类型", "商户类型", "类别"),
        True,
        "理发 / 餐饮/老年食堂 / 家电维修 / 开锁/修配锁 / 超市 / 诊所/卫生服务站 / 药店 / 家政 / 服务站/日间照料中心 / 其他",
    ),
    Column("community", "所属社区", ("社区", "所在社区", "社区/村"), True, "社区名称或12位区划代码"),
    Column("address", "地址", ("详细地址", "经营地址")),
    Column("lng", "经度", ("lng", "longitude"), False, "WGS-84 度数，如 116.397（不要用高德/腾讯/百度地图的坐标）"),
    Column("lat", "纬度", ("lat", "latitude"), False, "WGS-84 度数，如 39.909"),
    Column("phone", "电话", ("联系电话", "店铺电话")),
    Column("contact_name", "联系人", ("负责人",)),
    Column("agreement_no", "协议编号", ("协议号",)),
    Column("signed_on", "签订日期", ("签约日期",), False, "如 2025-01-31"),
    Column("period_start", "协议开始", ("协议开始日期", "有效期开始")),
    Column("period_end", "协议结束", ("协议结束日期", "有效期至", "有效期结束")),
    Column("status", "协议状态", ("状态",), False, "有效 / 已到期 / 已终止"),
    Column(
        "discount", "优惠幅度(%)", ("优惠幅度", "优惠", "折扣优惠(%)", "优惠比例"), False, "5 到 10，可带一位小数；没有优惠留空"
    ),
    Column("goods", "商品与服务说明", ("服务内容", "商品")),
    *[Column(f"hours_{i}", f"营业时间{WEEKDAYS[i]}", (), False, "08:00-20:00；多段用逗号分开；不营业写“休息”") for i in range(7)],
    Column("notes", "备注", ()),
]
BY_KEY = {c.key: c for c in COLUMNS}
HEADER_LOOKUP = {normalise_header(n): c.key for c in COLUMNS for n in (c.header, *c.aliases)}
# WEEKDAYS are lazy translations: the headers above are their Chinese source text
HEADER_LOOKUP.update(
    {
        normalise_header(f"营业时间{w}"): f"hours_{i}"
        for i, w in enumerate(("周一", "周二", "周三", "周四", "周五", "周六", "周日"))
    }
)


@dataclass
class MerchantImportReport(ImportReport):
    error_file: bytes = b""
    written_rows: list = field(default_factory=list)


def find_header(rows: list[list]) -> tuple[int, dict[int, str], list[str]]:
    """The header row: the first of the top rows naming 名称 and 类型 (a title may stand above)."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {i: HEADER_LOOKUP.get(normalise_header(cell)) for i, cell in enumerate(row)}
        if {"name", "kind"} <= {k for k in keys.values() if k}:
            colmap = {}
            for i, key in keys.items():
                if key and key not in colmap.values():
                    colmap[i] = key
            unknown = [str(c).strip() for i, c in enumerate(row) if str(c).strip() and i not in colmap]
            return index, colmap, unknown
    raise UnreadableFile(
        _("没有找到表头：前%(n)d行里应有一行同时包含“名称”和“类型”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS}
    )


def _row_data(cells, colmap) -> tuple[dict, str, dict]:
    data, community, errors = {}, "", {}
    hours = [""] * 7
    has_hours = False
    for index, key in colmap.items():
        value = cells[index] if index < len(cells) else ""
        if isinstance(value, float) and not math.isfinite(value):
            errors[key] = [_("“%(v)s”不是有效的数值") % {"v": str(value)[:20]}]
            continue
        if key == "community":
            community = _cell_text(value)
        elif key.startswith("hours_"):
            hours[int(key[-1])] = _cell_text(value)
            has_hours = has_hours or bool(_cell_text(value).strip())
        elif key in ("signed_on", "period_start", "period_end"):
            data[key] = _date_cell(value)
        else:
            data[key] = _cell_text(value) if not isinstance(value, float) else repr(value)
    if has_hours:
        data["opening_hours"] = hours
    return data, community, errors


def _column(key: str, headers: dict) -> str:
    key = {"discount_tenths": "discount", "opening_hours": "hours_0", "region": "community"}.get(key, key)
    return headers.get(key) or (BY_KEY[key].header if key in BY_KEY else label(key))


def import_merchants(
    source, *, by, dry_run: bool = False, skip_invalid: bool = False, filename: str = ""
) -> MerchantImportReport:
    """Check every row, then (unless dry_run) write all of them in one transaction — or, with
    skip_invalid, the good ones. The report's error_file holds the bad rows' workbook."""
    if not by.may("import", Merchant):
        raise PermissionDenied(_("您没有导入签约服务网点的权限"))
    report = MerchantImportReport(filename=filename or getattr(source, "name", ""), dry_run=dry_run, skip_invalid=skip_invalid)
    path, temporary = _local_path(source)
    try:
        with open_rows(path) as stream:
            rows = _rows_or_unreadable(stream)
            head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            header_index, colmap, unknown = find_header(head)
            if "community" not in colmap.values():
                raise UnreadableFile(_("缺少“所属社区”列。请使用导入模板。"))
            report.header_row = header_index + 1
            report.headers = [_cell_text(c) for c in head[header_index]]
            headers = {key: _cell_text(head[header_index][i]).strip() for i, key in colmap.items()}
            if unknown:
                report.warnings.append(_("以下列不认识，已忽略：%(c)s") % {"c": "、".join(unknown[:20])})
            resolver = RegionResolver(by)
            good = []
            seen = {}
            data = itertools.chain(head[header_index + 1 :], rows)
            for chunk in data_chunks(data, first_number=header_index + 2, size=500):
                for number, cells in chunk:
                    report.total_rows += 1
                    if report.total_rows > MAX_ROWS:
                        raise UnreadableFile(_("一次最多导入 %(n)d 行，请分成几个文件") % {"n": MAX_ROWS})
                    raw, community, errors = _row_data(cells, colmap)
                    clean = {}
                    try:
                        clean = clean_merchant_input(raw)
                    except ValidationError as exc:
                        for key, msgs in exc.message_dict.items():
                            errors.setdefault(key, []).extend(msgs)
                    region = None
                    try:
                        region = resolver.resolve(community, "")
                    except ValidationError as exc:
                        errors.setdefault("region", []).extend(exc.messages)
                    if region is not None and clean.get("name"):
                        key = (region.pk, clean["name"])
                        if key in seen:
                            errors.setdefault("name", []).append(
                                _("与第 %(r)d 行是同一社区的同名网点，请合并为一行") % {"r": seen[key]}
                            )
                        seen.setdefault(key, number)
                    if errors:
                        reject(report, number, cells, [(_column(k, headers), m) for k, ms in errors.items() for m in ms])
                    else:
                        good.append((number, clean, region))
    finally:
        if temporary:
            os.unlink(temporary)
    if report.bad_rows:
        out = io.BytesIO()
        write_error_report(report, out)
        report.error_file = out.getvalue()
    if dry_run or (report.rejected and not skip_invalid):
        # what confirming would do: a row whose (community, name) is on file updates it
        # (or leaves it unchanged), any other adds a merchant
        on_file = set(
            Merchant.objects.restrict(by, "view")
            .filter(region_id__in={r.pk for _n, _c, r in good}, name__in={c["name"] for _n, c, _r in good})
            .values_list("region_id", "name")
        )
        report.updated = sum(1 for _n, c, r in good if (r.pk, c["name"]) in on_file)
        report.created = len(good) - report.updated
        return report
    report.created, report.updated = services.merchant_bulk_write(
        by=by, rows=[(clean, region) for _n, clean, region in good], note=_("Excel 导入：%(f)s") % {"f": report.filename or "-"}
    )
    report.unchanged = len(good) - report.created - report.updated
    report.written = True
    return report


def import_job_work(job) -> dict:
    """A merchant import job (merchants.tasks): the file read in the task worker as the job's
    user (rows resolve to regions in that user's scope only), the report as the job's result,
    the bad rows as its output file; the uploaded sheet deleted once written. A file that
    cannot be read raises UnreadableFile, whose message the job shows (jobs.services.job_run)."""
    from jobs.services import import_job_run

    return import_job_run(
        job,
        lambda source: import_merchants(
            source,
            by=job.by,
            dry_run=job.params.get("dry_run", False),
            skip_invalid=job.params.get("skip_invalid", False),
            filename=job.input_name,
        ),
    )


def template_workbook() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("签约服务网点")
    fmt = book_formats(book)
    for col, column in enumerate(COLUMNS):
        sheet.write_string(
            0, col, column.header + ("*" if column.required else ""), fmt["req"] if column.required else fmt["head"]
        )
        sheet.set_column(col, col, 16, fmt["text"])
        if column.note:
            sheet.write_comment(0, col, column.note)
    example = {"name": "示例:安泰理发店", "kind": "理发", "community": "安泰社区", "discount": "8", "hours_0": "08:00-20:00"}
    for col, column in enumerate(COLUMNS):
        sheet.write_string(1, col, example.get(column.key, ""), fmt["note"])
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def export_merchants(queryset, out) -> int:
    """The merchants of `queryset` in the template's columns, so an export can be fixed and
    re-imported."""
    kinds = dict(Merchant._meta.get_field("kind").flatchoices)
    statuses = dict(Merchant._meta.get_field("status").flatchoices)
    count = 0
    with SheetWriter(out, "签约服务网点", widths=[14] * len(COLUMNS)) as sheet:
        sheet.header([c.header for c in COLUMNS])
        for m in queryset.select_related("region").order_by("id").iterator(chunk_size=2000):
            values = {
                "name": m.name,
                "kind": str(kinds.get(m.kind, m.kind)),
                "community": m.region.code or m.region.name,
                "address": m.address,
                "lng": "" if m.lng is None else f"{m.lng:.6f}",
                "lat": "" if m.lat is None else f"{m.lat:.6f}",
                "phone": m.phone,
                "contact_name": m.contact_name,
                "agreement_no": m.agreement_no,
                "signed_on": m.signed_on.isoformat() if m.signed_on else "",
                "period_start": m.period_start.isoformat() if m.period_start else "",
                "period_end": m.period_end.isoformat() if m.period_end else "",
                "status": str(statuses.get(m.status, m.status)),
                "discount": m.discount_percent.rstrip("%"),
                "goods": m.goods,
                "notes": m.notes,
            }
            for i in range(7):
                values[f"hours_{i}"] = day_text(m.opening_hours, i) or ("休息" if m.opening_hours else "")
            sheet.row([values.get(c.key, "") for c in COLUMNS])
            count += 1
    return count
