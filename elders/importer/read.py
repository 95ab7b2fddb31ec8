"""Reading an import's workbook, guarded: the file is inspected before anything expands
(elders.workbook_guard) and read in a child process under a memory limit
(elders.sheet_reader); the header row is found and cells become text, dates and ID numbers."""

import datetime
import logging
import os
import re
import shutil
import tempfile

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from elders.excel import HEADER_LOOKUP, normalise_header
from elders.sheet_reader import ReaderFailed, SheetStream
from elders.workbook_guard import WorkbookRefused, inspect_workbook

log = logging.getLogger("elders.importer")
HEADER_SCAN_ROWS = 15
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


class UnreadableFile(Exception):
    """The file is not a workbook we can read, or has no header row."""

    @property
    def messages(self) -> list[str]:
        # job_run shows `messages` to the user; without it they got the class name and a traceback
        return [str(self)]


def _local_path(source) -> tuple[str, str | None]:
    """A path on disk for `source` (a path or a binary file object), and a temporary file to
    remove afterwards: the workbook is inspected and read by path, the reading in a child."""
    if isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
        return os.fsdecode(source), None
    # no workbook suffix: the reader then tells xlsx, xls and ods apart by their content
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as tmp:
        if hasattr(source, "seek"):
            source.seek(0)
        shutil.copyfileobj(source, tmp, 1 << 20)
    return tmp.name, tmp.name


def open_rows(path: str) -> SheetStream:
    """The first sheet's rows (merged cells filled in), after the workbook was inspected
    (elders.workbook_guard) and read in a child process with a memory limit
    (elders.sheet_reader); UnreadableFile with a message the user can act on otherwise."""
    from django.conf import settings

    if not os.path.isfile(path):
        raise UnreadableFile(_("找不到要导入的文件，请重新上传"))
    try:
        inspect_workbook(path)
    except WorkbookRefused as exc:
        raise UnreadableFile(str(exc)) from None
    try:
        return SheetStream(path, memory_bytes=settings.IMPORT_READER_MEMORY_MB << 20)
    except ReaderFailed as exc:
        raise _reader_failure(exc) from None


def _reader_failure(exc: ReaderFailed) -> "UnreadableFile":
    """What the user reads when the reader failed; the reader's own words (which may name a
    server path) go to the log only."""
    from django.conf import settings

    log.warning("workbook reader failed: %s %s", exc.kind, exc.detail)
    if exc.kind == "memory":
        return UnreadableFile(
            _(
                "读取这个文件需要的内存超过上限（%(m)d MB），文件可能含有大量空白行列或被构造成展开后极大。请把数据复制到导入模板后再导入"
            )
            % {"m": settings.IMPORT_READER_MEMORY_MB}
        )
    if exc.kind == "timeout":
        return UnreadableFile(_("读取文件超时。请把数据复制到导入模板后再导入"))
    return UnreadableFile(_("无法读取文件，请上传 Excel 文件（.xlsx 或 .xls），或在 Excel 或 WPS 中打开后另存为 .xlsx 再导入"))


def _rows_or_unreadable(rows):
    """The rows of a SheetStream; a reader that fails halfway is an UnreadableFile."""
    try:
        yield from rows
    except ReaderFailed as exc:
        raise _reader_failure(exc) from None


def read_sheet(source) -> tuple[list[list], int]:
    """All rows of the first sheet (merged cells filled in) and the sheet row of rows[0] less one."""
    path, temporary = _local_path(source)
    try:
        with open_rows(path) as stream:
            return list(_rows_or_unreadable(stream)), 0
    finally:
        if temporary:
            os.unlink(temporary)


def find_header(rows: list[list]) -> tuple[int, dict[int, str], list[str]]:
    """The header row (a title may stand above it): the first row naming 姓名 and 身份证号."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {i: HEADER_LOOKUP.get(normalise_header(cell)) for i, cell in enumerate(row)}
        found = {k for k in keys.values() if k}
        if "name" in found and "id_number" in found:
            colmap = {}
            for i, key in keys.items():
                if key and key not in colmap.values():
                    colmap[i] = key
            unknown = [str(cell).strip() for i, cell in enumerate(row) if str(cell).strip() and i not in colmap]
            return index, colmap, unknown
    raise UnreadableFile(
        _("没有找到表头：前%(n)d行里应有一行同时包含“姓名”和“身份证号”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS}
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _id_cell(value) -> str:
    """The ID number as text; refuse one that Excel stored as a number (its last digits are gone)."""
    if isinstance(value, bool):
        raise ValidationError(_("身份证号无效"))
    if isinstance(value, int | float):
        digits = str(int(value))
        if len(digits) >= 16 or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError(
                _(
                    "身份证号被 Excel 存成了数字，后几位已经丢失（现在显示为 %(v)s）。"
                    "请把这一列设为“文本”格式，重新填写完整号码后再导入"
                )
                % {"v": digits}
            )
        return digits  # a 15-digit old number survives as a number
    text = str(value).strip()
    if _SCIENTIFIC.match(text.replace(" ", "")):
        raise ValidationError(
            _("身份证号被 Excel 显示成了科学计数法（%(v)s），后几位已经丢失。请把这一列设为“文本”格式，重新填写完整号码后再导入")
            % {"v": text}
        )
    return text


def _date_cell(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 80000:
        return EXCEL_EPOCH + datetime.timedelta(days=int(value))  # an Excel serial date
    return _cell_text(value)


def data_chunks(rows, first_number: int, size: int):
    """The data rows in chunks of `size` (number, cells), blank rows and the template's example row left out."""
    batch = []
    for offset, cells in enumerate(rows):
        if all(str(c).strip() == "" for c in cells if c is not None):
            continue  # a blank row
        if cells and str(cells[0]).strip().startswith(("示例", "例:", "例：")):
            continue  # the template's example row
        batch.append((first_number + offset, cells))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Chunks handed to the checkers ahead of the writer. Pool.imap would read the whole sheet
