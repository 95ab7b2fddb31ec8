"""Who the API takes a write from: a valid token, or a signed-in session with its CSRF token.
Anything else is the documented 401 in Chinese (docs/api.md), not ninja's English
"CSRF check Failed" 403 that a write without a session used to get."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create
from elders.models import Elder

pytestmark = pytest.mark.django_db

NEW_ELDER = {"name": "王秀兰", "id_number": "11010519491231002X"}


def browser() -> Client:
    """A client that enforces CSRF, as a browser's requests are checked."""
    return Client(enforce_csrf_checks=True)


def test_a_write_without_a_token_or_session_is_401_in_chinese(tree):
    response = browser().post("/api/elders", NEW_ELDER, content_type="application/json")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("请先登录")
    assert not Elder.objects.exists()


def test_a_write_with_an_expired_token_is_401_not_a_csrf_refusal(worker, tree):
    token = api_token_create(user=worker)
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = browser().post(
        "/api/elders",
        {**NEW_ELDER, "region": tree.community.pk},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 401
    assert not Elder.objects.exists()


def test_a_session_write_without_the_csrf_token_is_refused_in_chinese(worker, tree):
    client = browser()
    client.force_login(worker)

    response = client.post("/api/elders", {**NEW_ELDER, "region": tree.community.pk}, content_type="application/json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"] and "刷新" in response.json()["detail"]
    assert not Elder.objects.exists()


def test_a_session_write_with_the_csrf_token_is_taken(worker, tree):
    client = browser()
    client.force_login(worker)
    client.get("/elders/")  # the page sets the CSRF cookie

    response = client.post(
        "/api/elders",
        {**NEW_ELDER, "region": tree.community.pk},
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )

    assert response.status_code == 201
    assert Elder.objects.get().name == "王秀兰"
