"""The dispatch board (/orders/board/) and its pages: what waits, one-click dispatch through the
page with its CSRF token, the organisation's dispatcher assigning its own staff, preferences and
absences."""

import datetime
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Order, Status
from orders.services import order_reject
from orders.tests.factories import HOME, at
from providers.models import Absence

pytestmark = pytest.mark.django_db

CSRF = "b" * 32


def browser(user) -> Client:
    """A browser that must send the CSRF token with every form, as a real one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF
    return client


def token_of(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def board(client, day=None, **params):
    query = {"day": (day or timezone.localdate()).isoformat(), **params}
    return client.get("/orders/board/", query)


@pytest.fixture
def today_loop(loop):
    """The world with its visits today at 15:00 (the board opens on today)."""
    loop.today = timezone.localdate()
    loop.qualify(loop.anna, home_lat=HOME[0] + 0.001, home_lng=HOME[1])
    loop.qualify(loop.bo)
    return loop


def test_the_board_lists_what_waits_today_and_nothing_else(today_loop):
    w = today_loop
    waiting = w.order(start=at(w.today, 15))
    rejected = w.dispatched(w.order(start=at(w.today, 16)), caregiver=w.bo)
    order_reject(by=w.bo_user, order=rejected, reason="家里有事")
    late = w.dispatched(w.order(start=at(w.today, 17)), caregiver=w.anna)
    Order.objects.filter(pk=late.pk).update(accept_by=timezone.now() - datetime.timedelta(minutes=5))
    on_time = w.dispatched(w.order(start=at(w.today, 18)), caregiver=w.anna)  # still within its time to accept
    accepted = w.accepted(w.order(start=at(w.today, 19)), w.bo)
    tomorrow = w.order(start=at(w.today + datetime.timedelta(days=1), 9))

    page = board(browser(w.desk)).content.decode()

    for shown in (waiting, rejected, late):
        assert f'data-testid="board-order-{shown.pk}"' in page
    for hidden in (on_time, accepted, tomorrow):
        assert f'data-testid="board-order-{hidden.pk}"' not in page
    assert "被拒回：家里有事" in page and "超时未接" in page


def test_the_late_tab_shows_only_the_late(today_loop):
    w = today_loop
    waiting = w.order(start=at(w.today, 15))
    late = w.dispatched(w.order(start=at(w.today, 17)), caregiver=w.anna)
    Order.objects.filter(pk=late.pk).update(accept_by=timezone.now() - datetime.timedelta(minutes=5))

    page = board(browser(w.desk), show="late").content.decode()

    assert f"board-order-{late.pk}" in page and f"board-order-{waiting.pk}" not in page


def test_one_click_dispatch_through_the_page(today_loop):
    w = today_loop
    order = w.order(start=at(w.today, 15))
    client = browser(w.desk)
    assert f"board-order-{order.pk}" in board(client).content.decode()

    partial = client.get(f"/orders/board/{order.pk}/", headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert "<html" not in html  # the candidates only, into the board's row
    assert html.index("王安娜") < html.index("李波") and "距老人家 111 米" in html
    response = client.post(
        f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.anna.pk}", "csrfmiddlewaretoken": token_of(html)}
    )

    assert response.status_code == 302 and response["Location"] == f"/orders/board/?day={w.today.isoformat()}"
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.caregiver == w.anna and order.organisation == w.org
    followed = client.get(response["Location"]).content.decode()
    assert "已派单" in followed and f"board-order-{order.pk}" not in followed


def test_a_post_without_the_csrf_token_is_refused(today_loop):
    w = today_loop
    order = w.order(start=at(w.today, 15))
    client = Client(enforce_csrf_checks=True)
    client.force_login(w.desk)

    response = client.post(f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.anna.pk}"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Status.CREATED


def test_dispatch_to_an_organisation_from_the_page(today_loop, tree):
    from providers.tests.factories import organisation

    w = today_loop
    district_org = organisation(tree, region=tree.district, name="锦山区护理站")
    order = w.order(start=at(w.today, 15))
    client = browser(w.desk)
    html = client.get(f"/orders/board/{order.pk}/").content.decode()
    assert "锦山区护理站" in html  # offered though outside the worker's restrict()

    client.post(
        f"/orders/board/{order.pk}/send/",
        {"pick": "organisation", "organisation": district_org.pk, "csrfmiddlewaretoken": token_of(html)},
    )

    order.refresh_from_db()
    assert order.organisation == district_org and order.caregiver is None and order.status == Status.DISPATCHED


def test_taking_a_late_order_back_needs_a_reason(today_loop):
    w = today_loop
    order = w.dispatched(w.order(start=at(w.today, 15)), caregiver=w.anna)
    Order.objects.filter(pk=order.pk).update(accept_by=timezone.now() - datetime.timedelta(minutes=1))
    client = browser(w.desk)
    html = client.get(f"/orders/board/{order.pk}/").content.decode()
    assert "改派原因" in html

    refused = client.post(f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.bo.pk}", "csrfmiddlewaretoken": CSRF})
    assert refused["Location"] == f"/orders/board/{order.pk}/"
    order.refresh_from_db()
    assert order.caregiver == w.anna
    assert "请填写原因" in client.get(refused["Location"]).content.decode()

    client.post(
        f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.bo.pk}", "reason": "超时未接", "csrfmiddlewaretoken": CSRF}
    )
    order.refresh_from_db()
    assert order.caregiver == w.bo


def test_the_organisations_dispatcher_assigns_its_staff_from_the_board(today_loop):
    w = today_loop
    order = w.dispatched(w.order(start=at(w.today, 15)))  # to 机构, nobody named
    client = browser(w.dispatcher)

    page = board(client).content.decode()
    assert f"board-order-{order.pk}" in page and "选人指派" in page
    html = client.get(f"/orders/board/{order.pk}/").content.decode()
    assert "派给机构" not in html  # an organisation assigns; it never sends elsewhere
    client.post(f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.bo.pk}", "csrfmiddlewaretoken": CSRF})

    order.refresh_from_db()
    assert order.caregiver == w.bo and order.status == Status.DISPATCHED
    assert f"board-order-{order.pk}" not in board(client).content.decode()


def test_the_organisations_dispatcher_does_not_see_the_stations_orders(today_loop):
    w = today_loop
    order = w.order(start=at(w.today, 15))
    client = browser(w.dispatcher)

    assert f"board-order-{order.pk}" not in board(client).content.decode()
    assert client.get(f"/orders/board/{order.pk}/").status_code == 404


def test_another_region_gets_404_and_nothing_moves(today_loop, worker_in_other_region):
    w = today_loop
    order = w.order(start=at(w.today, 15))
    client = browser(worker_in_other_region)

    assert f"board-order-{order.pk}" not in board(client).content.decode()
    assert client.get(f"/orders/board/{order.pk}/").status_code == 404
    response = client.post(f"/orders/board/{order.pk}/send/", {"pick": f"caregiver:{w.anna.pk}", "csrfmiddlewaretoken": CSRF})
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Status.CREATED


def test_the_board_reads_a_page_in_a_fixed_number_of_queries(today_loop):
    w = today_loop
    client = browser(w.desk)
    w.order(start=at(w.today, 8))
    with CaptureQueriesContext(connection) as one:
        board(client)
    for hour in range(9, 20):
        w.order(start=at(w.today, hour))
    with CaptureQueriesContext(connection) as twelve:
        page = board(client).content.decode()
    assert page.count("board-order-") == 12
    assert len(twelve) == len(one)


# --- preferences and absences ---------------------------------------------------------------------------


def test_the_preference_form_saves_and_goes_back_to_the_order(today_loop):
    w = today_loop
    order = w.order(start=at(w.today, 15))
    client = browser(w.desk)
    back = f"/orders/board/{order.pk}/"
    assert client.get(f"/orders/preferences/{w.elder.pk}/", {"next": back}).status_code == 200

    response = client.post(
        f"/orders/preferences/{w.elder.pk}/",
        {"caregiver_sex": "M", "languages": "粤语", "notes": "", "next": back, "csrfmiddlewaretoken": CSRF},
    )

    assert response.status_code == 302 and response["Location"] == back
    html = client.get(back).content.decode()
    assert "老人偏好：男性服务人员；用粤语交流" in html and "老人希望男性服务人员" in html


def test_the_preference_form_ignores_a_next_to_another_site(today_loop):
    w = today_loop
    response = browser(w.desk).post(
        f"/orders/preferences/{w.elder.pk}/",
        {"caregiver_sex": "F", "next": "https://evil.example/", "csrfmiddlewaretoken": CSRF},
    )
    assert response["Location"] == "/orders/board/"


def test_the_absences_page_records_and_removes_leave(today_loop):
    w = today_loop
    client = browser(w.dispatcher)
    assert "王安娜" in client.get("/orders/absences/").content.decode()

    response = client.post(
        "/orders/absences/",
        {"caregiver": w.anna.pk, "starts_on": w.today.isoformat(), "reason": "leave", "note": "", "csrfmiddlewaretoken": CSRF},
    )

    assert response.status_code == 302
    absence = Absence.objects.get(caregiver=w.anna)
    assert absence.starts_on == absence.ends_on == w.today
    assert "请假中" in client.get("/orders/absences/").content.decode()
    client.post(f"/orders/absences/{absence.pk}/delete/", {"csrfmiddlewaretoken": CSRF})
    assert not Absence.objects.filter(pk=absence.pk).exists()


def test_an_overlapping_leave_is_refused_on_the_form(today_loop):
    w = today_loop
    client = browser(w.dispatcher)
    data = {"caregiver": w.anna.pk, "starts_on": w.today.isoformat(), "reason": "leave", "csrfmiddlewaretoken": CSRF}
    client.post("/orders/absences/", data)

    again = client.post("/orders/absences/", data)

    assert again.status_code == 200 and "重叠" in again.content.decode()
    assert Absence.objects.filter(caregiver=w.anna).count() == 1
