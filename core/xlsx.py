"""A streaming writer for one-sheet xlsx files of plain rows (the elder export).

Why our own: XlsxWriter (which we keep for the import template and the error report, with
their comments and formats) spends about 6 µs on every cell in constant_memory mode, through
its per-cell dispatch, regular-expression escaping and cell-reference formatting; an export
row has ~30 cells, so XlsxWriter alone took ~110 µs a row, over 10 s for 100,000 rows
(docs/performance.md, export_100k). Here a row is one pre-built XML string: text escaped with
one str.translate, cell references from a precomputed column table, rows deflated in
batches into the zip as they come, so memory stays flat.

What it writes: the minimal SpreadsheetML package Excel, WPS, LibreOffice, openpyxl and
calamine open — [Content_Types].xml, the package and workbook relationships, workbook.xml,
styles.xml (a bold, shaded header style) and one worksheet with inline strings, a frozen
header row and column widths. Numbers are written as numbers, everything else as text.
"""

import zipfile
from xml.sax.saxutils import quoteattr

_CONTROL = {c: None for c in range(32) if c not in (9, 10, 13)}  # not allowed in XML 1.0
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", **_CONTROL})


def _column_letters(n: int) -> str:
    letters = ""
    while n >= 0:
        n, r = divmod(n, 26)
        letters = chr(65 + r) + letters
        n -= 1
    return letters


_COLUMNS = [_column_letters(i) for i in range(16384)]  # A … XFD

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" \
Target="xl/workbook.xml"/></Relationships>"""

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" \
Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" \
Target="styles.xml"/></Relationships>"""

_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name={name} sheetId="1" r:id="rId1"/></sheets></workbook>"""

# cellXfs: 0 the default, 1 the header (bold, light green fill, thin border, wrapped)
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>\
<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>\
<fill><patternFill patternType="solid"><fgColor rgb="FFE8F1EE"/><bgColor indexed="64"/></patternFill></fill></fills>\
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>\
<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>\
<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" \
applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""

_SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>\
<sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>"""

_FROZEN_HEADER = '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'


def _cell(ref: str, value, style: str = "") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    text = str(value).translate(_ESCAPE)
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


class SheetWriter:
    """Write rows to a one-sheet xlsx at `path` as they come; `close()` finishes the file.

    with SheetWriter(path, "老年人信息", widths=[14] * 30) as sheet:
        sheet.header(["姓名", …])
        for row in rows:
            sheet.row([...])          # str, int, float or None/"" for an empty cell
    """

    FLUSH_ROWS = 1000

    def __init__(self, path, sheet_name: str, *, widths: list[float] | None = None, freeze_header: bool = True):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("xl/workbook.xml", _WORKBOOK.format(name=quoteattr(sheet_name[:31])))
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        cols = ""
        if widths:
            cols = (
                "<cols>"
                + "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
                + "</cols>"
            )
        self._sheet.write(_SHEET_HEAD.format(pane=_FROZEN_HEADER if freeze_header else "", cols=cols).encode())
        self._pending: list[str] = []
        self.rows = 0  # rows written so far, the header included

    def header(self, values) -> None:
        self._add(values, ' s="1"')

    def row(self, values) -> None:
        self._add(values, "")

    def _add(self, values, style: str) -> None:
        self.rows += 1
        number = self.rows
        cells = "".join(_cell(f"{_COLUMNS[i]}{number}", v, style) for i, v in enumerate(values))
        self._pending.append(f'<row r="{number}">{cells}</row>')
        if len(self._pending) >= self.FLUSH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._sheet.write("".join(self._pending).encode())
            self._pending = []

    def close(self) -> None:
        if self._zip is None:
            return
        self._flush()
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        self._zip.close()
        self._zip = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
