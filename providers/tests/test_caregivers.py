"""Staff: numbers encrypted and masked like elders', the full view logged with a reason; the
form's rules; certificates."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import AccessLog, ChangeRecord
from core import crypto
from providers import selectors, services
from providers.models import Caregiver
from providers.tests import factories as f

pytestmark = pytest.mark.django_db


def test_id_number_and_phone_are_stored_encrypted_and_shown_masked(tree):
    org = f.organisation(tree)
    number = f.id_number(3)

    person = f.caregiver(tree, org, id_number=number, phone="138 1234 5678")

    row = Caregiver.objects.values().get(pk=person.pk)
    assert number not in str(row) and "13812345678" not in str(row)
    assert crypto.decrypt(row["id_number_enc"]) == number
    assert row["id_number_masked"].endswith(number[-1]) and row["id_number_masked"].startswith("*")
    assert row["phone_masked"] == "138****5678"
    # the ID number gives the birth date and sex
    assert person.birth_date.isoformat() == "1975-03-01" and person.sex == "M"


def test_history_keeps_the_numbers_masked(tree):
    org = f.organisation(tree)
    person = f.caregiver(tree, org, id_number=f.id_number(4), phone="13812345678")

    record = ChangeRecord.objects.get(model="providers.caregiver", object_id=person.pk, action="create")
    assert "13812345678" not in str(record.changes) and f.id_number(4) not in str(record.changes)


def test_the_full_numbers_come_with_a_reason_and_are_logged(tree, client):
    org = f.organisation(tree)
    person = f.caregiver(tree, org, id_number=f.id_number(5), phone="13812345678")
    user = f.org_user(org)
    client.force_login(user)

    refused = client.post(f"/providers/staff/{person.pk}/reveal/", {"reason": ""})
    assert refused.status_code == 422 and "查看原因" in refused.content.decode()
    assert not AccessLog.objects.exists()

    shown = client.post(f"/providers/staff/{person.pk}/reveal/", {"reason": "安排上门服务"})

    assert "13812345678" in shown.content.decode()
    log = AccessLog.objects.get()
    assert (log.kind, log.model, log.object_id, log.by) == ("reveal", "providers.caregiver", person.pk, user)
    assert log.detail["reason"] == "安排上门服务"
    assert log.region == org.region


def test_the_detail_page_shows_only_masked_numbers(tree, client):
    org = f.organisation(tree)
    person = f.caregiver(tree, org, id_number=f.id_number(6), phone="13812345678")
    client.force_login(f.org_user(org))

    page = client.get(f"/providers/staff/{person.pk}/").content.decode()

    assert "13812345678" not in page and f.id_number(6) not in page
    assert "138****5678" in page


def test_a_role_without_reveal_gets_403(tree, client):
    org = f.organisation(tree)
    person = f.caregiver(tree, org, phone="13812345678")
    client.force_login(f.org_user(org, role="caregiver"))

    assert client.post(f"/providers/staff/{person.pk}/reveal/", {"reason": "看看"}).status_code == 403


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"kind": "cook"}, "kind", "人员类别"),
        ({"name": ""}, "name", "姓名"),
        ({"home_lat": "91"}, "home_lat", "纬度"),
        ({"home_lat": "39.9"}, "home_lng", "经纬度"),
        ({"work_start": "18:00", "work_end": "08:00"}, "work_end", "下班时间"),
        ({"work_days": "周八"}, "work_days", "工作日"),
        ({"phone": "12"}, "phone", "联系电话"),
        ({"id_number": "110105197503010000"}, "id_number", "校验位"),
    ],
)
def test_bad_input_is_refused_naming_the_field(tree, data, field, words):
    org = f.organisation(tree)

    with pytest.raises(ValidationError) as refused:
        services.caregiver_create(by=f.admin_of(tree), data={"organisation": org.pk, "kind": "nanny", "name": "王丽", **data})

    assert field in refused.value.message_dict
    assert words in refused.value.message_dict[field][0]


def test_weekdays_and_times_as_a_sheet_writes_them(tree):
    org = f.organisation(tree)

    person = f.caregiver(tree, org, work_days="周一、周三，星期五", work_start="8:30", work_end="17")

    assert person.work_days == [1, 3, 5]
    assert person.days_off_text == "周二、周四、周六、周日"
    assert person.work_start.isoformat() == "08:30:00" and person.work_end.isoformat() == "17:00:00"


def test_the_same_id_number_twice_in_one_organisation_is_refused(tree):
    org = f.organisation(tree)
    f.caregiver(tree, org, id_number=f.id_number(7))

    with pytest.raises(ValidationError) as refused:
        f.caregiver(tree, org, id_number=f.id_number(7))
    assert "重复" in refused.value.message_dict["id_number"][0]


def test_leaving_goes_through_the_state_machine(tree):
    org = f.organisation(tree)
    person = f.caregiver(tree, org)

    services.caregiver_change_status(by=f.admin_of(tree), caregiver=person, action="leave", reason="合同到期")
    person.refresh_from_db()
    assert person.status == "left"
    with pytest.raises(ValidationError):
        services.caregiver_change_status(by=f.admin_of(tree), caregiver=person, action="leave")
    assert ChangeRecord.objects.filter(object_id=person.pk, action="status", note__contains="合同到期").exists()


def test_certificate_numbers_are_masked_where_shown_and_in_history(tree, client):
    org = f.organisation(tree)
    person = f.caregiver(tree, org)
    f.certificate(tree, person, number="YL20250001")
    client.force_login(f.org_user(org))

    page = client.get(f"/providers/staff/{person.pk}/").content.decode()

    assert "YL20250001" not in page and "YL******01" in page
    history = ChangeRecord.objects.get(object_id=person.pk, action="certificate_add").changes
    assert "YL20250001" not in str(history)


def test_skills_from_the_catalogue(tree):
    org = f.organisation(tree)
    cook = f.skill("做饭")

    person = f.caregiver(tree, org, skills=[cook.pk])
    assert list(person.skills.all()) == [cook]
    with pytest.raises(ValidationError) as refused:
        f.caregiver(tree, org, skills="做饭、飞行")
    assert "飞行" in refused.value.message_dict["skills"][0]


def test_certificate_expiring_before_issued_is_refused(tree):
    org = f.organisation(tree)
    person = f.caregiver(tree, org)
    with pytest.raises(ValidationError) as refused:
        services.certificate_create(
            by=f.admin_of(tree),
            caregiver=person,
            data={"kind": f.certificate_kind().pk, "issued_on": "2025-05-01", "expires_on": "2025-04-01"},
        )
    assert "有效期至" in refused.value.message_dict["expires_on"][0]


def test_reveal_selector_refuses_another_organisations_user(tree):
    org = f.organisation(tree)
    other = f.organisation(tree, region=tree.community2)
    person = f.caregiver(tree, org, phone="13812345678")

    from django.http import Http404

    with pytest.raises(Http404):
        selectors.caregiver_reveal(user=f.org_user(other), caregiver=person, reason="看看")
    assert not AccessLog.objects.exists()
