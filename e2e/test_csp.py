"""The Content-Security-Policy (default-src 'self') breaks nothing a person uses: the pages,
htmx's search as you type and the API docs load with no policy violation (issue 8, finding 11)."""

import pytest

from e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """() => { window.__csp = []; document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def violations(page):
    return page.evaluate("() => window.__csp || []")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/elders/",
        "/elders/new/",
        "/elders/import/",
        "/jobs/",
        "/regions/",
        "/accounts/users/",
        "/audit/access/",
        "/accounts/roles/",
    ],
)
def test_pages_load_without_a_policy_violation(live_server, new_page, tree, admin_user, path):
    page = new_page()
    page.add_init_script(f"({WATCH})()")
    log_in(page, live_server.url, admin_user.username)
    response = page.goto(f"{live_server.url}{path}")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations(page) == []


def test_search_as_you_type_still_works_under_the_policy(live_server, new_page, tree, worker):
    from playwright.sync_api import expect

    from elders.tests.factories import ElderFactory

    ElderFactory(region=tree.community, name="冷国兴")
    ElderFactory(region=tree.community, name="刘玉琴")
    page = new_page()
    page.add_init_script(f"({WATCH})()")
    log_in(page, live_server.url, worker.username)
    page.goto(f"{live_server.url}/elders/")
    page.fill("input[name=q]", "冷国")
    expect(page.locator("#results")).to_contain_text("冷国兴")
    expect(page.locator("#results")).not_to_contain_text("刘玉琴")
    assert violations(page) == []


def test_api_docs_render_under_the_policy(live_server, new_page, tree, admin_user):
    from playwright.sync_api import expect

    page = new_page()
    page.add_init_script(f"({WATCH})()")
    log_in(page, live_server.url, admin_user.username)
    page.goto(f"{live_server.url}/api/docs")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    assert violations(page) == []
