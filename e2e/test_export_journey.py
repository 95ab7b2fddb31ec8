"""A community worker narrows the list as they type and click, then exports it: the file holds
exactly the elders on screen, not those of the page as it was first loaded (issue 8: "lgx"
showed 3, the file held all 1,080)."""

import datetime
import io

import pytest

from core.idnumbers import make_id_number
from e2e.conftest import LAPTOP, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def elders(tree, worker):
    from elders.services import elder_create

    def create(name, birth, seq, **extra):
        data = {
            "region": tree.grid.pk,
            "name": name,
            "id_number": make_id_number("370102", birth, seq),
            "address": "安泰小区3号楼",
            "contacts": [],
            **extra,
        }
        return elder_create(by=worker, data=data)

    return [
        create("冷国兴", datetime.date(1941, 10, 6), 13, is_dibao=True),
        create("林光祥", datetime.date(1944, 5, 1), 15),
        create("刘玉琴", datetime.date(1948, 3, 2), 24, is_dibao=True),
        create("张德清", datetime.date(1952, 7, 19), 35),
    ]


def test_export_holds_the_list_as_narrowed_on_screen(live_server, new_page, shot, elders, worker):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from audit.models import AccessLog
    from jobs.models import Job

    base = live_server.url
    page = new_page(LAPTOP)
    log_in(page, base, worker.username)
    page.goto(f"{base}/elders/")
    results = page.locator("#results")
    expect(results).to_contain_text("共 4 位老年人")

    # Narrowed after the page loaded: a search typed, then a category chip clicked.
    page.locator("input[name=q]").press_sequentially("lgx", delay=60)
    expect(results).to_contain_text("共 2 位老年人")
    # Let the search's requests settle (a loaded machine answers slowly), then click, and wait for
    # the chip's own answer before reading the list.
    page.wait_for_load_state("networkidle")
    with page.expect_response(lambda r: r.request.method == "POST" and "/elders/" in r.url, timeout=30_000):
        page.locator(".chip", has_text="低保").click()
    expect(results).to_contain_text("共 1 位老年人", timeout=20_000)
    on_screen = sorted(results.locator(".results-table a.rowlink").all_inner_texts())
    assert on_screen == ["冷国兴"]
    shot(page, "export_laptop_1_narrowed")

    page.get_by_role("button", name="导出 Excel").click()
    page.wait_for_url(f"{base}/jobs/*/")
    expect(page.locator("[data-testid=job-progress]")).to_have_attribute("data-status", "succeeded", timeout=30_000)
    shot(page, "export_laptop_2_job")
    with page.expect_download() as download_info:
        page.locator("[data-testid=download-export]").click()
    sheet = load_workbook(io.BytesIO(open(download_info.value.path(), "rb").read()), read_only=True).active
    rows = [row for row in sheet.iter_rows(min_row=2, values_only=True) if any(row)]

    assert sorted(row[0] for row in rows) == on_screen
    job = Job.objects.get()
    assert job.params["filters"] == {"q": "lgx", "category": ["dibao"], "status": "active"}
    assert AccessLog.objects.get(kind="export").detail["filters"] == job.params["filters"]
