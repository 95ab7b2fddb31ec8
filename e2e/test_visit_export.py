"""The visit records' export from the list page: a community worker presses 按当前条件导出 Excel
and lands on the job's page; screenshots of the list at laptop and phone size (/tmp/shots-v2)."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots-v2")


def test_a_community_worker_exports_the_visit_records(live_server, browser, tree):
    from playwright.sync_api import expect

    from conftest import make_user
    from elders.categories import years_before
    from elders.tests.factories import ElderFactory
    from jobs.models import Job
    from visits.services import visit_record

    today = timezone.localdate()
    worker = make_user("anta", "community", tree.community)
    elder = ElderFactory(region=tree.grid, name="冷国兴", birth_date=years_before(today, 86))
    type(elder).objects.filter(pk=elder.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    elder.refresh_from_db()
    visit_record(by=worker, elder=elder, visited_at=timezone.now() - datetime.timedelta(hours=1), checklist={"gas": "hazard"})
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, live_server.url, worker.username)
        page.goto(f"{live_server.url}/visits/records/")
        page.screenshot(path=str(SHOTS / "visit_list_laptop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SHOTS / "visit_list_phone.png"), full_page=True)
        page.set_viewport_size(LAPTOP)
        page.click("[data-testid=visit-export] button")
        expect(page).to_have_url(f"{live_server.url}/jobs/{Job.objects.get(kind='visit_export').pk}/")
        expect(page.locator("[data-testid=download-export]")).to_be_visible()
        page.screenshot(path=str(SHOTS / "visit_export_job.png"), full_page=True)
        assert Job.objects.get(kind="visit_export").params["outcome"] == ""
    finally:
        context.close()
