"""The base routes of /api/orders as a client uses them: create (idempotent), list, detail,
dispatch, accept, reject, cancel, history; refusals in the documented shape."""

import pytest
from django.test import Client

from accounts.services import api_token_create
from conftest import make_user
from orders.models import Order, Status
from orders.tests.factories import at

pytestmark = pytest.mark.django_db


def api(user):
    client = Client()
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def call(method, path, body=None):
        if method == "GET":
            return client.get(path, body or {}, headers=headers)
        return client.post(path, body or {}, content_type="application/json", headers=headers)

    return call


def fields(response) -> set:
    return {e["field"] for e in response.json()["errors"]}


def body(loop, **extra):
    return {"elder": loop.elder.pk, "item": loop.item.pk, "scheduled_start": at(loop.tomorrow, 9).isoformat(), **extra}


def test_a_hotline_order_is_created_with_the_price_of_the_elders_region(loop):
    response = api(loop.desk)("POST", "/api/orders", body(loop, caller_name="张女士", caller_relation="女儿"))

    assert response.status_code == 201, response.json()
    out = response.json()
    assert out["status"] == "created" and out["source"] == "hotline"
    assert out["amount_fen"] == loop.item.price_fen and out["unit_price_fen"] == loop.item.price_fen
    assert out["required_outcomes"] == loop.item.outcomes
    assert out["actions"] == ["dispatch", "cancel"]


def test_a_retry_with_the_same_idempotency_key_returns_the_first_order(loop):
    call = api(loop.desk)
    first = call("POST", "/api/orders", body(loop, idempotency_key="phone-7f3a-0001"))
    again = call("POST", "/api/orders", body(loop, idempotency_key="phone-7f3a-0001"))

    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert Order.objects.filter(elder=loop.elder).count() == 1


def test_an_order_for_an_elder_of_another_community_is_404(loop, tree):
    other = make_user("zc_desk", "community", tree.community2)
    response = api(other)("POST", "/api/orders", body(loop))
    assert response.status_code == 404
    assert Order.objects.count() == 0


def test_a_payment_mode_the_item_does_not_offer_is_refused_naming_the_field(loop):
    response = api(loop.desk)("POST", "/api/orders", body(loop, payment_mode="time_coin"))
    assert response.status_code == 422
    assert "payment_mode" in fields(response)


def test_an_end_before_the_start_is_refused(loop):
    response = api(loop.desk)("POST", "/api/orders", body(loop, scheduled_end=at(loop.tomorrow, 8).isoformat()))
    assert response.status_code == 422
    assert "scheduled_end" in fields(response)


def test_dispatch_accept_through_the_api_and_the_history_names_each_actor(loop):
    order = loop.order()
    dispatched = api(loop.desk)("POST", f"/api/orders/{order.pk}/dispatch", {"organisation": loop.org.pk})
    assert dispatched.status_code == 200 and dispatched.json()["status"] == "dispatched"

    accepted = api(loop.anna_user)("POST", f"/api/orders/{order.pk}/accept")
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["caregiver"]["name"] == "王安娜"

    again = api(loop.bo_user)("POST", f"/api/orders/{order.pk}/accept")
    assert again.status_code in (404, 422)  # no longer his to see, or taken

    history = api(loop.desk)("GET", f"/api/orders/{order.pk}/history").json()["items"]
    moves = [(h["changes"].get("status"), h["by"]) for h in history if h["action"] == "status"]
    assert len(moves) == 2


def test_a_caregiver_sees_only_their_own_and_their_organisations_untaken_orders(loop):
    mine = loop.order()
    loop.accepted(mine, loop.anna)
    colleagues = loop.order(start=at(loop.tomorrow, 14))
    loop.accepted(colleagues, loop.bo)
    open_to_all = loop.order(start=at(loop.tomorrow, 16))
    loop.dispatched(open_to_all)
    loop.order(start=at(loop.tomorrow, 17))  # not dispatched: the station's, not the organisation's

    ids = {o["id"] for o in api(loop.anna_user)("GET", "/api/orders").json()["items"]}

    assert ids == {mine.pk, open_to_all.pk}
    assert api(loop.anna_user)("GET", f"/api/orders/{colleagues.pk}").status_code == 404


def test_the_provider_sees_the_orders_sent_to_it_whatever_the_region(loop):
    sent = loop.order()
    loop.dispatched(sent)
    loop.order(start=at(loop.tomorrow, 15))

    ids = [o["id"] for o in api(loop.dispatcher)("GET", "/api/orders").json()["items"]]
    assert ids == [sent.pk]


def test_reject_needs_a_reason_and_sends_the_order_back(loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    refused = api(loop.anna_user)("POST", f"/api/orders/{order.pk}/reject", {"reason": ""})
    assert refused.status_code == 422 and "reason" in fields(refused)

    ok = api(loop.anna_user)("POST", f"/api/orders/{order.pk}/reject", {"reason": "孩子生病"})
    assert ok.status_code == 200 and ok.json()["status"] == Status.CREATED


def test_list_filters_by_status_and_day(loop):
    today_order = loop.order()
    loop.dispatched(today_order)
    loop.order(start=at(loop.tomorrow.replace(day=1) if loop.tomorrow.day > 1 else loop.tomorrow, 8))
    call = api(loop.desk)
    got = call("GET", "/api/orders", {"status": "dispatched"}).json()
    assert [o["id"] for o in got["items"]] == [today_order.pk]
    assert got["count"] == 1
