"""The evaluation and supervision pages and routes, end to end: call-backs, follow-ups, the
board, the scorecard and family links, through the pages and the API."""

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.services import api_token_create
from conftest import make_user
from orders.models import CallBack, FamilyLink, FollowUp, Order
from orders.quality import call_backs_draw, order_rate
from orders.tests.factories import at, delivered, relative

pytestmark = pytest.mark.django_db


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


@pytest.fixture
def sampled(loop):
    order = delivered(loop, payment_mode="government")
    call_backs_draw(now=timezone.now() + datetime.timedelta(days=2), percent=100)
    return CallBack.objects.get(order=order)


# --- call-backs -----------------------------------------------------------------------------------


def test_the_call_back_list_shows_what_to_call(client, loop, sampled):
    client.force_login(loop.desk)
    body = client.get("/orders/call-backs/").content.decode()
    assert loop.elder.name in body and "王安娜" in body and f"/orders/call-backs/{sampled.pk}/" in body


def test_a_call_back_recorded_on_the_page_with_the_rating(client, loop, sampled):
    client.force_login(loop.desk)
    form = client.get(f"/orders/call-backs/{sampled.pk}/")
    assert form.status_code == 200 and "代老人评价" in form.content.decode()

    response = client.post(
        f"/orders/call-backs/{sampled.pk}/",
        {
            "reached": "yes",
            "received": "yes",
            "on_time": "no",
            "full_duration": "yes",
            "same_worker": "yes",
            "note": "阿姨晚到四十分钟",
            "rating": "3",
            "comment": "还行",
        },
    )

    assert response.status_code == 302
    sampled.refresh_from_db()
    assert sampled.on_time is False and sampled.note == "阿姨晚到四十分钟"
    assert FollowUp.objects.get(order=sampled.order).reason == "callback"
    assert Order.objects.get(pk=sampled.order_id).rating == 3


def test_a_reached_call_back_without_answers_is_sent_back(client, loop, sampled):
    client.force_login(loop.desk)
    response = client.post(f"/orders/call-backs/{sampled.pk}/", {"reached": "yes"})
    assert response.status_code == 422 and "按时上门" in response.content.decode()
    sampled.refresh_from_db()
    assert sampled.reached is None


def test_a_call_back_of_another_community_is_404(client, loop, sampled):
    client.force_login(make_user("far", "community", loop.tree.community2))
    assert client.get(f"/orders/call-backs/{sampled.pk}/").status_code == 404
    assert client.post(f"/orders/call-backs/{sampled.pk}/", {"reached": "no"}).status_code == 404


def test_the_provider_does_not_see_its_call_backs(client, loop, sampled):
    response = client.get("/api/orders/call-backs?state=", headers=bearer(loop.dispatcher))
    # the call-backs check the provider: they are the government's, by region only
    assert response.status_code == 200 and response.json()["items"] == []
    assert client.get(f"/api/orders/call-backs/{sampled.pk}", headers=bearer(loop.dispatcher)).status_code == 404


def test_call_backs_through_the_api(client, loop, sampled):
    headers = bearer(loop.desk)
    listed = client.get("/api/orders/call-backs", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [sampled.pk] and listed["items"][0]["state"] == "pending"

    answer = {"reached": True, "received": True, "on_time": True, "full_duration": True, "same_worker": False}
    response = client.post(
        f"/api/orders/call-backs/{sampled.pk}/record", answer, content_type="application/json", headers=headers
    )

    assert response.status_code == 200 and response.json()["state"] == "failed"
    assert client.get("/api/orders/call-backs?state=failed", headers=headers).json()["count"] == 1
    again = client.post(f"/api/orders/call-backs/{sampled.pk}/record", answer, content_type="application/json", headers=headers)
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "reached"


# --- follow-ups -----------------------------------------------------------------------------------


@pytest.fixture
def low(loop):
    order = delivered(loop)
    order_rate(by=relative(loop), order=order, rating=1, comment="没来", via="portal")
    return FollowUp.objects.get(order=order)


def test_the_follow_up_list_and_closing_it_on_the_page(client, loop, low):
    client.force_login(loop.desk)
    assert "没来" in client.get("/orders/follow-ups/").content.decode()
    assert client.get(f"/orders/follow-ups/{low.pk}/").status_code == 200

    refused = client.post(f"/orders/follow-ups/{low.pk}/close/", {"outcome": ""})
    done = client.post(f"/orders/follow-ups/{low.pk}/close/", {"outcome": "已上门致歉并补做服务"})

    assert refused.status_code == 422
    assert done.status_code == 302
    low.refresh_from_db()
    assert low.state == "closed" and low.closed_by == loop.desk


def test_overdue_follow_ups_are_marked_and_filtered(client, loop, low):
    FollowUp.objects.filter(pk=low.pk).update(due_on=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(loop.desk)
    body = client.get("/orders/follow-ups/?overdue=1").content.decode()
    assert "逾期" in body and "没来" in body
    api = client.get("/api/orders/follow-ups?overdue=true", headers=bearer(loop.desk)).json()
    assert api["count"] == 1 and api["items"][0]["overdue"] is True


def test_the_provider_sees_the_follow_ups_of_its_orders_but_cannot_close_them(client, loop, low):
    headers = bearer(loop.dispatcher)
    assert client.get("/api/orders/follow-ups", headers=headers).json()["count"] == 1
    response = client.post(
        f"/api/orders/follow-ups/{low.pk}/close", {"outcome": "已处理"}, content_type="application/json", headers=headers
    )
    assert response.status_code == 403


def test_a_complaint_through_the_page_and_the_api(client, loop):
    order = delivered(loop)
    client.force_login(loop.desk)
    response = client.post(f"/orders/{order.pk}/complaint/", {"note": "家属来电：服务人员态度差"})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(order=order)
    assert follow_up.reason == "complaint"
    second = delivered(loop, start=at(loop.tomorrow, 15))
    api = client.post(
        "/api/orders/follow-ups",
        {"order": second.pk, "note": "电话投诉"},
        content_type="application/json",
        headers=bearer(loop.desk),
    )
    assert api.status_code == 201 and api.json()["reason"] == "complaint"


# --- the board and the scorecard ------------------------------------------------------------------


def test_the_board_page_and_its_drill_down(client, loop):
    order = delivered(loop, flags=["late"])
    month = timezone.localtime(order.scheduled_start).strftime("%Y-%m")
    client.force_login(loop.desk)

    board = client.get(f"/orders/supervision/?month={month}")
    listed = client.get(f"/orders/supervision/orders/?month={month}&metric=late&caregiver={loop.anna.pk}")

    assert board.status_code == 200 and "王安娜" in board.content.decode()
    assert board.context["board"].totals["late"] == 1
    assert listed.status_code == 200 and f"#{order.pk}" in listed.content.decode()
    api = client.get(f"/api/orders/supervision?month={month}", headers=bearer(loop.desk)).json()
    assert api["totals"]["late"] == 1 and api["workers"][0]["name"] == "王安娜" and api["workers"][0]["kind"] == "caregiver"
    drill = client.get(f"/api/orders/supervision/orders?month={month}&metric=late", headers=bearer(loop.desk)).json()
    assert [o["id"] for o in drill["items"]] == [order.pk]


def test_a_bad_month_is_a_clear_422(client, loop):
    response = client.get("/api/orders/supervision?month=2026-13", headers=bearer(loop.desk))
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "month"


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=1)
def test_the_scorecard_page_applies_the_suggestion(client, loop):
    order = delivered(loop)
    month = timezone.localtime(order.scheduled_start).strftime("%Y-%m")
    office = make_user("office_p", "aging_office", loop.tree.city)
    client.force_login(office)

    page = client.get(f"/orders/scorecard/{loop.org.pk}/?month={month}")
    assert page.status_code == 200 and "评定为 5A" in page.content.decode()
    response = client.post(f"/orders/scorecard/{loop.org.pk}/apply/", {"month": month})

    assert response.status_code == 302
    loop.org.refresh_from_db()
    assert loop.org.rating == "5A"


@override_settings(ORDERS_SCORECARD_MIN_DELIVERED=1)
def test_the_scorecard_api_and_its_own_organisation(client, loop):
    order = delivered(loop)
    month = timezone.localtime(order.scheduled_start).strftime("%Y-%m")

    own = client.get(f"/api/orders/scorecards/{loop.org.pk}?month={month}", headers=bearer(loop.dispatcher))
    applied = client.post(
        f"/api/orders/scorecards/{loop.org.pk}/apply",
        {"month": month},
        content_type="application/json",
        headers=bearer(loop.dispatcher),
    )

    assert own.status_code == 200 and own.json()["delivered"] == 1 and own.json()["on_time_percent"] == "100.0%"
    assert applied.status_code == 403  # an organisation does not rate itself
    loop.org.refresh_from_db()
    assert loop.org.rating == ""


# --- family links ---------------------------------------------------------------------------------


def test_a_community_worker_links_a_relative_with_consent(client, loop):
    son = make_user("son_acc", "elder", None)
    client.force_login(loop.desk)
    found = client.get(f"/orders/family-links/?q={loop.elder.name}")
    assert f"/orders/family-links/elder/{loop.elder.pk}/new/" in found.content.decode()

    missing = client.post(
        f"/orders/family-links/elder/{loop.elder.pk}/new/",
        {"account": "son_acc", "relation": "child", "consent_on": timezone.localdate().isoformat(), "consent_note": ""},
    )
    assert missing.status_code == 422 and not FamilyLink.objects.exists()
    done = client.post(
        f"/orders/family-links/elder/{loop.elder.pk}/new/",
        {
            "account": "son_acc",
            "relation": "child",
            "consent_on": timezone.localdate().isoformat(),
            "consent_note": "签字同意书 A-7",
        },
    )

    assert done.status_code == 302
    link = FamilyLink.objects.get()
    assert (link.user, link.elder, link.linked_by, link.consent_note) == (son, loop.elder, loop.desk, "签字同意书 A-7")


def test_only_a_relatives_account_can_be_linked(client, loop):
    client.force_login(loop.desk)
    response = client.post(
        f"/orders/family-links/elder/{loop.elder.pk}/new/",
        {
            "account": loop.desk.username,
            "relation": "child",
            "consent_on": timezone.localdate().isoformat(),
            "consent_note": "签字",
        },
    )
    assert response.status_code == 422 and "老人/家属" in response.content.decode()
    assert not FamilyLink.objects.exists()


def test_consent_cannot_be_dated_tomorrow(client, loop):
    make_user("son_t", "elder", None)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(
        "/api/orders/family-links",
        {
            "account": "son_t",
            "elder": loop.elder.pk,
            "relation": "child",
            "consent_on": tomorrow.isoformat(),
            "consent_note": "签字",
        },
        content_type="application/json",
        headers=bearer(loop.desk),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "consent_on"


def test_family_links_through_the_api_and_ending_one(client, loop):
    son = relative(loop, username="son_api")
    headers = bearer(loop.desk)
    listed = client.get(f"/api/orders/family-links?elder={loop.elder.pk}", headers=headers).json()
    link_id = listed["items"][0]["id"]
    assert listed["items"][0]["account"] == "son_api"

    ended = client.post(
        f"/api/orders/family-links/{link_id}/end", {"reason": "老人撤回同意"}, content_type="application/json", headers=headers
    )

    assert ended.status_code == 200 and ended.json()["ended_at"] is not None
    assert client.get("/api/orders/family/elders", headers=bearer(son)).json()["items"] == []


def test_another_community_cannot_link_or_end(client, loop):
    relative(loop, username="son_far")
    far = make_user("far2", "community", loop.tree.community2)
    client.force_login(far)
    link = FamilyLink.objects.get()
    assert client.get(f"/orders/family-links/elder/{loop.elder.pk}/new/").status_code == 404
    assert client.post(f"/orders/family-links/{link.pk}/end/").status_code == 404
    link.refresh_from_db()
    assert link.ended_at is None
