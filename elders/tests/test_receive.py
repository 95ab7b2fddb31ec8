"""Transfer between communities (迁出 → 迁入, issue 9): an elder who moved out of one community
is received by another that finds them by ID number; one record, one continuous history.
Only a moved-out record can be received: an active elder of another community cannot be pulled."""

import datetime
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.services import api_token_create
from audit.models import AccessLog, ChangeRecord
from elders import services
from elders.models import Elder, Status
from elders.selectors import elder_get, elder_receivable
from elders.tests.factories import ElderFactory
from regions.models import Level
from regions.services import region_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def moved_out(tree, worker):
    """王秀兰 of 安泰社区, edited there, then moved out ten days ago by 安泰社区's worker."""
    elder = ElderFactory(region=tree.grid, name="王秀兰", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    services.elder_update(by=worker, elder=elder, data={"address": "安泰小区3号楼"}, version=elder.version)
    services.elder_change_status(
        by=worker, elder=elder, action="move_out", effective_on=TODAY - datetime.timedelta(days=10), reason="随子女去驻春路"
    )
    return Elder.objects.get(pk=elder.pk)


@pytest.fixture
def grid2(tree):
    return region_create(name="驻春路第一网格", level=Level.GRID, parent=tree.community2)


def receive(user, region, **over):
    data = dict(id_number=ID_NUMBER, region_id=region.pk, effective_on=TODAY, reason="随子女居住")
    data.update(over)
    return services.elder_receive(by=user, **data)


def bearer(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


# --- the service -----------------------------------------------------------------------------------


def test_a_moved_out_elder_is_received_into_the_other_community_as_the_same_record(moved_out, worker_in_other_region, grid2):
    elder = receive(worker_in_other_region, grid2)

    assert elder.pk == moved_out.pk
    assert elder.region == grid2 and elder.status == Status.ACTIVE and elder.status_changed_on == TODAY
    assert elder_get(user=worker_in_other_region, elder_id=elder.pk).name == "王秀兰"


def test_the_move_is_one_continuous_history(moved_out, worker_in_other_region, grid2, tree):
    receive(worker_in_other_region, grid2)

    changes = list(moved_out.status_changes.order_by("effective_on", "id").values_list("action", "to_status", "reason"))
    records = list(ChangeRecord.objects.filter(object_id=moved_out.pk).order_by("id").values_list("action", flat=True))
    last = ChangeRecord.objects.filter(object_id=moved_out.pk).latest("id")

    assert changes == [
        ("move_out", Status.MOVED_OUT, "随子女去驻春路"),
        ("move_in", Status.ACTIVE, "从安泰第一网格迁入：随子女居住"),
    ]
    assert records[-3:] == ["update", "status", "status"]
    assert last.changes["status"] == [Status.MOVED_OUT, Status.ACTIVE]
    assert last.changes["region"] == [tree.grid.pk, grid2.pk]
    assert last.by == worker_in_other_region


def test_the_receiving_community_sees_the_whole_history_and_the_old_one_no_longer_sees_the_elder(
    client, moved_out, worker, worker_in_other_region, grid2
):
    receive(worker_in_other_region, grid2)
    client.force_login(worker_in_other_region)

    html = client.get(f"/elders/{moved_out.pk}/").content.decode()
    client.force_login(worker)

    assert "安泰小区3号楼" in html  # the edit made in 安泰社区, before the move
    assert "随子女去驻春路" in html and "从安泰第一网格迁入" in html
    assert client.get(f"/elders/{moved_out.pk}/").status_code == 404


@pytest.mark.parametrize("status", [Status.ACTIVE, Status.INSTITUTION, Status.DECEASED])
def test_an_elder_of_another_community_who_has_not_moved_out_cannot_be_pulled(tree, worker_in_other_region, grid2, status):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    Elder.objects.filter(pk=elder.pk).update(status=status)

    with pytest.raises(ValidationError) as refused:
        receive(worker_in_other_region, grid2)

    assert "没有迁出" in refused.value.message_dict["id_number"][0]
    assert "安泰" not in str(refused.value)  # nothing about where they are
    elder.refresh_from_db()
    assert elder.region == tree.community and elder.status == status


def test_only_what_is_needed_is_seen_before_confirming(moved_out, worker_in_other_region):
    found = elder_receivable(user=worker_in_other_region, id_number=ID_NUMBER)

    assert found.state == "receivable"
    assert found.preview == {
        "name": "王秀兰",
        "id_number_masked": moved_out.id_number_masked,
        "moved_out_on": TODAY - datetime.timedelta(days=10),
    }
    assert AccessLog.objects.get(kind="search").detail["via"] == "receive"


def test_receiving_into_a_region_outside_ones_own_is_refused(moved_out, worker_in_other_region, tree):
    with pytest.raises(ValidationError) as refused:
        receive(worker_in_other_region, tree.grid)

    assert "region" in refused.value.message_dict
    assert Elder.objects.get(pk=moved_out.pk).status == Status.MOVED_OUT


def test_a_move_in_before_the_move_out_is_refused(moved_out, worker_in_other_region, grid2):
    with pytest.raises(ValidationError) as refused:
        receive(worker_in_other_region, grid2, effective_on=TODAY - datetime.timedelta(days=20))

    assert "effective_on" in refused.value.message_dict


def test_a_grid_worker_may_not_receive(moved_out, tree):
    from conftest import make_user

    grid_worker = make_user("grid2", "grid", tree.grid)

    with pytest.raises(PermissionDenied):
        receive(grid_worker, tree.grid)


def test_registering_a_moved_out_elder_again_points_to_receiving(moved_out, worker_in_other_region, tree):
    with pytest.raises(ValidationError) as refused:
        services.elder_create(
            by=worker_in_other_region,
            data={"region": tree.community2.pk, "name": "王秀兰", "id_number": ID_NUMBER},
        )

    assert "接收迁入" in refused.value.message_dict["id_number"][0]


# --- the page ------------------------------------------------------------------------------------------


def test_the_page_finds_the_moved_out_elder_and_receives_them(client, moved_out, worker_in_other_region, grid2):
    client.force_login(worker_in_other_region)

    found = client.post("/elders/receive/", {"step": "check", "id_number": ID_NUMBER}).content.decode()
    done = client.post(
        "/elders/receive/",
        {"step": "confirm", "id_number": ID_NUMBER, "region": grid2.pk, "effective_on": TODAY.isoformat(), "reason": ""},
    )

    assert "王秀兰" in found and moved_out.id_number_masked in found and 'data-testid="receive-confirm"' in found
    assert "安泰" not in found.split('data-testid="receive-preview"')[1].split("</section>")[0]
    assert done.status_code == 302 and done["Location"] == f"/elders/{moved_out.pk}/"
    assert Elder.objects.get(pk=moved_out.pk).region == grid2


def test_the_page_says_why_an_active_elder_elsewhere_cannot_be_received(client, tree, worker_in_other_region):
    ElderFactory(region=tree.community, name="李建国", id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    client.force_login(worker_in_other_region)

    html = client.post("/elders/receive/", {"step": "check", "id_number": ID_NUMBER}).content.decode()

    assert "请联系原社区先办理迁出" in html
    assert "李建国" not in html and 'data-testid="receive-confirm"' not in html


def test_the_page_names_a_bad_id_number(client, worker_in_other_region):
    client.force_login(worker_in_other_region)

    html = client.post("/elders/receive/", {"step": "check", "id_number": "110105194912310021"}).content.decode()

    assert "校验码" in html or "身份证号" in html
    assert 'data-testid="receive-confirm"' not in html


def test_the_list_offers_receiving_to_community_workers_only(client, worker, grid_user):
    client.force_login(worker)
    offered = 'data-testid="receive-link"' in client.get("/elders/").content.decode()
    client.force_login(grid_user)

    assert offered
    assert 'data-testid="receive-link"' not in client.get("/elders/").content.decode()
    assert client.get("/elders/receive/").status_code == 403


# --- the API -----------------------------------------------------------------------------------------------


def post(client, user, path, body):
    return client.post(path, json.dumps(body), content_type="application/json", headers=bearer(user))


def test_the_api_checks_and_receives(client, moved_out, worker_in_other_region, grid2):
    check = post(client, worker_in_other_region, "/api/elders/receive/check", {"id_number": ID_NUMBER})
    received = post(
        client,
        worker_in_other_region,
        "/api/elders/receive",
        {"id_number": ID_NUMBER, "region": grid2.pk, "effective_on": TODAY.isoformat(), "reason": "随子女居住"},
    )

    assert check.status_code == 200
    assert check.json() | {"moved_out_on": None} == {
        "state": "receivable",
        "message": "",
        "name": "王秀兰",
        "id_number_masked": moved_out.id_number_masked,
        "moved_out_on": None,
        "elder_id": None,
    }
    assert received.status_code == 200
    assert received.json()["id"] == moved_out.pk and received.json()["status"] == "active"


def test_the_api_refuses_to_pull_an_active_elder_of_another_community(client, tree, worker_in_other_region, grid2):
    elder = ElderFactory(region=tree.community, id_number=ID_NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))

    check = post(client, worker_in_other_region, "/api/elders/receive/check", {"id_number": ID_NUMBER})
    pulled = post(
        client,
        worker_in_other_region,
        "/api/elders/receive",
        {"id_number": ID_NUMBER, "region": grid2.pk, "effective_on": TODAY.isoformat()},
    )

    assert check.json()["state"] == "elsewhere" and check.json()["name"] is None and check.json()["elder_id"] is None
    assert pulled.status_code == 422 and pulled.json()["errors"][0]["field"] == "id_number"
    assert Elder.objects.get(pk=elder.pk).region == tree.community


def test_the_api_refuses_a_role_that_may_not_receive(client, moved_out, city_user):
    response = post(client, city_user, "/api/elders/receive/check", {"id_number": ID_NUMBER})

    assert response.status_code == 403
