"""Hostile workbooks (issue 8, finding 1): each is refused with a message naming what is wrong
and the limit before anything expands it, or read in bounded memory; none fails a worker.
inf, 1e999 and nan cells are row errors naming their column."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from elders.importer import UnreadableFile, import_elders
from elders.models import Elder
from elders.tests import hostile
from elders.tests.sheets import HEADER, id_number, person
from elders.workbook_guard import Limits, WorkbookRefused, inspect_workbook

pytestmark = pytest.mark.django_db

MIB = 1 << 20


def write(tmp_path, data: bytes, name="名单.xlsx") -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def refused(tmp_path, data: bytes, worker, name="名单.xlsx") -> str:
    with pytest.raises(UnreadableFile) as info:
        import_elders(write(tmp_path, data, name), by=worker, dry_run=True)
    return str(info.value)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> str:
    """2-3 MB on disk, about 1 GB of shared strings inflated."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    one = ("长" * (MIB // 3)).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (
            ("[Content_Types].xml", hostile.CONTENT_TYPES),
            ("_rels/.rels", hostile.ROOT_RELS),
            ("xl/workbook.xml", hostile.WORKBOOK),
            ("xl/_rels/workbook.xml.rels", hostile.WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", hostile.sheet_xml(hostile.header_and_people())),
        ):
            zf.writestr(name, text)
        with zf.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(f"<sst {hostile.NS}>".encode())
            for _ in range(1024):
                part.write(b"<si><t>" + one + b"</t></si>")
            part.write(b"</sst>")
    return str(path)


# --- refused before anything expands ---------------------------------------------------------------


def test_a_cell_at_xfd1048576_is_refused_naming_the_columns_and_the_limit(tmp_path, worker, settings):
    settings.IMPORT_MAX_COLUMNS = 64

    message = refused(tmp_path, hostile.far_cell("XFD1048576"), worker)

    assert "16384 列" in message and "XFD1048576" in message and "最多 64 列" in message


def test_a_cell_at_row_100000_column_all_is_refused(tmp_path, worker):
    message = refused(tmp_path, hostile.many_rows_far_down(100_000, "ALL"), worker)

    assert "1000 列" in message and "ALL100000" in message


def test_a_sheet_far_down_is_refused_naming_the_rows_and_the_limit(tmp_path, worker, settings):
    settings.IMPORT_MAX_ROWS = 200_000

    message = refused(tmp_path, hostile.far_cell("A1048576"), worker)

    assert "1048576 行" in message and "200000 行" in message


def test_rows_times_columns_past_the_cell_limit_is_refused(tmp_path, worker, settings):
    settings.IMPORT_MAX_CELLS = 1_000_000

    message = refused(tmp_path, hostile.far_cell("BA100000"), worker)  # 53 columns × 100,000 rows

    assert "100000 行 × 53 列" in message and "1000000 个单元格" in message


def test_a_header_16384_columns_wide_is_refused(tmp_path, worker):
    assert "16384 列" in refused(tmp_path, hostile.many_columns(16384), worker)


def test_a_shared_strings_bomb_is_refused_before_it_is_inflated(worker, bomb, settings):
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 100
    assert os.path.getsize(bomb) < 8 * MIB

    with pytest.raises(UnreadableFile) as info:
        import_elders(bomb, by=worker, dry_run=True)

    assert "共享字符串过大" in str(info.value) and "上限 100 MB" in str(info.value)


def test_one_long_shared_string_named_by_thousands_of_cells_is_refused(tmp_path, worker):
    data = hostile.shared_string_fan_out(300, 3000)
    assert len(data) < 64 * 1024

    message = refused(tmp_path, data, worker)

    assert "共享字符串过大" in message and "100 MB" in message


def test_shared_strings_under_another_part_name_are_still_counted(tmp_path, settings):
    """The reader finds its strings through the workbook's relationships: the name proves nothing."""
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 1
    sst = f"<sst {hostile.NS}>" + "<si><t>" + "长" * 700_000 + "</t></si></sst>"
    data = hostile.build_xlsx(hostile.sheet_xml(hostile.header_and_people()), extra_parts={"xl/strings2.xml": sst})

    with pytest.raises(WorkbookRefused, match="共享字符串过大"):
        inspect_workbook(write(tmp_path, data))


@pytest.mark.parametrize(
    "cell",
    [
        '<c s="1" r="XFD5" t="inlineStr"><is><t>x</t></is></c>',  # attributes in another order
        '<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="XFD5"><x:v>1</x:v></x:c>',
        '<c r="xfd5"><v>1</v></c>',  # lower case
        '<c r="&#88;FD5"><v>1</v></c>',  # a character reference
        "<c><v>1</v></c>" * 20000,  # no references: placed one after the other
    ],
    ids=["attribute-order", "prefix", "lower-case", "char-ref", "no-reference"],
)
def test_cells_written_unusually_are_still_placed_and_refused(tmp_path, worker, cell):
    sheet = hostile.sheet_xml(hostile.header_and_people() + f'<row r="5">{cell}</row>')

    assert "列" in refused(tmp_path, hostile.build_xlsx(sheet), worker)


def test_a_file_that_is_not_a_zip_but_named_xlsx_is_refused(tmp_path, worker):
    assert refused(tmp_path, hostile.NOT_A_ZIP, worker).startswith("无法读取文件：内容不是 Excel 格式")


def test_a_zip_that_is_not_a_workbook_is_refused(tmp_path, worker):
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")

    assert refused(tmp_path, buffer.getvalue(), worker).startswith("无法读取文件")


def test_a_broken_xls_is_refused_without_a_server_path(tmp_path, worker):
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600

    message = refused(tmp_path, data, worker, name="名单.xls")

    assert message.startswith("无法读取文件")
    assert str(tmp_path) not in message


def test_a_zip_with_two_parts_of_the_same_name_is_refused(tmp_path):
    import io
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as zf:
        warnings.simplefilter("ignore")
        zf.writestr("xl/worksheets/sheet1.xml", hostile.sheet_xml(hostile.header_and_people()))
        zf.writestr("xl/worksheets/sheet1.xml", hostile.sheet_xml('<row r="9"><c r="XFD9"><v>1</v></c></row>'))

    with pytest.raises(WorkbookRefused, match="重名"):
        inspect_workbook(write(tmp_path, buffer.getvalue()))


# --- read, in bounded memory --------------------------------------------------------------------------


def test_a_sheet_that_only_claims_a_huge_dimension_imports(tmp_path, worker):
    report = import_elders(write(tmp_path, hostile.huge_dimension()), by=worker, dry_run=True)

    assert (report.total_rows, report.created) == (2, 2)


def test_deeply_nested_xml_in_a_cell_is_read_not_a_crash(tmp_path, worker):
    report = import_elders(write(tmp_path, hostile.deep_nesting(100_000)), by=worker, dry_run=True)

    assert (report.created, report.rejected) == (2, 0)  # the nested cell holds no text: a blank row


def test_a_reader_that_blows_up_anyway_fails_the_import_not_the_process(tmp_path, worker, monkeypatch, settings):
    """Defence in depth: with the inspection switched off, the reader runs out of its memory
    limit in its child process; the import fails with a message and this process lives on."""
    from elders.importer import read

    monkeypatch.setattr(read, "inspect_workbook", lambda path: None)
    settings.IMPORT_READER_MEMORY_MB = 256

    message = refused(tmp_path, hostile.many_rows_far_down(100_000, "ALL"), worker)

    assert "内存超过上限（256 MB）" in message


def test_the_limits_follow_the_template_and_the_upload_limit(settings):
    from elders.excel import TEMPLATE_COLUMNS

    limits = Limits.from_settings()
    assert limits.max_columns >= len(TEMPLATE_COLUMNS)
    assert limits.max_uncompressed_bytes >= settings.IMPORT_MAX_BYTES


READ_SCRIPT = """
import json, os, resource, sys
import django
django.setup()
from elders.importer import UnreadableFile, open_rows, _rows_or_unreadable
out = {}
for path in sys.argv[1:]:
    try:
        with open_rows(path) as stream:
            rows = sum(1 for _ in _rows_or_unreadable(stream))
        out[os.path.basename(path)] = rows
    except UnreadableFile as exc:
        out[os.path.basename(path)] = str(exc)[:40]
out["self_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["children_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def test_reading_every_hostile_file_stays_under_512_mib(tmp_path, bomb):
    """Peak RSS of the process reading them (and of its reader children), measured in a fresh
    process: the inspection holds one chunk at a time and the reader is never handed a bomb."""
    files = [bomb]
    for name, data in {
        "far.xlsx": hostile.far_cell(),
        "fan-out.xlsx": hostile.shared_string_fan_out(),
        "all100000.xlsx": hostile.many_rows_far_down(),
        "columns.xlsx": hostile.many_columns(),
        "dimension.xlsx": hostile.huge_dimension(),
        "deep.xlsx": hostile.deep_nesting(),
        "notzip.xlsx": hostile.NOT_A_ZIP,
    }.items():
        files.append(write(tmp_path, data, name))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yinling.settings"}
    env.pop("DATABASE_URL", None)

    done = subprocess.run(
        [sys.executable, "-c", READ_SCRIPT, *files], capture_output=True, text=True, env=env, timeout=300, check=True
    )

    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["dimension.xlsx"] == 3 and result["deep.xlsx"] == 4
    assert isinstance(result["far.xlsx"], str)
    assert result["self_mib"] <= 512 and result["children_mib"] <= 512, result


# --- numbers no field can hold ------------------------------------------------------------------------

NUMBER_HEADER = [*HEADER, "子女数", "出生日期"]


def number_rows(children, birth) -> bytes:
    good = [*person(1), 2, "1949-12-31"]
    odd = [*person(2), children, birth]
    return hostile.build_xlsx(
        hostile.sheet_xml(hostile.inline_row(1, NUMBER_HEADER) + hostile.inline_row(2, good) + hostile.inline_row(3, odd))
    )


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "-1e999", "nan", "NaN", "Infinity"])
@pytest.mark.parametrize("as_number", [True, False], ids=["number-cell", "text-cell"])
def test_a_non_finite_children_count_is_a_row_error_naming_the_column(tmp_path, worker, value, as_number):
    cell = float(value) if as_number else value
    data = number_rows(cell, "1949-12-31") if not as_number else _numeric_cell(value, column="K")

    report = import_elders(write(tmp_path, data), by=worker)

    assert (report.created, report.rejected, report.written) == (1, 1, False)  # all or nothing
    assert [(e.row, e.column) for e in report.errors] == [(3, "子女数")]
    assert Elder.objects.count() == 0


@pytest.mark.parametrize("value", ["inf", "1e999", "nan", "-inf"])
def test_a_non_finite_date_serial_or_id_number_is_a_row_error(tmp_path, worker, value):
    for column, header in (("L", "出生日期"), ("B", "身份证号")):
        report = import_elders(write(tmp_path, _numeric_cell(value, column=column)), by=worker, dry_run=True)

        assert report.rejected == 1
        assert {e.column for e in report.errors} == {header}
        assert all(e.row == 3 for e in report.errors)


def _numeric_cell(raw: str, *, column: str) -> bytes:
    """The good row 2, and row 3 with a number cell holding `raw` (as Excel stores numbers) in `column`."""
    cells = []
    odd = [*person(2), 2, "1949-12-31"]
    for i, value in enumerate(odd):
        ref = f"{hostile.column_letters(i)}3"
        if hostile.column_letters(i) == column:
            cells.append(f'<c r="{ref}"><v>{raw}</v></c>')
        elif isinstance(value, int):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        else:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
    good = hostile.inline_row(2, [*person(1), 2, "1949-12-31"])
    return hostile.build_xlsx(
        hostile.sheet_xml(hostile.inline_row(1, NUMBER_HEADER) + good + f'<row r="3">{"".join(cells)}</row>')
    )


def test_the_id_number_column_holding_an_infinite_number_names_the_column(tmp_path, worker):
    report = import_elders(write(tmp_path, _numeric_cell("1e999", column="B")), by=worker, dry_run=True)

    assert [(e.row, e.column) for e in report.errors] == [(3, "身份证号")]
    assert id_number(2) not in str(report.summary())
