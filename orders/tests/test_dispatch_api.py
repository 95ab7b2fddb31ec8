"""Dispatch through the API: candidates with reasons, dispatch to an organisation that serves the
area from outside the user's restrict() scope, preferences and absences, and their refusals."""

import datetime

import pytest

from accounts.services import api_token_create
from conftest import make_user
from orders.models import Status
from orders.tests.factories import HOME
from providers.models import Absence, Organisation
from providers.tests.factories import organisation, volunteer

pytestmark = pytest.mark.django_db


def api(client, user):
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    class Caller:
        def get(self, path):
            return client.get(path, headers=headers)

        def post(self, path, body):
            return client.post(path, body, content_type="application/json", headers=headers)

        def put(self, path, body):
            return client.put(path, body, content_type="application/json", headers=headers)

        def delete(self, path):
            return client.delete(path, headers=headers)

    return Caller()


@pytest.fixture
def district_org(tree, loop):
    """锦山区护理站: registered at the district, so outside 安泰社区's restrict(), yet it serves
    安泰社区's elders; its 张丽 lives next door."""
    org = organisation(tree, region=tree.district, name="锦山区护理站")
    org.zhang = loop.staff(org=org, name="张丽", home_lat=HOME[0] + 0.001, home_lng=HOME[1])
    assert not Organisation.objects.restrict(loop.desk).filter(pk=org.pk).exists()
    return org


def test_candidates_come_ranked_with_their_reasons(client, loop, district_org):
    loop.qualify(loop.anna)
    order = loop.order()

    body = api(client, loop.desk).get(f"/api/orders/{order.pk}/candidates?page_size=5").json()

    assert [c["name"] for c in body["items"]] == ["张丽", "王安娜"]
    first = body["items"][0]
    assert first["kind"] == "caregiver" and first["organisation"] == {"id": district_org.pk, "name": "锦山区护理站"}
    assert first["distance_m"] == 111 and first["score"] == sum(r["points"] for r in first["reasons"])
    assert {"text": "距老人家 111 米", "points": 29, "kind": "plus"} in first["reasons"]
    assert (body["count"], body["count_is_exact"], body["page"], body["pages"]) == (2, True, 1, 1)


def test_the_ranking_pages_like_every_list(client, loop, district_org):
    loop.qualify(loop.anna)
    order = loop.order()
    caller = api(client, loop.desk)

    second = caller.get(f"/api/orders/{order.pk}/candidates?page=2&page_size=1").json()
    past = caller.get(f"/api/orders/{order.pk}/candidates?page=9&page_size=1").json()

    assert [c["name"] for c in second["items"]] == ["王安娜"] and second["pages"] == 2
    assert past["page"] == 2 and [c["name"] for c in past["items"]] == ["王安娜"]
    assert second["items"][0]["reasons"]  # the page's candidates get their words


def test_a_community_worker_dispatches_to_an_organisation_serving_them_from_outside_their_scope(client, loop, district_org):
    order = loop.order()
    caller = api(client, loop.desk)

    listed = caller.get(f"/api/orders/{order.pk}/organisations").json()
    assert district_org.pk in [o["id"] for o in listed["items"]]

    response = caller.post(f"/api/orders/{order.pk}/dispatch", {"organisation": district_org.pk})

    assert response.status_code == 200, response.json()
    order.refresh_from_db()
    assert order.status == Status.DISPATCHED and order.organisation == district_org


def test_a_community_worker_dispatches_to_a_caregiver_of_that_organisation(client, loop, district_org):
    order = loop.order()

    response = api(client, loop.desk).post(f"/api/orders/{order.pk}/dispatch", {"caregiver": district_org.zhang.pk})

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.caregiver == district_org.zhang and order.organisation == district_org


def test_an_organisation_not_serving_the_elder_is_a_404_and_nothing_moves(client, tree, loop):
    elsewhere = organisation(tree, region=tree.community2, name="驻春路家政")
    stranger = loop.staff(org=elsewhere, name="赵敏")
    order = loop.order()
    caller = api(client, loop.desk)

    assert caller.post(f"/api/orders/{order.pk}/dispatch", {"organisation": elsewhere.pk}).status_code == 404
    assert caller.post(f"/api/orders/{order.pk}/dispatch", {"caregiver": stranger.pk}).status_code == 404
    order.refresh_from_db()
    assert order.status == Status.CREATED and order.organisation is None


def test_an_organisation_in_reach_that_does_not_serve_the_elder_is_a_422_saying_why(client, tree, loop):
    city_admin = make_user("city_admin", "admin", tree.city)  # reaches 驻春路家政 through restrict()
    elsewhere = organisation(tree, region=tree.community2, name="驻春路家政")
    order = loop.order()

    response = api(client, city_admin).post(f"/api/orders/{order.pk}/dispatch", {"organisation": elsewhere.pk})

    assert response.status_code == 422
    assert any(e["field"] == "organisation" and "服务区域不含老人所在社区" in e["message"] for e in response.json()["errors"])


def test_a_volunteer_of_another_community_is_refused(client, tree, loop):
    from providers.services import volunteer_decide

    theirs = volunteer(tree, region=tree.community2, name="刘晓")
    volunteer_decide(by=loop.admin, volunteer=theirs, action="approve")
    city_admin = make_user("city_admin", "admin", tree.city)
    order = loop.order()

    assert api(client, loop.desk).post(f"/api/orders/{order.pk}/dispatch", {"volunteer": theirs.pk}).status_code == 404
    refused = api(client, city_admin).post(f"/api/orders/{order.pk}/dispatch", {"volunteer": theirs.pk})
    assert refused.status_code == 422
    assert any(e["field"] == "volunteer" and "不属于老人所在社区" in e["message"] for e in refused.json()["errors"])


def test_the_organisations_dispatcher_assigns_its_own_staff_and_no_one_else(client, loop, district_org):
    loop.qualify(loop.anna)
    order = loop.dispatched(loop.order())  # to 机构, nobody named
    caller = api(client, loop.dispatcher)

    body = caller.get(f"/api/orders/{order.pk}/candidates").json()
    assert [c["name"] for c in body["items"]] == ["王安娜"]
    assert caller.post(f"/api/orders/{order.pk}/dispatch", {"caregiver": district_org.zhang.pk}).status_code == 404

    assert caller.post(f"/api/orders/{order.pk}/dispatch", {"caregiver": loop.anna.pk}).status_code == 200
    order.refresh_from_db()
    assert order.caregiver == loop.anna and order.status == Status.DISPATCHED


def test_another_organisations_dispatcher_gets_404_for_the_candidates(client, tree, loop):
    from providers.tests.factories import org_user

    other = org_user(organisation(tree, name="别家"))
    order = loop.dispatched(loop.order())

    assert api(client, other).get(f"/api/orders/{order.pk}/candidates").status_code == 404


# --- preferences ----------------------------------------------------------------------------------


def test_preferences_round_trip_and_rank_by_them(client, loop):
    loop.qualify(loop.anna)
    loop.qualify(loop.bo)
    caller = api(client, loop.desk)

    assert caller.get(f"/api/orders/preferences/{loop.elder.pk}").json()["caregiver_sex"] == ""
    body = {"caregiver_sex": "M", "languages": "粤语", "preferred_caregiver": loop.bo.pk, "notes": "怕狗"}
    saved = caller.put(f"/api/orders/preferences/{loop.elder.pk}", body).json()

    assert saved["preferred_caregiver"] == {"id": loop.bo.pk, "name": "李波"} and saved["languages"] == "粤语"
    ranked = caller.get(f"/api/orders/{loop.order().pk}/candidates").json()["items"]
    assert ranked[0]["name"] == "李波"
    assert {"老人指定的服务人员", "老人希望男性服务人员"} <= {r["text"] for r in ranked[0]["reasons"]}


def test_a_preferred_caregiver_who_cannot_serve_the_elder_is_refused(client, tree, loop):
    stranger = loop.staff(org=organisation(tree, region=tree.community2), name="赵敏")

    response = api(client, loop.desk).put(f"/api/orders/preferences/{loop.elder.pk}", {"preferred_caregiver": stranger.pk})

    assert response.status_code == 404


def test_preferences_of_another_regions_elder_are_a_404(client, loop, worker_in_other_region):
    assert api(client, worker_in_other_region).get(f"/api/orders/preferences/{loop.elder.pk}").status_code == 404


# --- absences -------------------------------------------------------------------------------------


def test_the_organisations_dispatcher_records_leave_and_dispatch_leaves_her_out(client, loop):
    loop.qualify(loop.anna)
    loop.qualify(loop.bo)
    caller = api(client, loop.dispatcher)
    day = loop.tomorrow.isoformat()

    made = caller.post("/api/orders/absences", {"caregiver": loop.anna.pk, "starts_on": day, "reason": "sick", "note": "发烧"})

    assert made.status_code == 201, made.json()
    assert made.json()["ends_on"] == day and made.json()["reason_label"] == "病假"
    assert [a["id"] for a in caller.get("/api/orders/absences").json()["items"]] == [made.json()["id"]]
    ranked = api(client, loop.desk).get(f"/api/orders/{loop.order().pk}/candidates").json()["items"]
    assert [c["name"] for c in ranked] == ["李波"]

    assert caller.delete(f"/api/orders/absences/{made.json()['id']}").status_code == 204
    assert not Absence.objects.filter(caregiver=loop.anna).exists()


def test_another_organisations_dispatcher_cannot_touch_the_leave(client, tree, loop):
    from providers.services import absence_create
    from providers.tests.factories import org_user

    absence = absence_create(by=loop.dispatcher, caregiver=loop.anna, data={"starts_on": loop.tomorrow})
    other = org_user(organisation(tree, name="别家"))
    caller = api(client, other)

    assert caller.delete(f"/api/orders/absences/{absence.pk}").status_code == 404
    assert (
        caller.post("/api/orders/absences", {"caregiver": loop.anna.pk, "starts_on": loop.tomorrow.isoformat()}).status_code
        == 404
    )
    assert caller.get("/api/orders/absences").json()["items"] == []
    assert Absence.objects.filter(pk=absence.pk).exists()


def test_a_community_worker_may_not_record_leave(client, loop):
    response = api(client, loop.desk).post(
        "/api/orders/absences", {"caregiver": loop.anna.pk, "starts_on": datetime.date.today().isoformat()}
    )
    assert response.status_code == 403
