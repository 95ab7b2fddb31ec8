"""Logging in and out: failures are throttled per name and address and per address, never per
name alone (nobody can lock someone else's account); sessions end when idle."""

import datetime
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import ApiToken, LoginAttempt
from accounts.services import LoginThrottled, client_address, login_check, login_retry_at

pytestmark = pytest.mark.django_db

HOME = "10.0.0.1"  # the real user's office
ATTACKER = "203.0.113.9"


def attempt(username="community", password="wrong", ip=HOME, **meta):
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip, **meta)
    return login_check(request=request, username=username, password=password)


def fail(times, username="community", ip=HOME):
    for _ in range(times):
        assert attempt(username, ip=ip) is None


def hammer(times, username="community", ip=ATTACKER):
    """Wrong passwords, going on after the refusals start."""
    for _ in range(times):
        try:
            attempt(username, ip=ip)
        except LoginThrottled:
            pass


def test_right_password_logs_in_and_is_recorded_with_the_address(worker):
    assert attempt(password="demo12345") == worker

    row = LoginAttempt.objects.get()
    assert row.succeeded and row.ip == HOME


def test_each_failure_is_recorded(worker):
    fail(3)

    assert LoginAttempt.objects.filter(username="community", succeeded=False).count() == 3


def test_four_failures_do_not_lock(worker):
    fail(4)

    assert login_retry_at(username="community", ip=HOME) is None
    assert attempt(password="demo12345") == worker


def test_five_failures_lock_even_the_right_password_from_that_address(worker):
    fail(5)

    with pytest.raises(LoginThrottled):
        attempt(password="demo12345")

    assert LoginAttempt.objects.filter(succeeded=True).count() == 0


def test_the_refusal_says_at_what_time_to_try_again(worker):
    fail(5)
    oldest = LoginAttempt.objects.order_by("at").first().at
    retry_at = timezone.localtime(oldest + datetime.timedelta(minutes=settings.LOGIN_LOCK_MINUTES))

    with pytest.raises(LoginThrottled) as exc_info:
        attempt(password="demo12345")

    message = str(exc_info.value)
    assert "登录失败次数过多" in message
    assert retry_at.strftime("%H:%M") in message
    assert "约 15 分钟" in message


def test_lock_ends_after_the_lock_window(worker):
    fail(5)
    LoginAttempt.objects.update(at=timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCK_MINUTES + 1))

    assert attempt(password="demo12345") == worker


def test_a_success_resets_the_failure_count_for_the_name_at_that_address(worker):
    fail(4)
    attempt(password="demo12345")
    fail(4)

    assert login_retry_at(username="community", ip=HOME) is None


def test_lock_of_one_name_does_not_touch_another_name(worker, worker_in_other_region):
    fail(5, "community")

    assert attempt("community2", "demo12345") == worker_in_other_region


def test_real_user_gets_in_while_an_attacker_elsewhere_hammers_their_name(worker):
    """Failing today: failures counted per name only, so the attacker locked the account."""
    hammer(25)

    assert attempt(password="demo12345", ip=HOME) == worker
    with pytest.raises(LoginThrottled):
        attempt(password="demo12345", ip=ATTACKER)


def test_spraying_many_names_from_one_address_is_slowed(worker):
    """Failing today: one failure for each of 30 names locked nothing."""
    for n in range(settings.LOGIN_MAX_FAILURES_PER_ADDRESS):
        assert attempt(f"guess{n}", "123456", ip=ATTACKER) is None

    with pytest.raises(LoginThrottled):
        attempt("guess-next", "123456", ip=ATTACKER)
    with pytest.raises(LoginThrottled):
        attempt("community", "demo12345", ip=ATTACKER)  # even a right guess is not checked
    assert attempt("community", "demo12345", ip=HOME) == worker
    assert LoginAttempt.objects.filter(ip=ATTACKER).count() == settings.LOGIN_MAX_FAILURES_PER_ADDRESS


def test_a_success_does_not_reset_the_count_for_the_address(worker):
    """A sprayer holding one real account cannot log in with it to wipe the address's count."""
    for n in range(settings.LOGIN_MAX_FAILURES_PER_ADDRESS - 1):
        attempt(f"guess{n}", ip=ATTACKER)
    assert attempt("community", "demo12345", ip=ATTACKER) == worker
    attempt("guess-last", ip=ATTACKER)

    with pytest.raises(LoginThrottled):
        attempt("community", "demo12345", ip=ATTACKER)


def test_per_address_limit_comes_from_settings(worker, settings):
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for n in range(3):
        attempt(f"guess{n}", ip=ATTACKER)

    with pytest.raises(LoginThrottled):
        attempt("community", "demo12345", ip=ATTACKER)


@hypothesis_settings(max_examples=25, deadline=None)
@given(here=st.integers(0, 8), elsewhere=st.integers(0, 8), other_names=st.integers(0, 8))
def test_a_name_is_locked_at_an_address_only_by_its_own_failures_there(here, elsewhere, other_names):
    LoginAttempt.objects.all().delete()
    hammer(here, ip=HOME)
    hammer(elsewhere)
    for n in range(other_names):
        attempt(f"other{n}", ip=HOME)

    locked = login_retry_at(username="community", ip=HOME) is not None

    assert locked == (here >= settings.LOGIN_MAX_FAILURES)


def test_x_forwarded_for_is_ignored_without_trusted_proxies(worker):
    """A client cannot dodge its lock by sending a new X-Forwarded-For each time."""
    for n in range(5):
        attempt(ip=ATTACKER, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    with pytest.raises(LoginThrottled):
        attempt(password="demo12345", ip=ATTACKER, HTTP_X_FORWARDED_FOR="198.51.100.77")
    assert set(LoginAttempt.objects.values_list("ip", flat=True)) == {ATTACKER}


def test_behind_a_trusted_proxy_the_address_the_proxy_saw_is_used(worker, settings):
    """Failing today: behind the proxy every login came from 127.0.0.1 and one name locked all."""
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        attempt(ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"6.6.6.6, {ATTACKER}")

    assert attempt(password="demo12345", ip="127.0.0.1", HTTP_X_FORWARDED_FOR=HOME) == worker
    with pytest.raises(LoginThrottled):
        attempt(password="demo12345", ip="127.0.0.1", HTTP_X_FORWARDED_FOR=f"{HOME}, {ATTACKER}")


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.1", "1.2.3.4", "10.0.0.1"),
        (1, "127.0.0.1", "1.2.3.4", "1.2.3.4"),
        (1, "127.0.0.1", "9.9.9.9, 1.2.3.4", "1.2.3.4"),  # the client's own claim on the left is ignored
        (2, "127.0.0.1", "9.9.9.9, 1.2.3.4, 10.1.1.1", "1.2.3.4"),
        (2, "127.0.0.1", "1.2.3.4", "127.0.0.1"),  # fewer hops than proxies: not through them
        (1, "127.0.0.1", "not-an-address", "127.0.0.1"),
        (1, "127.0.0.1", "2001:db8::1", "2001:db8::1"),
        (0, "", "", None),
    ],
)
def test_client_address(settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected


def test_unknown_address_is_throttled_per_name_but_never_all_together(worker, worker_in_other_region):
    for n in range(settings.LOGIN_MAX_FAILURES_PER_ADDRESS):
        attempt(f"guess{n}", ip="")

    assert attempt("community2", "demo12345", ip="") == worker_in_other_region


def test_prune_deletes_old_attempts_and_expired_tokens(worker):
    fail(2)
    old = LoginAttempt.objects.first()
    LoginAttempt.objects.filter(pk=old.pk).update(at=timezone.now() - datetime.timedelta(days=settings.LOGIN_ATTEMPT_DAYS + 1))
    ApiToken.objects.create(user=worker, key_hash="a" * 64, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    live = ApiToken.objects.create(user=worker, key_hash="b" * 64, expires_at=timezone.now() + datetime.timedelta(hours=1))

    call_command("prune_logins")

    assert LoginAttempt.objects.count() == 1 and not LoginAttempt.objects.filter(pk=old.pk).exists()
    assert list(ApiToken.objects.all()) == [live]


def test_login_page_logs_in_and_redirects_home(client, worker):
    response = client.post("/accounts/login/", {"username": "community", "password": "demo12345"})

    assert response.status_code == 302 and response.url == "/"
    assert client.session["_auth_user_id"] == str(worker.pk)


def test_login_page_ignores_a_next_url_on_another_host(client, worker):
    response = client.post("/accounts/login/?next=https://evil.example/", {"username": "community", "password": "demo12345"})

    assert response.url == "/"


def test_login_page_refuses_a_throttled_name_and_says_when(client, worker):
    fail(5, ip="127.0.0.1")  # the test client's address

    response = client.post("/accounts/login/", {"username": "community", "password": "demo12345"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert re.search(r"登录失败次数过多，请在 \d\d:\d\d 之后再试", response.content.decode())


def test_login_page_is_not_locked_by_failures_from_elsewhere(client, worker):
    """Failing today: an attacker's failures locked the real user out of the page too."""
    hammer(10)

    response = client.post("/accounts/login/", {"username": "community", "password": "demo12345"})

    assert response.status_code == 302 and client.session["_auth_user_id"] == str(worker.pk)


def test_login_page_refuses_an_over_long_user_name_on_the_field(client, worker):
    response = client.post("/accounts/login/", {"username": "a" * 151, "password": "x"})

    assert response.status_code == 200
    assert response.context["form"].errors["username"]
    assert not LoginAttempt.objects.exists()


def test_login_page_refuses_a_nul_in_the_user_name_with_a_page_that_says_so(client, worker):
    response = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})

    assert response.status_code == 400  # the request guard, before the view
    assert "空字符" in response.content.decode()
    assert not LoginAttempt.objects.exists()


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
