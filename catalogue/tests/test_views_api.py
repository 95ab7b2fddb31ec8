"""Catalogue pages and API: everyone who orders or provides reads; the platform admin edits; an
aging office sets the price lists and packages of its own district only (another: 404)."""

import pytest

from accounts.services import api_token_create
from catalogue.models import PriceEntry, ServiceItem
from conftest import make_user
from elders.tests.factories import ElderFactory
from regions.models import Level
from regions.services import region_create

pytestmark = pytest.mark.django_db


def _h(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


@pytest.fixture
def district2(tree):
    return region_create(name="河西区", level=Level.DISTRICT, parent=tree.city, code="990103000000")


@pytest.fixture
def office(tree):
    return make_user("office", "aging_office", tree.district)


@pytest.mark.parametrize("role", ["community", "grid", "provider", "caregiver", "volunteer", "merchant", "elder", "street"])
def test_every_role_that_orders_or_provides_reads_the_catalogue(client, tree, role):
    client.force_login(make_user(f"u_{role}", role, tree.community))
    page = client.get("/catalogue/").content.decode()
    assert "生活照料" in page and "送餐" in page and "互助养老" in page
    assert client.get("/catalogue/items/new/").status_code == 403


def test_the_catalogue_page_filters(client, worker):
    client.force_login(worker)
    page = client.get("/catalogue/", {"scheme": "timebank"}).content.decode()
    assert "社区环保" in page and "打扫卫生" not in page
    page = client.get("/catalogue/", {"payment_mode": "government", "q": "送"}).content.decode()
    assert "送餐" in page and "理发" not in page


def test_the_admin_edits_an_item_and_it_is_recorded(client, admin_user):
    from audit.models import ChangeRecord

    client.force_login(admin_user)
    item = ServiceItem.objects.get(code="cleaning")
    data = {
        "category": item.category_id,
        "code": item.code,
        "name": item.name,
        "unit": "hour",
        "price_yuan": "38.50",
        "duration_minutes": "120",
        "payment_modes": ["paid", "government"],
        "outcomes": "清洁已完成\n垃圾已带走",
        "orderable_by": ["community", "elder"],
        "position": "6",
        "is_active": "on",
    }
    response = client.post(f"/catalogue/items/{item.pk}/edit/", data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.price_fen == 3850 and item.outcomes == ["清洁已完成", "垃圾已带走"]
    record = ChangeRecord.objects.get(model="catalogue.serviceitem")
    assert record.changes["price_fen"] == [3500, 3850]


def test_api_reads_with_filters(client, worker):
    h = _h(worker)
    items = client.get("/api/catalogue/items?scheme=service&payment_mode=time_coin", headers=h).json()
    assert [i["name"] for i in items] == ["聊天谈心"]
    kinds = client.get("/api/catalogue/certificate-kinds", headers=h).json()
    assert [k["name"] for k in kinds if k["family"] == "eldercare"][:2] == ["养老护理员（初级）", "养老护理员（中级）"]
    assert client.get("/api/catalogue/categories?scheme=timebank", headers=h).json()[0]["name"] == "互助养老"
    r = client.post("/api/catalogue/items", {"category": 1, "code": "x", "name": "x"}, content_type="application/json", headers=h)
    assert r.status_code == 403 and not ServiceItem.objects.filter(code="x").exists()


def test_api_item_validation_in_chinese_naming_the_field(client, admin_user):
    h = _h(admin_user)
    cat = client.get("/api/catalogue/categories", headers=h).json()[0]["id"]
    r = client.post(
        "/api/catalogue/items", {"category": cat, "code": "cleaning", "name": "重复"}, content_type="application/json", headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "code" and "代码" in r.json()["detail"]
    r = client.post(
        "/api/catalogue/items", {"category": 999999, "code": "x1", "name": "x"}, content_type="application/json", headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "category" and "服务类别不存在" in r.json()["detail"]
    r = client.post(
        "/api/catalogue/items",
        {"category": cat, "code": "x2", "name": "x", "required_skills": [999999]},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "required_skills" and "所需技能" in r.json()["detail"]
    r = client.patch(
        f"/api/catalogue/items/{ServiceItem.objects.get(code='cleaning').pk}",
        {"price_fen": 3900},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 200 and r.json()["price_fen"] == 3900


def test_a_district_sets_its_own_price_list_and_not_anothers(client, tree, office, district2):
    item = ServiceItem.objects.get(code="cleaning")
    client.force_login(office)
    response = client.post(
        f"/catalogue/prices/{tree.district.pk}/", {"item": item.pk, "price_yuan": "30", "valid_from": "2026-01-01"}
    )
    assert response.status_code == 302
    assert (
        client.post(
            f"/catalogue/prices/{district2.pk}/", {"item": item.pk, "price_yuan": "1", "valid_from": "2026-01-01"}
        ).status_code
        == 404
    )
    assert client.get(f"/catalogue/prices/{district2.pk}/").status_code == 404
    h = _h(office)
    r = client.post(
        f"/api/catalogue/prices/{district2.pk}",
        {"item": item.pk, "price_fen": 1, "valid_from": "2026-01-01"},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 404
    assert PriceEntry.objects.count() == 1
    # The community below inherits the district's price, as the page and the API say.
    body = client.get(f"/api/catalogue/prices/{tree.community.pk}?on=2026-06-01", headers=h).json()
    row = next(p for p in body["prices"] if p["item"]["id"] == item.pk)
    assert row["price_fen"] == 3000 and row["set_by"]["name"] == "锦山区" and row["default_price_fen"] == 3500
    page = client.get(f"/catalogue/prices/{tree.street.pk}/").content.decode()
    assert "锦山区" in page


def test_a_community_worker_reads_prices_but_cannot_set_them(client, tree, worker):
    item = ServiceItem.objects.get(code="cleaning")
    client.force_login(worker)
    assert client.get(f"/catalogue/prices/{tree.community.pk}/").status_code == 200
    assert (
        client.post(
            f"/catalogue/prices/{tree.community.pk}/", {"item": item.pk, "price_yuan": "1", "valid_from": "2026-01-01"}
        ).status_code
        == 403
    )
    assert not PriceEntry.objects.exists()


def test_price_api_errors_name_the_field(client, tree, office):
    h = _h(office)
    r = client.post(
        f"/api/catalogue/prices/{tree.district.pk}",
        {"item": 999999, "price_fen": 1, "valid_from": "2026-01-01"},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "item"
    item = ServiceItem.objects.get(code="cleaning").pk
    r = client.post(
        f"/api/catalogue/prices/{tree.district.pk}",
        {"item": item, "price_fen": 1, "valid_from": "2026-02-01", "valid_to": "2026-01-01"},
        content_type="application/json",
        headers=h,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "valid_to" and "截止日期" in r.json()["detail"]


def test_packages_through_the_api_and_the_elder_page(client, tree, office, district2, worker):
    h = _h(office)
    item = ServiceItem.objects.get(code="cleaning")
    body = {
        "region": tree.district.pk,
        "code": "severe_care",
        "name": "重度失能居家照护",
        "ability_levels": ["severe"],
        "valid_from": "2026-01-01",
        "grants": [{"item": item.pk, "quantity": 30, "unit": "hour"}],
    }
    r = client.post("/api/catalogue/packages", body, content_type="application/json", headers=h)
    assert r.status_code == 201, r.content
    r = client.post("/api/catalogue/packages", {**body, "region": district2.pk}, content_type="application/json", headers=h)
    assert r.status_code == 404
    r = client.post(
        "/api/catalogue/packages", {**body, "code": "x", "categories": ["martian"]}, content_type="application/json", headers=h
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "categories"
    elder = ElderFactory(region=tree.grid, ability_level="severe")
    ent = client.get(f"/api/catalogue/entitlements/{elder.pk}", headers=h).json()
    assert ent["quotas"][0]["quantity"] == 30 and ent["quotas"][0]["item"]["name"] == "打扫卫生"
    client.force_login(worker)
    page = client.get(f"/elders/{elder.pk}/").content.decode()
    assert 'data-testid="entitlements-panel"' in page and "30 小时" in page and "重度失能居家照护" in page


def test_a_package_form_from_the_page(client, tree, office):
    client.force_login(office)
    item = ServiceItem.objects.get(code="meal_delivery")
    data = {
        "region": tree.district.pk,
        "code": "alone_meals",
        "name": "独居老人送餐",
        "categories": ["lives_alone"],
        "payment_mode": "low_cost",
        "valid_from": "2026-01-01",
        "is_active": "on",
        "grants-TOTAL_FORMS": "2",
        "grants-INITIAL_FORMS": "0",
        "grants-0-item": item.pk,
        "grants-0-quantity": "22",
        "grants-0-unit": "meal",
        "grants-1-unit": "hour",
    }
    response = client.post("/catalogue/packages/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get("/catalogue/packages/").content.decode()
    assert "独居老人送餐" in page and "送餐 22餐" in page
