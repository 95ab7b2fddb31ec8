"""Elders' home coordinates through the elder workbook (经度/纬度 columns): import, refusal
with a reason in the error file, export."""

import io

import pytest

from elders.exporter import export_elders
from elders.importer import import_elders
from elders.models import Elder
from elders.tests.sheets import HEADER, person, read_xlsx, xlsx

pytestmark = pytest.mark.django_db


def test_import_takes_coordinates_and_refuses_swapped_ones_naming_the_column(tree, worker):
    rows = [person(1) + [120.565, 30.628], person(2) + ["30.628", "120.565"]]
    report = import_elders(io.BytesIO(xlsx(rows, header=HEADER + ["经度", "纬度"])), by=worker, filename="名单.xlsx")
    assert report.rejected == 1 and not report.written
    errors = {e.column: e.message for e in report.errors if e.row == 3}
    assert set(errors) == {"经度", "纬度"} and "填反" in errors["经度"] and "填反" in errors["纬度"]

    report = import_elders(io.BytesIO(xlsx(rows[:1], header=HEADER + ["经度", "纬度"])), by=worker, filename="名单.xlsx")
    assert report.written, report.errors
    elder = Elder.objects.get()
    assert (elder.home_lat, elder.home_lng) == (30.628, 120.565)

    out = io.BytesIO()
    export_elders(Elder.objects.all(), out, reveal=True)
    sheet = read_xlsx(out.getvalue())
    assert sheet[1][sheet[0].index("经度")] == "120.565000" and sheet[1][sheet[0].index("纬度")] == "30.628000"
