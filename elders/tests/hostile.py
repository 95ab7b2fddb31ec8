"""Hostile workbooks, written by hand as what an xlsx is: a zip of XML parts.

Each is small on disk and built to make a naive reader allocate far more than it holds: a
cell at XFD1048576, a sheet that claims a huge dimension, shared strings that expand a
thousandfold. `build_xlsx` writes a minimal valid workbook around the sheet XML given, so a
reader that does not look first would expand exactly what the test means.
"""

import io
import zipfile

from elders.tests.sheets import HEADER, person

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>
</Types>"""
ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
WORKBOOK = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook {NS} {REL_NS}><sheets><sheet name="老年人信息" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>"""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def column_letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA, 16383 -> XFD."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def inline_row(number: int, cells: list) -> str:
    """One <row> of inline strings (numbers as numbers)."""
    out = []
    for i, value in enumerate(cells):
        ref = f"{column_letters(i)}{number}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            out.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{_escape(str(value))}</t></is></c>')
    return f'<row r="{number}">{"".join(out)}</row>'


def sheet_xml(rows_xml: str, *, dimension: str = "", extra: str = "") -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet {NS}>{dim}<sheetData>{rows_xml}</sheetData>{extra}</worksheet>'


def header_and_people(count: int = 2) -> str:
    """The template's header and `count` good rows of 安泰社区, as sheet rows 1…count+1."""
    return inline_row(1, HEADER) + "".join(inline_row(n + 1, person(n)) for n in range(1, count + 1))


def build_xlsx(sheet: str | bytes, *, shared_strings: str | bytes | None = None, extra_parts: dict | None = None) -> bytes:
    """A workbook whose first sheet is `sheet` (XML text or bytes), deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        if shared_strings is not None:
            zf.writestr("xl/sharedStrings.xml", shared_strings)
        for name, data in (extra_parts or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def far_cell(ref: str = "XFD1048576") -> bytes:
    """The header, two good rows, and one cell far away: a dense reader allocates the rectangle."""
    return build_xlsx(
        sheet_xml(
            header_and_people() + f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">'
            f'<c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
        )
    )


def huge_dimension() -> bytes:
    """A small sheet that claims A1:XFD1048576."""
    return build_xlsx(sheet_xml(header_and_people(), dimension="A1:XFD1048576"))


def many_columns(count: int = 16384) -> bytes:
    """A header row `count` cells wide."""
    cells = [*HEADER, *(f"列{i}" for i in range(len(HEADER), count))]
    return build_xlsx(sheet_xml(inline_row(1, cells) + inline_row(2, person(1))))


def shared_strings_bomb(megabytes: int = 1024) -> bytes:
    """Shared strings that expand to about `megabytes` MB (1 MB strings, each repeated)."""
    one = "长" * (1024 * 1024 // 3)  # about 1 MB of UTF-8
    body = "".join(f"<si><t>{one}</t></si>" for _ in range(megabytes))
    sst = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst {NS} count="{megabytes}" uniqueCount="{megabytes}">{body}</sst>'
    rows = header_and_people() + '<row r="4"><c r="A4" t="s"><v>0</v></c></row>'
    return build_xlsx(sheet_xml(rows), shared_strings=sst.encode())


def deep_nesting(depth: int = 100_000) -> bytes:
    """Elements nested `depth` deep inside a cell."""
    return build_xlsx(
        sheet_xml(
            header_and_people() + '<row r="4"><c r="A4" t="inlineStr"><is>' + "<r>" * depth + "</r>" * depth + "</is></c></row>"
        )
    )


def many_rows_far_down(row: int = 100_000, column: str = "ALL") -> bytes:
    """One cell at row 100,000, column ALL (1,000 columns): 100 million cells for a dense reader."""
    return far_cell(f"{column}{row}")


NOT_A_ZIP = b"<html><body>this is not a workbook</body></html>" * 10


def shared_string_fan_out(kilobytes: int = 300, cells: int = 3000) -> bytes:
    """One long shared string named by many cells: a reader copies it into every cell
    (8 KB on disk, about 900 MB read)."""
    one = "长" * (kilobytes * 1024 // 3)
    sst = f"<sst {NS}><si><t>{one}</t></si></sst>"
    per_row = 30
    rows = "".join(
        f'<row r="{r}">' + "".join(f'<c r="{column_letters(c)}{r}" t="s"><v>0</v></c>' for c in range(per_row)) + "</row>"
        for r in range(4, 4 + cells // per_row)
    )
    return build_xlsx(sheet_xml(header_and_people() + rows), shared_strings=sst)
