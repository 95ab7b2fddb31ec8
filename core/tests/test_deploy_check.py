"""`manage.py check --deploy` with production settings: clean with real keys, refused with the dev keys.

Runs in a subprocess because settings are read from the environment once, at start-up.
"""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SETTINGS_PY = BASE_DIR / "yinling" / "settings.py"


def _settings_variables() -> set[str]:
    """Every environment variable settings.py reads through the yinling.env helpers."""
    return set(re.findall(r"env_(?:str|bool|int|list)\(\s*\"([A-Z0-9_]+)\"", SETTINGS_PY.read_text()))


def _check_deploy(**variables):
    # A bare environment: neither the machine's settings nor what other tests set in this
    # process (the e2e tests set DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy refuses) leak in.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR") or k.startswith("LC_")}
    env.update(DJANGO_SETTINGS_MODULE="yinling.settings", **variables)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_environment() -> dict[str, str]:
    """The variables docs/deploy.md tells an operator to set, with fresh keys."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "example.org",
        "CSRF_TRUSTED_ORIGINS": "https://example.org",
        "DATABASE_URL": "postgres://yinling@127.0.0.1:5432/yinling",
    }


def test_deploy_check_passes_with_the_production_environment():
    result = _check_deploy(**production_environment())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_refuses_the_development_keys():
    env = production_environment()
    del env["SECRET_KEY"], env["FIELD_ENCRYPTION_KEY"]

    result = _check_deploy(**env)

    assert result.returncode != 0
    assert "yinling.E001" in result.stderr
    assert "yinling.E002" in result.stderr


def test_every_variable_settings_reads_is_listed_in_docs_configuration():
    documented = (BASE_DIR / "docs" / "configuration.md").read_text()

    missing = sorted(name for name in _settings_variables() if f"`{name}`" not in documented)

    assert len(_settings_variables()) > 10
    assert missing == []
