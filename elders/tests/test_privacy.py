"""Issue 8, findings 2 and 3: what users without the reveal permission see (age, never the birth
date), searches by POST and limited per user, searches by a whole number logged without the
number, reveals and the ID check only by POST, and no personal number in a URL, a log line or
a stored row."""

import datetime
import io
import json
import logging
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import api_token_create
from audit.models import AccessLog, ChangeRecord, SearchEvent
from conftest import make_user
from elders.models import Elder
from elders.tests.factories import ElderFactory, age_of_a_31_december_birthday
from elders.tests.sheets import id_number, read_xlsx
from jobs.models import Job

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
BORN = datetime.date(1949, 12, 31)
AGE = age_of_a_31_december_birthday(1949)  # what pages, API and export must show
PHONE = "13812345678"
NEW_ID_NUMBER = id_number(7, born=datetime.date(1950, 3, 4))  # another valid number, another birth date


@pytest.fixture
def elder(tree):
    return ElderFactory(
        region=tree.grid, name="王秀兰", id_number=ID_NUMBER, sex="F", birth_date=BORN, phone=PHONE, address="安泰小区3号楼"
    )


@pytest.fixture
def street_user(tree):
    return make_user("street", "street", tree.street)


def no_reveal_users(tree):
    return [
        make_user("street", "street", tree.street),
        make_user("city", "aging_office", tree.city),
        make_user("auditor", "auditor", tree.city),
    ]


def api_headers(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


BIRTH_TEXTS = ("1949-12-31", "19491231", "1949年12月31日", "Dec. 31, 1949")


# --- the birth date: only with the reveal permission ----------------------------------------------


def test_users_without_reveal_see_age_but_no_birth_date_on_the_detail_page(client, tree, elder):
    for user in no_reveal_users(tree):
        client.force_login(user)
        html = client.get(f"/elders/{elder.pk}/").content.decode()
        assert "出生日期" not in html, user.role
        assert not any(text in html for text in BIRTH_TEXTS), user.role
        assert f"{AGE}岁" in html
        assert "*****************X" in html


def test_a_worker_who_may_reveal_sees_the_birth_date(client, worker, elder):
    client.force_login(worker)
    assert "1949-12-31" in client.get(f"/elders/{elder.pk}/").content.decode()


def test_api_gives_no_birth_date_to_users_without_reveal(client, tree, elder):
    for user in no_reveal_users(tree):
        body = client.get(f"/api/elders/{elder.pk}", headers=api_headers(user)).json()
        assert body["birth_date"] is None, user.role
        assert body["age"] == AGE
        assert body["id_number"] == "*****************X"
        assert not any(text in json.dumps(body) for text in BIRTH_TEXTS)


def test_api_gives_the_birth_date_to_a_worker_who_may_reveal(client, worker, elder):
    assert client.get(f"/api/elders/{elder.pk}", headers=api_headers(worker)).json()["birth_date"] == "1949-12-31"


def test_history_shows_only_that_the_birth_date_changed_to_users_without_reveal(client, worker, street_user, elder):
    from elders.services import elder_update

    elder_update(by=worker, elder=elder, data={"id_number": NEW_ID_NUMBER})
    new_birth = Elder.objects.get(pk=elder.pk).birth_date.isoformat()

    client.force_login(street_user)
    html = client.get(f"/elders/{elder.pk}/").content.decode()
    assert "已修改" in html
    assert "1949-12-31" not in html and new_birth not in html
    history = client.get(f"/api/elders/{elder.pk}/history", headers=api_headers(street_user)).json()["items"]
    assert "1949-12-31" not in json.dumps(history) and new_birth not in json.dumps(history)
    update = next(r for r in history if r["action"] == "update")
    assert update["changes"]["birth_date"] == ["已修改", "已修改"]

    client.force_login(worker)
    assert new_birth in client.get(f"/elders/{elder.pk}/").content.decode()


def test_api_history_hides_the_birth_date_inside_a_merge_snapshot(client, worker, street_user, tree, elder):
    from elders.services import elder_merge

    other = ElderFactory(region=tree.grid, name="王秀兰", birth_date=BORN, sex="F", address="安泰小区3号楼")
    Elder.objects.filter(pk=other.pk).update(id_number_hash="", id_number_masked="", id_number_enc="")
    other.refresh_from_db()
    elder_merge(by=worker, keep=elder, other=other)

    merged = ChangeRecord.objects.get(action="merged")
    assert merged.changes["snapshot"][0]["birth_date"] == "1949-12-31"  # kept for who may see it
    history = client.get(f"/api/elders/{elder.pk}/history", headers=api_headers(street_user)).json()
    assert "1949-12-31" not in json.dumps(history)


def test_masked_export_has_age_and_no_birth_date(client, city_user, elder):
    response = client.post("/api/elders/export", {}, content_type="application/json", headers=api_headers(city_user))
    rows = read_xlsx(b"".join(response.streaming_content))
    header, row = rows[0], rows[1]
    assert "出生日期" not in header and "年龄" in header
    assert row[header.index("年龄")] == AGE
    assert not any(text in " ".join(map(str, row)) for text in BIRTH_TEXTS)
    assert row[header.index("身份证号")] == "*****************X"


def test_full_number_export_keeps_the_birth_date_for_a_worker_who_may_reveal(client, worker, elder):
    response = client.post("/api/elders/export", {"reveal": True}, content_type="application/json", headers=api_headers(worker))
    rows = read_xlsx(b"".join(response.streaming_content))
    assert rows[1][rows[0].index("出生日期")] == "1949-12-31"


def test_search_by_birth_date_finds_nothing_for_users_without_reveal(client, tree, worker, elder):
    for user in no_reveal_users(tree):
        response = client.post(
            "/api/elders/search", {"q": "19491231"}, content_type="application/json", headers=api_headers(user)
        )
        assert response.json()["count"] == 0, user.role
    mine = client.post("/api/elders/search", {"q": "19491231"}, content_type="application/json", headers=api_headers(worker))
    assert mine.json()["count"] == 1


def test_age_ranges_still_work_for_users_without_reveal(client, city_user, elder):
    body = client.post(
        "/api/elders/search",
        {"age_min": AGE, "age_max": AGE},
        content_type="application/json",
        headers=api_headers(city_user),
    ).json()
    assert [i["id"] for i in body["items"]] == [elder.pk]


# --- searching: POST, limited, logged ---------------------------------------------------------------


@pytest.mark.parametrize("q", [ID_NUMBER, PHONE, "138 1234 5678", "19491231", "0531-88881234"])
def test_api_list_refuses_a_number_in_the_url_and_points_to_post_search(client, worker, elder, q):
    response = client.get("/api/elders", {"q": q}, headers=api_headers(worker))

    assert response.status_code == 422
    body = response.json()
    assert "POST /api/elders/search" in body["detail"]
    assert body["errors"][0]["field"] == "q"
    assert not SearchEvent.objects.exists()


def test_api_list_still_searches_names_by_get(client, worker, elder):
    assert client.get("/api/elders", {"q": "wxl"}, headers=api_headers(worker)).json()["count"] == 1


def test_api_search_takes_the_lists_filters_in_the_body(client, worker, tree, elder):
    ElderFactory(region=tree.community2, name="王秀兰", phone="13812340000")
    body = client.post(
        "/api/elders/search",
        {"q": PHONE, "status": "all", "sex": "F", "category": [], "page_size": 5},
        content_type="application/json",
        headers=api_headers(worker),
    ).json()
    assert [i["id"] for i in body["items"]] == [elder.pk]
    assert body["page_size"] == 5


def test_api_search_refuses_a_bad_filter_by_name(client, worker, elder):
    response = client.post(
        "/api/elders/search",
        {"age_min": 999, "category": ["martian"]},
        content_type="application/json",
        headers=api_headers(worker),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"age_min", "category"}


def test_searches_over_the_minute_limit_get_429_in_chinese(client, worker, elder, settings):
    settings.SEARCH_MAX_PER_MINUTE = 3
    headers = api_headers(worker)
    for _ in range(3):
        assert client.get("/api/elders", {"q": "wxl"}, headers=headers).status_code == 200

    response = client.post("/api/elders/search", {"q": PHONE}, content_type="application/json", headers=headers)

    assert response.status_code == 429
    assert "每分钟最多搜索 3 次" in response.json()["detail"]
    assert response.json()["errors"] == [{"field": "q", "message": response.json()["detail"]}]
    assert 1 <= int(response["Retry-After"]) <= 61
    assert not AccessLog.objects.filter(kind="search").exists()  # a refused search found nothing


def test_searches_over_the_hour_limit_get_429_and_old_searches_expire(client, worker, elder, settings):
    settings.SEARCH_MAX_PER_HOUR = 5
    now = timezone.now()
    SearchEvent.objects.bulk_create([SearchEvent(by=worker, at=now - timedelta(minutes=30)) for _ in range(5)])
    SearchEvent.objects.bulk_create([SearchEvent(by=worker, at=now - timedelta(minutes=61)) for _ in range(50)])

    response = client.get("/api/elders", {"q": "wxl"}, headers=api_headers(worker))

    assert response.status_code == 429
    assert "每小时最多搜索 5 次" in response.json()["detail"]
    assert SearchEvent.objects.filter(by=worker).count() == 5  # the expired ones are gone


def test_the_limit_is_per_user(client, worker, grid_user, elder, settings):
    settings.SEARCH_MAX_PER_MINUTE = 1
    assert client.get("/api/elders", {"q": "wxl"}, headers=api_headers(worker)).status_code == 200
    assert client.get("/api/elders", {"q": "wxl"}, headers=api_headers(grid_user)).status_code == 200
    assert client.get("/api/elders", {"q": "wxl"}, headers=api_headers(worker)).status_code == 429


def test_a_list_without_search_text_is_not_counted(client, worker, elder, settings):
    settings.SEARCH_MAX_PER_MINUTE = 1
    for _ in range(3):
        assert client.get("/api/elders", headers=api_headers(worker)).status_code == 200
    assert not SearchEvent.objects.exists()


def test_the_list_page_over_the_limit_answers_429_with_a_message(client, worker, elder, settings):
    settings.SEARCH_MAX_PER_MINUTE = 1
    client.force_login(worker)
    assert client.post("/elders/", {"q": "wxl", "partial": "1"}, headers={"HX-Request": "true"}).status_code == 200

    partial = client.post("/elders/", {"q": "wxl", "partial": "1"}, headers={"HX-Request": "true"})
    page = client.post("/elders/", {"q": "wxl"})

    assert partial.status_code == 429 and page.status_code == 429
    assert "每分钟最多搜索 1 次" in partial.content.decode()
    assert 'id="results"' in partial.content.decode()  # swapped where the results go
    assert "每分钟最多搜索 1 次" in page.content.decode() and "<html" in page.content.decode()


@pytest.mark.parametrize("q, kind", [(ID_NUMBER, "id_number"), ("110105 19491231 002x", "id_number"), (PHONE, "phone")])
def test_a_search_by_a_whole_number_is_logged_like_a_reveal_without_the_number(client, worker, elder, q, kind):
    client.force_login(worker)
    response = client.post("/elders/", {"q": q, "partial": "1"}, headers={"HX-Request": "true"}, REMOTE_ADDR="10.0.0.7")

    assert [r["elder"].pk for r in response.context["rows"]] == [elder.pk]
    log = AccessLog.objects.get(kind="search")
    assert (log.by, log.object_id, log.fields, log.ip) == (worker, elder.pk, kind, "10.0.0.7")
    assert log.detail == {"by": kind, "found": 1, "elders": [elder.pk], "via": "web"}


def test_an_api_search_by_a_whole_number_that_finds_nobody_is_logged_too(client, city_user, elder):
    client.post("/api/elders/search", {"q": "13900000000"}, content_type="application/json", headers=api_headers(city_user))

    log = AccessLog.objects.get(kind="search")
    assert (log.by, log.object_id, log.detail["found"], log.detail["via"]) == (city_user, None, 0, "api")
    assert "13900000000" not in json.dumps(log.detail)


def test_a_search_by_name_or_phone_tail_is_not_in_the_access_log(client, worker, elder):
    client.force_login(worker)
    for q in ("王秀兰", "wxl", "5678"):
        client.post("/elders/", {"q": q, "partial": "1"}, headers={"HX-Request": "true"})
    assert not AccessLog.objects.exists()


def test_the_list_page_searches_by_post_and_pushes_a_url_without_the_number(client, worker, elder):
    client.force_login(worker)

    by_number = client.post("/elders/", {"q": PHONE, "status": "all", "partial": "1"}, headers={"HX-Request": "true"})
    by_name = client.post("/elders/", {"q": "wxl", "partial": "1"}, headers={"HX-Request": "true"})

    assert [r["elder"].pk for r in by_number.context["rows"]] == [elder.pk]
    assert by_number["HX-Push-Url"] == "/elders/?status=all"
    assert by_name["HX-Push-Url"] == "/elders/?q=wxl"


def test_the_list_page_does_not_search_a_number_sent_in_the_url(client, worker, tree, elder):
    ElderFactory(region=tree.community, name="李建国")
    client.force_login(worker)

    response = client.get("/elders/", {"q": PHONE})

    assert response.status_code == 200
    assert len(response.context["rows"]) == 2  # not searched
    assert "号码请在搜索框中输入" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_the_search_form_posts_with_the_csrf_token(client, worker):
    client.force_login(worker)
    html = client.get("/elders/").content.decode()
    assert 'method="post"' in html and 'hx-post="/elders/"' in html and "csrfmiddlewaretoken" in html
    assert "hx-get=" not in html.split('role="search"')[1].split("</form>")[0]


# --- reveals and the ID check: POST with CSRF only ------------------------------------------------


def test_reveal_by_get_is_refused_on_the_page_and_the_api(client, worker, elder):
    client.force_login(worker)
    assert client.get(f"/elders/{elder.pk}/reveal/").status_code == 405
    assert client.get(f"/api/elders/{elder.pk}/reveal", headers=api_headers(worker)).status_code == 405
    assert not AccessLog.objects.exists()


def test_reveal_with_a_session_and_no_csrf_token_is_refused(worker, elder):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(worker)

    assert browser.post(f"/elders/{elder.pk}/reveal/").status_code == 403
    assert browser.post(f"/api/elders/{elder.pk}/reveal").status_code == 403
    assert not AccessLog.objects.exists()


def test_reveal_with_the_csrf_token_shows_and_logs(worker, elder):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(worker)
    browser.get(f"/elders/{elder.pk}/")
    token = browser.cookies["csrftoken"].value

    response = browser.post(f"/elders/{elder.pk}/reveal/", {"reason": "电话回访"}, headers={"X-CSRFToken": token})

    assert response.status_code == 200 and ID_NUMBER in response.content.decode()
    assert AccessLog.objects.filter(kind="reveal", object_id=elder.pk).count() == 1


def test_id_check_is_post_only(client, worker):
    client.force_login(worker)
    assert client.get("/elders/id-check/", {"id_number": ID_NUMBER}).status_code == 405
    response = client.post("/elders/id-check/", {"id_number": ID_NUMBER})
    assert response.status_code == 200 and "1949-12-31" in response.content.decode()


def test_the_form_sends_the_id_check_by_post(client, worker):
    client.force_login(worker)
    html = client.get("/elders/new/").content.decode()
    assert 'hx-post="/elders/id-check/"' in html and 'hx-get="/elders/id-check/"' not in html


# --- no number in a log line or a stored row ------------------------------------------------------


def test_a_search_by_a_whole_number_leaves_no_number_in_any_log_or_query(client, worker, elder, caplog):
    client.force_login(worker)
    headers = api_headers(worker)
    loggers = ["django", "django.request", "django.server", "django.db.backends", "django.security"]
    for name in loggers:
        caplog.set_level(logging.DEBUG, logger=name)

    with CaptureQueriesContext(connection) as queries:
        client.post("/elders/", {"q": ID_NUMBER, "partial": "1"}, headers={"HX-Request": "true"})
        client.post("/elders/", {"q": PHONE})
        client.post("/api/elders/search", {"q": PHONE}, content_type="application/json", headers=headers)
        client.get("/api/elders", {"q": ID_NUMBER}, headers=headers)  # refused: 422, logged as a warning
        client.post("/elders/id-check/", {"id_number": ID_NUMBER})
        client.post(f"/elders/{elder.pk}/reveal/", {"reason": "电话回访"})

    texts = [r.getMessage() for r in caplog.records] + [q["sql"] for q in queries.captured_queries]
    assert caplog.records  # the loggers did speak (the 422 warning at least)
    for number in (ID_NUMBER, PHONE, "19491231"):
        assert not [t for t in texts if number in t], number


def _stored_texts():
    rows = [
        *AccessLog.objects.values_list("detail", "fields"),
        *ChangeRecord.objects.values_list("changes", "note"),
        *Job.objects.values_list("params", "result", "error", "input_name", "output_name"),
    ]
    return json.dumps(rows, ensure_ascii=False, default=str)


def test_no_stored_row_holds_a_whole_number_after_search_reveal_edit_export_and_import(
    client, worker, tree, elder, django_capture_on_commit_callbacks
):
    from elders.exporter import elder_export
    from elders.selectors import ElderFilter
    from elders.tests.sheets import person, upload, xlsx

    client.force_login(worker)
    headers = api_headers(worker)
    client.post("/elders/", {"q": ID_NUMBER, "partial": "1"}, headers={"HX-Request": "true"})
    client.post("/api/elders/search", {"q": PHONE}, content_type="application/json", headers=headers)
    client.post(f"/elders/{elder.pk}/reveal/", {"reason": "电话回访"})
    client.post(f"/api/elders/{elder.pk}/reveal", {"reason": "电话回访"}, content_type="application/json", headers=headers)
    response = client.patch(
        f"/api/elders/{elder.pk}",
        {
            "id_number": NEW_ID_NUMBER,
            "phone": "13912345678",
            "contacts": [{"name": "王红", "phone": "13700001111"}],
            "version": elder.version,
        },
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    # The page's export records its filters in the job (the search words only encrypted) and the log.
    client.post("/elders/export/", {"q": NEW_ID_NUMBER, "reveal": "1"})
    elder_export(user=worker, filters=ElderFilter(q="13912345678"), reveal=True, out=io.BytesIO())
    elder_export(user=worker, filters=ElderFilter(q=NEW_ID_NUMBER), reveal=False, out=io.BytesIO())
    imported = id_number(31)
    sheet = xlsx(
        [
            person(31, 联系电话="13655556666", 紧急联系人电话="13700002222"),
            person(7, 姓名="王秀兰", 身份证号=NEW_ID_NUMBER, 联系电话="13611112222", 紧急联系人电话="13700003333"),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):  # the import runs as a job, after the answer
        response = client.post("/api/elders/import", {"file": upload(sheet)}, headers=headers)
    assert response.status_code == 202, response.content
    job = client.get(f"/api/jobs/{response.json()['job_id']}", headers=headers).json()
    assert (job["result"]["created"], job["result"]["updated"]) == (1, 1)

    assert Elder.objects.count() == 2
    assert AccessLog.objects.filter(kind="reveal").count() == 2
    assert AccessLog.objects.filter(kind="search").count() == 2
    stored = _stored_texts()
    numbers = (ID_NUMBER, NEW_ID_NUMBER, imported, PHONE, "13912345678", "13700001111", "13655556666", "13611112222")
    for number in (*numbers, "13700002222", "13700003333"):
        assert number not in stored, number
        assert number[:6] + "*" * 8 not in stored  # no old-style mask either


def test_a_reveal_behind_the_trusted_proxy_logs_the_clients_address_not_the_proxys(client, settings, worker, elder):
    settings.TRUSTED_PROXY_COUNT = 1
    response = client.post(
        f"/api/elders/{elder.pk}/reveal",
        {"reason": "电话回访"},
        content_type="application/json",
        headers={**api_headers(worker), "X-Forwarded-For": "203.0.113.7"},
        REMOTE_ADDR="127.0.0.1",
    )

    assert response.status_code == 200
    assert AccessLog.objects.get(kind="reveal").ip == "203.0.113.7"
