"""Look at an uploaded workbook before anything expands it (issue 8, finding 1).

python-calamine builds the whole first sheet as one dense rectangle (about 32 bytes a cell,
from A1 to the farthest cell) and holds every shared string: a 2 KB file with one cell at
XFD1048576 asks for 512 GiB, one at ALL100000 for 3 GB, 2.7 MB of shared strings expand to
1 GB. So before the reader runs, the zip is inspected in bounded memory:

- the central directory: the number of parts and their uncompressed size (and each part is
  streamed through `zipfile`, which stops at the size the directory declares and checks the
  CRC, so a part cannot hold more than it says);
- every XML part is scanned as it is inflated, 1 MB at a time, for the cells it holds: the
  farthest row and column (by the cells' `r` references; a part whose cells do not all carry a
  plain `r="A1"` reference is parsed with expat instead, counting positions as a reader does),
  the merged ranges, and the shared strings (`<si>`: their number and the bytes of the parts
  holding them).

Nothing here holds more than one chunk of a part and a few counters. The limits come from
settings (IMPORT_MAX_*; see docs/import-export.md). An .xls (OLE2) cannot be inspected this
way; it is read, as every workbook is, in a child process with a memory limit
(elders.sheet_reader), and its format caps it at 65,536 × 256 cells anyway.
"""

import array
import re
import zipfile
import zlib
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from django.conf import settings
from django.utils.translation import gettext as _

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 1 << 20
MAX_PARTS = 2000
MAX_OTHER_PART_BYTES = 32 << 20  # styles, themes, the workbook part: kilobytes in real files

# A cell written `<c r="A1"` is read straight from its reference. What is rare in a real
# sheet (a cell with no reference or its attributes in another order, a namespace prefix, a
# reference too long to be real; shared strings; merged ranges) is looked for with one
# literal search each (an alternation would be several times slower), and only a part where
# one is found is counted in detail.
_PLAIN_CELL = b"<c "
_ODD_CELL = re.compile(rb"<c[>/\t\n\r]")
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_MERGE = re.compile(rb"mergeCell[\s/>]")
_SHARED = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?si[\s/>]")
_COLUMNS = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_ROWS = re.compile(rb'<c r="[A-Z]{1,3}([0-9]{1,7})"')
_REF = re.compile(r"^\$?([A-Za-z]{1,4})\$?([0-9]{1,8})$")


class WorkbookRefused(Exception):
    """The file is not a workbook, or reading it would take more memory than allowed."""

    @property
    def messages(self) -> list[str]:
        return [str(self)]


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_columns: int
    max_cells: int
    max_shared_strings_bytes: int
    max_uncompressed_bytes: int
    max_merged: int = 5000

    @classmethod
    def from_settings(cls) -> "Limits":
        return cls(
            max_rows=settings.IMPORT_MAX_ROWS,
            max_columns=settings.IMPORT_MAX_COLUMNS,
            max_cells=settings.IMPORT_MAX_CELLS,
            max_shared_strings_bytes=settings.IMPORT_MAX_SHARED_STRINGS_MB << 20,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_MB << 20,
        )


def column_number(letters: str) -> int:
    """A -> 1, Z -> 26, AA -> 27, XFD -> 16384."""
    number = 0
    for ch in letters.upper():
        number = number * 26 + ord(ch) - 64
    return number


def file_kind(head: bytes) -> str | None:
    """'zip' (xlsx, xlsm, ods), 'ole' (xls) or None, from the first bytes of a file."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    return None


def not_a_workbook_message() -> str:
    return _("无法读取文件：内容不是 Excel 格式（.xlsx 或 .xls），可能只是改了扩展名。请在 Excel 或 WPS 中另存为 .xlsx 后再导入")


@dataclass
class _Scan:
    max_row: int = 0
    max_column: int = 0
    far_cell: str = ""
    merged: int = 0
    shared_items: int = 0
    shared_bytes: int = 0
    shared_refs: int = 0  # cells that take their text from the shared strings (t="s")
    longest_shared: int = 0  # bytes of XML of the longest shared string
    shared_lengths: array.array | None = None  # each shared string's bytes, of the biggest table
    sheets: list = dataclass_field(default_factory=list)  # the parts holding cells


def inspect_workbook(path: str, limits: Limits | None = None) -> None:
    """Raise WorkbookRefused, with a Chinese message naming what is wrong and the limit, for a
    file that is not a workbook or that would expand beyond the limits; else return."""
    limits = limits or Limits.from_settings()
    with open(path, "rb") as fh:
        kind = file_kind(fh.read(8))
    if kind is None:
        raise WorkbookRefused(not_a_workbook_message())
    if kind == "ole":
        return  # .xls: bounded by its format and by the reader's memory limit
    try:
        with zipfile.ZipFile(path) as zf:
            _inspect_zip(zf, limits)
    except WorkbookRefused:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError):
        raise WorkbookRefused(
            _("无法读取文件：文件已损坏，不能作为 Excel 文件打开。请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入")
        ) from None


def _inspect_zip(zf: zipfile.ZipFile, limits: Limits) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise WorkbookRefused(_("文件由 %(n)d 个部分组成，不像是一个表格文件（上限 %(m)d）") % {"n": len(infos), "m": MAX_PARTS})
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise WorkbookRefused(_("无法读取文件：文件已损坏（其中有重名的部分）。请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入"))
    for info in infos:
        if info.filename.lower().endswith("sharedstrings.xml") and info.file_size > limits.max_shared_strings_bytes:
            raise WorkbookRefused(_shared_strings_message(0, info.file_size, limits))
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise WorkbookRefused(
            _("文件解压后有 %(n)d MB，超过上限 %(m)d MB：请删除多余的工作表和内容，或分成几个文件导入")
            % {"n": _mb(total), "m": limits.max_uncompressed_bytes >> 20}
        )
    scan = _Scan()
    for info in infos:
        if info.is_dir():
            continue
        holds_cells, holds_shared = _scan_part(zf, info, scan, limits)
        if holds_cells:
            scan.sheets.append(info)
        if holds_shared:
            scan.shared_bytes += info.file_size
        elif not holds_cells and info.file_size > MAX_OTHER_PART_BYTES:
            raise WorkbookRefused(
                _("文件中的“%(p)s”解压后有 %(n)d MB，超过上限 %(m)d MB")
                % {"p": info.filename[:80], "n": _mb(info.file_size), "m": MAX_OTHER_PART_BYTES >> 20}
            )
        _check(scan, limits)
    _check_shared_fan_out(zf, scan, limits)


_SHARED_REF = re.compile(rb"""t=["']s["'][^>]*>\s*<(?:[A-Za-z_][\w.\-]*:)?v>\s*([0-9]{1,10})\s*<""")


def _check_shared_fan_out(zf: zipfile.ZipFile, scan: _Scan, limits: Limits) -> None:
    """A reader gives every cell its own copy of the shared string it names: one 300 KB string
    named by 3,000 cells is 900 MB from an 8 KB file. Bound the text the cells would hold:
    (cells naming a shared string) × (the longest one) when that is small enough, else the
    exact sum, reading the sheets once more."""
    budget = limits.max_shared_strings_bytes
    if scan.shared_refs * scan.longest_shared <= budget:
        return
    lengths = scan.shared_lengths or array.array("I")
    total = 0
    for info in scan.sheets:
        carry = b""
        with zf.open(info) as part:
            while data := part.read(CHUNK):
                buffer = carry + data
                cut = buffer.rfind(b">") + 1 or len(buffer)
                buffer, carry = buffer[:cut], buffer[cut:]
                for index in _SHARED_REF.findall(buffer):
                    i = int(index)
                    total += lengths[i] if i < len(lengths) else scan.longest_shared
                if total > budget:
                    raise WorkbookRefused(
                        _(
                            "共享字符串过大：表格中的单元格引用文字表的内容展开后超过 %(m)d MB"
                            "（同一段长文字被大量单元格引用）。请只保留要导入的内容，或分成几个文件导入"
                        )
                        % {"m": budget >> 20}
                    )


def _mb(size: int) -> int:
    return (size + (1 << 20) - 1) >> 20


def _shared_strings_message(items: int, size: int, limits: Limits) -> str:
    return _(
        "共享字符串过大：文件中的文字表（sharedStrings）解压后有 %(n)d MB，上限 %(m)d MB。请只保留要导入的内容，或分成几个文件导入"
    ) % {
        "n": _mb(size),
        "m": limits.max_shared_strings_bytes >> 20,
    } + (_("（共 %(k)d 项）") % {"k": items} if items else "")


def _check(scan: _Scan, limits: Limits) -> None:
    if scan.max_column > limits.max_columns:
        raise WorkbookRefused(
            _("表格有 %(n)d 列（最远的单元格在 %(cell)s），导入模板最多 %(m)d 列：请删除多余的列，或把数据复制到导入模板后再导入")
            % {"n": scan.max_column, "cell": scan.far_cell, "m": limits.max_columns}
        )
    if scan.max_row > limits.max_rows:
        raise WorkbookRefused(
            _("表格有 %(n)d 行，超过一次导入的上限 %(m)d 行：请删除表格下方多余的行，或分成几个文件导入")
            % {"n": scan.max_row, "m": limits.max_rows}
        )
    if scan.max_row * scan.max_column > limits.max_cells:
        raise WorkbookRefused(
            _("表格的数据区域是 %(r)d 行 × %(c)d 列，超过 %(m)d 个单元格的上限：请删除多余的行和列，或分成几个文件导入")
            % {"r": scan.max_row, "c": scan.max_column, "m": limits.max_cells}
        )
    if scan.shared_bytes > limits.max_shared_strings_bytes or scan.shared_items > limits.max_cells:
        raise WorkbookRefused(_shared_strings_message(scan.shared_items, scan.shared_bytes, limits))
    if scan.merged > limits.max_merged:
        raise WorkbookRefused(
            _("表格有 %(n)d 处合并单元格，上限 %(m)d 处：请取消合并后再导入") % {"n": scan.merged, "m": limits.max_merged}
        )


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, scan: _Scan, limits: Limits) -> tuple[bool, bool]:
    """Stream one part; count its cells (farthest row/column), merged ranges and shared strings.
    Returns whether it holds cells and whether it holds shared strings."""
    if info.file_size > limits.max_uncompressed_bytes:
        raise WorkbookRefused(
            _("无法读取文件：文件已损坏，不能作为 Excel 文件打开。请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入")
        )
    irregular = False
    cells = shared = 0
    lengths, item = array.array("I"), 0  # the bytes of each shared string item, in order
    carry = b""
    far_row, far_col = 0, b""
    with zf.open(info) as part:
        while True:
            data = part.read(CHUNK)
            if not data:
                buffer, carry = carry, b""
            else:
                # cut after the last ">", so no tag is split between two buffers
                buffer = carry + data
                cut = buffer.rfind(b">") + 1
                if cut == 0 and len(buffer) < 4 * CHUNK:
                    carry = buffer
                    continue
                buffer, carry = buffer[: cut or len(buffer)], buffer[cut or len(buffer) :]
            if buffer:
                rows = _ROWS.findall(buffer)
                if rows:
                    cells += len(rows)
                    far_col = max((far_col, *set(_COLUMNS.findall(buffer))), key=lambda c: (len(c), c))
                    far_row = max(far_row, *map(int, set(rows)))
                irregular = (
                    irregular
                    or buffer.count(_PLAIN_CELL) != len(rows)
                    or bool(_ODD_CELL.search(buffer) or _PREFIXED_CELL.search(buffer))
                )
                if b"mergeCell" in buffer:
                    scan.merged += len(_MERGE.findall(buffer))
                scan.shared_refs += buffer.count(b't="s"') + buffer.count(b"t='s'")
                if b"<si" in buffer:
                    pieces = buffer.split(b"<si")
                    shared += len(pieces) - 1
                    item += len(pieces[0])
                    for piece in pieces[1:]:
                        lengths.append(min(item, 0xFFFFFFFF))
                        item = len(piece)
                elif shared:
                    item += len(buffer)
            if not data:
                break
    if irregular:
        far_row, far_column, far_cell = _parse_cells(zf, info)
    else:
        far_column = column_number(far_col.decode()) if far_col else 0
        far_cell = f"{far_col.decode()}{far_row}"
    if far_row > scan.max_row or far_column > scan.max_column:
        scan.far_cell = far_cell
    scan.max_row = max(scan.max_row, far_row)
    scan.max_column = max(scan.max_column, far_column)
    scan.shared_items += shared
    if shared:
        lengths.append(min(item, 0xFFFFFFFF))
        del lengths[0]  # what stood before the first item
        scan.longest_shared = max(scan.longest_shared, max(lengths, default=0))
        if scan.shared_lengths is None or len(lengths) > len(scan.shared_lengths):
            scan.shared_lengths = lengths
    return bool(cells or irregular), shared > 0


def _parse_cells(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int, str]:
    """The farthest row and column of a part whose cells are not all written `<c r="A1"`: an
    expat pass (no tree kept) that places cells without a reference as a reader does, one
    after the other in their row."""
    import pyexpat

    state = {"row": 0, "col": 0, "max_row": 0, "max_col": 0, "cell": ""}

    def start(name, attrs):
        local = name.rpartition(":")[2]
        if local == "row":
            ref = attrs.get("r", "")
            state["row"] = int(ref) if ref.isdigit() else state["row"] + 1
            state["col"] = 0
        elif local == "c":
            match = _REF.match(attrs.get("r", "").strip())
            if match:
                state["col"], state["row"] = column_number(match.group(1)), int(match.group(2))
            else:
                state["col"] += 1
            if state["row"] > state["max_row"] or state["col"] > state["max_col"]:
                state["cell"] = f"{attrs.get('r', '')}"
            state["max_row"] = max(state["max_row"], state["row"])
            state["max_col"] = max(state["max_col"], state["col"])

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler = start
    try:
        with zf.open(info) as part:
            while data := part.read(CHUNK):
                parser.Parse(data, False)
            parser.Parse(b"", True)
    except pyexpat.ExpatError:
        pass  # not XML, or broken: a reader stops there too; what was counted stands
    return state["max_row"], state["max_col"], state["cell"] or f"R{state['max_row']}C{state['max_col']}"
