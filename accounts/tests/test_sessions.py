"""Ending sessions and tokens: logout, password changes, deactivation, a new role or region,
and an administrator's "end sessions" leave no browser session or API token of the user working."""

import pytest
from django.test import Client

from accounts.models import ApiToken, User
from audit.models import ChangeRecord
from conftest import make_user

pytestmark = pytest.mark.django_db


def signed_in(username="community", password="demo12345"):
    """A browser that logged in through the login page."""
    browser = Client()
    response = browser.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:500]
    return browser


def token_for(username="community", password="demo12345"):
    client = Client()
    response = client.post("/api/auth/token", {"username": username, "password": password}, content_type="application/json")
    assert response.status_code == 200
    return response.json()["token"]


def opens_a_page(browser) -> bool:
    return browser.get("/elders/").status_code == 200


def token_works(token) -> bool:
    return Client().get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.fixture
def street_admin(tree):
    """An administrator of 东城街道 (安泰社区 is inside, 驻春路社区 is not)."""
    return make_user("street_admin", "admin", tree.street)


def edit_user(browser, user, **over):
    data = {"full_name": user.full_name, "role": user.role, "region": user.region_id, "is_active": "on"}
    data.update(over)
    data = {k: v for k, v in data.items() if v is not None}
    return browser.post(f"/accounts/users/{user.pk}/", data)


# Logout


def test_api_logout_ends_the_token_it_is_called_with_only(worker):
    """Failing today: there was no POST /api/auth/logout (404), and the token kept working."""
    first, second = token_for(), token_for()

    response = Client().post("/api/auth/logout", headers={"Authorization": f"Bearer {first}"})

    assert response.status_code == 204
    assert not token_works(first)
    assert token_works(second)
    assert ApiToken.objects.filter(user=worker).count() == 1


def test_api_logout_with_a_browser_session_ends_that_session(worker):
    browser = signed_in()

    assert browser.post("/api/auth/logout").status_code == 204

    assert not opens_a_page(browser)


def test_api_logout_without_credentials_is_401(worker):
    assert Client().post("/api/auth/logout").status_code == 401


def test_logout_and_token_routes_are_declared_in_the_schema(client):
    paths = client.get("/api/openapi.json").json()["paths"]

    assert "204" in paths["/api/auth/logout"]["post"]["responses"]
    assert "204" in paths["/api/auth/tokens/{token_id}"]["delete"]["responses"]
    assert {"204", "403", "404"} <= set(paths["/api/auth/users/{user_id}/end-sessions"]["post"]["responses"])
    assert {"401", "422", "429"} <= set(paths["/api/auth/token"]["post"]["responses"])


# Password changes


def test_own_password_change_ends_tokens_and_other_sessions_but_keeps_this_browser(worker):
    """Failing today: the token outlived the password change."""
    here, elsewhere, token = signed_in(), signed_in(), token_for()

    response = here.post(
        "/accounts/password/",
        {"old_password": "demo12345", "new_password1": "Quite-new-pass-2026", "new_password2": "Quite-new-pass-2026"},
    )

    assert response.status_code == 302
    # Django's intended behaviour (PasswordChangeView + update_session_auth_hash): the browser
    # that changed the password stays signed in; every other session ends.
    assert opens_a_page(here)
    assert not opens_a_page(elsewhere)
    assert not token_works(token)
    assert token_works(token_for(password="Quite-new-pass-2026"))


def test_password_set_by_an_admin_ends_every_session_and_token(admin_user, worker):
    """Failing today: an administrator could not set a password at all (404), nor end tokens."""
    browser, token = signed_in(), token_for()
    admin = signed_in("admin")

    response = admin.post(
        f"/accounts/users/{worker.pk}/password/",
        {"new_password1": "Reset-by-admin-2026", "new_password2": "Reset-by-admin-2026"},
    )

    assert response.status_code == 302
    assert not opens_a_page(browser)
    assert not token_works(token)
    assert opens_a_page(signed_in(password="Reset-by-admin-2026"))
    assert opens_a_page(admin)
    assert ChangeRecord.objects.filter(model="accounts.user", object_id=worker.pk, action="password_reset").exists()


def test_admin_password_reset_refuses_a_weak_password_on_the_field(admin_user, worker):
    admin = signed_in("admin")

    response = admin.post(f"/accounts/users/{worker.pk}/password/", {"new_password1": "12345678", "new_password2": "12345678"})

    assert response.status_code == 200
    assert response.context["form"].errors
    worker.refresh_from_db()
    assert worker.check_password("demo12345")


def test_admin_password_reset_of_a_user_in_another_region_is_404(street_admin, worker_in_other_region):
    admin = signed_in("street_admin")

    response = admin.post(
        f"/accounts/users/{worker_in_other_region.pk}/password/",
        {"new_password1": "Reset-by-admin-2026", "new_password2": "Reset-by-admin-2026"},
    )

    assert response.status_code == 404
    worker_in_other_region.refresh_from_db()
    assert worker_in_other_region.check_password("demo12345")


# Deactivation, role and region


def test_deactivation_ends_sessions_and_tokens_for_good(admin_user, worker):
    """Failing today: enabling the account again brought back the old session and token."""
    browser, token = signed_in(), token_for()
    admin = signed_in("admin")

    assert edit_user(admin, worker, is_active=None).status_code == 302
    assert not opens_a_page(browser)  # the session cookie of a deactivated user opens nothing
    assert not token_works(token)

    worker.refresh_from_db()
    assert edit_user(admin, worker).status_code == 302
    assert User.objects.get(pk=worker.pk).is_active
    assert not opens_a_page(browser)
    assert not token_works(token)
    assert not ApiToken.objects.filter(user=worker).exists()


@pytest.mark.parametrize("change", ["role", "region"])
def test_a_new_role_or_region_ends_sessions_and_tokens(admin_user, worker, tree, change):
    """Failing today: a session and token made under the old role and region went on working."""
    browser, token = signed_in(), token_for()
    admin = signed_in("admin")

    over = {"role": "grid"} if change == "role" else {"region": tree.community2.pk}
    assert edit_user(admin, worker, **over).status_code == 302

    assert not opens_a_page(browser)
    assert not token_works(token)


def test_changing_only_the_name_keeps_sessions_and_tokens(admin_user, worker):
    browser, token = signed_in(), token_for()
    admin = signed_in("admin")

    assert edit_user(admin, worker, full_name="新名字").status_code == 302

    assert opens_a_page(browser)
    assert token_works(token)


def test_admin_moving_themselves_stays_signed_in_here_only(admin_user, tree):
    admin, elsewhere, token = signed_in("admin"), signed_in("admin"), token_for("admin")

    assert edit_user(admin, admin_user, region=tree.city.pk).status_code == 302

    assert opens_a_page(admin)
    assert not opens_a_page(elsewhere)
    assert not token_works(token)


# An administrator ends a user's sessions


def test_admin_ends_all_sessions_and_tokens_from_the_users_page(admin_user, worker):
    """Failing today: there was no way to end them (404)."""
    browser, token = signed_in(), token_for()
    admin = signed_in("admin")

    page = admin.get(f"/accounts/users/{worker.pk}/")
    assert f"/accounts/users/{worker.pk}/end-sessions/" in page.content.decode()
    response = admin.post(f"/accounts/users/{worker.pk}/end-sessions/")

    assert response.status_code == 302
    assert not opens_a_page(browser)
    assert not token_works(token)
    assert opens_a_page(signed_in())  # the user can log in again
    assert ChangeRecord.objects.filter(model="accounts.user", object_id=worker.pk, action="end_sessions").exists()


def test_admin_ends_all_sessions_and_tokens_through_the_api(admin_user, worker):
    """Failing today: no such route (404)."""
    browser, token = signed_in(), token_for()
    admin_token = token_for("admin")

    response = Client().post(f"/api/auth/users/{worker.pk}/end-sessions", headers={"Authorization": f"Bearer {admin_token}"})

    assert response.status_code == 204
    assert not opens_a_page(browser)
    assert not token_works(token)
    assert token_works(admin_token)


def test_ending_sessions_of_a_user_in_another_region_is_404(street_admin, worker_in_other_region):
    browser, token = signed_in("community2"), token_for("community2")
    admin_token = token_for("street_admin")
    admin = signed_in("street_admin")

    api = Client().post(
        f"/api/auth/users/{worker_in_other_region.pk}/end-sessions", headers={"Authorization": f"Bearer {admin_token}"}
    )
    page = admin.post(f"/accounts/users/{worker_in_other_region.pk}/end-sessions/")

    assert api.status_code == 404 and page.status_code == 404
    assert opens_a_page(browser)
    assert token_works(token)


def test_ending_sessions_needs_the_change_user_permission(worker, tree):
    colleague = make_user("colleague", "community", tree.community)
    browser, token = signed_in("colleague"), token_for("colleague")
    worker_token = token_for()

    api = Client().post(f"/api/auth/users/{colleague.pk}/end-sessions", headers={"Authorization": f"Bearer {worker_token}"})
    page = signed_in().post(f"/accounts/users/{colleague.pk}/end-sessions/")

    assert api.status_code == 403 and page.status_code == 403
    assert opens_a_page(browser)
    assert token_works(token)


def test_ending_sessions_needs_post(admin_user, worker):
    assert signed_in("admin").get(f"/accounts/users/{worker.pk}/end-sessions/").status_code == 405


# A user's own tokens


def test_user_lists_their_own_tokens_without_keys(worker, worker_in_other_region):
    """Failing today: no such route (404)."""
    current, other = token_for(), token_for()
    token_for("community2")

    response = Client().get("/api/auth/tokens", headers={"Authorization": f"Bearer {current}"})

    assert response.status_code == 200
    items = response.json()
    assert len(items) == 2
    assert set(items[0]) == {"id", "created_at", "last_used_at", "expires_at", "is_current"}
    assert [i["is_current"] for i in items].count(True) == 1
    assert current not in response.content.decode() and other not in response.content.decode()


def test_user_ends_one_of_their_own_tokens(worker):
    current, other = token_for(), token_for()
    other_id = next(
        i["id"]
        for i in Client().get("/api/auth/tokens", headers={"Authorization": f"Bearer {current}"}).json()
        if not i["is_current"]
    )

    response = Client().delete(f"/api/auth/tokens/{other_id}", headers={"Authorization": f"Bearer {current}"})

    assert response.status_code == 204
    assert token_works(current) and not token_works(other)


def test_user_cannot_end_someone_elses_token(worker, worker_in_other_region):
    theirs = token_for("community2")
    their_id = ApiToken.objects.get(user=worker_in_other_region).pk

    response = Client().delete(f"/api/auth/tokens/{their_id}", headers={"Authorization": f"Bearer {token_for()}"})
    page = signed_in().post(f"/accounts/tokens/{their_id}/end/")

    assert response.status_code == 404 and page.status_code == 404
    assert token_works(theirs)


def test_token_page_lists_and_ends_own_tokens(worker):
    token = token_for()
    browser = signed_in()
    token_id = ApiToken.objects.get(user=worker).pk

    page = browser.get("/accounts/tokens/")
    assert page.status_code == 200 and f"/accounts/tokens/{token_id}/end/" in page.content.decode()
    assert token not in page.content.decode()

    assert browser.post(f"/accounts/tokens/{token_id}/end/").status_code == 302
    assert not token_works(token)
