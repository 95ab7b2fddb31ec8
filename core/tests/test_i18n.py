"""English through Django i18n: pages and API errors speak English when asked, and the
committed catalogue (locale/en/LC_MESSAGES/django.po and its compiled .mo) leaves nothing out.

When a test here fails because of new strings, refresh the catalogue:

    .venv/bin/python manage.py makemessages -l en --ignore=.venv --ignore=bench --ignore=e2e
    (translate the new entries in locale/en/LC_MESSAGES/django.po; remove any "#, fuzzy")
    .venv/bin/python manage.py compilemessages -l en --ignore=.venv

and commit both django.po and django.mo (CI and `make run` do not compile).
"""

import gettext as gettext_module
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from core.idnumbers import make_id_number
from elders.tests.factories import born_years_ago

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
MO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.mo"
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- a tiny .po reader ---------------------------------------------------------------------


def _unquote(s):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def po_entries(text):
    """[(flags, {"msgid": …, "msgid_plural": …, "msgstr": … / "msgstr[0]": …})] without the header."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        flags, fields, key = set(), {}, None
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(f.strip() for f in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += _unquote(line.strip()[1:-1])
            else:
                key, _, value = line.partition(" ")
                fields[key] = _unquote(value.strip()[1:-1])
        if fields.get("msgid"):
            entries.append((flags, fields))
    return entries


def msgstrs(fields):
    return [v for k, v in fields.items() if k.startswith("msgstr")]


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


# --- pages and API in English ---------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_in_english_for_accept_language_en(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html or 'lang="en"' in html
    for text in ("Sign in", "Username", "Password", "Community home-based elderly care platform"):
        assert text in html, text
    assert "请使用社区或街道分配的账号登录" not in html


@pytest.mark.django_db
def test_login_page_stays_chinese_by_default(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "请使用社区或街道分配的账号登录" in html and "Sign in" not in html


@pytest.mark.django_db
def test_language_switch_makes_the_elder_list_english(client, worker):
    client.force_login(worker)

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/elders/").content.decode()

    assert "Elder registry" in html and "老年人信息库" not in html


def _token(client):
    response = client.post(
        "/api/auth/token",
        {"username": "community", "password": "demo12345"},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.mark.django_db
def test_api_bad_id_number_error_is_english_and_names_the_field(client, worker, tree):
    token = _token(client)
    body = {
        "region": tree.community.pk,
        "name": "王秀兰",
        "id_number": "110105194912310021",  # check digit should be X
        "phone": "13812345678",
    }

    response = client.post(
        "/api/elders",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["id_number"] == "The ID number's check digit is wrong; please check the 18th character"
    assert "check digit" in response.json()["detail"]


@pytest.mark.django_db
def test_api_under_age_error_is_english_with_its_numbers(client, worker, tree):
    token = _token(client)
    body = {"region": tree.community.pk, "name": "王秀兰", "id_number": make_id_number("110105", born_years_ago(55), 3)}

    response = client.post(
        "/api/elders",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "id_number"
    assert error["message"].startswith("Under 60 years old (now 55)")


# --- the catalogue ------------------------------------------------------------------------


def test_po_has_no_untranslated_or_fuzzy_entries():
    entries = po_entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 400

    fuzzy = [f["msgid"] for flags, f in entries if "fuzzy" in flags]
    empty = [f["msgid"] for flags, f in entries if any(not s for s in msgstrs(f))]
    still_chinese = [
        f["msgid"]
        for _flags, f in entries
        if CJK.search(f["msgid"]) and any(s == f["msgid"] or not CJK.sub("", s).strip() for s in msgstrs(f))
    ]
    assert not fuzzy, f"fuzzy entries in {PO}: {fuzzy}"
    assert not empty, f"untranslated entries in {PO}: {empty}"
    assert not still_chinese, f"entries copied, not translated: {still_chinese}"


def test_po_translations_keep_every_placeholder():
    wrong = []
    for _flags, f in po_entries(PO.read_text(encoding="utf-8")):
        want = sorted(PLACEHOLDER.findall(f["msgid"]))
        for s in msgstrs(f):
            if sorted(PLACEHOLDER.findall(s)) != want:
                wrong.append((f["msgid"], s))
    assert not wrong, wrong


def test_committed_mo_matches_the_po():
    """The .mo is committed because nothing compiles it later; a stale one shows Chinese."""
    catalogue = gettext_module.GNUTranslations(MO.open("rb"))
    stale = []
    for _flags, f in po_entries(PO.read_text(encoding="utf-8")):
        if "msgid_plural" in f:
            got = [catalogue.ngettext(f["msgid"], f["msgid_plural"], n) for n in (1, 2)]
            want = [f["msgstr[0]"], f["msgstr[1]"]]
        else:
            got, want = catalogue.gettext(f["msgid"]), f["msgstr"]
        if got != want:
            stale.append(f["msgid"])
    assert not stale, f"{MO} is older than {PO}; run compilemessages -l en. Stale: {stale[:20]}"


# Django's makemessages keywords (plus `_l`, see core/management/commands/makemessages.py).
XGETTEXT_KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
    "_l",
]
SOURCE_DIRS = ["accounts", "audit", "core", "elders", "jobs", "regions", "yinling"]


def source_msgids(tmp_path):
    """Every msgid in the apps' Python and the templates, extracted the way makemessages does."""
    base = Path(settings.BASE_DIR)
    files = []
    for d in SOURCE_DIRS:
        files += [p for p in (base / d).rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]
    for i, template in enumerate(sorted((base / "templates").rglob("*.html"))):
        py = tmp_path / f"t{i}.py"
        py.write_text(templatize(template.read_text(encoding="utf-8"), origin=str(template)), encoding="utf-8")
        files.append(py)
    pot = tmp_path / "all.pot"
    cmd = ["xgettext", "-d", "django", "--language=Python", "--from-code=UTF-8", "--add-comments=Translators"]
    cmd += [f"--keyword={k}" for k in XGETTEXT_KEYWORDS] + ["-o", str(pot)] + [str(f) for f in files]
    subprocess.run(cmd, check=True, capture_output=True)
    return {f["msgid"]: f for _flags, f in po_entries(pot.read_text(encoding="utf-8"))}


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools are not installed")
def test_compiled_catalogue_covers_the_source_strings(tmp_path):
    """At least 98 % of today's source strings are in the committed .mo, so a few new strings
    can wait for the next refresh, but a forgotten page cannot; the missing ones are printed."""
    catalogue = gettext_module.GNUTranslations(MO.open("rb"))
    found = source_msgids(tmp_path)
    missing = []
    for msgid, f in found.items():
        if "msgid_plural" in f:
            translated = catalogue.ngettext(msgid, f["msgid_plural"], 1) != msgid
        else:
            translated = catalogue.gettext(msgid) != msgid
        if not translated and CJK.search(msgid):
            missing.append(msgid)
    coverage = 1 - len(missing) / len(found)
    if missing:
        print(f"{len(missing)} source strings have no English yet (refresh with makemessages + compilemessages):")
        for msgid in missing:
            print("  ", msgid)
    assert len(found) > 400
    assert coverage >= 0.98, f"English covers {coverage:.1%} of source strings; missing: {missing}"
