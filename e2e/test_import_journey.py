"""A community worker moves the office's Excel register into Yinling: downloads nothing but
uploads a messy sheet, watches the background job's progress bar until it finishes (a real
database-backed task worker runs it), reads which rows were refused and why, downloads the
file of bad rows, and sees that nothing was written because some rows were bad."""

import datetime
import io

import pytest

from core.idnumbers import make_id_number
from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def messy_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["安泰社区老年人花名册(2026年11月)"])
    ws.merge_cells("A1:E1")
    ws.append(["姓名", "身份证号", "联系电话", "所属社区", "详细地址"])
    for i in range(40):
        number = make_id_number("371402", datetime.date(1950, 1, 1) + datetime.timedelta(days=37 * i), 100 + i)
        ws.append(
            [
                f"{'王李张刘陈'[i % 5]} 秀{'兰芳珍英梅云玉桂'[i // 5]}",
                number.lower(),
                f"+86 138-0000-{i:04d}",
                "安泰社区",
                f"经济房{i}号楼",
            ]
        )
    ws.append(["李四", 371402195103040128, "13812345678", "安泰社区", "x"])  # Excel ate the last digits
    ws.append(["赵五", make_id_number("371402", datetime.date(1990, 1, 1), 11), "", "安泰社区", ""])  # too young
    ws.append(["钱六", make_id_number("371402", datetime.date(1950, 2, 2), 12), "", "不存在社区", ""])
    path = tmp_path / "花名册.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("viewport,label", [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_worker_uploads_a_sheet_watches_the_job_and_downloads_the_bad_rows(
    live_server, new_page, shot, worker, settings, tmp_path, viewport, label
):
    from django.core.management import call_command
    from playwright.sync_api import expect
    from python_calamine import CalamineWorkbook

    from elders.models import Elder
    from jobs.models import Job

    # A real task queue: the upload only enqueues; the worker below runs the job.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    base = live_server.url
    page = new_page(viewport)
    log_in(page, base, worker.username)

    page.goto(f"{base}/elders/import/")
    expect(page.get_by_role("link", name="下载导入模板")).to_be_visible()
    page.set_input_files("input[type=file]", str(messy_sheet(tmp_path)))
    page.uncheck("input[name=dry_run]")  # import for real: all or nothing
    page.get_by_role("button", name="开始").click()
    page.wait_for_url(f"{base}/jobs/*/")
    progress = page.locator("[data-testid=job-progress]")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(page.locator("progress")).to_be_visible()
    shot(page, f"import_{label}_1_queued")

    # The worker picks the job up (in this thread: it needs the main thread for its signal
    # handlers); meanwhile the browser keeps polling the job page by itself (htmx), no reload.
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    expect(page.locator("[data-testid=job-progress]")).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator("[data-testid=rejected]")).to_have_text("3")
    errors = page.locator("[data-testid=error-table]")
    expect(errors).to_contain_text("Excel 存成了数字")
    expect(errors).to_contain_text("未满60周岁")
    expect(errors).to_contain_text("不存在社区")
    expect(page.locator(".alert--warn").first).to_contain_text("没有写入任何数据")
    shot(page, f"import_{label}_2_result")

    with page.expect_download() as download_info:
        page.locator("[data-testid=download-errors]").click()
    download = download_info.value
    rows = CalamineWorkbook.from_filelike(io.BytesIO(open(download.path(), "rb").read())).get_sheet_by_index(0).to_python()
    assert rows[0][:5] == ["姓名", "身份证号", "联系电话", "所属社区", "详细地址"] and rows[0][5] == "错误原因"
    assert [r[0] for r in rows[1:]] == ["李四", "赵五", "钱六"]

    assert Elder.objects.count() == 0  # one bad row, nothing written
    assert Job.objects.get().status == Job.Status.SUCCEEDED
