"""Workbooks for import tests, built with openpyxl the way real community sheets come in:
a title row above the header, merged cells, ID numbers Excel stored as numbers, Excel dates.

`person()` gives a valid row; `xlsx()` turns rows into the bytes of a workbook; `read_xlsx()`
reads any workbook back (python-calamine, as the importer does).
"""

import datetime
import io

from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from core.idnumbers import make_id_number

# The template's ten main columns, in its order.
HEADER = [
    "姓名",
    "身份证号",
    "联系电话",
    "户籍类型",
    "居住情况",
    "婚姻状况",
    "所属社区",
    "详细地址",
    "紧急联系人",
    "紧急联系人电话",
]
COLUMN = {name: i for i, name in enumerate(HEADER)}


def id_number(n: int = 1, *, born: datetime.date = datetime.date(1949, 12, 31), area: str = "110105") -> str:
    """A valid 18-digit number; n (0–999) keeps numbers apart, odd n for men."""
    return make_id_number(area, born, n)


def person(n: int = 1, **over) -> list:
    """A good row in HEADER's order: a 75-odd-year-old of 安泰社区. Override by header name."""
    values = {
        "姓名": "王秀兰",
        "身份证号": id_number(n),
        "联系电话": f"1381234{n:04d}",
        "户籍类型": "城镇",
        "居住情况": "独居",
        "婚姻状况": "丧偶",
        "所属社区": "安泰社区",
        "详细地址": f"安泰小区{n}号楼",
        "紧急联系人": "李小红",
        "紧急联系人电话": "13900001111",
    }
    values.update(over)
    unknown = set(values) - set(HEADER)
    assert not unknown, f"not a template column: {unknown}"
    return [values[h] for h in HEADER]


def workbook(
    rows: list[list],
    *,
    header: list | None = None,
    title: str | None = None,
    merges: list[str] = (),
    date_columns: list[int] = (),
) -> Workbook:
    """A sheet: an optional title row (merged across the header), the header, then `rows`.

    `merges` are ranges in sheet coordinates ("G3:G6"); openpyxl keeps only the top-left
    value of a merged range, as Excel does. Cells in `date_columns` holding dates are
    written as Excel dates (serial numbers with a date format)."""
    header = HEADER if header is None else header
    book = Workbook()
    sheet = book.active
    sheet.title = "老年人信息"
    if title is not None:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for index in date_columns:
        for (cell,) in sheet.iter_rows(min_col=index + 1, max_col=index + 1, min_row=2):
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
    for cell_range in merges:
        sheet.merge_cells(cell_range)
    return book


def xlsx(rows: list[list], **kwargs) -> bytes:
    """The bytes of `workbook(rows, **kwargs)`."""
    buffer = io.BytesIO()
    workbook(rows, **kwargs).save(buffer)
    return buffer.getvalue()


def write_xlsx(path, rows: list[list], **kwargs):
    """Save `workbook(rows, **kwargs)` at `path` and return the path."""
    workbook(rows, **kwargs).save(path)
    return path


def read_xlsx(data) -> list[list]:
    """Every row of the first sheet (bytes, a path, or a file) as calamine gives them."""
    if isinstance(data, bytes | bytearray):
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    elif hasattr(data, "read"):
        book = CalamineWorkbook.from_filelike(data)
    else:
        book = CalamineWorkbook.from_path(str(data))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


def upload(data: bytes, name: str = "老人名单.xlsx"):
    """An uploaded file for the test client or the API."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
