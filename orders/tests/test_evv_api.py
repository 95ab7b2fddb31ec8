"""The visit through the API as the phone uses it: check-in and check-out with their keys (a retry
answers the first result, never a double), offline records, the worker's day, the exceptions and
stray check-ins queues, scoped and refused as documented (docs/orders-visits.md)."""

import datetime
import json

import pytest
from django.test import Client

from accounts.services import api_token_create
from audit.models import ChangeRecord
from conftest import make_user
from orders.models import Status, StrayCheckin, VisitException
from orders.tests.factories import at, north_of_home

pytestmark = pytest.mark.django_db


def api(user):
    client = Client()
    token = api_token_create(user=user)

    def call(method, path, body=None):
        kwargs = {"headers": {"Authorization": f"Bearer {token}"}}
        if method == "get":
            return client.get(path, body or {}, **kwargs)
        return client.post(path, json.dumps(body or {}, default=str), content_type="application/json", **kwargs)

    return call


@pytest.fixture
def today_visit(loop):
    """An order of 王安娜 that started five minutes ago (today), accepted."""
    from django.utils import timezone

    from orders.services import order_create

    start = (timezone.now() - datetime.timedelta(minutes=5)).replace(microsecond=0)
    return loop.accepted(order_create(by=loop.desk, elder=loop.elder, item=loop.item, scheduled_start=start))


def position(metres=20, **extra):
    lat, lng = north_of_home(metres)
    return {"lat": lat, "lng": lng, "accuracy_m": 12, **extra}


def test_check_in_and_out_through_the_api(today_visit, loop):
    anna = api(loop.anna_user)
    r = anna("post", f"/api/orders/{today_visit.pk}/check-in", position(idempotency_key="k1"))
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "in_service" and r.json()["checkin_distance_m"] == 20

    r = anna("post", f"/api/orders/{today_visit.pk}/check-out", position(outcomes={}, idempotency_key="k2"))
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "outcomes", "message": "签退前请先记录：清洁已完成"}]

    r = anna("post", f"/api/orders/{today_visit.pk}/check-out", position(outcomes={"清洁已完成": True}, idempotency_key="k2"))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "completed" and body["outcomes"] == {"清洁已完成": True}
    assert body["flags"] == ["short"] and body["verification"] == "pending"  # minutes, not two hours


def test_the_same_key_twice_answers_the_same_check_in_without_a_second_record(today_visit, loop):
    anna = api(loop.anna_user)
    first = anna("post", f"/api/orders/{today_visit.pk}/check-in", position(idempotency_key="same"))
    again = anna("post", f"/api/orders/{today_visit.pk}/check-in", position(metres=800, idempotency_key="same"))

    assert first.status_code == again.status_code == 200
    assert again.json()["checkin_at"] == first.json()["checkin_at"] and again.json()["checkin_distance_m"] == 20
    moves = ChangeRecord.objects.filter(
        object_id=str(today_visit.pk), action="status", changes__status=["accepted", "in_service"]
    )
    assert moves.count() == 1
    assert not VisitException.objects.filter(order=today_visit).exists()


def test_a_retry_without_its_key_hears_the_state_it_found(today_visit, loop):
    anna = api(loop.anna_user)
    anna("post", f"/api/orders/{today_visit.pk}/check-in", position())
    r = anna("post", f"/api/orders/{today_visit.pk}/check-in", position())
    assert r.status_code == 422 and "服务中" in r.json()["detail"]


def test_an_offline_check_out_is_marked_delayed_and_keeps_the_phone_time(today_visit, loop):
    from django.utils import timezone

    anna = api(loop.anna_user)
    arrived = timezone.now() - datetime.timedelta(minutes=8)
    anna("post", f"/api/orders/{today_visit.pk}/check-in", position(offline=True, device_at=arrived.isoformat()))
    tapped = timezone.now() - datetime.timedelta(minutes=3)
    body = position(
        outcomes={"清洁已完成": True},
        offline=True,
        device_at=tapped.isoformat(),
        device_sent_at=timezone.now().isoformat(),
        idempotency_key="off-1",
    )
    r = anna("post", f"/api/orders/{today_visit.pk}/check-out", body)

    assert r.status_code == 200, r.content
    assert r.json()["checkout_delayed"] is True and "delayed_sync" in r.json()["flags"]
    today_visit.refresh_from_db()
    assert today_visit.checkout_device_at == today_visit.checkout_at == tapped
    assert today_visit.checkin_at == arrived and today_visit.checkin_delayed


def test_a_colleague_cannot_check_in_someone_elses_visit(today_visit, loop):
    r = api(loop.bo_user)("post", f"/api/orders/{today_visit.pk}/check-in", position())
    assert r.status_code == 404  # not his to see
    today_visit.refresh_from_db()
    assert today_visit.status == Status.ACCEPTED


def test_my_day_lists_only_the_workers_visits_of_the_day(today_visit, loop):
    loop.accepted(loop.order(start=at(loop.tomorrow, 9)))
    r = api(loop.anna_user)("get", "/api/orders/my-day")
    assert r.status_code == 200
    assert [v["id"] for v in r.json()["items"]] == [today_visit.pk]
    item = r.json()["items"][0]
    assert item["map_uri"].startswith("geo:") and item["required_outcomes"] == ["清洁已完成"]
    assert "*" in item["phone_masked"]

    r = api(loop.anna_user)("get", "/api/orders/my-day", {"day": loop.tomorrow.isoformat()})
    assert [v["scheduled_start"][:10] for v in r.json()["items"]] == [loop.tomorrow.isoformat()]


def test_the_exceptions_queue_and_its_resolution(today_visit, loop, tree):
    api(loop.anna_user)("post", f"/api/orders/{today_visit.pk}/check-in", position(metres=600))
    desk = api(loop.desk)
    r = desk("get", "/api/orders/exceptions")
    assert r.status_code == 200 and r.json()["count"] == 1
    row = r.json()["items"][0]
    assert row["code"] == "outside_geofence" and row["order"]["elder"]["name"] == loop.elder.name

    r = desk("post", f"/api/orders/exceptions/{row['id']}/resolve", {"resolution": "accepted", "note": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    r = desk("post", f"/api/orders/exceptions/{row['id']}/resolve", {"resolution": "accepted", "note": "定位漂移，已核实"})
    assert r.status_code == 200 and r.json()["resolution"] == "accepted"
    assert desk("get", "/api/orders/exceptions").json()["count"] == 0
    assert desk("get", "/api/orders/exceptions", {"state": "all"}).json()["count"] == 1

    other = make_user("other_desk", "community", tree.community2)
    assert api(other)("get", "/api/orders/exceptions", {"state": "all"}).json()["count"] == 0
    assert (
        api(other)("post", f"/api/orders/exceptions/{row['id']}/resolve", {"resolution": "rejected", "note": "x"}).status_code
        == 404
    )


def test_the_provider_sees_the_exceptions_of_its_orders_but_may_not_resolve(today_visit, loop):
    api(loop.anna_user)("post", f"/api/orders/{today_visit.pk}/check-in", position(metres=600))
    provider = api(loop.dispatcher)
    r = provider("get", "/api/orders/exceptions")
    assert r.json()["count"] == 1
    exception_id = r.json()["items"][0]["id"]
    r = provider("post", f"/api/orders/exceptions/{exception_id}/resolve", {"resolution": "accepted", "note": "我们认"})
    assert r.status_code == 403


def test_a_stray_check_in_and_its_queue(today_visit, loop):
    anna = api(loop.anna_user)
    r = anna("post", "/api/orders/stray-checkins", {**position(), "elder": loop.elder.pk, "note": "老人来电求助"})
    assert r.status_code == 201, r.content
    stray_id = r.json()["id"]
    assert r.json()["state"] == "open" and r.json()["elder"]["id"] == loop.elder.pk

    desk = api(loop.desk)
    r = desk("get", "/api/orders/stray-checkins")
    assert [s["id"] for s in r.json()["items"]] == [stray_id]
    r = desk("post", f"/api/orders/stray-checkins/{stray_id}/resolve", {"action": "match", "note": "属于今日工单"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "order"
    r = desk(
        "post",
        f"/api/orders/stray-checkins/{stray_id}/resolve",
        {"action": "match", "order": today_visit.pk, "note": "属于今日工单"},
    )
    assert r.status_code == 200 and r.json()["state"] == "matched" and r.json()["order"] == today_visit.pk
    assert desk("get", "/api/orders/stray-checkins").json()["count"] == 0


def test_a_stray_check_in_may_name_only_an_elder_the_worker_serves(loop):
    from elders.tests.factories import ElderFactory

    stranger = ElderFactory(region=loop.tree.grid)
    r = api(loop.anna_user)("post", "/api/orders/stray-checkins", {"elder": stranger.pk, "note": "路过"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "elder"
    assert not StrayCheckin.objects.exists()


def test_a_relatives_complaint_at_the_desk_disputes_the_visit_through_the_api(loop, tree):
    from orders.tests.factories import delivered

    order = delivered(loop)
    desk = api(loop.desk)
    r = desk("post", f"/api/orders/{order.pk}/dispute", {"reason": ""})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = desk("post", f"/api/orders/{order.pk}/dispute", {"reason": "女儿来电：那天下午没人上门"})
    assert r.status_code == 201
    body = r.json()
    assert (body["code"], body["resolution"], body["order"]["verification"]) == ("disputed", "open", "disputed")
    assert "没人上门" in body["detail"]
    # it waits in the queue like any exception, and the caregiver's organisation may not decide it
    assert [e["code"] for e in desk("get", "/api/orders/exceptions").json()["items"]] == ["disputed"]
    assert api(loop.dispatcher)("post", f"/api/orders/{order.pk}/dispute", {"reason": "x"}).status_code == 403
    other = make_user("other_desk2", "community", tree.community2)
    assert api(other)("post", f"/api/orders/{order.pk}/dispute", {"reason": "x"}).status_code == 404
    r = desk("post", f"/api/orders/exceptions/{body['id']}/resolve", {"resolution": "rejected", "note": "核实未上门"})
    assert r.status_code == 200 and r.json()["order"]["verification"] == "rejected"
