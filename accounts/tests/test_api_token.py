"""POST /api/auth/token: a bearer token for a password, throttled like the login page."""

import datetime
import re

import pytest
from django.utils import timezone

from accounts.models import ApiToken, LoginAttempt

pytestmark = pytest.mark.django_db


def token_request(client, username="community", password="demo12345"):
    return client.post("/api/auth/token", {"username": username, "password": password}, content_type="application/json")


def test_token_is_issued_for_the_right_password_and_only_its_hash_is_stored(client, worker):
    response = token_request(client)

    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 12 * 3600
    stored = ApiToken.objects.get(user=worker)
    assert body["token"] not in stored.key_hash
    assert LoginAttempt.objects.get().via == "api"


def test_wrong_password_is_401_naming_the_password_field(client, worker):
    response = token_request(client, password="nope")

    assert response.status_code == 401
    assert response.json()["errors"] == [{"field": "password", "message": "用户名或密码不正确"}]
    assert not ApiToken.objects.exists()


def test_five_failures_lock_the_token_endpoint_with_429_saying_when(client, worker):
    for _ in range(5):
        assert token_request(client, password="nope").status_code == 401

    response = token_request(client)

    assert response.status_code == 429
    assert re.search(r"登录失败次数过多，请在 \d\d:\d\d 之后再试", response.json()["detail"])
    assert 14 * 60 < int(response["Retry-After"]) <= 15 * 60
    assert not ApiToken.objects.exists()


def test_failures_from_another_address_do_not_lock_the_token_endpoint(client, worker):
    """Failing today: the attacker's 401s at 203.0.113.9 locked the name everywhere."""
    for _ in range(8):
        client.post(
            "/api/auth/token",
            {"username": "community", "password": "nope"},
            content_type="application/json",
            REMOTE_ADDR="203.0.113.9",
        )

    assert token_request(client).status_code == 200


def test_spraying_names_at_the_token_endpoint_is_slowed(client, worker):
    """Failing today: 30 names tried once each from one address were never slowed."""
    for n in range(30):
        assert token_request(client, username=f"guess{n}", password="123456").status_code == 401

    response = token_request(client)

    assert response.status_code == 429
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("username", "password", "field", "status"),
    [
        ("a" * 151, "x", "username", 422),
        # NUL and lone surrogates are refused by the request guard (core.middleware) before any view.
        ("a\u0000", "x", "username", 400),
        ("a\ud800", "x", "username", 400),
        ("community", "x\ud800", "password", 400),
        ("community", "x" * 1025, "password", 422),
    ],
)
def test_impossible_credentials_are_refused_naming_the_field_and_record_nothing(
    client, worker, username, password, field, status
):
    """Failing on the old code: 401 after a query (500 on PostgreSQL), or 500 hashing a lone surrogate."""
    response = token_request(client, username=username, password=password)

    assert response.status_code == status
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not LoginAttempt.objects.exists()


def test_lone_surrogate_in_raw_json_is_400_naming_the_field(client, worker):
    body = b'{"username": "a\\ud800", "password": "x"}'

    response = client.post("/api/auth/token", body, content_type="application/json")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["username"]
    assert not LoginAttempt.objects.exists()


def test_failures_on_the_login_page_also_lock_the_api(client, worker):
    for _ in range(5):
        client.post("/accounts/login/", {"username": "community", "password": "nope"})

    assert token_request(client).status_code == 429


def test_bearer_token_identifies_the_user(client, worker):
    token = token_request(client).json()["token"]

    body = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).json()

    assert (body["username"], body["role"], body["region_name"]) == ("community", "community", "安泰社区")
    assert "elders.reveal_elder" in body["permissions"]


def test_expired_token_is_refused(client, worker):
    token = token_request(client).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401


def test_token_of_a_deactivated_user_is_refused(client, worker):
    token = token_request(client).json()["token"]
    worker.is_active = False
    worker.save()

    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_request_with_missing_fields_is_422_naming_them(client, worker):
    response = client.post("/api/auth/token", {"username": "community"}, content_type="application/json")

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["password"]
