"""The family portal: a relative's account (role 老人/家属, no region) reaches its linked elders'
orders and nothing else — pages and API alike."""

import datetime

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from conftest import make_user
from orders.models import FamilyLink, FollowUp, Order, Source
from orders.tests.factories import at, delivered, relative

pytestmark = pytest.mark.django_db


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


@pytest.fixture
def family(loop):
    from elders.tests.factories import ElderFactory

    w = type("F", (), {})()
    w.son = relative(loop, username="son")
    w.mine = delivered(loop)
    w.stranger = ElderFactory(region=loop.tree.grid, name="司徒长风")
    from orders.services import order_create

    w.theirs = order_create(by=loop.desk, elder=w.stranger, item=loop.item, scheduled_start=at(loop.tomorrow, 10))
    return w


# --- pages ----------------------------------------------------------------------------------------


def test_the_portal_home_shows_my_elder_and_a_way_to_order(client, loop, family):
    client.force_login(family.son)
    response = client.get("/family/")

    assert response.status_code == 200
    body = response.content.decode()
    assert loop.elder.name in body and "预约服务" in body
    assert family.stranger.name not in body


def test_an_unlinked_elders_order_is_404_in_the_portal(client, loop, family):
    client.force_login(family.son)

    assert client.get(f"/family/orders/{family.theirs.pk}/").status_code == 404
    assert client.get(f"/family/elders/{family.stranger.pk}/").status_code == 404
    assert client.get(f"/family/orders/{family.theirs.pk}/rate/").status_code == 404
    assert client.get(f"/family/elders/{family.stranger.pk}/order/").status_code == 404


def test_following_an_order_says_where_it_is_in_words(client, loop, family):
    order = loop.accepted(loop.order(start=at(loop.tomorrow, 14)), loop.anna)
    client.force_login(family.son)

    body = client.get(f"/family/orders/{order.pk}/").content.decode()

    assert "王安娜已接单，将按时上门" in body and "14:00" in body


def test_the_relative_rates_with_one_tap_and_a_comment(client, loop, family):
    client.force_login(family.son)
    assert "很满意" in client.get(f"/family/orders/{family.mine.pk}/rate/").content.decode()

    response = client.post(f"/family/orders/{family.mine.pk}/rate/", {"rating": "1", "comment": "没来得及打扫厨房"})

    assert response.status_code == 302 and response["Location"] == f"/family/orders/{family.mine.pk}/"
    order = Order.objects.get(pk=family.mine.pk)
    assert (order.rating, order.rated_via, order.rating_comment) == (1, "portal", "没来得及打扫厨房")
    assert FollowUp.objects.get(order=order).reason == "low_rating"


def test_rating_without_a_choice_says_what_to_do(client, loop, family):
    client.force_login(family.son)
    response = client.post(f"/family/orders/{family.mine.pk}/rate/", {"comment": "好"})
    assert response.status_code == 422 and "满意度应为 1 至 5" in response.content.decode()
    assert Order.objects.get(pk=family.mine.pk).rating is None


def test_ordering_from_the_catalogue_in_two_taps(client, loop, family):
    client.force_login(family.son)
    menu = client.get(f"/family/elders/{loop.elder.pk}/order/").content.decode()
    assert "打扫卫生" in menu and "安装呼叫器" not in menu  # a government-purchased item only the community orders

    page = client.get(f"/family/elders/{loop.elder.pk}/order/{loop.item.pk}/")
    slot = page.context["slots"][-1]
    key = page.context["key"]
    response = client.post(
        f"/family/elders/{loop.elder.pk}/order/{loop.item.pk}/", {"when": slot["value"], "notes": "请带拖把", "key": key}
    )

    order = Order.objects.exclude(pk__in=[family.mine.pk, family.theirs.pk]).get()
    assert response.status_code == 302 and response["Location"] == f"/family/orders/{order.pk}/"
    assert (order.elder, order.source, order.created_by, order.notes) == (loop.elder, Source.RELATIVE, family.son, "请带拖把")
    assert order.payment_mode == "paid" and order.status == "created"
    # the same form sent twice (a double tap, a retry): one order
    client.post(f"/family/elders/{loop.elder.pk}/order/{loop.item.pk}/", {"when": slot["value"], "key": key})
    assert Order.objects.filter(created_by=family.son).count() == 1


def test_ordering_needs_a_time_and_not_too_soon(client, loop, family):
    client.force_login(family.son)
    url = f"/family/elders/{loop.elder.pk}/order/{loop.item.pk}/"
    assert "请选择上门时间" in client.post(url, {}).content.decode()
    soon = timezone.localtime() + datetime.timedelta(minutes=30)
    response = client.post(url, {"when": soon.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 422 and "两小时以后" in response.content.decode()
    assert not Order.objects.filter(created_by=family.son).exists()


def test_an_item_the_community_orders_cannot_be_ordered_on_the_portal(client, loop, family):
    from catalogue.models import ServiceItem

    device = ServiceItem.objects.get(code="call_device")
    client.force_login(family.son)
    response = client.get(f"/family/elders/{loop.elder.pk}/order/{device.pk}/")
    assert response.status_code == 302 and response["Location"] == f"/family/elders/{loop.elder.pk}/order/"


def test_an_ended_link_shows_nothing(client, loop, family):
    from orders.family import family_link_end

    family_link_end(by=loop.desk, link=FamilyLink.objects.get(user=family.son), reason="老人撤回同意")
    client.force_login(family.son)

    assert loop.elder.name not in client.get("/family/").content.decode()
    assert client.get(f"/family/orders/{family.mine.pk}/").status_code == 404


def test_a_worker_without_the_portal_permission_is_refused(client, loop):
    client.force_login(loop.desk)
    assert client.get("/family/").status_code == 403


def test_the_desk_points_a_relative_to_the_portal(client, family):
    client.force_login(family.son)
    body = client.get("/").content.decode()
    assert "进入家属服务" in body


# --- API ------------------------------------------------------------------------------------------


def test_the_portal_user_gets_nothing_from_the_orders_api(client, loop, family):
    headers = bearer(family.son)
    assert client.get("/api/orders", headers=headers).status_code == 403
    assert client.get(f"/api/orders/{family.mine.pk}", headers=headers).status_code == 403
    assert client.get("/api/orders/supervision", headers=headers).status_code == 403
    assert client.get("/api/orders/follow-ups", headers=headers).status_code == 403


def test_the_portal_api_lists_only_linked_orders(client, loop, family):
    headers = bearer(family.son)

    elders = client.get("/api/orders/family/elders", headers=headers).json()
    orders = client.get("/api/orders/family/orders", headers=headers).json()

    assert [e["id"] for e in elders["items"]] == [loop.elder.pk]
    assert [o["id"] for o in orders["items"]] == [family.mine.pk]
    assert orders["items"][0]["can_rate"] is True and "请为这次服务打分" in orders["items"][0]["status_words"]
    assert client.get(f"/api/orders/family/orders/{family.theirs.pk}", headers=headers).status_code == 404
    assert client.get(f"/api/orders/family/orders?elder={family.stranger.pk}", headers=headers).status_code == 404
    assert client.get(f"/api/orders/family/items?elder={family.stranger.pk}", headers=headers).status_code == 404


def test_the_portal_api_orders_for_a_linked_elder_only(client, loop, family):
    headers = bearer(family.son)
    start = (timezone.localtime() + datetime.timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    items = client.get(f"/api/orders/family/items?elder={loop.elder.pk}&page_size=100", headers=headers).json()["items"]
    cleaning = next(i for i in items if i["id"] == loop.item.pk)
    assert cleaning["payment_mode"] == "paid" and cleaning["price_fen"] > 0

    body = {"elder": loop.elder.pk, "item": loop.item.pk, "scheduled_start": start.isoformat(), "idempotency_key": "k1"}
    first = client.post("/api/orders/family/orders", body, content_type="application/json", headers=headers)
    again = client.post("/api/orders/family/orders", body, content_type="application/json", headers=headers)
    refused = client.post(
        "/api/orders/family/orders",
        {**body, "elder": family.stranger.pk, "idempotency_key": "k2"},
        content_type="application/json",
        headers=headers,
    )

    assert first.status_code == 201 and first.json()["status_words"] == "已收到，社区正在安排服务人员"
    assert again.json()["id"] == first.json()["id"]
    assert refused.status_code == 404
    assert Order.objects.filter(created_by=family.son).count() == 1


def test_one_rate_route_for_relative_and_worker(client, loop, family):
    second = delivered(loop, start=at(loop.tomorrow, 15))

    by_relative = client.post(
        f"/api/orders/{family.mine.pk}/rate",
        {"rating": 2, "comment": "迟到"},
        content_type="application/json",
        headers=bearer(family.son),
    )
    by_worker = client.post(
        f"/api/orders/{second.pk}/rate", {"rating": 4}, content_type="application/json", headers=bearer(loop.desk)
    )

    assert by_relative.status_code == 200 and by_relative.json()["rated_via"] == "portal"
    assert by_relative.json()["follow_up"] == FollowUp.objects.get(order=family.mine).pk
    assert by_worker.status_code == 200 and by_worker.json()["rated_via"] == "callback" and by_worker.json()["follow_up"] is None


def test_the_rate_route_refuses_whoever_may_not(client, loop, family):
    neighbour = make_user("neighbour", "elder", None)
    other_desk = make_user("desk_far", "community", loop.tree.community2)
    grid = make_user("grid_far", "grid", loop.tree.grid)
    url = f"/api/orders/{family.mine.pk}/rate"

    def rate(user):
        return client.post(url, {"rating": 5}, content_type="application/json", headers=bearer(user)).status_code

    assert rate(neighbour) == 404  # a relative not linked to her
    assert rate(other_desk) == 404  # another community's worker
    assert rate(grid) == 403  # a role that rates nothing
    assert client.post(url, {"rating": 5}, content_type="application/json").status_code == 401
    assert Order.objects.get(pk=family.mine.pk).rating is None
