"""Writes of the registry: create, update, status, merge — each all or nothing, with history."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from audit.models import ChangeRecord
from core import crypto
from core.idnumbers import make_id_number
from elders.models import Elder, EmergencyContact, Status, StatusChange
from elders.selectors import elder_duplicate_groups, elder_likely_duplicates
from elders.services import elder_change_status, elder_create, elder_merge, elder_update
from elders.tests.factories import ElderFactory, EmergencyContactFactory, born_years_ago

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


def payload(tree, **over):
    data = {
        "region": tree.community.pk,
        "name": "王秀兰",
        "id_number": ID_NUMBER,
        "phone": "+86 138-1234-5678",
        "address": "安泰小区3号楼2单元",
        "living_arrangement": "alone",
        "marital_status": "widowed",
        "children_count": 1,
        "contacts": [{"name": "李小红", "relation": "child", "phone": "139 0000 1111"}],
    }
    data.update(over)
    return data


def counts():
    return Elder.objects.count(), EmergencyContact.objects.count(), ChangeRecord.objects.count(), StatusChange.objects.count()


def history(elder, action=None):
    qs = ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk)
    return list(qs.filter(action=action) if action else qs)


# --- create -------------------------------------------------------------------------------------


def test_create_derives_sex_and_birth_date_from_the_id_number(worker, tree):
    elder = elder_create(by=worker, data=payload(tree))

    elder.refresh_from_db()
    assert elder.sex == "F"
    assert elder.birth_date == datetime.date(1949, 12, 31)


def test_create_stores_numbers_encrypted_and_shows_them_masked(worker, tree):
    elder = elder_create(by=worker, data=payload(tree))

    elder.refresh_from_db()
    assert elder.id_number_masked == "*****************X"
    assert elder.phone_masked == "138****5678"
    assert ID_NUMBER not in elder.id_number_enc
    assert crypto.decrypt(elder.id_number_enc) == ID_NUMBER
    assert crypto.decrypt(elder.phone_enc) == "13812345678"


def test_create_saves_the_emergency_contact_with_a_normalised_phone(worker, tree):
    elder = elder_create(by=worker, data=payload(tree))

    contact = elder.contacts.get()
    assert (contact.name, contact.is_primary, contact.phone_masked) == ("李小红", True, "139****1111")


def test_create_writes_a_history_row_with_numbers_masked(worker, tree):
    elder = elder_create(by=worker, data=payload(tree))

    [record] = history(elder)
    assert record.action == "create" and record.by == worker
    assert record.changes["id_number"] == [None, "*****************X"]
    text = json.dumps(record.changes, ensure_ascii=False)
    assert ID_NUMBER not in text and "13812345678" not in text and "13900001111" not in text


def test_create_with_bad_id_number_and_bad_phone_names_both_and_writes_nothing(worker, tree):
    before = counts()

    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, id_number="110105194912310021", phone="12345"))

    assert {"id_number", "phone"} <= set(exc_info.value.message_dict)
    assert counts() == before


def test_create_refuses_someone_under_60_saying_why(worker, tree):
    young = make_id_number("110105", born_years_ago(59), 21)

    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, id_number=young))

    [message] = exc_info.value.message_dict["id_number"]
    assert "未满60周岁" in message and "59" in message
    assert Elder.objects.count() == 0


def test_create_accepts_someone_turning_60_today(worker, tree):
    number = make_id_number("110105", born_years_ago(60), 21)

    elder = elder_create(by=worker, data=payload(tree, id_number=number))

    assert elder.age == 60


def test_registry_min_age_comes_from_settings(worker, tree, settings):
    settings.REGISTRY_MIN_AGE = 65
    number = make_id_number("110105", born_years_ago(62), 21)

    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, id_number=number))

    assert "未满65周岁" in exc_info.value.message_dict["id_number"][0]
    assert Elder.objects.count() == 0


def test_create_without_id_number_needs_sex_and_birth_date(worker, tree):
    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, id_number=""))

    assert {"sex", "birth_date"} <= set(exc_info.value.message_dict)


def test_create_without_id_number_keeps_typed_sex_and_birth_date(worker, tree):
    elder = elder_create(by=worker, data=payload(tree, id_number="", sex="男", birth_date="1940年5月6日"))

    elder.refresh_from_db()
    assert (elder.sex, elder.birth_date, elder.id_number_hash) == ("M", datetime.date(1940, 5, 6), "")


def test_create_refuses_a_sex_that_contradicts_the_id_number(worker, tree):
    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, sex="M"))

    assert "sex" in exc_info.value.message_dict
    assert Elder.objects.count() == 0


def test_create_refuses_a_duplicate_id_number_naming_the_registered_person(worker, tree):
    ElderFactory(region=tree.grid, name="张玉珍", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree))

    assert "张玉珍" in exc_info.value.message_dict["id_number"][0]
    assert Elder.objects.count() == 1


def test_create_refuses_the_15_digit_form_of_a_registered_number(worker, tree):
    ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    with pytest.raises(ValidationError):
        elder_create(by=worker, data=payload(tree, id_number="110105491231002"))

    assert Elder.objects.count() == 1


def test_duplicate_in_another_region_is_refused_without_revealing_who_or_where(worker_in_other_region, tree):
    ElderFactory(region=tree.community, name="张玉珍", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker_in_other_region, data=payload(tree, region=tree.community2.pk))

    [message] = exc_info.value.message_dict["id_number"]
    assert "其他辖区" in message
    assert "张玉珍" not in message and "安泰" not in message
    assert Elder.objects.count() == 1


def test_create_refuses_a_region_outside_the_users_subtree(worker_in_other_region, tree):
    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker_in_other_region, data=payload(tree, region=tree.community.pk))

    assert "region" in exc_info.value.message_dict
    assert Elder.objects.count() == 0


def test_create_refuses_a_street_as_region(city_user, admin_user, tree):
    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=admin_user, data=payload(tree, region=tree.street.pk))

    assert "社区" in exc_info.value.message_dict["region"][0]


def test_create_is_refused_to_a_user_who_may_not_register(city_user, tree):
    with pytest.raises(PermissionDenied):
        elder_create(by=city_user, data=payload(tree))

    assert Elder.objects.count() == 0


def test_create_refuses_a_name_with_digits(worker, tree):
    with pytest.raises(ValidationError) as exc_info:
        elder_create(by=worker, data=payload(tree, name="王秀兰2"))

    assert "name" in exc_info.value.message_dict


def test_create_folds_spaces_inside_a_chinese_name(worker, tree):
    elder = elder_create(
        by=worker, data=payload(tree, name="冷 国兴", id_number=make_id_number("110105", born_years_ago(82), 11))
    )

    assert elder.name == "冷国兴"
    assert elder.name_initials.startswith("lgx")


# --- update -------------------------------------------------------------------------------------


def test_update_records_before_and_after_of_changed_fields_only(worker, tree):
    elder = ElderFactory(region=tree.community, address="旧地址", living_arrangement="children")

    elder_update(by=worker, elder=elder, data={"address": "新地址", "living_arrangement": "children"})

    [record] = history(elder, "update")
    assert record.changes == {"address": ["旧地址", "新地址"]}
    assert record.by == worker


def test_update_history_shows_phone_numbers_masked(worker, tree):
    elder = ElderFactory(region=tree.community, phone="13812345678")

    elder_update(by=worker, elder=elder, data={"phone": "13987654321"})

    [record] = history(elder, "update")
    assert record.changes["phone"] == ["138****5678", "139****4321"]
    assert "13987654321" not in json.dumps(record.changes)


def test_update_that_changes_nothing_writes_no_history(worker, tree):
    elder = ElderFactory(region=tree.community, address="旧地址")

    elder_update(by=worker, elder=elder, data={"address": "旧地址"})

    assert history(elder, "update") == []


def test_update_with_a_bad_phone_changes_nothing(worker, tree):
    elder = ElderFactory(region=tree.community, address="旧地址", phone="13812345678")

    with pytest.raises(ValidationError) as exc_info:
        elder_update(by=worker, elder=elder, data={"address": "新地址", "phone": "123"})

    assert "phone" in exc_info.value.message_dict
    elder.refresh_from_db()
    assert (elder.address, elder.phone_masked) == ("旧地址", "138****5678")
    assert history(elder, "update") == []


def test_update_refuses_to_blank_the_id_number(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError) as exc_info:
        elder_update(by=worker, elder=elder, data={"id_number": ""})

    assert "id_number" in exc_info.value.message_dict
    elder.refresh_from_db()
    assert elder.id_number_hash


def test_update_refuses_another_elders_id_number(worker, tree):
    first = ElderFactory(
        region=tree.community, name="张玉珍", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31)
    )
    second = ElderFactory(region=tree.community)
    before = second.id_number_hash

    with pytest.raises(ValidationError):
        elder_update(by=worker, elder=second, data={"id_number": ID_NUMBER})

    second.refresh_from_db()
    assert second.id_number_hash == before != first.id_number_hash


def test_update_moves_an_elder_to_a_grid_of_the_same_community(worker, tree):
    elder = ElderFactory(region=tree.community)

    elder_update(by=worker, elder=elder, data={"region": tree.grid.pk})

    elder.refresh_from_db()
    assert elder.region == tree.grid
    assert history(elder, "update")[0].changes["region"] == [tree.community.pk, tree.grid.pk]


def test_update_refuses_moving_an_elder_outside_the_users_subtree(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError):
        elder_update(by=worker, elder=elder, data={"region": tree.community2.pk})

    elder.refresh_from_db()
    assert elder.region == tree.community


def test_update_replaces_contacts_and_records_them_masked(worker, tree):
    elder = ElderFactory(region=tree.community)
    EmergencyContactFactory(elder=elder, name="老大", phone="13700001111")

    elder_update(by=worker, elder=elder, data={"contacts": [{"name": "老二", "relation": "child", "phone": "13600002222"}]})

    assert [c.name for c in elder.contacts.all()] == ["老二"]
    before, after = history(elder, "update")[0].changes["contacts"]
    assert before == ["老大 子女 137****1111"] and after == ["老二 子女 136****2222"]


# --- status -------------------------------------------------------------------------------------


def test_move_out_sets_status_and_writes_status_change_and_history(worker, tree):
    elder = ElderFactory(region=tree.community)
    day = timezone.localdate() - datetime.timedelta(days=3)

    elder_change_status(by=worker, elder=elder, action="move_out", effective_on=day, reason="随子女去外地")

    elder.refresh_from_db()
    assert (elder.status, elder.status_changed_on) == (Status.MOVED_OUT, day)
    change = elder.status_changes.get()
    assert (change.from_status, change.to_status, change.reason) == ("active", "moved_out", "随子女去外地")
    [record] = history(elder, "status")
    assert record.changes == {"status": ["active", "moved_out"]}


def test_deceased_elder_cannot_move_out(worker, tree):
    elder = ElderFactory(region=tree.community)
    elder_change_status(by=worker, elder=elder, action="decease", effective_on=timezone.localdate())
    before = counts()

    with pytest.raises(ValidationError) as exc_info:
        elder_change_status(by=worker, elder=elder, action="move_out", effective_on=timezone.localdate())

    assert "action" in exc_info.value.message_dict
    assert counts() == before
    elder.refresh_from_db()
    assert elder.status == Status.DECEASED


def test_active_elder_cannot_move_in_again(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError):
        elder_change_status(by=worker, elder=elder, action="move_in", effective_on=timezone.localdate())

    assert not StatusChange.objects.exists()


def test_status_change_refuses_an_effective_date_in_the_future(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError) as exc_info:
        elder_change_status(
            by=worker, elder=elder, action="move_out", effective_on=timezone.localdate() + datetime.timedelta(days=1)
        )

    assert "effective_on" in exc_info.value.message_dict
    elder.refresh_from_db()
    assert elder.status == Status.ACTIVE


def test_status_change_refuses_an_effective_date_before_the_previous_change(worker, tree):
    elder = ElderFactory(region=tree.community)
    today = timezone.localdate()
    elder_change_status(by=worker, elder=elder, action="enter_institution", effective_on=today - datetime.timedelta(days=10))

    with pytest.raises(ValidationError) as exc_info:
        elder_change_status(by=worker, elder=elder, action="return_home", effective_on=today - datetime.timedelta(days=20))

    assert "effective_on" in exc_info.value.message_dict
    assert elder.status_changes.count() == 1


def test_status_change_refuses_an_effective_date_before_birth(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError):
        elder_change_status(by=worker, elder=elder, action="move_out", effective_on=elder.birth_date - datetime.timedelta(days=1))

    assert not StatusChange.objects.exists()


def test_moving_back_in_to_another_community_grid_changes_region(worker, tree):
    elder = ElderFactory(region=tree.community)
    today = timezone.localdate()
    elder_change_status(by=worker, elder=elder, action="move_out", effective_on=today - datetime.timedelta(days=5))

    elder_change_status(by=worker, elder=elder, action="move_in", effective_on=today, region_id=tree.grid.pk)

    elder.refresh_from_db()
    assert (elder.status, elder.region) == (Status.ACTIVE, tree.grid)
    assert history(elder, "status")[0].changes["region"] == [tree.community.pk, tree.grid.pk]


def test_grid_worker_may_not_change_status(grid_user, tree):
    elder = ElderFactory(region=tree.grid)

    with pytest.raises(PermissionDenied):
        elder_change_status(by=grid_user, elder=elder, action="move_out", effective_on=timezone.localdate())

    elder.refresh_from_db()
    assert elder.status == Status.ACTIVE


# --- likely duplicates and merge ---------------------------------------------------------------------


def test_likely_duplicates_are_same_name_birth_date_and_address(worker, tree):
    birth = born_years_ago(75)
    a = ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, address="安泰小区1号楼", id_number="")
    b = ElderFactory(region=tree.grid, name="王秀兰", birth_date=birth, address="安泰小区1号楼")
    ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, address="安泰小区2号楼")

    assert [[e.pk for e in g] for g in elder_duplicate_groups(user=worker)] == [[a.pk, b.pk]]
    assert list(elder_likely_duplicates(user=worker, elder=a)) == [b]


def test_likely_duplicates_in_another_region_are_not_shown(worker_in_other_region, tree):
    birth = born_years_ago(75)
    ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, address="x", id_number="")
    ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, address="x")

    assert elder_duplicate_groups(user=worker_in_other_region) == []


def test_merge_fills_blanks_moves_contacts_removes_the_other_and_records_it(worker, tree):
    birth = born_years_ago(75)
    keep = ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, sex="F", id_number="", phone="", address="1号楼")
    other = ElderFactory(region=tree.community, name="王秀兰", birth_date=birth, sex="F", address="1号楼", phone="13812345678")
    EmergencyContactFactory(elder=other, name="李小红")
    other_id, other_hash = other.pk, other.id_number_hash

    elder_merge(by=worker, keep=keep, other=other)

    keep.refresh_from_db()
    assert not Elder.objects.filter(pk=other_id).exists()
    assert keep.id_number_hash == other_hash
    assert keep.phone_masked == "138****5678"
    assert [c.name for c in keep.contacts.all()] == ["李小红"]
    [record] = history(keep, "merge")
    assert record.changes["phone"] == ["", "138****5678"]
    assert str(other_id) in record.note
    assert ChangeRecord.objects.filter(object_id=other_id, action="merged").exists()


def test_merge_refuses_two_different_id_numbers_and_changes_nothing(worker, tree):
    keep = ElderFactory(region=tree.community)
    other = ElderFactory(region=tree.community)
    before = counts()

    with pytest.raises(ValidationError):
        elder_merge(by=worker, keep=keep, other=other)

    assert counts() == before


def test_merge_refuses_merging_an_elder_with_itself(worker, tree):
    elder = ElderFactory(region=tree.community)

    with pytest.raises(ValidationError):
        elder_merge(by=worker, keep=elder, other=elder)

    assert Elder.objects.filter(pk=elder.pk).exists()


def test_update_refuses_a_sex_that_contradicts_the_stored_id_number(worker, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    with pytest.raises(ValidationError) as exc_info:
        elder_update(by=worker, elder=elder, data={"sex": "M"})

    assert "sex" in exc_info.value.message_dict
    elder.refresh_from_db()
    assert elder.sex == "F"


def test_update_refuses_a_birth_date_that_contradicts_the_stored_id_number(worker, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    with pytest.raises(ValidationError) as exc_info:
        elder_update(by=worker, elder=elder, data={"birth_date": "1950-01-01"})

    assert "birth_date" in exc_info.value.message_dict
    elder.refresh_from_db()
    assert elder.birth_date == datetime.date(1949, 12, 31)


def test_update_accepts_sex_and_birth_date_that_agree_with_the_id_number(worker, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    elder_update(by=worker, elder=elder, data={"sex": "F", "birth_date": "1949-12-31", "address": "新地址"})

    elder.refresh_from_db()
    assert elder.address == "新地址"


def test_update_of_an_elder_without_id_number_may_correct_the_birth_date(worker, tree):
    elder = ElderFactory(region=tree.community, id_number="", birth_date=datetime.date(1940, 1, 1))

    elder_update(by=worker, elder=elder, data={"birth_date": "1941-02-03"})

    elder.refresh_from_db()
    assert elder.birth_date == datetime.date(1941, 2, 3)


def test_editing_two_contacts_keeps_the_others_the_form_does_not_show(worker):
    from elders.models import EmergencyContact
    from elders.services import elder_update
    from elders.tests.factories import ElderFactory

    elder = ElderFactory(region=worker.region)
    extra = [EmergencyContact.objects.create(elder=elder, name=f"联系人{i}", relation="relative") for i in range(3)]

    elder_update(
        by=worker,
        elder=elder,
        data={"contacts": [{"name": "新联系人", "relation": "child", "phone": "13900001111"}], "keep_contacts": [extra[2].pk]},
    )

    names = set(elder.contacts.values_list("name", flat=True))
    assert names == {"新联系人", "联系人2"}
