"""/api/elders end to end: bearer token, scope, filters, masking, errors in one JSON shape."""

import datetime

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from audit.models import AccessLog, ChangeRecord
from core.idnumbers import make_id_number
from elders.models import Elder, EmergencyContact, Status
from elders.tests.factories import ElderFactory, age_of_a_31_december_birthday, born_years_ago

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


class Api:
    """The Django test client with a bearer token, speaking JSON."""

    def __init__(self, client, user):
        self.client = client
        self.headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path, data):
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def patch(self, path, data):
        return self.client.patch(path, data, content_type="application/json", headers=self.headers)


@pytest.fixture
def api(client, worker):
    return Api(client, worker)


def new_elder(tree, **over):
    data = {
        "region": tree.community.pk,
        "name": "王秀兰",
        "id_number": ID_NUMBER,
        "phone": "138-1234-5678",
        "living_arrangement": "alone",
        "contacts": [{"name": "李小红", "relation": "child", "phone": "13900001111"}],
    }
    data.update(over)
    return data


def fields_of(response):
    return {e["field"] for e in response.json()["errors"]}


# --- authentication -------------------------------------------------------------------------


def test_token_from_password_then_bearer_reads_the_list(client, worker, tree):
    ElderFactory(region=tree.community)
    token = client.post(
        "/api/auth/token", {"username": "community", "password": "demo12345"}, content_type="application/json"
    ).json()["token"]

    response = client.get("/api/elders", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_list_without_token_is_401_with_a_chinese_message(client, tree):
    response = client.get("/api/elders")

    assert response.status_code == 401
    assert response.json()["detail"].startswith("请先登录")


def test_list_with_an_unknown_token_is_401(client, tree):
    response = client.get("/api/elders", headers={"Authorization": "Bearer nonsense"})

    assert response.status_code == 401


def test_session_login_also_reaches_the_api(client, worker, tree):
    client.force_login(worker)

    assert client.get("/api/elders").status_code == 200


# --- list -------------------------------------------------------------------------------------------


def test_list_returns_items_with_masked_numbers_region_age_and_categories(api, tree):
    ElderFactory(
        region=tree.grid,
        name="王秀兰",
        id_number=ID_NUMBER,
        sex="F",
        birth_date=datetime.date(1949, 12, 31),
        phone="13812345678",
        living_arrangement="alone",
    )

    body = api.get("/api/elders").json()

    assert body["count"] == 1
    [item] = body["items"]
    assert item["id_number"] == "*****************X"
    assert item["phone"] == "138****5678"
    assert item["region"] == {"id": tree.grid.pk, "name": "安泰第一网格"}
    assert (item["sex"], item["sex_label"], item["status"], item["status_label"]) == ("F", "女", "active", "在册")
    assert item["age"] == age_of_a_31_december_birthday(1949)
    assert "lives_alone" in {c["code"] for c in item["categories"]}
    assert "13812345678" not in str(body) and ID_NUMBER not in str(body)


def test_city_user_lists_both_communities(client, city_user, tree):
    ElderFactory(region=tree.community)
    ElderFactory(region=tree.community2)

    assert Api(client, city_user).get("/api/elders").json()["count"] == 2


def test_grid_worker_lists_only_their_grid(client, grid_user, tree):
    mine = ElderFactory(region=tree.grid)
    ElderFactory(region=tree.community)

    items = Api(client, grid_user).get("/api/elders").json()["items"]

    assert [i["id"] for i in items] == [mine.pk]


def test_list_filters_by_repeated_category_as_and(api, tree):
    both = ElderFactory(region=tree.community, living_arrangement="alone", birth_date=born_years_ago(85))
    ElderFactory(region=tree.community, living_arrangement="alone", birth_date=born_years_ago(70))
    ElderFactory(region=tree.community, living_arrangement="children", birth_date=born_years_ago(85))

    items = api.get("/api/elders", {"category": ["lives_alone", "very_old"]}).json()["items"]

    assert [i["id"] for i in items] == [both.pk]


def test_list_filters_by_age_range_inclusive(api, tree):
    ElderFactory(region=tree.community, birth_date=born_years_ago(69))
    seventy = ElderFactory(region=tree.community, birth_date=born_years_ago(70))
    seventy_five = ElderFactory(region=tree.community, birth_date=born_years_ago(75, days=-200))
    ElderFactory(region=tree.community, birth_date=born_years_ago(76))

    items = api.get("/api/elders", {"age_min": 70, "age_max": 75}).json()["items"]

    assert {i["id"] for i in items} == {seventy.pk, seventy_five.pk}


def test_list_filters_by_sex_and_region(api, tree):
    woman_in_grid = ElderFactory(region=tree.grid, sex="F")
    ElderFactory(region=tree.grid, sex="M")
    ElderFactory(region=tree.community, sex="F")

    items = api.get("/api/elders", {"sex": "F", "region": tree.grid.pk}).json()["items"]

    assert [i["id"] for i in items] == [woman_in_grid.pk]


def test_list_filter_by_a_region_outside_scope_finds_nothing(api, tree):
    ElderFactory(region=tree.community)
    ElderFactory(region=tree.community2)

    assert api.get("/api/elders", {"region": tree.community2.pk}).json()["count"] == 0


def test_list_shows_residents_by_default_and_others_by_status(api, worker, tree):
    ElderFactory(region=tree.community)
    gone = ElderFactory(region=tree.community, status=Status.MOVED_OUT)

    assert api.get("/api/elders").json()["count"] == 1
    assert [i["id"] for i in api.get("/api/elders", {"status": "moved_out"}).json()["items"]] == [gone.pk]
    assert api.get("/api/elders", {"status": "all"}).json()["count"] == 2


def test_search_by_name_pinyin_initials_and_phone_tail(api, tree):
    elder = ElderFactory(region=tree.community, name="单井英", phone="13812345678")
    ElderFactory(region=tree.community, name="王秀兰", phone="13900009999")

    for q in ["单井英", "sjy", "shanjingying", "5678"]:
        assert [i["id"] for i in api.get("/api/elders", {"q": q}).json()["items"]] == [elder.pk], q
    assert [i["id"] for i in api.post("/api/elders/search", {"q": "13812345678"}).json()["items"]] == [elder.pk]


def test_search_by_full_id_number_in_any_form(api, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    for q in [ID_NUMBER, "11010519491231002x", "110105491231002"]:
        assert [i["id"] for i in api.post("/api/elders/search", {"q": q}).json()["items"]] == [elder.pk], q


def test_search_of_another_region_finds_nothing(client, worker_in_other_region, tree):
    ElderFactory(region=tree.community, name="单井英", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    api = Api(client, worker_in_other_region)

    for q in ["单井英", "sjy", ID_NUMBER]:
        assert api.post("/api/elders/search", {"q": q}).json()["count"] == 0, q


def test_list_refuses_a_bad_filter_naming_the_parameter(api, tree):
    response = api.get("/api/elders", {"age_min": "abc", "category": "martian"})

    assert response.status_code == 422
    assert fields_of(response) == {"age_min", "category"}


def test_list_page_of_20_does_not_query_per_row(api, tree, django_assert_max_num_queries):
    for _ in range(25):
        ElderFactory(region=tree.community)

    # 4 queries today (token, count, rows with their regions); one per row would add 20.
    with django_assert_max_num_queries(6):
        body = api.get("/api/elders", {"page_size": 20}).json()

    assert len(body["items"]) == 20 and body["count"] == 25


# --- detail ---------------------------------------------------------------------------------------


def test_detail_shows_masked_numbers_and_contacts(api, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    elder.contacts.create(name="李小红", phone_masked="139****1111")

    body = api.get(f"/api/elders/{elder.pk}").json()

    assert body["id_number"] == "*****************X"
    assert body["contacts"][0]["phone"] == "139****1111"
    assert body["birth_date"] == "1949-12-31"


# --- create -------------------------------------------------------------------------------------------


def test_create_returns_201_with_the_masked_record(api, tree):
    response = api.post("/api/elders", new_elder(tree))

    assert response.status_code == 201
    body = response.json()
    assert (body["id_number"], body["phone"], body["sex"]) == ("*****************X", "138****5678", "F")
    elder = Elder.objects.get(pk=body["id"])
    assert elder.contacts.count() == 1
    assert ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk, action="create").count() == 1


def test_create_with_bad_id_and_bad_phone_names_both_fields_in_chinese_and_writes_nothing(api, tree):
    response = api.post("/api/elders", new_elder(tree, id_number="110105194912310021", phone="12345"))

    assert response.status_code == 422
    body = response.json()
    assert fields_of(response) == {"id_number", "phone"}
    assert "校验位" in body["detail"]
    elder_history = ChangeRecord.objects.filter(model="elders.elder")
    assert (Elder.objects.count(), EmergencyContact.objects.count(), elder_history.count()) == (0, 0, 0)


def test_create_of_someone_under_60_is_refused_with_a_clear_message(api, tree):
    response = api.post("/api/elders", new_elder(tree, id_number=make_id_number("110105", born_years_ago(55), 3)))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "id_number" and "未满60周岁" in error["message"]
    assert Elder.objects.count() == 0


def test_create_in_another_region_is_refused(api, tree):
    response = api.post("/api/elders", new_elder(tree, region=tree.community2.pk))

    assert response.status_code == 422
    assert fields_of(response) == {"region"}
    assert Elder.objects.count() == 0


def test_create_with_a_duplicate_in_another_region_does_not_reveal_the_name(client, worker_in_other_region, tree):
    ElderFactory(region=tree.community, name="张玉珍", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    response = Api(client, worker_in_other_region).post("/api/elders", new_elder(tree, region=tree.community2.pk))

    assert response.status_code == 422
    assert "张玉珍" not in response.content.decode()
    assert Elder.objects.count() == 1


def test_create_with_wrongly_typed_json_names_the_field(api, tree):
    response = api.post("/api/elders", new_elder(tree, children_count="many"))

    assert response.status_code == 422
    assert "children_count" in fields_of(response)
    assert Elder.objects.count() == 0


# --- update -------------------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields_and_records_history(api, tree):
    elder = ElderFactory(region=tree.community, address="旧地址", phone="13812345678")

    response = api.patch(f"/api/elders/{elder.pk}", {"address": "新地址", "version": elder.version})

    assert response.status_code == 200
    elder.refresh_from_db()
    assert (elder.address, elder.phone_masked) == ("新地址", "138****5678")
    record = ChangeRecord.objects.get(model="elders.elder", object_id=elder.pk, action="update")
    assert record.changes == {"address": ["旧地址", "新地址"]}


def test_patch_with_bad_phone_is_422_and_changes_nothing(api, tree):
    elder = ElderFactory(region=tree.community, address="旧地址")

    response = api.patch(f"/api/elders/{elder.pk}", {"address": "新地址", "phone": "88881234", "version": elder.version})

    assert response.status_code == 422
    assert fields_of(response) == {"phone"}
    elder.refresh_from_db()
    assert elder.address == "旧地址"


# --- status -------------------------------------------------------------------------------------------


def test_status_move_out_changes_status(api, tree):
    elder = ElderFactory(region=tree.community)
    day = timezone.localdate().isoformat()

    response = api.post(f"/api/elders/{elder.pk}/status", {"action": "move_out", "effective_on": day, "reason": "随子女"})

    assert response.status_code == 200
    assert response.json()["status"] == "moved_out"
    elder.refresh_from_db()
    assert elder.status == Status.MOVED_OUT and elder.status_changes.count() == 1


def test_status_illegal_transition_is_422_and_changes_nothing(api, tree):
    elder = ElderFactory(region=tree.community, status=Status.DECEASED)

    response = api.post(f"/api/elders/{elder.pk}/status", {"action": "move_out", "effective_on": str(timezone.localdate())})

    assert response.status_code == 422
    assert fields_of(response) == {"action"}
    elder.refresh_from_db()
    assert elder.status == Status.DECEASED


def test_status_unknown_action_is_422(api, tree):
    elder = ElderFactory(region=tree.community)

    response = api.post(f"/api/elders/{elder.pk}/status", {"action": "fly", "effective_on": str(timezone.localdate())})

    assert response.status_code == 422
    assert fields_of(response) == {"action"}


# --- reveal and history ----------------------------------------------------------------------------------


def test_reveal_returns_full_numbers_and_logs_who_and_what(api, worker, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    body = api.post(f"/api/elders/{elder.pk}/reveal", {"reason": "电话回访"}).json()

    assert body["id_number"] == ID_NUMBER
    log = AccessLog.objects.get()
    assert (log.kind, log.by, log.object_id, log.region) == ("reveal", worker, elder.pk, tree.community)
    assert "id_number" in log.fields


def test_history_lists_changes_with_numbers_masked(api, tree):
    elder = ElderFactory(region=tree.community, phone="13812345678")
    api.patch(f"/api/elders/{elder.pk}", {"phone": "13987654321", "version": elder.version})

    body = api.get(f"/api/elders/{elder.pk}/history").json()
    [entry] = body["items"]
    assert (body["count"], body["count_is_exact"], body["page"], body["pages"]) == (1, True, 1, 1)

    assert entry["changes"]["phone"] == ["138****5678", "139****4321"]
    assert entry["by"] == "community"


# --- schema ------------------------------------------------------------------------------------------------


def test_openapi_schema_lists_every_elder_operation(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    operations = {
        f"{method.upper()} {path}"
        for path, ops in response.json()["paths"].items()
        if path.startswith("/api/elders")
        for method in ops
    }
    assert operations == {
        "GET /api/elders",
        "POST /api/elders",
        "POST /api/elders/search",
        "GET /api/elders/categories",
        "GET /api/elders/{elder_id}",
        "PATCH /api/elders/{elder_id}",
        "POST /api/elders/{elder_id}/status",
        "POST /api/elders/{elder_id}/reveal",
        "GET /api/elders/{elder_id}/history",
        "POST /api/elders/import",
        "POST /api/elders/export",
        "POST /api/elders/receive/check",
        "POST /api/elders/receive",
    }


def test_api_docs_page_responds(client):
    assert client.get("/api/docs").status_code == 200


def test_patch_of_sex_contradicting_the_id_number_is_422_and_changes_nothing(api, tree):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    response = api.patch(f"/api/elders/{elder.pk}", {"sex": "M", "version": elder.version})

    assert response.status_code == 422
    assert fields_of(response) == {"sex"}
    elder.refresh_from_db()
    assert elder.sex == "F"
