"""Excel out: the import template and the export of a list (the error report of an import is
elders.importer.report's).

The template is small and formatted (comments, colours): XlsxWriter.
The export can be a city's list: rows come from the database through a server-side cursor
in batches and go to disk as they come through core.xlsx.SheetWriter (XlsxWriter's per-cell
cost made 100,000 rows take over 10 s), so memory stays flat however long the list.
"""

from collections import namedtuple

import xlsxwriter
from django.utils import timezone

from core import crypto
from core.xlsx import SheetWriter
from elders.excel import COLUMNS, TEMPLATE_COLUMNS
from elders.models import age_on
from elders.validation import BOOL_FIELDS, CHOICE_FIELDS

_EXPORT_KEYS = [c.key for c in COLUMNS]


def book_formats(book):
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
    fmt = book_formats(book)
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


def _labels(model, field: str) -> dict:
    """A choice field's value -> label in the current language, looked up once per export:
    get_FOO_display() rebuilds the choice map and translates on every call, which at 100,000
    rows cost more than writing the file."""
    return {value: str(label) for value, label in model._meta.get_field(field).flatchoices}


# The registry's own lists: every choice field (and the status) shown by its label, every
# yes/no field as 是/否.
_CHOICE_FIELDS = (*CHOICE_FIELDS, "status")
_YES_NO_FIELDS = tuple(BOOL_FIELDS)
_TEXT_FIELDS = ("name", "address", "chronic_illnesses", "interests", "family_situation", "notes")
# Read as plain values (no model instances: at 100,000 rows three instances a row cost more
# than the query). The row tuple's names are what elders.categories' rules read.
_ROW_FIELDS = (
    "id",
    "id_number_enc",
    "id_number_masked",
    "phone_enc",
    "phone_masked",
    "birth_date",
    "children_count",
    "home_lat",
    "home_lng",
    *_CHOICE_FIELDS,
    *_YES_NO_FIELDS,
    *_TEXT_FIELDS,
    "region__level",
    "region__name",
    "region__code",
    "region__parent__name",
    "region__parent__code",
)
_Row = namedtuple("_Row", [f.replace("__", "_") for f in _ROW_FIELDS])
_BATCH = 2000


def _batches(iterable, size):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def export_elders(queryset, out, *, reveal: bool, progress=None) -> int:
    """Write the elders of `queryset` in the template's columns (so an export can be fixed and
    re-imported) plus 性别, 年龄, 类别, 状态; numbers masked and no birth date unless `reveal`. Rows come from a
    server-side cursor in batches and go to the file as they come (core.xlsx), so memory
    stays flat however long the list. Returns the row count."""
    from elders.categories import enabled_categories
    from elders.models import Elder, EmergencyContact

    today = timezone.localdate()
    choice = {f: _labels(Elder, f) for f in _CHOICE_FIELDS}
    relation = _labels(EmergencyContact, "relation")
    categories = [(c.test, str(c.label)) for c in enabled_categories()]
    yes, no = "是", "否"
    decrypt = crypto.decrypt
    # A masked export holds age, never the birth date: with it, the masked number would narrow
    # to a few dozen (issue 8). Full-number exports keep it, so they can be re-imported.
    keys = [k for k in _EXPORT_KEYS if reveal or k != "birth_date"]
    headers = [c.header for c in COLUMNS if c.key in keys] + ["性别", "年龄", "类别", "状态"]
    rows = queryset.order_by("id").values_list(*_ROW_FIELDS).iterator(chunk_size=_BATCH)
    count = 0
    with SheetWriter(out, "老年人信息", widths=[14] * len(headers)) as sheet:
        sheet.header(headers)
        for batch in _batches(rows, _BATCH):
            # the primary contact of each elder of the batch (is_primary first, then the oldest)
            primary = {}
            for elder_id, name, rel, phone_enc, phone_masked in (
                EmergencyContact.objects.filter(elder_id__in=[r[0] for r in batch])
                .order_by("elder_id", "-is_primary", "id")
                .values_list("elder_id", "name", "relation", "phone_enc", "phone_masked")
            ):
                primary.setdefault(elder_id, (name, rel, phone_enc, phone_masked))
            for values in batch:
                e = _Row._make(values)
                contact = primary.get(e.id)
                community, grid = (
                    (e.region_parent_code or e.region_parent_name, e.region_name)
                    if e.region_level == 6
                    else (e.region_code or e.region_name, "")
                )
                by_key = {
                    "name": e.name,
                    "id_number": decrypt(e.id_number_enc) if reveal else e.id_number_masked,
                    "phone": decrypt(e.phone_enc) if reveal else e.phone_masked,
                    "community": community,
                    "grid": grid,
                    "address": e.address,
                    "contact_name": contact[0] if contact else "",
                    "contact_phone": (decrypt(contact[2]) if reveal else contact[3]) if contact else "",
                    "contact_relation": relation.get(contact[1], contact[1]) if contact else "",
                    "birth_date": e.birth_date.isoformat(),
                    "children_count": str(e.children_count),
                    "chronic_illnesses": e.chronic_illnesses,
                    "interests": e.interests,
                    "home_lat": "" if e.home_lat is None else f"{e.home_lat:.6f}",
                    "home_lng": "" if e.home_lng is None else f"{e.home_lng:.6f}",
                    "family_situation": e.family_situation,
                    "notes": e.notes,
                }
                for f in _CHOICE_FIELDS:
                    value = getattr(e, f)
                    by_key[f] = choice[f].get(value, value)
                for f in _YES_NO_FIELDS:
                    by_key[f] = yes if getattr(e, f) else no
                sheet.row(
                    [by_key.get(key, "") for key in keys]
                    + [
                        by_key["sex"],
                        age_on(e.birth_date, today),
                        "、".join(label for test, label in categories if test(e, today)),
                        by_key["status"],
                    ]
                )
            count += len(batch)
            if progress:
                progress(count)
    return count


def recorded_filters(filters) -> dict:
    """The filter as recorded (job parameters, the access log): named as the list's query
    parameters, search words with personal numbers starred (core.redact)."""
    from core.redact import redact_filters

    recorded = redact_filters(filters.as_dict())
    if "categories" in recorded:
        recorded["category"] = recorded.pop("categories")
    return recorded


def export_job_params(filters, *, reveal: bool) -> dict:
    """A page export's job parameters: the filter as recorded, and the search words as typed
    encrypted (an ID or phone number searched for must not be stored in plaintext, but the
    job must export what was searched)."""
    params = {"filters": recorded_filters(filters), "reveal": reveal}
    if filters.q:
        params["q_enc"] = crypto.encrypt(filters.q)
    return params


def export_job_filters(params: dict):
    """The filter an export job runs with (the inverse of export_job_params)."""
    from elders.selectors import parse_filter

    raw = dict(params.get("filters") or {})
    if params.get("q_enc"):
        raw["q"] = crypto.decrypt(params["q_enc"])
    return parse_filter(raw)


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
        detail={"filters": recorded_filters(filters), "rows": count, "full_numbers": reveal, **(detail or {})},
        ip=ip,
    )
    return count, reveal
