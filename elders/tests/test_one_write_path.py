"""One write path per elder (issue 9, item 3): the importer, the demo loader and the forms write
an elder and its history through the same services, so the same change reads the same in the
history whichever door it came through."""

import io

import pytest

from audit.models import ChangeRecord
from core import crypto
from elders import services
from elders.importer import import_elders
from elders.models import Elder
from elders.tests.sheets import id_number, person, xlsx
from elders.validation import clean_elder_input

pytestmark = pytest.mark.django_db

BEFORE = {"联系电话": "13812340009", "详细地址": "安泰小区9号楼", "紧急联系人": "李小红", "紧急联系人电话": "13900001111"}
AFTER = {"联系电话": "13999998888", "详细地址": "经济房15号楼7单元", "紧急联系人": "王大明", "紧急联系人电话": "13700002222"}


def _elder(n):
    return Elder.objects.get(id_number_hash=crypto.lookup_hash(id_number(n)))


def _last_record(elder):
    return ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk).order_by("-id").first()


def test_an_import_and_an_edit_record_the_same_history_for_the_same_change(worker):
    import_elders(io.BytesIO(xlsx([person(1, **BEFORE), person(2, **BEFORE)])), by=worker)
    by_import, by_edit = _elder(1), _elder(2)

    import_elders(io.BytesIO(xlsx([person(1, **AFTER)])), by=worker)
    services.elder_update(
        by=worker,
        elder=by_edit,
        data={
            "phone": AFTER["联系电话"],
            "address": AFTER["详细地址"],
            "contacts": [{"name": AFTER["紧急联系人"], "phone": AFTER["紧急联系人电话"], "relation": ""}],
        },
        version=by_edit.version,
    )

    imported, edited = _last_record(by_import), _last_record(by_edit)
    assert (imported.action, edited.action) == ("import", "update")
    assert imported.changes == edited.changes
    assert set(edited.changes) == {"phone", "address", "contacts"}
    by_import.refresh_from_db()
    by_edit.refresh_from_db()
    assert (by_import.version, by_import.phone_masked) == (by_edit.version, by_edit.phone_masked)


def test_an_import_that_changes_nothing_records_nothing_as_an_edit_does(worker):
    import_elders(io.BytesIO(xlsx([person(1, **BEFORE)])), by=worker)
    elder = _elder(1)
    records = ChangeRecord.objects.filter(object_id=elder.pk).count()

    report = import_elders(io.BytesIO(xlsx([person(1, **BEFORE)])), by=worker)

    assert report.unchanged == 1
    assert ChangeRecord.objects.filter(object_id=elder.pk).count() == records


def test_a_new_elder_from_the_bulk_service_has_the_numbers_and_keys_the_form_gives(worker, tree):
    by_form = services.elder_create(
        by=worker,
        data={
            "name": "冷国兴",
            "id_number": id_number(7),
            "phone": "13812345678",
            "living_arrangement": "alone",
            "region": tree.community.pk,
        },
    )
    clean = clean_elder_input(
        {"name": "冷国兴", "id_number": id_number(8), "phone": "13812345678", "living_arrangement": "alone"}
    )
    [pk] = services.elder_bulk_create(
        by=worker,
        rows=[services.ElderRowBuilder(by_id=worker.pk, now=by_form.created_at, action="import").new(clean, tree.community.pk)],
    )
    by_bulk = Elder.objects.get(pk=pk)

    same = ["name", "name_pinyin", "name_initials", "name_given", "phone_masked", "phone_hash", "phone_tail", "version"]
    assert [getattr(by_bulk, f) for f in same] == [getattr(by_form, f) for f in same]
    assert crypto.decrypt(by_bulk.id_number_enc) == id_number(8)
    assert by_bulk.id_number_masked == by_form.id_number_masked[:-1] + id_number(8)[-1]


def test_the_edit_page_rule_for_masked_numbers_is_the_services(worker):
    """A masked number sent back as shown means unchanged; changed contacts with a masked phone
    are refused with a message naming the contact — in the service, for every caller."""
    import_elders(io.BytesIO(xlsx([person(1, **BEFORE)])), by=worker)
    elder = _elder(1)
    contact = elder.contacts.get()

    services.elder_update_as_shown(
        by=worker,
        elder=elder,
        data={
            "phone": elder.phone_masked,
            "id_number": elder.id_number_masked,
            "address": "新地址",
            "contacts": [{"name": contact.name, "relation": contact.relation, "phone": contact.phone_masked}],
        },
        version=elder.version,
    )
    elder.refresh_from_db()
    assert (elder.address, crypto.decrypt(elder.phone_enc)) == ("新地址", "13812340009")
    assert set(_last_record(elder).changes) == {"address"}

    with pytest.raises(services.ValidationError) as refused:
        services.elder_update_as_shown(
            by=worker,
            elder=elder,
            data={"contacts": [{"name": "改了名字", "relation": contact.relation, "phone": contact.phone_masked}]},
            version=elder.version,
        )
    assert "第1位紧急联系人的电话" in refused.value.message_dict["contacts"][0]
