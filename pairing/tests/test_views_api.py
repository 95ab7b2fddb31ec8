"""The pairing pages and API, the watcher's phone page with its panels, and the family portal's
visits and alerts panels."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLog
from conftest import make_user
from elders.tests.factories import ElderFactory
from pairing import services
from pairing.models import Pairing

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def paired(worker, elder, neighbour):
    return services.pairing_create(
        by=worker,
        elder=elder,
        role="watcher",
        partner_name="张玉华",
        phone="13812345678",
        user=neighbour,
        address_note="同楼对门",
    )


# --- pages ----------------------------------------------------------------------------------------


def test_the_list_shows_the_communitys_pairings_in_few_queries(client, worker, paired, tree, django_assert_max_num_queries):
    for n in range(5):
        e = ElderFactory(region=tree.grid, name=f"老人{n}")
        services.pairing_create(by=worker, elder=e, role="helper", partner_name=f"互助{n}", phone=f"1390000{n:04d}")
    client.force_login(worker)

    with django_assert_max_num_queries(16):
        response = client.get("/pairing/")

    body = response.content.decode()
    assert response.status_code == 200 and "张玉华" in body and "互助4" in body and "138****5678" in body
    assert "13812345678" not in body


def test_the_list_of_another_community_is_empty(client, worker_in_other_region, paired):
    client.force_login(worker_in_other_region)

    response = client.get("/pairing/")

    assert response.status_code == 200 and "张玉华" not in response.content.decode()


def test_the_unwatched_list_offers_to_pair_each_elder(client, worker, tree):
    alone = ElderFactory(
        region=tree.grid, name="独居老人", living_arrangement="alone", marital_status="widowed", children_count=0
    )
    client.force_login(worker)

    body = client.get("/pairing/unwatched/").content.decode()

    assert "独居老人" in body and f"/pairing/elder/{alone.pk}/new/" in body and "独居" in body


def test_pairing_through_the_form_lands_on_the_elder_page_with_the_panel(client, worker, elder):
    client.force_login(worker)

    response = client.post(
        f"/pairing/elder/{elder.pk}/new/",
        {"role": "watcher", "partner_kind": "neighbour", "partner_name": "单井英", "phone": "13900001111", "starts_on": TODAY},
    )

    assert response.status_code == 302 and response["Location"] == f"/elders/{elder.pk}/"
    assert Pairing.objects.get(elder=elder).partner_name == "单井英"
    page = client.get(f"/elders/{elder.pk}/").content.decode()
    assert 'data-testid="pairing-panel"' in page and "单井英" in page and "no-watcher" not in page


def test_the_elder_page_says_an_at_risk_elder_has_no_watcher(client, worker, elder):
    client.force_login(worker)

    page = client.get(f"/elders/{elder.pk}/").content.decode()

    assert 'data-testid="no-watcher"' in page and "空巢" in page


def test_the_form_shows_the_services_refusal_beside_the_field(client, worker, elder):
    client.force_login(worker)

    response = client.post(
        f"/pairing/elder/{elder.pk}/new/",
        {"role": "watcher", "partner_kind": "neighbour", "partner_name": "单井英", "phone": "123", "starts_on": TODAY},
    )

    assert response.status_code == 422 and "电话号码无效" in response.content.decode()
    assert not Pairing.objects.exists()


def test_the_form_finds_the_partners_account_by_user_name(client, worker, elder, neighbour):
    client.force_login(worker)

    client.post(
        f"/pairing/elder/{elder.pk}/new/",
        {
            "role": "watcher",
            "partner_kind": "neighbour",
            "partner_name": "张玉华",
            "phone": "13812345678",
            "account": "ZHANGYUHUA",
            "starts_on": TODAY,
        },
    )

    assert Pairing.objects.get().user == neighbour


def test_ending_through_the_detail_page(client, worker, paired):
    client.force_login(worker)

    response = client.post(f"/pairing/{paired.pk}/end/", {"reason": "搬走了"})

    assert response.status_code == 302
    paired.refresh_from_db()
    assert paired.ends_on == TODAY and paired.end_reason == "搬走了"
    assert "搬走了" in client.get(f"/pairing/{paired.pk}/").content.decode()


def test_ending_without_a_reason_is_refused_on_the_page(client, worker, paired):
    client.force_login(worker)

    response = client.post(f"/pairing/{paired.pk}/end/", {"reason": ""})

    assert response.status_code == 422
    paired.refresh_from_db()
    assert paired.ends_on is None


# --- the watcher's phone page ---------------------------------------------------------------------


def test_the_watcher_sees_her_elder_with_address_logged(client, neighbour, paired, elder):
    client.force_login(neighbour)

    response = client.get("/pairing/mine/")

    body = response.content.decode()
    assert response.status_code == 200 and elder.name in body and "经济房15号楼7单元6楼东户" in body
    assert f"/visits/new/?elder={elder.pk}" in body and elder.phone_masked in body
    log = AccessLog.objects.get(by=neighbour)
    assert (log.object_id, log.fields) == (elder.pk, "address")


def test_the_watcher_reveals_the_elders_phone_to_call_and_it_is_logged(client, neighbour, paired, elder):
    from core import crypto

    client.force_login(neighbour)

    response = client.post(f"/pairing/mine/{paired.pk}/phone/")

    phone = crypto.decrypt(elder.phone_enc)
    assert f'href="tel:{phone}"' in response.content.decode()
    assert AccessLog.objects.filter(by=neighbour, fields="phone", object_id=elder.pk).count() == 1


def test_another_watcher_cannot_reveal_the_phone(client, paired):
    other = make_user("someone", "elder", None)
    client.force_login(other)

    assert client.post(f"/pairing/mine/{paired.pk}/phone/").status_code == 404
    assert "冷国兴" not in client.get("/pairing/mine/").content.decode()


def test_a_worker_without_the_watch_permission_is_refused_the_phone_page(client, worker):
    client.force_login(worker)

    assert client.get("/pairing/mine/").status_code == 403


@pytest.fixture
def alert_and_visit_panels():
    from pairing.tests.panels_kit import safety_panels

    with safety_panels():
        yield


def test_the_phone_page_shows_open_alerts_and_visits_due_from_the_upper_apps(
    client, neighbour, paired, elder, alert_and_visit_panels
):
    from alerts.models import Alert
    from visits.models import VisitDue

    now = timezone.now()
    Alert.objects.create(elder=elder, region=elder.region, kind="fall", occurred_at=now, received_at=now)
    Alert.objects.create(
        elder=elder, region=elder.region, kind="gas", occurred_at=now, received_at=now, status="resolved", outcome="false_alarm"
    )
    VisitDue.objects.create(
        elder=elder, region=elder.region, opens_at=now - datetime.timedelta(days=20), due_at=now - datetime.timedelta(days=1)
    )
    client.force_login(neighbour)

    body = client.get("/pairing/mine/").content.decode()

    assert "未处置的紧急呼叫" in body and "跌倒" in body and "燃气泄漏" not in body
    assert "已逾期" in body


# --- API ------------------------------------------------------------------------------------------


def _api(client, user):
    from accounts.services import api_token_create

    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def test_api_create_list_get_and_end(client, worker, elder):
    h = _api(client, worker)

    made = client.post(
        "/api/pairing",
        {"elder": elder.pk, "role": "helper", "partner_kind": "party_member", "partner_name": "李树林", "phone": "13700001234"},
        content_type="application/json",
        headers=h,
    )
    assert made.status_code == 201, made.json()
    pk = made.json()["id"]
    assert made.json()["phone_masked"] == "137****1234" and made.json()["active"] is True

    listed = client.get("/api/pairing?role=helper", headers=h).json()
    assert [i["id"] for i in listed["items"]] == [pk]
    assert client.get(f"/api/pairing/{pk}", headers=h).json()["partner_name"] == "李树林"

    ended = client.post(f"/api/pairing/{pk}/end", {"reason": "搬走了"}, content_type="application/json", headers=h)
    assert ended.status_code == 200 and ended.json()["active"] is False
    assert client.get("/api/pairing", headers=h).json()["count"] == 0


def test_api_duplicate_is_a_422_naming_the_field(client, worker, paired, elder):
    h = _api(client, worker)

    response = client.post(
        "/api/pairing",
        {"elder": elder.pk, "partner_name": "张玉华", "phone": "13812345678"},
        content_type="application/json",
        headers=h,
    )

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["partner_name"]


def test_api_unwatched_and_mine(client, worker, neighbour, paired, elder, tree):
    ElderFactory(region=tree.grid, name="独居老人", living_arrangement="alone", marital_status="widowed", children_count=0)

    unwatched = client.get("/api/pairing/unwatched", headers=_api(client, worker)).json()
    assert [i["name"] for i in unwatched["items"]] == ["独居老人"] and "独居" in unwatched["items"][0]["at_risk"]

    mine = client.get("/api/pairing/mine", headers=_api(client, neighbour)).json()
    assert [i["elder"]["id"] for i in mine["items"]] == [elder.pk]
    phone = client.post(f"/api/pairing/mine/{paired.pk}/phone", headers=_api(client, neighbour))
    assert phone.status_code == 200 and len(phone.json()["phone"]) >= 11


# --- the family portal ----------------------------------------------------------------------------


@pytest.fixture
def portal_panels():
    from pairing.tests.panels_kit import safety_panels

    with safety_panels():
        yield


def test_the_relative_sees_the_elders_visits_and_alerts_and_not_another_elders(client, worker, elder, tree, portal_panels):
    from alerts.models import Alert
    from orders.family import family_link_create
    from visits.models import Visit

    relative = make_user("son", "elder", None)
    family_link_create(by=worker, user=relative, elder=elder, relation="child", consent_on=TODAY, consent_note="签字同意书")
    other = ElderFactory(region=tree.grid, name="隔壁老人")
    now = timezone.now()
    Visit.objects.create(
        elder=elder,
        region=elder.region,
        visited_at=now,
        via="home",
        visitor_name="网格员",
        outcome="concern",
        checklist={"mood": "低落"},
        notes="家里冰箱空了",
    )
    Visit.objects.create(
        elder=elder,
        region=elder.region,
        visited_at=now - datetime.timedelta(days=30),
        via="phone",
        visitor_name="网格员",
        missed=True,
        missed_reason="no_answer",
    )
    Alert.objects.create(
        elder=elder, region=elder.region, kind="fall", occurred_at=now, received_at=now, status="resolved", outcome="hospital"
    )
    Visit.objects.create(elder=other, region=other.region, visited_at=now, via="video", visitor_name="别人")
    Alert.objects.create(elder=other, region=other.region, kind="smoke", occurred_at=now, received_at=now)
    client.force_login(relative)

    body = client.get(f"/family/elders/{elder.pk}/").content.decode()

    assert 'data-testid="portal-visits"' in body and 'data-testid="portal-alerts"' in body
    assert "入户探访" in body and "需关注" in body and "电话无人接听" in body
    assert "跌倒" in body and "送医" in body
    assert "冰箱" not in body and "低落" not in body  # the checklist and notes stay with the workers
    assert "视频" not in body and "烟雾" not in body  # the other elder's
    assert client.get(f"/family/elders/{other.pk}/").status_code == 404
