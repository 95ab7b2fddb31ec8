"""The device gateway's door and the staff's API (issue 12, item 4)."""

import datetime
import json

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from alerts import services
from alerts.models import Alert, AlertEvent, Device
from conftest import make_user

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(path, json.dumps(body, default=str), content_type="application/json", headers=headers)


def ingest(client, world, *, token=None, event_id="evt-1", number=None, **extra):
    body = {
        "device": number or world.device.number,
        "event_id": event_id,
        "kind": "fall",
        "occurred_at": timezone.now().isoformat(),
    }
    body.update(extra)
    headers = {"Authorization": f"Device {token or world.token}"} if token != "" else {}
    return post(client, "/api/alerts", body, **headers)


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def test_a_device_raises_an_alert_and_its_watcher_is_notified_in_the_request(client, world):
    response = ingest(client, world, battery=64)

    assert response.status_code == 201, response.json()
    alert = Alert.objects.get(pk=response.json()["id"])
    assert (alert.source, alert.kind, alert.device, alert.event_id) == ("device", "fall", world.device, "evt-1")
    assert alert.events.get(kind="notified", step=0).to_user_ids == [world.watcher.pk]
    world.device.refresh_from_db()
    assert world.device.battery == 64


def test_a_retry_with_the_same_event_id_returns_the_first_alert(client, world):
    first = ingest(client, world)
    again = ingest(client, world)

    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["duplicate"] is True
    assert Alert.objects.count() == 1
    assert AlertEvent.objects.filter(kind="notified", step=0).count() == 1


def test_the_x_device_token_header_works_too(client, world):
    body = {"device": world.device.number, "event_id": "x1", "occurred_at": timezone.now().isoformat()}
    response = post(client, "/api/alerts", body, **{"X-Device-Token": world.token})
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("missing", 401, "缺少设备令牌"),
        ("wrong", 401, "设备令牌无效"),
        ("reissued", 401, "设备令牌无效"),
        ("retired", 401, "设备令牌无效"),  # retiring drops the token's hash
        ("another_device", 403, "令牌不属于设备"),
        ("bearer", 401, "缺少设备令牌"),
    ],
)
def test_the_gateway_door_refuses_bad_tokens_and_writes_nothing(client, world, case, status, message):
    token, number = world.token, None
    if case == "missing":
        token = ""
    elif case == "wrong":
        token = "not-a-token"
    elif case == "reissued":
        services.device_token_issue(by=world.worker, device=world.device)
    elif case == "retired":
        services.device_retire(by=world.worker, device=world.device, reason="老人入住机构")
    elif case == "another_device":
        other = services.device_register(
            by=world.worker, elder=world.elder, kind="watch", number="WATCH0002", installed_on=timezone.localdate()
        )
        number = other.number
    if case == "bearer":
        body = {"device": world.device.number, "event_id": "b1", "occurred_at": timezone.now().isoformat()}
        response = post(client, "/api/alerts", body, **bearer(world.worker))
    else:
        response = ingest(client, world, token=token, number=number)

    assert response.status_code == status, response.json()
    assert message in response.json()["detail"]
    assert set(response.json()) == {"detail", "errors"}
    assert Alert.objects.count() == 0


def test_a_retired_device_keeping_its_hash_is_refused_403(client, world):
    Device.objects.filter(pk=world.device.pk).update(status="retired")
    response = ingest(client, world)
    assert response.status_code == 403 and "已停用" in response.json()["detail"]


def test_heartbeat_moves_the_silent_time_and_battery(client, world):
    response = post(
        client, "/api/alerts/heartbeat", {"device": world.device.number, "battery": 15}, Authorization=f"Device {world.token}"
    )
    assert response.status_code == 200
    world.device.refresh_from_db()
    assert world.device.battery == 15
    assert world.device.silent_after - world.device.last_heartbeat_at == datetime.timedelta(minutes=120)


def test_a_future_occurred_at_is_refused_with_the_field(client, world):
    response = ingest(client, world, occurred_at=(timezone.now() + datetime.timedelta(hours=2)).isoformat())
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "occurred_at"


def test_staff_list_get_acknowledge_resolve(client, world):
    alert_id = ingest(client, world).json()["id"]
    listed = client.get("/api/alerts", headers=bearer(world.worker)).json()
    assert [a["id"] for a in listed["items"]] == [alert_id]

    detail = client.get(f"/api/alerts/{alert_id}", headers=bearer(world.worker)).json()
    assert [e["kind"] for e in detail["events"]] == ["raised", "notified"]

    ack = post(client, f"/api/alerts/{alert_id}/acknowledge", {"note": "已电话联系"}, **bearer(world.watcher))
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = post(client, f"/api/alerts/{alert_id}/acknowledge", {}, **bearer(world.worker))
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "status"

    done = post(
        client, f"/api/alerts/{alert_id}/resolve", {"outcome": "helped_home", "note": "扶起，无外伤"}, **bearer(world.worker)
    )
    assert done.status_code == 200 and done.json()["outcome"] == "helped_home"
    alert = Alert.objects.get(pk=alert_id)
    assert alert.resolved_by == world.worker and alert.acknowledged_by == world.watcher


def test_a_relative_without_region_acknowledges_their_elders_alert(client, world):
    alert_id = ingest(client, world).json()["id"]
    response = post(client, f"/api/alerts/{alert_id}/acknowledge", {}, **bearer(world.relative))
    assert response.status_code == 200


def test_a_watcher_of_another_elder_may_not_acknowledge(client, world, tree):
    alert_id = ingest(client, world).json()["id"]
    stranger = make_user("stranger", "volunteer", tree.community2)
    response = post(client, f"/api/alerts/{alert_id}/acknowledge", {}, **bearer(stranger))
    assert response.status_code == 404
    assert Alert.objects.get(pk=alert_id).status == "raised"


def test_another_communitys_worker_gets_404(client, world, worker_in_other_region):
    alert_id = ingest(client, world).json()["id"]
    assert client.get(f"/api/alerts/{alert_id}", headers=bearer(worker_in_other_region)).status_code == 404
    assert client.get("/api/alerts", headers=bearer(worker_in_other_region)).json()["items"] == []
    response = post(client, f"/api/alerts/{alert_id}/resolve", {"outcome": "false_alarm"}, **bearer(worker_in_other_region))
    assert response.status_code == 404


def test_hotline_alert_through_the_api(client, world):
    response = post(
        client,
        "/api/alerts/manual",
        {"elder": world.elder.pk, "kind": "health", "description": "来电说胸闷"},
        **bearer(world.worker),
    )
    assert response.status_code == 201
    assert response.json()["source"] == "hotline" and response.json()["events"][0]["kind"] == "raised"


def test_devices_register_token_retire(client, world):
    body = {"elder": world.elder.pk, "kind": "gas", "number": "GAS-77", "installed_on": timezone.localdate().isoformat()}
    created = post(client, "/api/alerts/devices", body, **bearer(world.worker))
    assert created.status_code == 201
    device_id = created.json()["id"]
    token = post(client, f"/api/alerts/devices/{device_id}/token", {}, **bearer(world.worker)).json()["token"]
    assert Device.objects.get(pk=device_id).token_hash not in ("", token)
    ok = ingest(client, world, token=token, number="GAS-77", event_id="g1")
    assert ok.status_code == 201
    retired = post(client, f"/api/alerts/devices/{device_id}/retire", {"reason": "更换"}, **bearer(world.worker))
    assert retired.json()["status"] == "retired"
    assert ingest(client, world, token=token, number="GAS-77", event_id="g2").status_code == 401


def test_silent_devices_are_flagged(client, world):
    Device.objects.filter(pk=world.device.pk).update(silent_after=timezone.now() - datetime.timedelta(minutes=1))
    items = client.get("/api/alerts/devices?flag=silent", headers=bearer(world.worker)).json()["items"]
    assert [d["number"] for d in items] == [world.device.number] and items[0]["is_silent"] is True


def test_policy_get_and_set(client, world, tree):
    got = client.get(f"/api/alerts/policies/{tree.grid.pk}", headers=bearer(world.worker)).json()
    assert got["is_default"] is True and [s["target"] for s in got["steps"]] == ["watcher", "family", "duty", "call_120"]
    body = {
        "steps": [{"target": "watcher", "wait_minutes": 2}, {"target": "duty", "wait_minutes": 0}],
        "duty_users": [world.worker.pk],
    }
    put = client.put(
        f"/api/alerts/policies/{tree.community.pk}",
        json.dumps(body),
        content_type="application/json",
        headers=bearer(world.worker),
    )
    assert put.status_code == 200, put.json()
    got = client.get(f"/api/alerts/policies/{tree.grid.pk}", headers=bearer(world.worker)).json()
    assert got["inherited_from"]["id"] == tree.community.pk and got["duty_users"][0]["id"] == world.worker.pk


def test_report_per_community_and_month(client, world, t0):
    a = services.alert_raise(elder=world.elder, source="hotline", kind="sos", occurred_at=t0, by=world.worker, now=t0)[0]
    services.alert_acknowledge(by=world.watcher, alert=a, now=t0 + datetime.timedelta(seconds=90))
    services.alert_resolve(by=world.worker, alert=a, outcome="hospital", now=t0 + datetime.timedelta(minutes=40))
    b = services.alert_raise(elder=world.elder, source="hotline", kind="sos", occurred_at=t0, by=world.worker, now=t0)[0]
    services.alert_acknowledge(by=world.watcher, alert=b, now=t0 + datetime.timedelta(seconds=30))
    services.alert_raise(elder=world.elder, source="hotline", kind="sos", occurred_at=t0, by=world.worker, now=t0)

    body = client.get("/api/alerts/report?month_from=2026-03-01&month_to=2026-03-31", headers=bearer(world.worker)).json()
    rows = body["items"]
    assert len(rows) == 1 and body["count"] == 1
    row = rows[0]
    assert (row["community"]["name"], row["month"], row["count"], row["acknowledged"], row["unanswered"]) == (
        "安泰社区",
        "2026-03",
        3,
        2,
        1,
    )
    assert row["response_median_s"] == 30 and row["response_p90_s"] == 90
    assert row["resolution_median_s"] == 2400 and row["by_outcome"] == {"hospital": 1}


def test_a_volunteer_of_the_same_community_not_paired_may_not_acknowledge(client, world, tree):
    alert_id = ingest(client, world).json()["id"]
    neighbour = make_user("neighbour", "volunteer", tree.community)
    response = post(client, f"/api/alerts/{alert_id}/acknowledge", {}, **bearer(neighbour))
    assert response.status_code == 404
    assert Alert.objects.get(pk=alert_id).status == "raised"
