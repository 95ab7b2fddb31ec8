"""The pages of day routes, as the community worker uses them."""

import pytest

from routing.models import Kind
from routing.services import day_plan_create

pytestmark = pytest.mark.django_db


def test_plan_form_offers_tomorrow_in_the_date_field(rw, client):
    client.force_login(rw.desk)
    page = client.get("/routing/new/").content.decode()
    assert f'value="{rw.tomorrow.isoformat()}"' in page  # ISO: what <input type=date> shows


def test_the_community_worker_moves_a_visit_on_the_board(rw, client):
    rw.visit(9)
    later = rw.visit(14, elder=rw.elder_at(2))
    plan = day_plan_create(by=rw.desk, owner=rw.org, day=rw.tomorrow, kind=Kind.CARE)
    stop = plan.stops.get(order=later)
    other = rw.bo if stop.caregiver_id == rw.anna.pk else rw.anna
    client.force_login(rw.desk)
    answer = client.post(f"/routing/stops/{stop.pk}/move/", {"person": other.pk}, follow=True)
    assert answer.status_code == 200
    assert f"已改派给{other.name}" in answer.content.decode()
    stop.refresh_from_db()
    assert stop.caregiver_id == other.pk and stop.pinned


def test_the_board_shows_each_route_with_times_and_kilometres(rw, client):
    from django.utils import timezone

    rw.visit(9)
    plan = day_plan_create(by=rw.desk, owner=rw.org, day=rw.tomorrow, kind=Kind.CARE)
    stop = plan.stops.get()
    client.force_login(rw.desk)
    page = client.get(f"/routing/{plan.pk}/").content.decode()
    assert timezone.localtime(stop.start_at).strftime("%H:%M") in page
    assert "公里（含返程）" in page and 'class="route-map"' in page


def test_a_providers_dispatcher_sees_no_elder_of_an_order_not_sent_to_them(rw, client):
    waiting = rw.visit(9, elder=rw.elder_at(1, name="等派单老人"))
    sent = rw.dispatched(rw.visit(11, elder=rw.elder_at(2, name="已派单老人")))
    plan = day_plan_create(by=rw.desk, owner=rw.org, day=rw.tomorrow, kind=Kind.CARE)
    assert {s.order_id for s in plan.stops.all()} == {waiting.pk, sent.pk}
    client.force_login(rw.dispatcher)
    page = client.get(f"/routing/{plan.pk}/").content.decode()
    assert "已派单老人" in page
    assert "等派单老人" not in page and "（未派给本机构的工单）" in page
    api = client.get(f"/api/routing/{plan.pk}").json()
    labels = [s["label"] for r in api["routes"] for s in r["stops"]]
    assert "（未派给本机构的工单）" in labels and not any("等派单老人" in x for x in labels)
