"""Issue 11, "done when", through the API: a worker takes a hotline call and creates an order
for the caller's mother, dispatches it to the best caregiver, who accepts and checks in and out
on her phone (the check-out made offline and sent later), the relative rates it, and the
month's statement shows it."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from accounts.services import api_token_create
from orders.models import Order
from orders.tests.factories import HOME, relative

pytestmark = pytest.mark.django_db


def api(user):
    client = Client()
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def call(method, path, body=None):
        if method == "GET":
            return client.get(path, body or {}, headers=headers)
        return client.post(path, body or {}, content_type="application/json", headers=headers)

    return call


def test_the_closed_loop_through_the_api(loop):
    desk, phone = api(loop.desk), api(loop.anna_user)
    loop.qualify(loop.anna, home_lat=HOME[0] + 0.002, home_lng=HOME[1])  # 220 m from the elder
    loop.qualify(loop.bo, home_lat=HOME[0] + 0.05, home_lng=HOME[1])  # 5.5 km away
    daughter = relative(loop)
    now = timezone.now().replace(microsecond=0)
    start, end = now - datetime.timedelta(hours=3), now - datetime.timedelta(hours=2)

    # 制单: the hotline call.
    created = desk(
        "POST",
        "/api/orders",
        {
            "elder": loop.elder.pk,
            "item": loop.item.pk,
            "scheduled_start": start.isoformat(),
            "scheduled_end": end.isoformat(),
            "caller_name": "张女士",
            "caller_relation": "女儿",
            "idempotency_key": "hotline-0001",
        },
    )
    assert created.status_code == 201, created.json()
    order_id = created.json()["id"]

    # 派单: the best candidate is the one nearby, with her reasons.
    ranked = desk("GET", f"/api/orders/{order_id}/candidates").json()["items"]
    assert ranked[0]["name"] == "王安娜" and ranked[0]["reasons"]
    dispatched = desk("POST", f"/api/orders/{order_id}/dispatch", {"caregiver": ranked[0]["id"]})
    assert dispatched.status_code == 200 and dispatched.json()["status"] == "dispatched"

    # 接单, check-in on the phone (sent late from a basement), check-out offline.
    assert phone("POST", f"/api/orders/{order_id}/accept").json()["status"] == "accepted"
    position = {"lat": HOME[0] + 0.0002, "lng": HOME[1], "accuracy_m": 12, "offline": True, "device_sent_at": now.isoformat()}
    checked_in = phone(
        "POST",
        f"/api/orders/{order_id}/check-in",
        {**position, "device_at": (start + datetime.timedelta(minutes=3)).isoformat(), "idempotency_key": "in-1"},
    )
    assert checked_in.status_code == 200, checked_in.json()
    out = {
        **position,
        "device_at": end.isoformat(),
        "outcomes": {o: True for o in loop.item.outcomes},
        "idempotency_key": "out-1",
    }
    checked_out = phone("POST", f"/api/orders/{order_id}/check-out", out)
    assert checked_out.status_code == 200, checked_out.json()
    again = phone("POST", f"/api/orders/{order_id}/check-out", out)  # the phone's queue retries
    assert again.status_code == 200 and again.json()["checkout_at"] == checked_out.json()["checkout_at"]
    done = desk("GET", f"/api/orders/{order_id}").json()
    assert done["status"] == "completed" and done["checkout_delayed"] and done["verification"] == "verified"

    # 评单: the daughter rates it.
    rated = api(daughter)("POST", f"/api/orders/{order_id}/rate", {"rating": 5, "comment": "很准时"})
    assert rated.status_code == 200, rated.json()
    assert Order.objects.get(pk=order_id).status == "evaluated"
