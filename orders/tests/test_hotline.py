"""The hotline: a worker types the caller's number (POST, never in a URL), finds the elder by
the elder's own phone or an emergency contact's (lookup hashes: the contact's comes from the
elders migration 0010 too), sees masked numbers only, and orders for the elder with the
caller's name and relation. Each lookup is in the access log without the number."""

import datetime
import importlib

import pytest
from django.apps import apps as global_apps

from audit.models import AccessLog
from conftest import make_user
from core import crypto
from elders.models import EmergencyContact
from elders.services import elder_update
from orders.models import Order

pytestmark = pytest.mark.django_db

ELDER_PHONE = "13901230001"
SON_PHONE = "13988887777"


@pytest.fixture
def desk(client, loop):
    client.force_login(loop.desk)
    return client


@pytest.fixture
def son(loop):
    """The elder's son, an emergency contact written through the elder services."""
    elder_update(
        by=loop.admin,
        elder=loop.elder,
        data={"contacts": [{"name": "王小明", "relation": "child", "phone": SON_PHONE, "is_primary": True}]},
    )
    return loop.elder.contacts.get()


def _phone(elder, number):
    from elders.services import set_phone

    set_phone(elder, number)
    elder.save(update_fields=["phone_enc", "phone_hash", "phone_masked", "phone_tail"])


def test_a_contact_written_by_the_services_gets_its_lookup_hash(son):
    assert son.phone_hash == crypto.lookup_hash(SON_PHONE)
    assert son.phone_masked == "139****7777"


def test_the_elders_own_number_finds_the_elder(desk, loop):
    _phone(loop.elder, ELDER_PHONE)
    response = desk.post("/orders/hotline/", {"phone": "139-0123-0001"})

    page = response.content.decode()
    assert response.status_code == 200
    assert loop.elder.name in page and "老人本人的电话 139****0001" in page
    assert ELDER_PHONE not in page and "13901230001" not in page
    assert f'action="/orders/new/{loop.elder.pk}/"' in page


def test_a_relatives_number_finds_the_elder_with_the_caller_named(desk, loop, son):
    response = desk.post("/orders/hotline/", {"phone": "+86 139 8888 7777"})

    page = response.content.decode()
    assert loop.elder.name in page and "紧急联系人 王小明（子女）139****7777" in page
    assert SON_PHONE not in page
    assert 'name="caller_name" value="王小明"' in page and 'name="caller_relation" value="子女"' in page


def test_the_number_is_in_no_url_and_the_lookup_is_logged_without_it(desk, loop, son):
    response = desk.post("/orders/hotline/", {"phone": SON_PHONE}, headers={"HX-Request": "true"})

    assert response.status_code == 200 and "HX-Push-Url" not in response and "Location" not in response
    page = response.content.decode()
    assert 'id="matches"' in page and "<html" not in page  # the htmx partial
    log = AccessLog.objects.get(kind="search")
    assert log.model == "elders.elder" and log.fields == "phone" and log.by == loop.desk
    assert log.detail["found"] == 1 and log.detail["elders"] == [loop.elder.pk] and log.detail["via"] == "hotline"
    assert SON_PHONE not in str(log.detail) and "7777" not in str(log.detail)
    # The form posts to the hotline itself; nothing on the page links with the number.
    assert "phone=" not in page


def test_a_number_nobody_has_finds_nobody_and_says_what_to_do(desk, loop, son):
    page = desk.post("/orders/hotline/", {"phone": "13700001111"}).content.decode()
    assert "辖区内没有登记这个号码" in page and loop.elder.name not in page


def test_a_bad_number_is_refused_on_the_field(desk):
    response = desk.post("/orders/hotline/", {"phone": "12345"})
    assert response.status_code == 422 and "电话号码无效" in response.content.decode()
    assert not AccessLog.objects.exists()


def test_another_community_does_not_find_the_elder(client, loop, son, tree):
    client.force_login(make_user("w2", "community", tree.community2))
    page = client.post("/orders/hotline/", {"phone": SON_PHONE}).content.decode()
    assert loop.elder.name not in page and "找到 <strong>0</strong> 位老人" in page


def test_the_pick_fills_the_order_form_and_the_order_keeps_the_caller(desk, loop, son):
    form = desk.post(
        f"/orders/new/{loop.elder.pk}/", {"prefill": "1", "caller_name": "王小明", "caller_relation": "子女"}
    ).content.decode()
    assert 'value="王小明"' in form and not Order.objects.exists()

    desk.post(
        f"/orders/new/{loop.elder.pk}/",
        {
            "item": loop.item.pk,
            "day": loop.tomorrow.isoformat(),
            "time": "09:00",
            "quantity": 1,
            "source": "hotline",
            "caller_name": "王小明",
            "caller_relation": "子女",
        },
    )
    order = Order.objects.get()
    assert order.source == "hotline" and order.caller_name == "王小明" and order.caller_relation == "子女"


def test_the_lookup_counts_against_the_search_limit(desk, loop, settings):
    settings.SEARCH_MAX_PER_MINUTE = 2
    for _ in range(2):
        assert desk.post("/orders/hotline/", {"phone": SON_PHONE}).status_code == 200
    response = desk.post("/orders/hotline/", {"phone": SON_PHONE})
    assert response.status_code == 429 and "搜索太频繁" in response.content.decode()


def test_a_provider_cannot_use_the_hotline(client, loop):
    client.force_login(loop.dispatcher)
    assert client.post("/orders/hotline/", {"phone": SON_PHONE}).status_code == 403


def test_the_migration_fills_the_hash_of_contacts_stored_before_it(loop):
    EmergencyContact.objects.create(
        elder=loop.elder, name="老邻居", relation="neighbour", phone_enc=crypto.encrypt("13600002222"), phone_masked="136****2222"
    )
    migration = importlib.import_module("elders.migrations.0010_desk_contact_phone_hash")
    migration.fill_hashes(global_apps, None)

    assert EmergencyContact.objects.get(name="老邻居").phone_hash == crypto.lookup_hash("13600002222")


def test_elder_bulk_update_keeps_the_contacts_hash(loop):
    """The importer's bulk path writes contacts too: the hotline must find them."""
    from elders.services import ElderChange, elder_bulk_update

    now = datetime.datetime.now(datetime.UTC)
    elder_bulk_update(
        by=loop.admin,
        rows=[
            ElderChange(
                loop.elder.pk,
                {"contacts": [{"name": "王小红", "relation": "child", "phone": "13511112222"}]},
                loop.elder.region_id,
                {"contacts": [[], ["王小红"]]},
            )
        ],
        action="import",
        note="",
        now=now,
    )
    contact = EmergencyContact.objects.get(elder=loop.elder, name="王小红")
    assert contact.phone_hash == crypto.lookup_hash("13511112222")


def test_the_import_row_builder_writes_the_contacts_hash(loop):
    """New elders from a sheet (ElderRowBuilder, then COPY): their contacts are found too."""
    from core.idnumbers import make_id_number
    from elders.services import ElderRowBuilder

    builder = ElderRowBuilder(by_id=loop.admin.pk, now=datetime.datetime.now(datetime.UTC), action="import")
    clean = {
        "name": "赵大爷",
        "id_number": make_id_number("110105", datetime.date(1945, 3, 1), 11),
        "sex": "M",
        "birth_date": datetime.date(1945, 3, 1),
        "contacts": [{"name": "赵小", "relation": "child", "phone": "13522223333"}],
    }
    rows = builder.new(clean, loop.tree.grid.pk)
    assert crypto.lookup_hash("13522223333") in rows.contacts[0]


def test_a_number_typed_into_the_notes_is_refused_on_the_field(desk, loop):
    response = desk.post(
        f"/orders/new/{loop.elder.pk}/",
        {
            "item": loop.item.pk,
            "day": loop.tomorrow.isoformat(),
            "time": "09:00",
            "quantity": 1,
            "source": "hotline",
            "notes": "先打电话 13988887777",
        },
    )
    assert response.status_code == 422 and "请不要在这里填写电话或证件号码" in response.content.decode()
    assert not Order.objects.exists()
