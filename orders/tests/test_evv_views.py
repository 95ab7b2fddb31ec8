"""The visit's pages: the caregiver's phone (the day, one visit, the elder's phone only in service,
the service worker) and the community's queues (exceptions, stray check-ins)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AccessLog
from orders.evv import order_check_in, stray_checkin_record
from orders.models import StrayCheckin, VisitException
from orders.tests.factories import at, north_of_home

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(loop):
    return loop.accepted(loop.order())


def check_in(order, metres=20, accuracy_m=15):
    lat, lng = north_of_home(metres)
    return order_check_in(
        by=order.caregiver.user, order=order, lat=lat, lng=lng, accuracy_m=accuracy_m, now=order.scheduled_start
    )


def test_the_day_page_lists_the_visits_in_order_with_address_map_and_outcomes(client, loop, visit):
    later = loop.accepted(loop.order(start=at(loop.tomorrow, 15)))
    client.force_login(loop.anna_user)
    r = client.get(f"/orders/my/?day={loop.tomorrow.isoformat()}")

    assert r.status_code == 200
    html = r.content.decode()
    assert html.index(f'data-order="{visit.pk}"') < html.index(f'data-order="{later.pk}"')
    assert loop.elder.name in html and "1号楼1单元101" in html and 'href="geo:30.630000,120.570000?q=' in html
    assert "签退前须记录：清洁已完成" in html
    assert "geolocation=(self)" in r["Permissions-Policy"]


def test_the_visit_page_masks_the_phone_until_the_visit_is_in_service(client, loop, visit):
    from core.crypto import decrypt

    full = decrypt(loop.elder.phone_enc)
    client.force_login(loop.anna_user)
    r = client.get(f"/orders/my/{visit.pk}/")
    assert full not in r.content.decode() and loop.elder.phone_masked in r.content.decode()
    assert 'data-screen="check-in"' in r.content.decode() and not AccessLog.objects.exists()

    check_in(visit)
    r = client.get(f"/orders/my/{visit.pk}/")
    assert f"tel:{full}" in r.content.decode()
    assert r["Cache-Control"] == "no-store, private"  # the service worker keeps no copy with the phone
    assert AccessLog.objects.filter(by=loop.anna_user, kind="reveal", object_id=loop.elder.pk).count() == 1


def test_the_service_workers_copy_of_a_visit_never_reveals_the_phone(client, loop, visit):
    from core.crypto import decrypt

    check_in(visit)
    client.force_login(loop.anna_user)
    r = client.get(f"/orders/my/{visit.pk}/", headers={"X-Visit-Precache": "1"})

    assert r.status_code == 200 and decrypt(loop.elder.phone_enc) not in r.content.decode()
    assert "no-store" not in r.get("Cache-Control", "") and not AccessLog.objects.exists()


def test_a_colleagues_visit_is_not_found(client, loop, visit):
    client.force_login(loop.bo_user)
    assert client.get(f"/orders/my/{visit.pk}/").status_code == 404


def test_the_service_worker_is_served_for_the_phone_pages_scope(client):
    r = client.get("/orders/my/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/javascript")
    assert r["Service-Worker-Allowed"] == "/orders/my/" and "yinling-visit-" in r.content.decode()


def test_a_stray_check_in_from_the_phone_page(client, loop, visit):
    client.force_login(loop.anna_user)
    r = client.post("/orders/my/stray/", {"elder": loop.elder.pk, "note": "", "lat": "30.63", "lng": "120.57"})
    assert r.status_code == 422 and "请填写说明" in r.content.decode()

    r = client.post(
        "/orders/my/stray/",
        {"elder": loop.elder.pk, "note": "老人来电求助", "lat": "30.63", "lng": "120.57", "accuracy_m": "18"},
    )
    assert r.status_code == 302
    stray = StrayCheckin.objects.get()
    assert (stray.elder, stray.caregiver, stray.accuracy_m, stray.lat) == (loop.elder, loop.anna, 18, 30.63)


def test_the_exceptions_page_resolves_with_htmx(client, loop, visit):
    check_in(visit, metres=500)
    exception = VisitException.objects.get()
    client.force_login(loop.desk)
    r = client.get("/orders/exceptions/")
    assert r.status_code == 200 and "距老人家 500 米" in r.content.decode()

    url = f"/orders/exceptions/{exception.pk}/resolve/"
    r = client.post(url, {"resolution": "rejected", "note": ""}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "请填写处理说明" in r.content.decode()
    r = client.post(url, {"resolution": "rejected", "note": "老人说没有人来"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "不认可，不结算 · 老人说没有人来" in r.content.decode()
    exception.refresh_from_db()
    assert exception.resolution == "rejected"


def test_the_exceptions_page_reads_a_bounded_number_of_queries(client, loop):
    client.force_login(loop.desk)

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/orders/exceptions/").status_code == 200
        return len(ctx.captured_queries)

    one = loop.accepted(loop.order())
    check_in(one, metres=500)
    few = queries()
    for hour in (11, 13, 15, 17):
        check_in(loop.accepted(loop.order(start=at(loop.tomorrow, hour))), metres=500)
    assert queries() == few


def test_the_stray_queue_offers_the_nearby_orders_and_links_one(client, loop):
    import datetime

    from django.utils import timezone

    soon = loop.accepted(loop.order(start=(timezone.now() + datetime.timedelta(hours=2)).replace(microsecond=0)))
    far = loop.accepted(loop.order(start=(timezone.now() + datetime.timedelta(days=3)).replace(microsecond=0)))
    stray = stray_checkin_record(by=loop.anna_user, lat=None, lng=None, accuracy_m=None, elder=loop.elder, note="临时上门")
    client.force_login(loop.desk)
    r = client.get("/orders/stray-checkins/")
    html = r.content.decode()
    assert r.status_code == 200 and "临时上门" in html
    assert f'value="{soon.pk}"' in html and f'value="{far.pk}"' not in html

    r = client.post(f"/orders/stray-checkins/{stray.pk}/resolve/", {"order": soon.pk, "note": "属于这张工单"})
    assert r.status_code == 302
    stray.refresh_from_db()
    assert (stray.state, stray.order) == ("matched", soon)


def test_a_caregiver_has_no_queue(client, loop):
    client.force_login(loop.anna_user)
    assert client.get("/orders/exceptions/").status_code == 403
    assert client.get("/orders/stray-checkins/").status_code == 403


def test_the_worker_accepts_a_visit_sent_to_her_from_the_phone(client, loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    client.force_login(loop.anna_user)

    page = client.get(f"/orders/my/{order.pk}/")
    assert 'data-testid="accept"' in page.content.decode()
    r = client.post(f"/orders/my/{order.pk}/accept/")

    assert r.status_code == 302 and r["Location"] == f"/orders/my/{order.pk}/"
    order.refresh_from_db()
    assert order.status == "accepted" and order.accepted_at is not None


def test_a_colleague_cannot_accept_it_and_is_told_why(client, loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    client.force_login(loop.bo_user)

    r = client.post(f"/orders/my/{order.pk}/accept/")

    assert r.status_code == 404  # not his to see
    order.refresh_from_db()
    assert order.status == "dispatched"


def test_rejecting_from_the_phone_needs_a_reason_and_sends_it_back(client, loop):
    order = loop.order()
    loop.dispatched(order, caregiver=loop.anna)
    client.force_login(loop.anna_user)

    client.post(f"/orders/my/{order.pk}/reject/", {"reason": ""})
    order.refresh_from_db()
    assert order.status == "dispatched"

    client.post(f"/orders/my/{order.pk}/reject/", {"reason": "孩子发烧"})
    order.refresh_from_db()
    assert order.status == "created" and order.caregiver is None
