"""Care visits on a phone (issue 12, item 3): a grid worker opens her due list on a 390 px phone,
taps "去探访", ticks a gas hazard on the one-minute checklist, opens a need and saves; the need is
in the needs ledger. Then every visits page is photographed at laptop and phone size into
/tmp/shots-visits/ for a person to look at."""

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from e2e.conftest import LAPTOP, PHONE, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-visits")
WATCH = """() => { window.__csp = []; document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


@pytest.fixture
def world(tree):
    from catalogue.services import catalogue_initial_load
    from conftest import make_user
    from elders.categories import years_before
    from elders.tests.factories import ElderFactory
    from visits import duties
    from visits.rules import rules_initial_load
    from visits.services import visit_record

    catalogue_initial_load()
    rules_initial_load()
    today = timezone.localdate()
    w = type("W", (), {})()
    w.grid = make_user("wanggrid", "grid", tree.grid)
    w.grid.full_name = "王网格"
    w.grid.save()
    w.community = make_user("anta", "community", tree.community)
    w.elder = ElderFactory(region=tree.grid, name="冷国兴", birth_date=years_before(today, 86), living_arrangement="alone")
    w.others = [
        ElderFactory(region=tree.grid, name=n, birth_date=years_before(today, 72), living_arrangement="alone", ability_level=a)
        for n, a in (("张玉珍", "severe"), ("刘德福", ""), ("陈桂芳", "complete"))
    ]
    type(w.elder).objects.update(created_at=timezone.now() - datetime.timedelta(days=400))
    for e in [w.elder, *w.others]:
        e.refresh_from_db()
    duties.dues_build(start=today - datetime.timedelta(days=40), end=today, overlapping=True)
    visit_record(
        by=w.grid,
        elder=w.others[0],
        visited_at=timezone.now() - datetime.timedelta(days=2),
        via="phone",
        checklist={"health": "good", "spirits": "low", "heating": "hazard"},
        outcome="concern",
        notes="精神不太好，暖气片不热",
    )
    duties.campaign_start(
        by=w.community, region=tree.community, name="寒潮独居老人探访", reason="cold", criteria=[{"categories": ["lives_alone"]}]
    )
    return w


def _shoot(page, name):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_grid_worker_records_a_visit_on_a_phone_that_opens_a_need(live_server, browser, world):
    from playwright.sync_api import expect

    from needs.models import Need
    from visits.models import Visit

    base = live_server.url
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.add_init_script(f"({WATCH})()")
    try:
        log_in(page, base, "wanggrid")
        page.goto(f"{base}/visits/")
        expect(page.locator(".vdue").filter(has_text="冷国兴").first).to_be_visible()
        _shoot(page, "due-phone")
        page.locator(".vdue").filter(has_text="冷国兴").first.get_by_test_id("visit-go").click()
        page.wait_for_url("**/visits/new/**")
        expect(page.get_by_role("heading", name="记录探访")).to_be_visible()
        page.get_by_text("入户探访").click()
        page.locator("label:has([data-testid=c-health-fair])").click()
        page.locator("label:has([data-testid=c-gas-hazard])").click()
        page.locator("label:has([data-testid=c-company-yes])").click()
        page.get_by_test_id("open-need").check()
        page.get_by_test_id("need-text").fill("燃气灶老化漏气，需要更换")
        _shoot(page, "form-phone")
        # the page fits the phone: nothing wider than the viewport
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.get_by_test_id("visit-save").click()
        page.wait_for_url("**/visits/records/**")
        expect(page.get_by_test_id("visit-need")).to_contain_text("燃气灶老化漏气")
        _shoot(page, "detail-phone")
        visit = Visit.objects.get(elder=world.elder)
        assert visit.checklist == {"health": "fair", "gas": "hazard", "company": "yes"}
        assert Need.objects.filter(pk=visit.need_id, source="visit").exists()
        page.goto(f"{base}/needs/")
        expect(page.locator("body")).to_contain_text("燃气灶老化漏气")
        assert page.evaluate("window.__csp") == []
    finally:
        context.close()


PAGES = [
    ("due", "/visits/"),
    ("overdue", "/visits/?tab=overdue"),
    ("records", "/visits/records/"),
    ("rate", "/visits/rate/?level=6"),
    ("missed", "/visits/rate/missed/"),
    ("rules", "/visits/rules/"),
    ("rules-edit", "/visits/rules/edit/"),
    ("campaigns", "/visits/campaigns/"),
    ("campaign-new", "/visits/campaigns/new/"),
]


def test_every_visits_page_at_laptop_and_phone_size(live_server, browser, world):
    from visits.models import Campaign, Visit

    base = live_server.url
    extra = [
        ("campaign", f"/visits/campaigns/{Campaign.objects.get().pk}/"),
        ("visit", f"/visits/records/{Visit.objects.first().pk}/"),
        ("form", f"/visits/new/?elder={world.elder.pk}"),
        ("event", f"/visits/events/new/?elder={world.elder.pk}"),
        ("elder", f"/elders/{world.elder.pk}/"),
        ("desk", "/"),
    ]
    for size, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        page.add_init_script(f"({WATCH})()")
        try:
            log_in(page, base, "anta")
            for name, path in PAGES + extra:
                response = page.goto(f"{base}{path}")
                assert response.status == 200, (path, response.status)
                _shoot(page, f"{name}-{size}")
                assert page.evaluate("window.__csp") == [], path
        finally:
            context.close()
