"""The order desk through its pages: the list with its filters and a fixed number of queries,
an order with the moves its status allows, dispatch / reject / cancel as forms (errors on the
form, history on the page), a new order from an elder or a need, the elder's order page and
the panels on the elder and need pages."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import ChangeRecord
from conftest import make_user
from orders.models import Order, Status
from orders.tests.factories import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, loop):
    client.force_login(loop.desk)
    return client


def test_the_list_shows_the_subtrees_open_orders_latest_first(desk, loop):
    first = loop.order()
    later = loop.order(start=at(loop.tomorrow + datetime.timedelta(days=2), 9))
    done = loop.order()
    Order.objects.filter(pk=done.pk).update(status=Status.CANCELLED)

    page = desk.get("/orders/").content.decode()

    assert page.index(f"/orders/{later.pk}/") < page.index(f"/orders/{first.pk}/")
    assert f"/orders/{done.pk}/" not in page  # the default: open orders only
    assert f"/orders/{done.pk}/" in desk.get("/orders/?status=").content.decode()
    assert loop.elder.name in page and "服务工单" in page


def test_the_list_filters_by_day_item_source_and_organisation(desk, loop):
    from catalogue.models import ServiceItem
    from orders.services import order_create

    meal = ServiceItem.objects.get(code="meal_delivery")
    cleaning = loop.order()
    far = order_create(
        by=loop.desk,
        elder=loop.elder,
        item=meal,
        scheduled_start=at(loop.tomorrow + datetime.timedelta(days=10), 9),
        source="visit",
    )
    loop.dispatched(cleaning)

    def shown(query):
        page = desk.get("/orders/?" + query).content.decode()
        return {o.pk for o in (cleaning, far) if f"/orders/{o.pk}/" in page}

    day = loop.tomorrow.isoformat()
    assert shown(f"day_from={day}&day_to={day}") == {cleaning.pk}
    assert shown(f"item={meal.pk}") == {far.pk}
    assert shown("source=visit") == {far.pk}
    assert shown(f"organisation={loop.org.pk}") == {cleaning.pk}
    assert shown("status=dispatched") == {cleaning.pk}
    assert shown(f"region={loop.tree.grid.pk}") == {cleaning.pk, far.pk}


def test_the_list_refuses_a_region_outside_the_scope(desk, loop):
    assert desk.get(f"/orders/?region={loop.tree.community2.pk}").status_code == 404


def test_the_list_reads_a_page_in_a_fixed_number_of_queries(desk, loop):
    for day in range(3):
        loop.order(start=at(loop.tomorrow + datetime.timedelta(days=day), 9))
    with CaptureQueriesContext(connection) as few:
        desk.get("/orders/")
    for day in range(3, 25):
        loop.dispatched(loop.order(start=at(loop.tomorrow + datetime.timedelta(days=day), 9)))
    with CaptureQueriesContext(connection) as many:
        response = desk.get("/orders/")
    assert response.status_code == 200
    assert len(many) == len(few)


def test_the_filters_answer_htmx_with_the_results_only(desk, loop):
    order = loop.order()
    response = desk.get("/orders/?status=open&partial=1", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="results"' in body and f"/orders/{order.pk}/" in body and "<html" not in body
    assert "partial" not in response["HX-Push-Url"]


def test_another_community_sees_none_of_its_orders(client, loop, tree):
    order = loop.order()
    client.force_login(make_user("w2", "community", tree.community2))
    assert loop.elder.name not in client.get("/orders/?status=").content.decode()
    assert client.get(f"/orders/{order.pk}/").status_code == 404


def test_the_detail_shows_the_order_and_the_moves_its_status_allows(desk, loop):
    order = loop.order(caller_name="王小明", caller_relation="子女", notes="腿脚不便，请敲门")
    page = desk.get(f"/orders/{order.pk}/").content.decode()

    assert "待派单" in page and "王小明" in page and "腿脚不便" in page and loop.elder.address in page
    assert f'action="/orders/{order.pk}/dispatch/"' in page and f'action="/orders/{order.pk}/cancel/"' in page
    assert f'action="/orders/{order.pk}/reject/"' not in page  # nothing to reject before it is sent
    assert "/orders/board/" in page
    assert "变更历史" in page


def test_dispatching_from_the_page_moves_it_and_writes_history(desk, loop):
    order = loop.order()
    response = desk.post(f"/orders/{order.pk}/dispatch/", {"caregiver": loop.anna.pk})

    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.caregiver == loop.anna and order.organisation == loop.org
    page = desk.get(f"/orders/{order.pk}/").content.decode()
    assert "已派单" in page and loop.anna.name in page
    assert ChangeRecord.objects.filter(object_id=order.pk, model="orders.order", action="status", by=loop.desk).exists()


def test_a_dispatch_without_anyone_is_refused_on_the_form(desk, loop):
    order = loop.order()
    response = desk.post(f"/orders/{order.pk}/dispatch/", {})

    assert response.status_code == 422
    assert "请选择服务机构、服务人员或志愿者" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.CREATED


def test_reassigning_needs_a_reason(desk, loop):
    order = loop.dispatched(loop.order())
    page = desk.get(f"/orders/{order.pk}/").content.decode()
    assert "改派" in page

    refused = desk.post(f"/orders/{order.pk}/dispatch/", {"caregiver": loop.bo.pk})
    assert refused.status_code == 422 and "请填写原因" in refused.content.decode()

    desk.post(f"/orders/{order.pk}/dispatch/", {"caregiver": loop.bo.pk, "reason": "安娜请假"})
    order.refresh_from_db()
    assert order.caregiver == loop.bo


def test_cancelling_needs_a_reason_and_keeps_who_and_why(desk, loop):
    order = loop.order()
    refused = desk.post(f"/orders/{order.pk}/cancel/", {"reason": ""})
    assert refused.status_code == 422 and "原因" in refused.content.decode()

    desk.post(f"/orders/{order.pk}/cancel/", {"reason": "老人住院"})
    order.refresh_from_db()
    assert order.status == Status.CANCELLED and order.cancel_reason == "老人住院"
    page = desk.get(f"/orders/{order.pk}/").content.decode()
    assert "老人住院" in page and f'action="/orders/{order.pk}/dispatch/"' not in page


def test_a_move_the_table_refuses_says_the_state(desk, loop):
    order = loop.order()
    desk.post(f"/orders/{order.pk}/cancel/", {"reason": "老人住院"})
    response = desk.post(f"/orders/{order.pk}/cancel/", {"reason": "再取消一次"})
    assert response.status_code == 422 and "已取消" in response.content.decode()


def test_the_organisations_dispatcher_rejects_from_the_page(client, loop):
    order = loop.dispatched(loop.order())
    client.force_login(loop.dispatcher)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'action="/orders/{order.pk}/reject/"' in page

    response = client.post(f"/orders/{order.pk}/reject/", {"reason": "本周人手不足"})

    order.refresh_from_db()
    assert order.status == Status.CREATED and order.organisation is None
    assert response.status_code == 302 and response["Location"] == "/orders/"  # no longer theirs to see


def test_the_community_cannot_reject(desk, loop):
    order = loop.dispatched(loop.order())
    assert desk.post(f"/orders/{order.pk}/reject/", {"reason": "x"}).status_code == 403


def test_a_new_order_for_an_elder(desk, loop):
    page = desk.get(f"/orders/new/{loop.elder.pk}/").content.decode()
    assert loop.elder.name in page and "下单" in page

    day = (loop.tomorrow + datetime.timedelta(days=1)).isoformat()
    response = desk.post(
        f"/orders/new/{loop.elder.pk}/",
        {"item": loop.item.pk, "day": day, "time": "14:30", "quantity": 1, "source": "desk", "notes": "带拖把"},
    )

    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    assert order.source == "desk" and order.notes == "带拖把" and order.created_by == loop.desk
    assert order.scheduled_start == at(loop.tomorrow + datetime.timedelta(days=1), 14, 30)


def test_a_new_order_names_what_to_fix(desk, loop):
    response = desk.post(f"/orders/new/{loop.elder.pk}/", {"item": loop.item.pk, "day": "", "time": "09:00", "source": "desk"})
    assert response.status_code == 422 and not Order.objects.exists()
    response = desk.post(
        f"/orders/new/{loop.elder.pk}/",
        {
            "item": loop.item.pk,
            "day": "2020-01-01",
            "time": "09:00",
            "quantity": 1,
            "source": "desk",
            "payment_mode": "government",
        },
    )
    body = response.content.decode()
    assert response.status_code == 422 and ("服务时间已过" in body or "付费方式" in body)
    assert not Order.objects.exists()


def test_an_order_from_a_need(desk, loop):
    from needs.services import need_create

    need = need_create(
        by=loop.desk, elder=loop.elder, kind="general", source="visit", description="每周打扫一次", items=[loop.item]
    )
    need_page = desk.get(f"/needs/{need.pk}/").content.decode()
    assert f"/orders/new/?need={need.pk}" in need_page

    response = desk.get(f"/orders/new/?need={need.pk}")
    assert response.status_code == 302 and response["Location"] == f"/orders/new/{loop.elder.pk}/?need={need.pk}"
    form = desk.get(response["Location"]).content.decode()
    assert "每周打扫一次" in form

    desk.post(
        response["Location"],
        {
            "item": loop.item.pk,
            "day": loop.tomorrow.isoformat(),
            "time": "09:00",
            "quantity": 1,
            "source": "need",
            "need": need.pk,
        },
    )
    order = Order.objects.get()
    assert order.need == need and order.source == "need"


def test_the_elder_page_has_the_orders_panel_and_the_elders_order_page_lists_them(desk, loop):
    order = loop.order()
    elder_page = desk.get(f"/elders/{loop.elder.pk}/").content.decode()
    assert 'data-testid="orders-panel"' in elder_page and f"/orders/{order.pk}/" in elder_page

    page = desk.get(f"/orders/elder/{loop.elder.pk}/").content.decode()
    assert f"/orders/{order.pk}/" in page and f"/orders/plans/new/{loop.elder.pk}/" in page


def test_the_nav_has_the_orders_entry(desk):
    page = desk.get("/").content.decode()
    assert 'href="/orders/"' in page and "服务工单" in page


def test_the_elder_picker_finds_by_name_and_refuses_a_number_in_the_url(desk, loop):
    page = desk.get("/orders/new/?q=" + loop.elder.name[:2]).content.decode()
    assert f"/orders/new/{loop.elder.pk}/" in page
    refused = desk.get("/orders/new/?q=13912345678").content.decode()
    assert "不要放在网址里" in refused


def test_a_relatives_complaint_disputes_a_delivered_visit_from_the_order_page(desk, loop, client):
    from orders.models import VisitException
    from orders.tests.factories import delivered

    waiting = loop.order()
    assert f'action="/orders/{waiting.pk}/dispute/"' not in desk.get(f"/orders/{waiting.pk}/").content.decode()
    order = delivered(loop)
    page = desk.get(f"/orders/{order.pk}/").content.decode()
    assert f'action="/orders/{order.pk}/dispute/"' in page

    refused = desk.post(f"/orders/{order.pk}/dispute/", {"reason": ""})
    assert refused.status_code == 422 and "异议内容" in refused.content.decode()
    response = desk.post(f"/orders/{order.pk}/dispute/", {"reason": "女儿来电：那天没人上门"}, follow=True)
    assert "有争议" in response.content.decode()
    order.refresh_from_db()
    assert order.verification == "disputed"
    assert VisitException.objects.get(order=order).detail == "女儿来电：那天没人上门"
    # disputed already: the form is not offered again; the provider's dispatcher may not dispute
    assert f'action="/orders/{order.pk}/dispute/"' not in desk.get(f"/orders/{order.pk}/").content.decode()
    client.force_login(loop.dispatcher)
    assert client.post(f"/orders/{order.pk}/dispute/", {"reason": "x"}).status_code == 403
