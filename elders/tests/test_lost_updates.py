"""Lost updates (issue 8, finding 6): an edit carries the version it started from; when
someone saved the elder meanwhile, the save is refused, nothing is written, and the refusal
says who changed which fields, and when."""

import datetime
import io
import threading
import time

import pytest
from django.db import connection

from accounts.services import api_token_create
from audit.models import ChangeRecord
from conftest import make_user
from elders import services
from elders.importer import import_elders
from elders.models import Elder
from elders.tests.factories import ElderFactory
from elders.tests.sheets import id_number, person, xlsx

ADDRESS = "安泰小区3号楼"


def registered(tree):
    """王秀兰 of 安泰社区, whose ID number is id_number(2) of the test sheets."""
    return ElderFactory(
        region=tree.community,
        name="王秀兰",
        id_number=id_number(2),
        sex="F",
        birth_date=datetime.date(1949, 12, 31),
        phone="13812345678",
        address=ADDRESS,
    )


@pytest.fixture
def colleague(tree):
    """A second worker of 安泰社区, editing the same elders."""
    return make_user("colleague", "community", tree.community)


def edit_form_values(response) -> dict:
    """What the edit page would post back untouched: its form's values as rendered."""
    form = response.context["form"]
    values = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False, ""):
            continue
        values[name] = "on" if value is True else value
    return values


def update_records(elder):
    return ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk, action="update")


# --- the version --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_write_raises_the_version_by_one(worker, tree):
    elder = registered(tree)
    other = ElderFactory(region=tree.community, name="王秀兰", id_number="", birth_date=elder.birth_date)
    assert elder.version == 1

    services.elder_update(by=worker, elder=elder, data={"address": "新地址"}, version=1)
    services.elder_change_status(by=worker, elder=elder, action="enter_institution", effective_on=datetime.date.today())
    services.elder_merge(by=worker, keep=Elder.objects.get(pk=elder.pk), other=other)
    import_elders(io.BytesIO(xlsx([person(2, 详细地址="导入的地址")])), by=worker)

    elder.refresh_from_db()
    assert (elder.version, elder.address) == (5, "导入的地址")


@pytest.mark.django_db
def test_a_save_that_changes_nothing_keeps_the_version(worker, tree):
    elder = registered(tree)

    services.elder_update(by=worker, elder=elder, data={"address": ADDRESS}, version=1)

    elder.refresh_from_db()
    assert elder.version == 1


@pytest.mark.django_db
def test_a_stale_update_is_refused_naming_who_changed_what_and_writes_nothing(worker, colleague, tree):
    elder = registered(tree)
    services.elder_update(by=colleague, elder=elder, data={"address": "新地址", "notes": "已走访"}, version=1)

    with pytest.raises(services.ElderChanged) as refused:
        services.elder_update(by=worker, elder=elder, data={"phone": "13900002222"}, version=1)

    message = refused.value.messages[0]
    assert "colleague" in message and "详细地址" in message and "备注" in message
    elder.refresh_from_db()
    assert (elder.address, elder.phone_masked, elder.version) == ("新地址", "138****5678", 2)
    assert update_records(elder).count() == 1


@pytest.mark.django_db
def test_an_import_since_the_edit_began_makes_the_edit_stale(worker, tree):
    elder = registered(tree)
    import_elders(io.BytesIO(xlsx([person(2, 详细地址="导入的地址")])), by=worker)

    with pytest.raises(services.ElderChanged) as refused:
        services.elder_update(by=worker, elder=elder, data={"notes": "x"}, version=1)

    assert "详细地址" in refused.value.messages[0]
    elder.refresh_from_db()
    assert (elder.address, elder.notes) == ("导入的地址", "")


# --- the edit page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_second_editor_of_the_page_is_refused_and_shown_what_changed(client, worker, colleague, tree):
    from django.test import Client

    elder = registered(tree)
    first, second = Client(), client
    first.force_login(colleague)
    second.force_login(worker)
    first_form = edit_form_values(first.get(f"/elders/{elder.pk}/edit/"))
    second_form = edit_form_values(second.get(f"/elders/{elder.pk}/edit/"))
    assert first_form["version"] == second_form["version"] == 1

    saved = first.post(f"/elders/{elder.pk}/edit/", {**first_form, "address": "新地址"})
    refused = second.post(f"/elders/{elder.pk}/edit/", {**second_form, "notes": "已走访"})

    assert saved.status_code == 302
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "colleague" in page and "详细地址" in page and "没有保存" in page
    elder.refresh_from_db()
    assert (elder.address, elder.notes, elder.version) == ("新地址", "", 2)
    assert update_records(elder).count() == 1
    # The form shown again keeps what this user typed, takes the other's change for the field
    # this user left alone, and now carries the current version.
    form = refused.context["form"]
    assert (form["notes"].value(), form["address"].value(), form["version"].value()) == ("已走访", "新地址", "2")


@pytest.mark.django_db
def test_after_the_refusal_saving_again_keeps_both_changes(client, worker, colleague, tree):
    from django.test import Client

    elder = registered(tree)
    first = Client()
    first.force_login(colleague)
    client.force_login(worker)
    first_form = edit_form_values(first.get(f"/elders/{elder.pk}/edit/"))
    second_form = edit_form_values(client.get(f"/elders/{elder.pk}/edit/"))
    first.post(f"/elders/{elder.pk}/edit/", {**first_form, "address": "新地址"})
    refused = client.post(f"/elders/{elder.pk}/edit/", {**second_form, "notes": "已走访"})

    again = client.post(f"/elders/{elder.pk}/edit/", edit_form_values(refused))

    assert again.status_code == 302
    elder.refresh_from_db()
    assert (elder.address, elder.notes, elder.version) == ("新地址", "已走访", 3)


@pytest.mark.django_db
def test_a_field_both_editors_changed_keeps_the_typed_value_and_names_the_stored_one(client, worker, colleague, tree):
    elder = registered(tree)
    client.force_login(worker)
    form = edit_form_values(client.get(f"/elders/{elder.pk}/edit/"))
    services.elder_update(by=colleague, elder=elder, data={"address": "同事填的地址"}, version=1)

    refused = client.post(f"/elders/{elder.pk}/edit/", {**form, "address": "我填的地址"})

    form = refused.context["form"]
    assert form["address"].value() == "我填的地址"
    assert any("同事填的地址" in e for e in form.errors["address"])
    elder.refresh_from_db()
    assert elder.address == "同事填的地址"


@pytest.mark.django_db
def test_edit_page_post_without_the_version_is_refused(client, worker, tree):
    elder = registered(tree)
    client.force_login(worker)
    form = edit_form_values(client.get(f"/elders/{elder.pk}/edit/"))
    form.pop("version")

    response = client.post(f"/elders/{elder.pk}/edit/", {**form, "notes": "x"})

    assert response.status_code == 200
    assert "页面已过期" in response.content.decode()
    elder.refresh_from_db()
    assert elder.notes == ""


# --- the API --------------------------------------------------------------------------------------------


def patch(client, user, elder_id, data):
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
    return client.patch(f"/api/elders/{elder_id}", data, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_api_get_gives_the_version_and_a_stale_patch_is_409_naming_the_change(client, worker, colleague, tree):
    elder = registered(tree)
    headers = {"Authorization": f"Bearer {api_token_create(user=worker)}"}
    version = client.get(f"/api/elders/{elder.pk}", headers=headers).json()["version"]

    first = patch(client, colleague, elder.pk, {"address": "新地址", "version": version})
    second = patch(client, worker, elder.pk, {"notes": "已走访", "version": version})

    assert (first.status_code, first.json()["version"]) == (200, 2)
    assert second.status_code == 409
    body = second.json()
    assert "colleague" in body["detail"] and "详细地址" in body["detail"]
    assert {"version", "address"} <= {e["field"] for e in body["errors"]}
    assert body["version"] == 2
    elder.refresh_from_db()
    assert (elder.address, elder.notes) == ("新地址", "")


@pytest.mark.django_db
def test_api_patch_without_a_version_is_422_and_writes_nothing(client, worker, tree):
    elder = registered(tree)

    response = patch(client, worker, elder.pk, {"notes": "已走访"})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["version"]
    elder.refresh_from_db()
    assert elder.notes == ""


@pytest.mark.django_db
def test_openapi_declares_the_version_and_the_409(client):
    schema = client.get("/api/openapi.json").json()

    patch_op = schema["paths"]["/api/elders/{elder_id}"]["patch"]
    assert "409" in patch_op["responses"]
    body_ref = patch_op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    assert "version" in schema["components"]["schemas"][body_ref]["required"]


# --- real concurrent connections (PostgreSQL) ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_of_the_same_version_exactly_one_wins(worker, colleague, tree, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    elder = registered(tree)
    clean = services.clean_elder_input

    def slow_clean(*args, **kwargs):
        # Hold the transaction open after the version check, so both saves overlap: without
        # the row lock both would pass the check.
        time.sleep(0.3)
        return clean(*args, **kwargs)

    monkeypatch.setattr(services, "clean_elder_input", slow_clean)
    start = threading.Barrier(2)
    outcomes = {}

    def save(user, notes):
        from django.db import connections

        try:
            start.wait()
            services.elder_update(by=user, elder=elder, data={"notes": notes}, version=1)
            outcomes[user.username] = "saved"
        except services.ElderChanged:
            outcomes[user.username] = "refused"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(u, u.username)) for u in (worker, colleague)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(outcomes.values()) == ["refused", "saved"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "saved")
    elder.refresh_from_db()
    assert (elder.notes, elder.version) == (winner, 2)
    assert update_records(elder).count() == 1
