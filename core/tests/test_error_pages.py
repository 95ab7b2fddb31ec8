"""Error pages in Chinese with the app's look and a way back, never Django's debug pages
(issue 9: `make run` showed the debug 404 with the site's URL patterns and a bare English
"403 Forbidden"). And `make run` serves as a deployment does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_an_unknown_page_is_a_chinese_404_with_a_way_back(client, worker):
    client.force_login(worker)

    response = client.get("/no-such-page/")
    html = response.content.decode()

    assert response.status_code == 404
    assert "页面不存在" in html and 'href="/"' in html and "回到工作台" in html
    assert "URLconf" not in html and "Page not found" not in html
    assert "yinling.css" in html  # the app's look


def test_an_elder_outside_the_scope_is_the_same_404_page(client, worker_in_other_region, tree):
    from elders.tests.factories import ElderFactory

    elder = ElderFactory(region=tree.community)
    client.force_login(worker_in_other_region)

    response = client.get(f"/elders/{elder.pk}/")

    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_page_the_role_may_not_open_is_a_chinese_403_with_a_way_back(client, grid_user):
    client.force_login(grid_user)

    response = client.get("/audit/access/")
    html = response.content.decode()

    assert response.status_code == 403
    assert "没有权限" in html and "回到工作台" in html
    assert "Forbidden" not in html


def test_the_403_page_says_the_reason_when_there_is_one(client, grid_user):
    client.force_login(grid_user)

    html = client.get("/elders/duplicates/").content.decode()

    assert "您的角色没有此权限" in html


def test_a_server_error_is_a_chinese_500_page_that_needs_no_request_context():
    response = server_error(RequestFactory().get("/"))
    html = response.content.decode()

    assert response.status_code == 500
    assert "系统出错了" in html and "回到工作台" in html
    assert "Traceback" not in html


def test_a_form_posted_without_its_csrf_token_is_a_chinese_page(client, worker):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(worker)

    response = csrf_client.post("/elders/new/", {"name": "王秀兰"})

    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def _settings_in(env: dict) -> dict:
    code = "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'yinling.settings'); django.setup(); {code}",
        ],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_make_run_settings_are_production_ones_over_plain_http_on_loopback():
    run_env = dict(
        item.split("=") for item in (BASE_DIR / "Makefile").read_text().split("RUN_ENV := ")[1].splitlines()[0].split()
    )

    debug, session_secure, csrf_secure, redirect = _settings_in(run_env)

    assert run_env["DEBUG"] == "false" and debug == "False"
    assert (session_secure, csrf_secure, redirect) == ("False", "False", "False")


def test_a_deployment_keeps_secure_cookies_by_default():
    assert _settings_in({"DEBUG": "false"})[1:] == ["True", "True", "True"]


def test_make_run_serves_with_gunicorn_on_the_configurable_port_and_collects_static_files():
    makefile = (BASE_DIR / "Makefile").read_text()
    recipe = makefile.split("\nrun: install\n")[1].split("\n\n")[0]

    assert "gunicorn yinling.wsgi --bind 127.0.0.1:$(PORT)" in recipe
    assert "collectstatic" in recipe and "db_worker" in recipe and "run_scheduler" in recipe
    assert "runserver" not in recipe
    assert "PORT ?= 8000" in makefile


def test_the_demo_keys_are_written_once_and_never_replace_keys_from_the_environment(tmp_path):
    script = BASE_DIR / "tools" / "demo_keys.py"
    keys = tmp_path / ".demo-keys.env"
    subprocess.run([sys.executable, script, keys, tmp_path / "no.sqlite3"], check=True, capture_output=True)
    first = keys.read_text()
    subprocess.run([sys.executable, script, keys, tmp_path / "no.sqlite3"], check=True, capture_output=True)

    shown = subprocess.run(
        ["bash", "-c", f'set -a; . "{keys}"; set +a; echo "$SECRET_KEY|$FIELD_ENCRYPTION_KEY"'],
        env={"PATH": os.environ["PATH"], "SECRET_KEY": "from-the-environment"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert keys.read_text() == first
    secret, field_key = shown.split("|")
    assert secret == "from-the-environment"
    assert len(field_key) == 44 and field_key != "eWlubGluZy1kZXYtb25seS1maWVsZC1rZXktMzJiISE="
    assert oct(keys.stat().st_mode)[-3:] == "600"


def test_a_demo_database_made_before_the_keys_keeps_the_development_field_key(tmp_path):
    database = tmp_path / "db.sqlite3"
    database.write_bytes(b"")
    keys = tmp_path / ".demo-keys.env"

    subprocess.run([sys.executable, BASE_DIR / "tools" / "demo_keys.py", keys, database], check=True, capture_output=True)

    from django.conf import settings

    assert settings.DEV_FIELD_KEY in keys.read_text()
