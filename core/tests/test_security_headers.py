"""Issue 8, finding 11: a Content-Security-Policy and the usual headers on every response, and
templates the policy does not break (no inline script, style or event handler, no eval)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TEMPLATES = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))


def assert_headers(response):
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "path,logged_in",
    [
        ("/accounts/login/", False),
        ("/", True),
        ("/elders/", True),
        ("/elders/new/", True),
        ("/elders/import/", True),
        ("/jobs/", True),
        ("/regions/", True),
        ("/accounts/users/", True),
        ("/audit/access/", True),
        ("/api/elders", True),
        ("/api/openapi.json", True),
        ("/api/docs", True),
        ("/api/nope", True),
        ("/elders/?q=%00", True),
        ("/no-such-page/", True),
        ("/healthz", False),
    ],
)
def test_every_response_carries_csp_and_the_usual_headers(client, admin_user, path, logged_in):
    if logged_in:
        client.force_login(admin_user)
    assert_headers(client.get(path))


def test_a_refused_post_carries_the_headers_too(client, worker):
    client.force_login(worker)
    assert_headers(client.post("/elders/import/", b"x", content_type="multipart/form-data"))


INLINE = {
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: url": re.compile(r"javascript:", re.I),
    "htmx hx-on": re.compile(r"\shx-on", re.I),
    "htmx js: values": re.compile(r"hx-(vals|headers|vars)\s*=\s*['\"]\s*(js|javascript):", re.I),
}


@pytest.mark.parametrize("kind", INLINE)
@pytest.mark.parametrize("template", TEMPLATES, ids=[str(t.relative_to(settings.BASE_DIR)) for t in TEMPLATES])
def test_templates_hold_nothing_the_csp_would_block(template, kind):
    assert not INLINE[kind].search(template.read_text()), f"{template}: {kind}"


def test_htmx_does_not_inject_its_indicator_style(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/").content.decode()
    assert '"includeIndicatorStyles": false' in html


@pytest.mark.parametrize("path", ["/", "/elders/", "/elders/new/", "/accounts/users/", "/audit/access/", "/jobs/"])
def test_rendered_pages_hold_no_inline_style_or_script(client, admin_user, tree, path):
    from elders.tests.factories import ElderFactory

    ElderFactory(region=tree.community)
    client.force_login(admin_user)
    html = client.get(path).content.decode()
    for kind in ("style attribute", "style element", "inline script", "event handler attribute"):
        assert not INLINE[kind].search(html), f"{path}: {kind}"


def test_api_docs_load_swagger_from_this_site_not_a_cdn(client, admin_user):
    client.force_login(admin_user)
    html = client.get("/api/docs").content.decode()
    assert "cdn." not in html and "/static/ninja/swagger-ui-bundle.js" in html
