"""Excel: export -> import round trip, and a bad sheet refused whole with an error file."""

import io

import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from merchants.excel import COLUMNS, export_merchants, import_merchants
from merchants.models import Merchant
from merchants.tests.factories import CENTRE, merchant

pytestmark = pytest.mark.django_db
HEADER = [c.header for c in COLUMNS]


def sheet(rows, *, title=None) -> io.BytesIO:
    book = Workbook()
    ws = book.active
    if title:
        ws.append([title])
    ws.append(HEADER)
    for row in rows:
        ws.append([row.get(h, "") for h in HEADER])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "网点.xlsx"
    return out


def row(**over):
    values = {
        "名称": "安泰理发店",
        "类型": "理发",
        "所属社区": "安泰社区",
        "经度": 120.565,
        "纬度": 30.628,
        "优惠幅度(%)": 8,
        "营业时间周一": "08:00-20:00",
        "营业时间周日": "休息",
    }
    values.update(over)
    return values


def read(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def test_a_sheet_with_one_bad_row_writes_nothing_and_returns_the_bad_row_with_its_reason(tree, worker):
    upload = sheet(
        [
            row(),
            row(名称="邻里小超市", 类型="超市", 优惠幅度="", **{"优惠幅度(%)": 12}),
            row(名称="老李修配锁", 类型="修配锁", 经度=30.6, 纬度=120.5),
        ],
        title="安泰社区签约服务网点",
    )
    report = import_merchants(upload, by=worker)
    assert not report.written and Merchant.objects.count() == 0
    assert report.rejected == 2 and report.total_rows == 3 and report.header_row == 2
    errors = read(report.error_file)
    assert errors[0][-2:] == ["错误原因", "原行号"]
    reasons = {r[0]: r[-2] for r in errors[1:]}
    assert "优惠幅度应在 5% 到 10% 之间" in reasons["邻里小超市"]
    assert "经度和纬度可能填反了" in reasons["老李修配锁"]


def test_export_then_import_is_a_round_trip(tree, worker):
    merchant(tree.community, "安泰理发店", point=CENTRE, discount_tenths=75, opening_hours={"0": [["08:00", "20:00"]]})
    merchant(tree.community, "卫生服务站", kind="clinic", point=None, discount_tenths=None, status="expired")
    out = io.BytesIO()
    assert export_merchants(Merchant.objects.all(), out) == 2
    rows = read(out.getvalue())
    assert rows[0] == HEADER
    Merchant.objects.all().delete()

    report = import_merchants(io.BytesIO(out.getvalue()), by=worker)

    assert report.written and report.created == 2, report.errors
    shop = Merchant.objects.get(name="安泰理发店")
    assert (shop.discount_tenths, shop.kind, shop.region_id) == (75, "barber", tree.community.pk)
    assert (round(shop.lat, 6), round(shop.lng, 6)) == (round(CENTRE[0], 6), round(CENTRE[1], 6))
    assert shop.opening_hours["0"] == [["08:00", "20:00"]] and shop.opening_hours["1"] == []
    clinic = Merchant.objects.get(name="卫生服务站")
    assert (clinic.discount_tenths, clinic.status, clinic.lat) == (None, "expired", None)
    again = import_merchants(io.BytesIO(out.getvalue()), by=worker)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_community_outside_the_users_scope_is_a_row_error(tree, worker_in_other_region):
    report = import_merchants(sheet([row()]), by=worker_in_other_region)
    assert report.rejected == 1 and "不在您的辖区内" in report.errors[0].message
    assert Merchant.objects.count() == 0


def test_the_import_page_runs_a_dry_run_job_with_an_error_file_then_confirms_skipping_the_bad_row(
    client, worker, tree, django_capture_on_commit_callbacks
):
    from jobs.models import Job

    client.force_login(worker)
    upload = sheet([row(), row(名称="邻里小超市", 类型="超市", **{"优惠幅度(%)": 3})])
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/merchants/import/", {"file": upload, "dry_run": "on"})
    job = Job.objects.get(kind="merchant_import")
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    assert job.params == {"dry_run": True, "skip_invalid": False, "via": "web"} and job.region == tree.community
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert (job.result["created"], job.result["rejected"], job.result["written"]) == (1, 1, False)
    assert not Merchant.objects.exists()
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "优惠幅度应在 5% 到 10% 之间" in page and f"/merchants/import/{job.pk}/confirm/" in page
    errors = client.get(f"/jobs/{job.pk}/download/")
    rows = read(b"".join(errors.streaming_content))
    assert rows[1][0] == "邻里小超市" and "优惠幅度" in rows[1][-2]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/merchants/import/{job.pk}/confirm/", {"skip_invalid": "1"})
    real = Job.objects.exclude(pk=job.pk).get(kind="merchant_import")
    assert confirmed["Location"] == f"/jobs/{real.pk}/" and real.params["skip_invalid"] is True
    assert list(Merchant.objects.values_list("name", flat=True)) == ["安泰理发店"]
    real.refresh_from_db()
    assert real.result["written"] and not real.input_file  # the uploaded sheet is not kept once written
    again = client.post(f"/merchants/import/{job.pk}/confirm/", follow=True)
    assert "原文件已不在，请重新上传" in again.content.decode()


def test_the_import_page_reads_nothing_but_the_first_bytes_in_the_request(client, worker, monkeypatch):
    """The request stores the file and starts a job: the workbook is never opened in it."""
    import merchants.excel
    from jobs.models import Job

    monkeypatch.setattr(merchants.excel, "open_rows", lambda path: pytest.fail("the request read the workbook"))
    client.force_login(worker)
    answer = client.post("/merchants/import/", {"file": sheet([row()])})
    assert answer.status_code == 302 and Job.objects.filter(kind="merchant_import", status="queued").exists()
