"""Browser fixtures for the journeys in e2e/: Debian's chromium driven by Playwright.

Playwright's sync API runs an event loop in the test thread, and Django refuses ORM calls
from a thread with a running loop unless told it is safe; here it is (one thread, tests only).
"""

import os
import threading
from pathlib import Path

import pytest
from django.contrib.staticfiles import handlers as staticfiles_handlers

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}


class _OneRequestAtATime(staticfiles_handlers.StaticFilesHandler):
    """The live server's handler, answering one request at a time.

    With SQLite in memory, every request thread of the live server shares the test's one
    connection; two requests at once (a page's htmx preview still loading when a form is
    submitted) interleave their savepoints on it ("no such savepoint"). A browser on a real
    server never meets this, so the live server serialises requests rather than the tests
    waiting for every fragment. No page here streams from the database after it returns.
    """

    _lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self._lock:
            return super().__call__(environ, start_response)


@pytest.fixture(autouse=True, scope="session")
def _live_server_one_request_at_a_time():
    # pytest-django's LiveServer imports StaticFilesHandler from this module when it starts.
    original = staticfiles_handlers.StaticFilesHandler
    if not os.environ.get("E2E_PARALLEL_REQUESTS"):
        staticfiles_handlers.StaticFilesHandler = _OneRequestAtATime
    yield
    staticfiles_handlers.StaticFilesHandler = original


def log_in(page, base_url, username, password="demo12345"):
    """Sign in through the login page, as a person would (make_user's default password)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)")
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect.set_options(timeout=10_000)  # a loaded CI machine is slower than a laptop
    # Set only while a browser is open, so the rest of the suite runs with Django's default.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser):
    """Open a page in a fresh context (own cookies) at a laptop or phone size, zh-CN."""
    contexts = []

    def open_page(viewport=LAPTOP):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    """Save a screenshot to e2e/screenshots/<name>.png (gitignored) for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(page, name, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take


def pytest_collection_modifyitems(config, items):
    """The page sweeps (`test_every_…`: every page of an area at laptop and phone width, with
    screenshots for a person to look at) run on SQLite — the plain `make test` and CI's first run
    — and on PostgreSQL only with E2E_EVERY_PAGE=1: a page's layout does not depend on the
    database, and running them twice pushed CI past its 15 minutes on a 2-core machine. The
    journeys always run on both."""
    wanted = os.environ.get("E2E_EVERY_PAGE")
    if wanted == "1" or (wanted != "0" and not os.environ.get("DATABASE_URL", "").startswith("postgres")):
        return
    skip = pytest.mark.skip(reason="page sweep: runs on SQLite, or with E2E_EVERY_PAGE=1")
    for item in items:
        if item.nodeid.startswith("e2e/") and item.name.startswith("test_every_"):
            item.add_marker(skip)
