"""The grid worker's visit form without network: 王网格 opens 冷国兴's form (the service worker
keeps it), loses the network, saves the visit ("已离线保存，联网后自动上传"), opens the form again
with no network (the kept copy), and when the network returns the visit arrives once, with the
phone's time of the tap."""

import datetime

import pytest
from django.utils import timezone

from e2e.conftest import PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(tree):
    from conftest import make_user
    from elders.categories import years_before
    from elders.tests.factories import ElderFactory

    today = timezone.localdate()
    w = type("W", (), {})()
    w.grid = make_user("wanggrid", "grid", tree.grid)
    w.elder = ElderFactory(region=tree.grid, name="冷国兴", birth_date=years_before(today, 86), living_arrangement="alone")
    type(w.elder).objects.filter(pk=w.elder.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    w.elder.refresh_from_db()
    return w


def test_a_visit_recorded_offline_arrives_once_when_the_network_returns(live_server, browser, shot, world):
    from playwright.sync_api import expect

    from visits.models import Visit

    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, base, world.grid.username)
        form_url = f"{base}/visits/new/?elder={world.elder.pk}"
        page.goto(form_url)
        expect(page.locator("[data-visit-form]")).to_have_attribute("data-cached", "1")  # the service worker kept it

        context.set_offline(True)
        page.check("[data-testid=c-gas-hazard]", force=True)
        page.fill("#f-notes", "燃气灶老化")
        tapped = timezone.localtime()
        page.click("[data-testid=visit-save]")
        expect(page.locator("[data-testid=visit-status]")).to_have_text("已离线保存，联网后自动上传")
        assert not Visit.objects.filter(elder=world.elder).exists()
        shot(page, "visit_form_offline")

        # the form again, still without network: the service worker's copy, the queue still waiting
        page.goto(form_url)
        expect(page.locator("[data-visit-form]")).to_be_visible()
        expect(page.locator("[data-testid=visit-status]")).to_have_text("已离线保存，联网后自动上传")

        context.set_offline(False)
        expect(page.locator("html")).to_have_attribute("data-visits-flushed", "1")
        expect(page.locator("[data-testid=visit-status]")).to_contain_text("离线探访记录已上传（1 条）")
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second round sends nothing again
        page.wait_for_timeout(500)
        visits = list(Visit.objects.filter(elder=world.elder))
        assert len(visits) == 1
        visit = visits[0]
        assert visit.checklist == {"gas": "hazard"} and visit.notes == "燃气灶老化" and visit.client_key and visit.offline
        assert abs((visit.visited_at - tapped.replace(second=0, microsecond=0)).total_seconds()) <= 60
    finally:
        context.close()
