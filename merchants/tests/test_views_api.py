"""Pages and /api/merchants: scope (another community's merchant: 404), permissions (403),
the circle panel and API, the map's click, coverage page, the elder's coordinates."""

import pytest

from accounts.services import api_token_create
from elders.tests.factories import ElderFactory
from merchants.models import Merchant
from merchants.tests.factories import CENTRE, merchant, north_of

pytestmark = pytest.mark.django_db


class Api:
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
def shop(tree):
    return merchant(tree.community, "安泰理发店", point=CENTRE)


def test_list_and_detail_pages_show_the_merchant(client, worker, shop):
    client.force_login(worker)
    listing = client.get("/merchants/").content.decode()
    assert "安泰理发店" in listing and "8%" in listing
    detail = client.get(f"/merchants/{shop.pk}/").content.decode()
    assert "安泰理发店" in detail and "120.565000" in detail


def test_another_communitys_merchant_is_404_on_every_door(client, worker_in_other_region, shop):
    client.force_login(worker_in_other_region)
    assert client.get(f"/merchants/{shop.pk}/").status_code == 404
    assert client.get(f"/merchants/{shop.pk}/edit/").status_code == 404
    assert "安泰理发店" not in client.get("/merchants/").content.decode()
    api = Api(client, worker_in_other_region)
    assert api.get(f"/api/merchants/{shop.pk}").status_code == 404
    assert api.patch(f"/api/merchants/{shop.pk}", {"name": "x", "version": 1}).status_code == 404
    assert api.get("/api/merchants").json()["count"] == 0


def test_a_role_without_the_permission_gets_403(client, auditor, grid_user, shop):
    client.force_login(auditor)
    assert client.get("/merchants/").status_code == 403
    assert Api(client, auditor).get("/api/merchants").status_code == 403
    client.force_login(grid_user)  # reads, may not change
    assert client.get(f"/merchants/{shop.pk}/").status_code == 200
    assert client.get(f"/merchants/{shop.pk}/edit/").status_code == 403
    assert Api(client, grid_user).patch(f"/api/merchants/{shop.pk}", {"name": "x", "version": 1}).status_code == 403


def test_create_through_the_page_and_a_clear_error_for_a_bad_discount(client, worker, tree):
    client.force_login(worker)
    bad = client.post("/merchants/new/", {"region": tree.community.pk, "name": "小超市", "kind": "supermarket", "discount": "15"})
    assert bad.status_code == 200 and "优惠幅度应在 5% 到 10% 之间" in bad.content.decode()
    ok = client.post(
        "/merchants/new/",
        {"region": tree.community.pk, "name": "小超市", "kind": "supermarket", "discount": "5", "hours_0": "07:00-22:00"},
    )
    assert ok.status_code == 302
    assert Merchant.objects.get(name="小超市").discount_tenths == 50


def test_the_api_creates_reads_and_updates(client, worker, tree):
    api = Api(client, worker)
    created = api.post(
        "/api/merchants",
        {"region": tree.community.pk, "name": "仁心大药房", "kind": "pharmacy", "discount": 5, "lat": 30.63, "lng": 120.57},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["discount_percent"] == 5.0 and body["kind_label"] == "药店" and body["version"] == 1
    refused = api.post("/api/merchants", {"region": tree.community.pk, "name": "x", "kind": "pharmacy", "discount": 11})
    assert refused.status_code == 422
    assert any(e["field"] == "discount" for e in refused.json()["errors"])
    changed = api.patch(f"/api/merchants/{body['id']}", {"discount": "7.5", "version": 1})
    assert changed.status_code == 200 and changed.json()["discount_percent"] == 7.5
    stale = api.patch(f"/api/merchants/{body['id']}", {"discount": "6", "version": 1})
    assert stale.status_code == 409


def test_the_circle_api_and_panel(client, worker, worker_in_other_region, tree, shop):
    merchant(tree.community, "远处的店", point=north_of(CENTRE, 2000))
    elder = ElderFactory(region=tree.grid, home_lat=CENTRE[0], home_lng=CENTRE[1])
    unplaced = ElderFactory(region=tree.grid)
    api = Api(client, worker)
    body = api.get(f"/api/merchants/circle/{elder.pk}").json()
    assert body["located"] is True and [m["name"] for m in body["merchants"]] == ["安泰理发店"]
    assert body["merchants"][0]["walking_minutes"] == 0 and body["radius_m"] == 577
    assert api.get(f"/api/merchants/circle/{unplaced.pk}").json()["located"] is False
    client.force_login(worker)
    panel = client.get(f"/merchants/circle/elder/{elder.pk}/").content.decode()
    assert "安泰理发店" in panel and "远处的店" not in panel
    assert "尚未定位" in client.get(f"/merchants/circle/elder/{unplaced.pk}/").content.decode()
    page = client.get(f"/elders/{elder.pk}/").content.decode()
    assert f"/merchants/circle/elder/{elder.pk}/" in page  # the elder page loads the panel
    assert Api(client, worker_in_other_region).get(f"/api/merchants/circle/{elder.pk}").status_code == 404
    client.force_login(worker_in_other_region)
    assert client.get(f"/merchants/circle/elder/{elder.pk}/").status_code == 404


def test_a_click_on_the_map_sets_a_merchants_and_an_elders_location(client, worker, tree, shop):
    elder = ElderFactory(region=tree.grid)
    client.force_login(worker)
    page = client.get(f"/merchants/map/?region={tree.community.pk}").content.decode()
    assert "plain-map" in page and "安泰理发店" in page
    post = {"what": "merchant", "id": shop.pk, "lat": "30.6301", "lng": "120.5702"}
    answer = client.post("/merchants/map/locate/", post, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.content
    shop.refresh_from_db()
    assert (shop.lat, shop.lng) == (30.6301, 120.5702)
    answer = client.post("/merchants/map/locate/", {"target": f"elder:{elder.pk}", "lat": "30.629", "lng": "120.566"})
    assert answer.status_code == 302
    elder.refresh_from_db()
    assert (elder.home_lat, elder.home_lng) == (30.629, 120.566)
    refused = client.post("/merchants/map/locate/", {**post, "lat": "200"}, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "纬度" in refused.json()["detail"]


def test_the_map_click_respects_scope_and_permission(client, worker_in_other_region, grid_user, shop):
    post = {"what": "merchant", "id": shop.pk, "lat": "30.63", "lng": "120.57"}
    client.force_login(worker_in_other_region)
    assert client.post("/merchants/map/locate/", post).status_code == 404
    client.force_login(grid_user)
    assert client.post("/merchants/map/locate/", post).status_code == 403
    shop.refresh_from_db()
    assert shop.lat == CENTRE[0]


def test_the_coverage_page_and_api(client, worker, tree, shop):
    ElderFactory(region=tree.grid, home_lat=CENTRE[0], home_lng=CENTRE[1], name="近的人")
    ElderFactory(region=tree.grid, name="没坐标的人")
    client.force_login(worker)
    page = client.get(f"/merchants/coverage/?region={tree.community.pk}").content.decode()
    assert "没坐标的人" in page and "100%" in page
    body = Api(client, worker).get("/api/merchants/coverage", {"region": tree.community.pk}).json()
    barber = next(k for k in body["kinds"] if k["kind"] == "barber")
    assert (body["elders"], body["located"], body["unlocated"], barber["covered"], barber["share"]) == (2, 1, 1, 1, 1.0)


def test_elder_coordinates_through_the_elder_api_with_clear_errors(client, worker, tree):
    elder = ElderFactory(region=tree.grid)
    api = Api(client, worker)
    ok = api.patch(f"/api/elders/{elder.pk}", {"home_lat": "30.628", "home_lng": 120.565, "version": elder.version})
    assert ok.status_code == 200 and ok.json()["home_lat"] == 30.628
    bad = api.patch(f"/api/elders/{elder.pk}", {"home_lat": "120.565", "home_lng": "30.628", "version": ok.json()["version"]})
    assert bad.status_code == 422
    messages = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "纬度" in messages["home_lat"] and "填反" in messages["home_lng"]


def test_the_map_shows_elders_homes_only_to_those_who_may_read_the_register(client, tree, shop):
    from conftest import make_user

    ElderFactory(region=tree.grid, home_lat=CENTRE[0], home_lng=CENTRE[1])
    shopkeeper = make_user("shopkeeper", "merchant", tree.community)
    client.force_login(shopkeeper)
    page = client.get(f"/merchants/map/?region={tree.community.pk}").content.decode()
    assert 'r="3"' not in page  # no elder dot
    assert "安泰理发店" in page  # the merchants still
    client.force_login(make_user("worker3", "community", tree.community))
    assert 'r="3"' in client.get(f"/merchants/map/?region={tree.community.pk}").content.decode()


def test_coverage_too_big_for_a_request_runs_as_a_job(client, worker, tree, shop, settings, monkeypatch):
    from jobs.models import Job
    from jobs.services import job_run
    from merchants import selectors
    from merchants.tasks import _coverage_work

    ElderFactory(region=tree.grid, home_lat=CENTRE[0], home_lng=CENTRE[1])
    ElderFactory(region=tree.grid, home_lat=CENTRE[0], home_lng=CENTRE[1])
    monkeypatch.setattr(selectors, "COVERAGE_MAX_ELDERS", 1)
    monkeypatch.setattr(selectors.coverage_for, "__kwdefaults__", {**selectors.coverage_for.__kwdefaults__, "max_elders": 1})
    client.force_login(worker)
    page = client.get(f"/merchants/coverage/?region={tree.community.pk}").content.decode()
    assert "在后台计算" in page and "超过页面即时计算的上限" in page

    answer = client.post("/merchants/coverage/job/", {"region": tree.community.pk})
    job = Job.objects.get(kind="merchant_coverage")
    assert answer.status_code == 302 and answer["Location"] == f"/jobs/{job.pk}/"
    job_run(job.pk, _coverage_work)
    job.refresh_from_db()
    barber = next(k for k in job.result["kinds"] if k["label"] == "理发")
    assert (job.status, job.result["elders"], barber["covered"], barber["pct"]) == ("succeeded", 2, 2, 100)
    assert "理发" in client.get(f"/jobs/{job.pk}/").content.decode()


def test_the_coverage_job_refuses_a_region_outside_the_scope(client, worker_in_other_region, tree):
    client.force_login(worker_in_other_region)
    assert client.post("/merchants/coverage/job/", {"region": tree.community.pk}).status_code == 404
    assert client.post("/merchants/coverage/job/", {"region": "x"}).status_code == 404
