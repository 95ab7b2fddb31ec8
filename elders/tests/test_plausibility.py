"""Issue 8, finding 11: implausible data is refused through every door (form, API, import),
with a message naming the field; nothing is written. The rules live in elders.validation."""

import datetime
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.services import api_token_create
from core.idnumbers import make_id_number
from elders.categories import years_before
from elders.importer import import_elders
from elders.models import Elder, EmergencyContact
from elders.tests.sheets import HEADER, person, xlsx
from elders.validation import MAX_AGE, MAX_CONTACTS, clean_elder_input

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
TOO_OLD = years_before(TODAY, MAX_AGE) - datetime.timedelta(days=1)  # one day past the limit
OLDEST_ACCEPTED = years_before(TODAY, MAX_AGE - 1)

# field -> (form field, API key, import column): where each door takes it
DOORS = {
    "name": ("name", "name", "姓名"),
    "address": ("address", "address", "详细地址"),
    "contact": ("contact1_name", "contacts", "紧急联系人"),
    "notes": ("notes", "notes", None),
    "interests": ("interests", "interests", None),
    "chronic_illnesses": ("chronic_illnesses", "chronic_illnesses", None),
}
# Characters that change how text is shown or are invisible (Unicode Cc / Cf).
HIDDEN = {
    "right-to-left override U+202E": "\u202e",
    "left-to-right override U+202D": "\u202d",
    "right-to-left isolate U+2067": "\u2067",
    "pop directional isolate U+2069": "\u2069",
    "zero width space U+200B": "\u200b",
    "zero width joiner U+200D": "\u200d",
    "byte order mark U+FEFF": "\ufeff",
    "soft hyphen U+00AD": "\u00ad",
    "arabic letter mark U+061C": "\u061c",
    "bell U+0007": "\x07",
    "escape U+001B": "\x1b",
    "delete U+007F": "\x7f",
    "C1 control U+0090": "\x90",
}
# An xlsx cannot hold C0 controls (XML 1.0 forbids them; openpyxl refuses to write them).
IN_A_SHEET = {k: v for k, v in HIDDEN.items() if not "\x00" <= v < "\x20"}


def counts():
    return Elder.objects.count(), EmergencyContact.objects.count()


def value_with(field, ch):
    return {"name": f"王秀{ch}兰", "address": f"安泰小区{ch}1号楼", "contact": f"李{ch}小红"}.get(field, f"高{ch}血压")


# --- birth date -----------------------------------------------------------------------------


BIRTH_CASES = {
    "1800-01-01 typed": ("", datetime.date(1800, 1, 1)),
    "1899-12-31 typed": ("", datetime.date(1899, 12, 31)),
    "one day past the limit typed": ("", TOO_OLD),
    "1890 in the ID number": (make_id_number("110105", datetime.date(1890, 5, 1), 3), None),
    "one day past the limit in the ID number": (make_id_number("110105", TOO_OLD, 5), None),
}


@pytest.mark.parametrize("case", BIRTH_CASES)
def test_form_refuses_a_birth_date_over_max_age_years_ago(client, tree, worker, case):
    number, birth = BIRTH_CASES[case]
    client.force_login(worker)
    data = {"region": tree.community.pk, "name": "王秀兰", "id_number": number, "sex": "F", "children_count": "0"}
    if birth:
        data["birth_date"] = birth.isoformat()
    response = client.post("/elders/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    field = "id_number" if number else "birth_date"
    assert field in errors and "超过120年" in " ".join(errors[field])
    assert counts() == (0, 0)


@pytest.mark.parametrize("case", BIRTH_CASES)
def test_api_refuses_a_birth_date_over_max_age_years_ago(client, tree, worker, case):
    number, birth = BIRTH_CASES[case]
    body = {"region": tree.community.pk, "name": "王秀兰", "id_number": number, "sex": "F"}
    if birth:
        body["birth_date"] = birth.isoformat()
    response = client.post(
        "/api/elders",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token_create(user=worker)}"},
    )
    assert response.status_code == 422
    field = "id_number" if number else "birth_date"
    assert any(e["field"] == field and "超过120年" in e["message"] for e in response.json()["errors"])
    assert counts() == (0, 0)


@pytest.mark.parametrize("case", BIRTH_CASES)
def test_import_refuses_a_birth_date_over_max_age_years_ago(worker, case):
    number, birth = BIRTH_CASES[case]
    header = [*HEADER, "出生日期", "性别"]
    row = [*person(1, 身份证号=number), birth.isoformat() if birth else "", "女"]
    report = import_elders(io.BytesIO(xlsx([row], header=header)), by=worker, filename="名单.xlsx")
    assert report.rejected == 1 and not report.created
    assert any("超过120年" in e.message for e in report.errors)
    assert counts() == (0, 0)


def test_an_elder_of_max_age_minus_one_is_accepted(worker, tree):
    from elders.services import elder_create

    elder = elder_create(
        by=worker, data={"region": tree.community.pk, "name": "寿星", "sex": "F", "birth_date": OLDEST_ACCEPTED.isoformat()}
    )
    assert elder.birth_date == OLDEST_ACCEPTED


# --- control and format characters ----------------------------------------------------------


@pytest.mark.parametrize("ch", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("field", DOORS)
def test_form_refuses_invisible_characters_in_free_text(client, tree, worker, field, ch):
    client.force_login(worker)
    form_field = DOORS[field][0]
    data = {"region": tree.community.pk, "name": "王秀兰", "id_number": "11010519491231002X", "children_count": "0"}
    data[form_field] = value_with(field, ch)
    if field == "contact":
        data["contact1_phone"] = "13900001111"
    response = client.post("/elders/new/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert form_field in errors and "不可见的控制或格式字符" in " ".join(errors[form_field])
    assert counts() == (0, 0)


@pytest.mark.parametrize("ch", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("field", DOORS)
def test_api_refuses_invisible_characters_in_free_text(client, tree, worker, field, ch):
    key = DOORS[field][1]
    body = {"region": tree.community.pk, "name": "王秀兰", "id_number": "11010519491231002X"}
    body[key] = [{"name": value_with(field, ch), "phone": "13900001111"}] if key == "contacts" else value_with(field, ch)
    response = client.post(
        "/api/elders",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token_create(user=worker)}"},
    )
    assert response.status_code == 422, response.content
    assert any(e["field"] == key and "不可见的控制或格式字符" in e["message"] for e in response.json()["errors"])
    assert counts() == (0, 0)


@pytest.mark.parametrize("ch", IN_A_SHEET.values(), ids=IN_A_SHEET.keys())
@pytest.mark.parametrize("field", [f for f, door in DOORS.items() if door[2]])
def test_import_refuses_invisible_characters_in_free_text(worker, field, ch):
    column = DOORS[field][2]
    row = person(1, **{column: value_with(field, ch)})
    report = import_elders(io.BytesIO(xlsx([row])), by=worker, filename="名单.xlsx")
    assert report.rejected == 1 and not report.created
    assert any("不可见的控制或格式字符" in e.message for e in report.errors)
    assert counts() == (0, 0)


def test_ordinary_text_is_kept_line_breaks_in_notes_and_the_middle_dot_in_names(worker, tree):
    from elders.services import elder_create

    elder = elder_create(
        by=worker,
        data={
            "region": tree.community.pk,
            "name": "阿依古丽·买买提",
            "id_number": "11010519491231002X",
            "notes": "第一行\n第二行\t缩进",
            "address": "安泰小区 1 号楼",
        },
    )
    assert (elder.name, elder.notes) == ("阿依古丽·买买提", "第一行\n第二行\t缩进")


def test_the_message_names_the_character_and_where_it_is():
    with pytest.raises(Exception) as exc_info:
        clean_elder_input({"name": "王秀\u202e兰"}, partial=True)
    assert "第3个字符" in exc_info.value.message_dict["name"][0]
    assert "U+202E" in exc_info.value.message_dict["name"][0]


# --- emergency contacts ---------------------------------------------------------------------


def _contacts(n):
    return [{"name": f"联系人{chr(0x4E00 + i)}", "phone": f"139{i:08d}"} for i in range(n)]


@pytest.mark.parametrize("n", [MAX_CONTACTS + 1, 50, 1000])
def test_api_refuses_more_than_max_contacts(client, tree, worker, n):
    body = {"region": tree.community.pk, "name": "王秀兰", "id_number": "11010519491231002X", "contacts": _contacts(n)}
    response = client.post(
        "/api/elders",
        json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api_token_create(user=worker)}"},
    )
    assert response.status_code == 422
    assert "contacts" in {e["field"] for e in response.json()["errors"]}
    assert counts() == (0, 0)


@pytest.mark.parametrize("n", [MAX_CONTACTS + 1, 1000])
def test_the_rule_for_every_door_refuses_more_than_max_contacts(n):
    with pytest.raises(Exception) as exc_info:
        clean_elder_input({"contacts": _contacts(n)}, partial=True)
    assert "最多10位" in exc_info.value.message_dict["contacts"][0]


def test_max_contacts_are_accepted(worker, tree):
    from elders.services import elder_create

    elder = elder_create(
        by=worker,
        data={
            "region": tree.community.pk,
            "name": "王秀兰",
            "id_number": "11010519491231002X",
            "contacts": _contacts(MAX_CONTACTS),
        },
    )
    assert elder.contacts.count() == MAX_CONTACTS


# --- children_count: inf, 1e999 and nan are field errors, not a 500 --------------------------


@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "nan", "Infinity", "1e308", "2.5", "21", "-1", float("inf")])
def test_children_count_must_be_a_whole_number_from_0_to_20(value):
    with pytest.raises(Exception) as exc_info:
        clean_elder_input({"children_count": value}, partial=True)
    assert "children_count" in exc_info.value.message_dict


@pytest.mark.parametrize("value,expected", [("3", 3), ("3.0", 3), (3.0, 3), ("", 0), ("20", 20)])
def test_children_count_as_spreadsheets_write_it_is_read(value, expected):
    assert clean_elder_input({"children_count": value}, partial=True)["children_count"] == expected


@pytest.mark.parametrize("ch", ["\u202e", "\u200b"])
def test_status_change_refuses_invisible_characters_in_the_reason(worker, tree, ch):
    from elders.services import elder_change_status, elder_create
    from elders.tests.test_services import payload

    elder = elder_create(by=worker, data=payload(tree))

    with pytest.raises(ValidationError) as refused:
        elder_change_status(by=worker, elder=elder, action="move_out", effective_on=timezone.localdate(), reason=f"迁往{ch}外地")

    assert list(refused.value.message_dict) == ["reason"]
    elder.refresh_from_db()
    assert elder.status == "active" and not elder.status_changes.exists()


@pytest.mark.parametrize("ch", ["\u202e", "\u2066"])
def test_user_names_refuse_invisible_characters(admin_user, tree, ch):
    from accounts.models import User
    from accounts.services import user_create, user_update

    with pytest.raises(ValidationError) as refused:
        user_create(
            by=admin_user, username="li", full_name=f"李{ch}四", role="community", region=tree.community, password="x-Long-pass-9"
        )
    assert list(refused.value.message_dict) == ["full_name"]
    assert not User.objects.filter(username="li").exists()

    user = user_create(
        by=admin_user, username="li", full_name="李四", role="community", region=tree.community, password="x-Long-pass-9"
    )
    with pytest.raises(ValidationError):
        user_update(by=admin_user, user=user, full_name=f"李{ch}四", role="community", region=tree.community, is_active=True)
    user.refresh_from_db()
    assert user.full_name == "李四"
