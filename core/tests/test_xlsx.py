"""core.xlsx.SheetWriter: the files it streams open in the readers offices and we use
(openpyxl, as Excel/WPS would parse the package; python-calamine, as our importer does) and
hold exactly what was written."""

import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from core.xlsx import SheetWriter, _column_letters


def write(tmp_path, rows, **options):
    path = tmp_path / "out.xlsx"
    with SheetWriter(path, "老年人信息", **options) as sheet:
        sheet.header(["姓名", "年龄", "备注"])
        for row in rows:
            sheet.row(row)
    return path


def test_header_and_rows_read_back_with_openpyxl_and_calamine(tmp_path):
    path = write(tmp_path, [["冷国兴", 86, "独居"], ["单井英", 79, ""]])

    book = openpyxl.load_workbook(path)
    sheet = book["老年人信息"]
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["姓名", "年龄", "备注"],
        ["冷国兴", 86, "独居"],
        ["单井英", 79, None],
    ]
    assert sheet["A1"].font.b and not sheet["A2"].font.b  # the header is bold
    assert sheet.freeze_panes == "A2"
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert calamine[1] == ["冷国兴", 86.0, "独居"]


def test_xml_special_characters_leading_spaces_and_control_characters(tmp_path):
    path = write(tmp_path, [["A&B <c> \"d\" 'e'", "  两个空格在前", "行1\n行2\x07\x00铃"]])

    values = [c.value for c in next(openpyxl.load_workbook(path).active.iter_rows(min_row=2))]

    # control characters XML cannot hold are dropped; new lines and spaces are kept
    assert values == ["A&B <c> \"d\" 'e'", "  两个空格在前", "行1\n行2铃"]


def test_column_widths_and_columns_past_z(tmp_path):
    path = tmp_path / "wide.xlsx"
    with SheetWriter(path, "宽表", widths=[20] * 30) as sheet:
        sheet.row([f"c{i}" for i in range(30)])

    sheet = openpyxl.load_workbook(path).active
    assert sheet["AD1"].value == "c29"
    assert sheet.column_dimensions["B"].width == 20
    assert _column_letters(0) == "A" and _column_letters(25) == "Z" and _column_letters(26) == "AA"
    assert _column_letters(16383) == "XFD"


def test_rows_are_written_as_they_come_not_held_until_close(tmp_path):
    path = tmp_path / "stream.xlsx"
    sheet = SheetWriter(path, "s")
    for i in range(SheetWriter.FLUSH_ROWS * 3):
        sheet.row([f"第{i}行", i])
    assert len(sheet._pending) < SheetWriter.FLUSH_ROWS  # flushed to the zip every FLUSH_ROWS rows
    sheet.close()
    sheet.close()  # closing twice is harmless
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert len(rows) == SheetWriter.FLUSH_ROWS * 3 and rows[-1] == [f"第{len(rows) - 1}行", len(rows) - 1]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30), min_size=1, max_size=5))
def test_any_text_reads_back_the_same_less_control_characters(cells):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.xlsx"
        with SheetWriter(path, "s", freeze_header=False) as sheet:
            sheet.row(cells)
        got = [["" if v is None else v for v in row] for row in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]

    def kept(text):
        return "".join(ch for ch in text if ord(ch) >= 32 or ch in "\t\n\r")

    expected = [kept(c) for c in cells]
    while expected and expected[-1] == "":
        expected.pop()
    row = got[0] if got else []
    while row and row[-1] == "":
        row.pop()
    assert [c.replace("\r\n", "\n").replace("\r", "\n") for c in row] == [
        c.replace("\r\n", "\n").replace("\r", "\n") for c in expected
    ]


@pytest.mark.parametrize("name", ["老年人信息", "A & B <名单>", "x" * 40])
def test_sheet_names_are_escaped_and_cut_to_31_characters(tmp_path, name):
    path = tmp_path / "n.xlsx"
    with SheetWriter(path, name) as sheet:
        sheet.row(["1"])
    assert openpyxl.load_workbook(path).sheetnames == [name[:31]]
