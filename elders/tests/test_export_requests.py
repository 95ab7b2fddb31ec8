"""Exports are POST requests with the CSRF token for a browser session, run with the filters
sent (the list as it is on screen), and record those filters — with any personal number in
the search words starred — in the job and the access log (issue 8, finding 10)."""

import datetime
import json

import pytest
from django.test import Client

from accounts.services import api_token_create
from audit.models import AccessLog
from elders.tests.factories import ElderFactory
from elders.tests.sheets import id_number, read_xlsx
from jobs.models import Job

pytestmark = pytest.mark.django_db

ID_NUMBER = id_number(1)


@pytest.fixture
def register(tree):
    return {
        "leng": ElderFactory(
            region=tree.community, name="冷国兴", id_number=ID_NUMBER, sex="M", birth_date=datetime.date(1949, 12, 31)
        ),
        "wang": ElderFactory(region=tree.community, name="王秀兰", is_dibao=True),
    }


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def csrf_client(user) -> Client:
    """A browser session that enforces CSRF, as a real browser's does."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/elders/")  # the page sets the CSRF cookie
    return client


# --- GET no longer exports ---------------------------------------------------------------------------


def test_api_export_by_get_with_a_session_cookie_is_405_and_exports_nothing(client, worker, register):
    client.force_login(worker)

    response = client.get("/api/elders/export", {"reveal": "true"})

    assert response.status_code == 405
    assert not AccessLog.objects.filter(kind="export").exists()


def test_api_export_by_get_with_a_token_is_405_too(client, worker, register):
    headers = {"Authorization": f"Bearer {api_token_create(user=worker)}"}

    response = client.get("/api/elders/export", {"reveal": "true"}, headers=headers)

    assert response.status_code == 405
    assert not AccessLog.objects.filter(kind="export").exists()


def test_page_export_by_get_is_405_and_starts_no_job(client, worker, register):
    client.force_login(worker)

    response = client.get("/elders/export/", {"reveal": "1"})

    assert response.status_code == 405
    assert not Job.objects.exists()


# --- CSRF --------------------------------------------------------------------------------------------------


def test_api_export_post_from_a_session_without_the_csrf_token_is_refused(worker, register):
    client = csrf_client(worker)

    response = client.post("/api/elders/export", {"reveal": True}, content_type="application/json")

    assert response.status_code == 403
    assert not AccessLog.objects.filter(kind="export").exists()


def test_api_export_post_from_a_session_with_the_csrf_token_exports(worker, register):
    client = csrf_client(worker)

    response = client.post(
        "/api/elders/export",
        {"q": "冷"},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 200
    assert [r[0] for r in read_xlsx(body(response))[1:]] == ["冷国兴"]


def test_page_export_post_without_the_csrf_token_is_refused_and_starts_no_job(worker, register):
    client = csrf_client(worker)

    response = client.post("/elders/export/", {"reveal": "1"})

    assert response.status_code == 403
    assert not Job.objects.exists()


# --- what is exported and recorded -------------------------------------------------------------------------


def test_api_export_takes_the_filters_from_the_json_body(client, worker, register):
    headers = {"Authorization": f"Bearer {api_token_create(user=worker)}"}

    response = client.post("/api/elders/export", {"category": ["dibao"]}, content_type="application/json", headers=headers)

    assert [r[0] for r in read_xlsx(body(response))[1:]] == ["王秀兰"]
    assert AccessLog.objects.get(kind="export").detail["filters"]["category"] == ["dibao"]


def test_api_export_by_a_full_id_number_logs_the_search_starred(client, worker, register):
    headers = {"Authorization": f"Bearer {api_token_create(user=worker)}"}

    response = client.post("/api/elders/export", {"q": ID_NUMBER}, content_type="application/json", headers=headers)

    assert [r[0] for r in read_xlsx(body(response))[1:]] == ["冷国兴"]
    log = AccessLog.objects.get(kind="export")
    assert ID_NUMBER not in json.dumps(log.detail)
    assert log.detail["filters"]["q"] == "*" * 18


def test_page_export_records_its_filters_in_the_job_and_the_log_without_the_number(
    client, worker, register, django_capture_on_commit_callbacks
):
    client.force_login(worker)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/elders/export/", {"q": ID_NUMBER, "age_min": "70", "status": "all"})

    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.params["filters"] == {"q": "*" * 18, "age_min": 70, "status": "all"}
    assert ID_NUMBER not in json.dumps(job.params)
    assert [r[0] for r in read_xlsx(body(client.get(f"/jobs/{job.pk}/download/")))[1:]] == ["冷国兴"]
    log = AccessLog.objects.get(kind="export")
    assert (log.detail["filters"], log.detail["job"]) == ({"q": "*" * 18, "age_min": 70, "status": "all"}, job.pk)


def test_page_export_posted_by_htmx_sends_the_browser_to_the_job_page(
    client, worker, register, django_capture_on_commit_callbacks
):
    client.force_login(worker)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/elders/export/", {"q": "冷"}, headers={"HX-Request": "true"})

    job = Job.objects.get()
    assert response["HX-Redirect"] == f"/jobs/{job.pk}/"
    assert job.result["rows"] == 1


def test_page_export_with_a_refused_filter_value_exports_nothing_and_says_why(client, worker, register):
    client.force_login(worker)

    response = client.post("/elders/export/", {"age_min": "abc"}, follow=True)

    assert not Job.objects.exists()
    assert "筛选条件有误" in response.content.decode()


def test_list_page_export_form_sends_the_filter_forms_current_values(client, worker):
    client.force_login(worker)

    html = client.get("/elders/?q=lgx").content.decode()

    assert 'hx-include="#elder-filters"' in html
    assert 'id="elder-filters"' in html
    # the values of the page load are for browsers without JavaScript only
    assert '<noscript><input type="hidden" name="q" value="lgx"></noscript>' in html
