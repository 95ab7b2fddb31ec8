"""Logging in and out: five failures lock a user name for a while; sessions end when idle."""

import datetime

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import LoginAttempt
from accounts.services import LoginThrottled, login_check, login_is_locked

pytestmark = pytest.mark.django_db


def attempt(username="community", password="wrong"):
    return login_check(request=RequestFactory().post("/accounts/login/"), username=username, password=password)


def fail(times, username="community"):
    for _ in range(times):
        assert attempt(username) is None


def test_right_password_logs_in_and_is_recorded(worker):
    assert attempt(password="demo12345") == worker

    assert LoginAttempt.objects.get().succeeded


def test_each_failure_is_recorded(worker):
    fail(3)

    assert LoginAttempt.objects.filter(username="community", succeeded=False).count() == 3


def test_four_failures_do_not_lock(worker):
    fail(4)

    assert not login_is_locked(username="community")
    assert attempt(password="demo12345") == worker


def test_five_failures_lock_even_the_right_password(worker):
    fail(5)

    with pytest.raises(LoginThrottled) as exc_info:
        attempt(password="demo12345")

    assert "15" in str(exc_info.value)
    assert LoginAttempt.objects.filter(succeeded=True).count() == 0


def test_lock_ends_after_the_lock_window(worker):
    fail(5)
    LoginAttempt.objects.update(at=timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1))

    assert attempt(password="demo12345") == worker


def test_a_success_resets_the_failure_count(worker):
    fail(4)
    attempt(password="demo12345")
    fail(4)

    assert not login_is_locked(username="community")


def test_lock_is_per_user_name(worker, worker_in_other_region):
    fail(5, "community")

    assert attempt("community2", "demo12345") == worker_in_other_region


def test_login_page_logs_in_and_redirects_home(client, worker):
    response = client.post("/accounts/login/", {"username": "community", "password": "demo12345"})

    assert response.status_code == 302 and response.url == "/"
    assert client.session["_auth_user_id"] == str(worker.pk)


def test_login_page_ignores_a_next_url_on_another_host(client, worker):
    response = client.post("/accounts/login/?next=https://evil.example/", {"username": "community", "password": "demo12345"})

    assert response.url == "/"


def test_login_page_refuses_a_locked_user_name(client, worker):
    fail(5)

    response = client.post("/accounts/login/", {"username": "community", "password": "demo12345"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "登录失败次数过多" in response.content.decode()


def test_logout_ends_the_session(client, worker):
    client.force_login(worker)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    assert client.get("/elders/").status_code == 302


def test_logout_needs_post(client, worker):
    client.force_login(worker)

    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_session_ends_when_idle_and_when_the_browser_closes():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_inactive_user_cannot_log_in(worker):
    worker.is_active = False
    worker.save()

    assert attempt(password="demo12345") is None
