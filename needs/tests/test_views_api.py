"""The needs pages and API: the elder's panel, adding and moving, the overdue list, scope
(another community: 404; no permission: 403) and Chinese errors naming the field."""

import datetime

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from catalogue.models import ServiceItem
from conftest import make_user
from elders.tests.factories import ElderFactory
from needs.models import Need, State
from needs.services import need_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def elder(tree):
    return ElderFactory(region=tree.grid, name="冷国兴", ability_level="severe")


@pytest.fixture
def need(worker, elder):
    return need_create(
        by=worker,
        elder=elder,
        kind="urgent",
        source="call",
        description="腿脚不便，需要送餐上门",
        follow_up_on=timezone.localdate() - datetime.timedelta(days=2),
    )


def _api(client, user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def test_the_elder_page_shows_the_needs_panel_with_its_moves(client, worker, elder, need):
    client.force_login(worker)
    page = client.get(f"/elders/{elder.pk}/").content.decode()
    assert 'data-testid="needs-panel"' in page
    assert "腿脚不便，需要送餐上门" in page and "逾期" in page
    assert "安排服务" in page and "登记需求" in page


def test_a_reader_sees_the_panel_without_the_buttons(client, tree, elder, need):
    client.force_login(make_user("street", "street", tree.street))
    page = client.get(f"/elders/{elder.pk}/").content.decode()
    assert "腿脚不便，需要送餐上门" in page
    assert "安排服务" not in page and "登记需求" not in page


def test_adding_a_need_from_the_page(client, worker, elder):
    client.force_login(worker)
    meal = ServiceItem.objects.get(code="meal_delivery")
    response = client.post(
        f"/needs/elder/{elder.pk}/new/",
        {
            "kind": "special",
            "source": "family",
            "description": "女儿反映老人夜间独处不安",
            "items": [meal.pk],
            "follow_up_on": "2026-12-20",
            "responsible": worker.pk,
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/elders/{elder.pk}/"
    need = Need.objects.get()
    assert need.kind == "special" and need.responsible == worker and list(need.items.all()) == [meal]


def test_adding_without_a_description_names_the_field(client, worker, elder):
    client.force_login(worker)
    response = client.post(f"/needs/elder/{elder.pk}/new/", {"kind": "general", "source": "visit", "description": ""})
    assert response.status_code == 200 and not Need.objects.exists()
    assert "这个字段是必填项" in response.content.decode() or "必填" in response.content.decode()


def test_moving_from_the_elder_page_returns_there(client, worker, elder, need):
    client.force_login(worker)
    response = client.post(f"/needs/{need.pk}/move/", {"action": "plan", "next": "elder"})
    assert response["Location"] == f"/elders/{elder.pk}/"
    assert Need.objects.get(pk=need.pk).state == State.PLANNED


def test_closing_without_a_reason_is_refused_on_the_page(client, worker, need):
    client.force_login(worker)
    response = client.post(f"/needs/{need.pk}/move/", {"action": "close", "reason": ""})
    assert response.status_code == 422
    assert "请填写原因" in response.content.decode()
    assert Need.objects.get(pk=need.pk).state == State.OPEN


def test_the_overdue_list_of_a_community(client, worker, tree, need):
    other_elder = ElderFactory(region=tree.community2, name="驻春路老人")
    need_create(
        by=make_user("c2", "community", tree.community2),
        elder=other_elder,
        kind="general",
        source="visit",
        description="驻春路的需求",
        follow_up_on=timezone.localdate() - datetime.timedelta(days=9),
    )
    client.force_login(make_user("office", "aging_office", tree.city))
    page = client.get("/needs/", {"overdue": "1", "region": tree.community.pk}).content.decode()
    assert "腿脚不便" in page and "驻春路的需求" not in page
    page = client.get("/needs/", {"overdue": "1"}).content.decode()
    assert "腿脚不便" in page and "驻春路的需求" in page


def test_another_community_gets_404_and_a_role_without_permission_403(client, tree, need):
    client.force_login(make_user("c2", "community", tree.community2))
    assert client.get(f"/needs/{need.pk}/").status_code == 404
    assert client.post(f"/needs/{need.pk}/move/", {"action": "meet"}).status_code == 404
    assert client.get("/needs/", {"region": tree.community.pk}).status_code == 404
    client.force_login(make_user("cg", "caregiver", tree.community))
    assert client.get(f"/needs/{need.pk}/").status_code == 403
    client.force_login(make_user("st", "street", tree.street))
    assert client.post(f"/needs/{need.pk}/move/", {"action": "meet"}).status_code == 403
    assert Need.objects.get(pk=need.pk).state == State.OPEN


def test_api_list_create_get_move(client, worker, elder, need):
    h = _api(client, worker)
    body = client.get("/api/needs?overdue=true", headers=h).json()
    assert body["count"] == 1 and body["items"][0]["overdue"] and body["items"][0]["kind_label"] == "刚需"
    meal = ServiceItem.objects.get(code="meal_delivery")
    created = client.post(
        "/api/needs",
        {"elder": elder.pk, "kind": "general", "description": "想参加书法班", "service_items": [meal.pk]},
        content_type="application/json",
        headers=h,
    )
    assert created.status_code == 201 and created.json()["service_items"] == [{"id": meal.pk, "name": "送餐"}]
    moved = client.post(f"/api/needs/{need.pk}/move", {"action": "meet"}, content_type="application/json", headers=h)
    assert moved.status_code == 200 and moved.json()["state"] == "met" and moved.json()["actions"] == ["reopen"]
    history = client.get(f"/api/needs/{need.pk}/history", headers=h).json()
    assert {r["action"] for r in history["items"]} == {"create", "status"} and history["count"] == 2


def test_api_errors_are_chinese_and_name_the_field(client, worker, elder, need):
    h = _api(client, worker)
    r = client.post(f"/api/needs/{need.pk}/move", {"action": "close"}, content_type="application/json", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason" and "原因" in r.json()["detail"]
    r = client.post(f"/api/needs/{need.pk}/move", {"action": "reopen", "reason": "x"}, content_type="application/json", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "action" and "不能" in r.json()["detail"]
    r = client.post(
        "/api/needs",
        {"elder": elder.pk, "description": "x", "service_items": [999999]},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_items" and "服务项目不存在" in r.json()["detail"]
    r = client.post("/api/needs", {"elder": elder.pk, "description": " "}, content_type="application/json", headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "description"


def test_api_scope(client, tree, need, elder):
    h = _api(client, make_user("c2", "community", tree.community2))
    assert client.get(f"/api/needs/{need.pk}", headers=h).status_code == 404
    r = client.post("/api/needs", {"elder": elder.pk, "description": "越界"}, content_type="application/json", headers=h)
    assert r.status_code == 404
    assert client.get("/api/needs", headers=h).json()["count"] == 0


def test_the_desk_shows_open_and_overdue_counts(client, worker, need):
    client.force_login(worker)
    page = client.get("/").content.decode()
    assert 'data-testid="needs-desk"' in page


def test_the_responsible_person_must_work_where_the_elder_lives(client, worker, tree, elder):
    h = _api(client, worker)
    outsider = make_user("c2", "community", tree.community2)
    r = client.post(
        "/api/needs",
        {"elder": elder.pk, "description": "需要送餐", "responsible": outsider.pk},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "responsible"
    grid = make_user("g1", "grid", tree.grid)
    r = client.post(
        "/api/needs",
        {"elder": elder.pk, "description": "需要送餐", "responsible": grid.pk},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 201 and r.json()["responsible"]["id"] == grid.pk
