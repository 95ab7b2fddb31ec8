"""Issue 8, finding 5: input no view can use gets the documented error, never a 500.

Each case is tried in Chinese and in English (Accept-Language), and nothing is written: no
elder, contact, job, login attempt, access-log or change record. Under /api/ the answer is JSON
{"detail", "errors": [{"field", "message"}]}; on pages a short page (or the form's error).
"""

import json

import pytest

from accounts.models import LoginAttempt
from accounts.services import api_token_create
from audit.models import AccessLog, ChangeRecord
from elders.models import Elder, EmergencyContact
from elders.tests.factories import ElderFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db

LANGUAGES = ["zh-hans", "en"]
THREE_MB = 3 * 1024 * 1024


def counts():
    return {m.__name__: m.objects.count() for m in (Elder, EmergencyContact, Job, LoginAttempt, AccessLog, ChangeRecord)}


def assert_api_error(response, status, lang):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert body["detail"]
    assert isinstance(body["errors"], list) and all(set(e) == {"field", "message"} and e["message"] for e in body["errors"])
    assert response["Content-Language"] == lang
    assert "Traceback" not in body["detail"] and "/work/" not in body["detail"]


def assert_page_error(response, status, lang):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "error-page" in html and "Traceback" not in html
    assert response["Content-Language"] == lang


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def new_elder_json(tree, **over):
    data = {"region": tree.community.pk, "name": "王秀兰", "id_number": "11010519491231002X", "living_arrangement": "alone"}
    data.update(over)
    return json.dumps(data)


# --- the API --------------------------------------------------------------------------------

API_QUERY_CASES = {
    "nul in q": "/api/elders?q=%00",
    "nul inside q": "/api/elders?q=a%00b",
    "nul in a filter": "/api/elders?region=%00",
    "nul in a parameter name": "/api/elders?a%00=1",
    "lone surrogate in q": "/api/elders?q=%ED%A0%80",
    "bytes that are not utf-8": "/api/elders?q=%FF%FE",
    "nul in a job id route's query": "/api/jobs/1?x=%00",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", API_QUERY_CASES.values(), ids=API_QUERY_CASES.keys())
def test_api_refuses_unusable_query_string_with_400(client, worker, path, lang):
    before = counts()
    response = client.get(path, headers={**bearer(worker), "Accept-Language": lang})
    assert_api_error(response, 400, lang)
    assert counts() == before


def _with(tree, raw_pair: str) -> str:
    """A valid new elder's JSON with one raw `"key": value` pair put first (1e999, NaN…)."""
    return new_elder_json(tree).replace("{", "{" + raw_pair + ", ", 1)


# case -> (path, body from the tree, status, field named in errors)
JSON_CASES = {
    "token: nul in user name": ("/api/auth/token", lambda t: '{"username": "a\\u0000", "password": "x"}', 400, "username"),
    "token: nul in password": ("/api/auth/token", lambda t: '{"username": "community", "password": "\\u0000"}', 400, "password"),
    "token: lone surrogate": ("/api/auth/token", lambda t: '{"username": "\\ud800", "password": "x"}', 400, "username"),
    "token: user name over 150": (
        "/api/auth/token",
        lambda t: json.dumps({"username": "a" * 151, "password": "x"}),
        422,
        "username",
    ),
    "create: nul in name": ("/api/elders", lambda t: new_elder_json(t, name="王\x00秀兰"), 400, "name"),
    "create: lone surrogate in address": ("/api/elders", lambda t: _with(t, '"address": "\\udfff"'), 400, "address"),
    "create: nul in a contact": ("/api/elders", lambda t: new_elder_json(t, contacts=[{"name": "\x00"}]), 400, "contacts.0.name"),
    "create: nul in a key": ("/api/elders", lambda t: '{"name\\u0000": 1}', 400, None),
    "create: children_count 1e999": ("/api/elders", lambda t: _with(t, '"children_count": 1e999'), 422, "children_count"),
    "create: children_count -1e999": ("/api/elders", lambda t: _with(t, '"children_count": -1e999'), 422, "children_count"),
    "create: children_count NaN": ("/api/elders", lambda t: _with(t, '"children_count": NaN'), 422, "children_count"),
    "create: children_count inf": ("/api/elders", lambda t: new_elder_json(t, children_count="inf"), 422, "children_count"),
    "create: 3 MB body": ("/api/elders", lambda t: new_elder_json(t, notes="x" * THREE_MB), 413, None),
    "create: body not utf-8": ("/api/elders", lambda t: b'{"name": "\xff"}', 400, None),
    "create: not json": ("/api/elders", lambda t: "{name", 400, None),
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("case", JSON_CASES)
def test_api_refuses_unusable_json_with_documented_error(client, tree, worker, case, lang):
    path, body, status, field = JSON_CASES[case]
    body = body(tree)
    before = counts()
    response = client.post(path, body, content_type="application/json", headers={**bearer(worker), "Accept-Language": lang})
    assert_api_error(response, status, lang)
    if field:
        assert field in {e["field"] for e in response.json()["errors"]}
    assert counts() == before


@pytest.mark.parametrize("lang", LANGUAGES)
def test_api_patch_refuses_nul_and_leaves_the_elder_as_it_was(client, tree, worker, lang):
    elder = ElderFactory(region=tree.community, name="王秀兰")
    before = counts()
    response = client.patch(
        f"/api/elders/{elder.pk}",
        '{"name": "a\\u0000b"}',
        content_type="application/json",
        headers={**bearer(worker), "Accept-Language": lang},
    )
    assert_api_error(response, 400, lang)
    elder.refresh_from_db()
    assert elder.name == "王秀兰" and counts() == before


NO_BOUNDARY = "multipart/form-data"  # the header a careless client sends: no boundary=


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("who", ["worker", "auditor"])
def test_api_import_without_boundary_is_400_even_for_a_user_who_may_not_import(client, tree, worker, auditor, who, lang):
    user = {"worker": worker, "auditor": auditor}[who]
    before = counts()
    response = client.post(
        "/api/elders/import",
        b"--x\r\nContent-Disposition: form-data; name=file\r\n\r\nabc\r\n--x--\r\n",
        content_type=NO_BOUNDARY,
        headers={**bearer(user), "Accept-Language": lang},
    )
    assert_api_error(response, 400, lang)
    assert counts() == before


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/nope"),
        ("get", "/api/elders/1/nope"),
        ("post", "/api/auth/nope"),
        ("get", "/api/"),
        ("delete", "/api/elders/categories/x/y"),
    ],
)
def test_unknown_api_paths_answer_json_404(client, worker, method, path, lang):
    response = getattr(client, method)(path, headers={**bearer(worker), "Accept-Language": lang})
    assert_api_error(response, 404, lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_api_wrong_method_answers_json_405(client, worker, lang):
    response = client.put("/api/elders/categories", headers={**bearer(worker), "Accept-Language": lang})
    assert_api_error(response, 405, lang)
    assert "GET" in response["Allow"]


# --- pages ----------------------------------------------------------------------------------

PAGE_QUERY_CASES = {
    "elder list q": "/elders/?q=a%00b",
    "elder list region": "/elders/?region=%00",
    "elder list surrogate": "/elders/?q=%ED%A0%80",
    "access log user": "/audit/access/?user=%00",
    "access log kind": "/audit/access/?kind=a%00",
    "users page q": "/accounts/users/?q=%00",
    "id check": "/elders/id-check/?id_number=%00",
    "region browse": "/regions/?parent=%00",
    "job list": "/jobs/?kind=%00",
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("path", PAGE_QUERY_CASES.values(), ids=PAGE_QUERY_CASES.keys())
def test_pages_refuse_unusable_query_string_with_a_page(client, admin_user, path, lang):
    client.force_login(admin_user)
    before = counts()
    response = client.get(path, headers={"Accept-Language": lang})
    assert_page_error(response, 400, lang)
    assert counts() == before


def _form(tree, **over):
    data = {"region": tree.community.pk, "name": "王秀兰", "id_number": "11010519491231002X", "children_count": "1"}
    data.update(over)
    return data


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("field", ["name", "address", "notes", "contact1_name", "phone"])
def test_elder_form_with_nul_is_refused_and_writes_nothing(client, tree, worker, field, lang):
    client.force_login(worker)
    before = counts()
    response = client.post("/elders/new/", _form(tree, **{field: "a\x00b"}), headers={"Accept-Language": lang})
    assert_page_error(response, 400, lang)
    assert counts() == before


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "nan", "Infinity", "1e308"])
def test_elder_form_children_count_inf_is_a_form_error(client, tree, worker, value, lang):
    client.force_login(worker)
    before = counts()
    response = client.post("/elders/new/", _form(tree, children_count=value), headers={"Accept-Language": lang})
    assert response.status_code == 200
    assert "children_count" in response.context["form"].errors
    assert counts() == before


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("who", ["worker", "auditor"])
def test_import_page_without_boundary_is_400_page(client, tree, worker, auditor, who, lang):
    client.force_login({"worker": worker, "auditor": auditor}[who])
    before = counts()
    response = client.post(
        "/elders/import/", b"--x\r\n\r\n--x--\r\n", content_type=NO_BOUNDARY, headers={"Accept-Language": lang}
    )
    assert_page_error(response, 400, lang)
    assert counts() == before


@pytest.mark.parametrize("lang", LANGUAGES)
def test_login_page_with_nul_user_name_is_refused(client, worker, lang):
    before = counts()
    response = client.post(
        "/accounts/login/", {"username": "community\x00", "password": "demo12345"}, headers={"Accept-Language": lang}
    )
    assert_page_error(response, 400, lang)
    assert counts() == before
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_post_over_the_body_limit_is_413(client, tree, worker, lang):
    client.force_login(worker)
    before = counts()
    response = client.post("/elders/new/", _form(tree, notes="x" * THREE_MB), headers={"Accept-Language": lang})
    assert_page_error(response, 413, lang)
    assert counts() == before


@pytest.mark.parametrize("value", ['"\\000abcdefghijkl"', '"abc\\000defghijkl"', '"\\355\\240\\200abcdefgh"'])
@pytest.mark.parametrize("path", ["/elders/", "/api/elders", "/accounts/login/"])
def test_a_session_cookie_with_nul_is_no_session_not_a_500(client, worker, path, value):
    """Django unquotes the octal escape to a NUL; PostgreSQL refused the session lookup (500)."""
    response = client.get(path, HTTP_COOKIE=f"sessionid={value}")
    assert response.status_code in (200, 302, 401)  # the login page, or a redirect / 401 to it
