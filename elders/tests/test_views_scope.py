"""Elder pages inside and around the user's subtree: search and filters find nothing of another
region, a grid worker sees only their grid, numbers are masked, reveals are logged.

The refusals every page owes (anonymous, no permission, another region, no region) are tried
for every route by core/tests/test_every_route.py."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLog, ChangeRecord
from elders.models import Elder, Status
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def elder(tree):
    """王秀兰 of 安泰社区's first grid."""
    return ElderFactory(
        region=tree.grid,
        name="王秀兰",
        id_number=ID_NUMBER,
        sex="F",
        birth_date=datetime.date(1949, 12, 31),
        phone="13812345678",
        address="安泰小区3号楼",
    )


def login(client, user):
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    return [row["elder"].pk for row in response.context["rows"]]


# --- another region: search and filters find nothing of it ----------------------------------------------


@pytest.mark.parametrize("q", ["王秀兰", "wxl", ID_NUMBER, "5678", "13812345678"])
def test_another_communitys_worker_finds_nothing_by_search(client, worker_in_other_region, elder, q):
    response = login(client, worker_in_other_region).get("/elders/", {"q": q})

    assert listed(response) == []


def test_another_communitys_worker_cannot_filter_into_another_region(client, worker_in_other_region, tree, elder):
    response = login(client, worker_in_other_region).get("/elders/", {"region": tree.community.pk})

    assert listed(response) == []


# --- the user's own subtree ---------------------------------------------------------------------------


def test_grid_worker_sees_only_their_grid(client, grid_user, tree, elder):
    ElderFactory(region=tree.community, name="李建国")

    response = login(client, grid_user).get("/elders/")

    assert listed(response) == [elder.pk]


def test_grid_worker_gets_404_for_an_elder_of_the_community_outside_their_grid(client, grid_user, tree):
    outside = ElderFactory(region=tree.community)

    assert login(client, grid_user).get(f"/elders/{outside.pk}/").status_code == 404


def test_city_user_sees_both_communities(client, city_user, tree, elder):
    other = ElderFactory(region=tree.community2, name="李建国")

    response = login(client, city_user).get("/elders/", {"status": "all"})

    assert sorted(listed(response)) == sorted([elder.pk, other.pk])


def test_community_worker_sees_their_elder_with_numbers_masked(client, worker, elder):
    response = login(client, worker).get(f"/elders/{elder.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "*****************X" in html and "138****5678" in html
    assert ID_NUMBER not in html and "13812345678" not in html


def test_list_shows_numbers_masked_only(client, worker, elder):
    html = login(client, worker).get("/elders/").content.decode()

    assert "*****************X" in html
    assert ID_NUMBER not in html and "13812345678" not in html


def test_list_page_of_20_does_not_query_per_row(client, worker, tree, django_assert_max_num_queries):
    for _ in range(25):
        ElderFactory(region=tree.community)
    login(client, worker)

    # 9 queries with a bare template (session, user, count, rows, region choices …); one per
    # row would add 20.
    with django_assert_max_num_queries(15):
        response = client.get("/elders/")

    assert len(response.context["rows"]) == 20


# --- reveal -----------------------------------------------------------------------------------------------------


def test_reveal_shows_full_numbers_and_logs_who_and_what(client, worker, elder):
    response = login(client, worker).post(f"/elders/{elder.pk}/reveal/", {"reason": "电话回访"}, REMOTE_ADDR="10.0.0.7")

    assert ID_NUMBER in response.content.decode()
    log = AccessLog.objects.get()
    assert (log.kind, log.by, log.object_id, log.ip) == ("reveal", worker, elder.pk, "10.0.0.7")
    assert set(log.fields.split(",")) >= {"id_number", "phone"}


def test_reveal_needs_post(client, worker, elder):
    response = login(client, worker).get(f"/elders/{elder.pk}/reveal/")

    assert response.status_code == 405
    assert not AccessLog.objects.exists()


# --- permissions within scope ----------------------------------------------------------------------------------


def test_auditor_may_not_register_elders(client, auditor, tree):
    response = login(client, auditor).post(
        "/elders/new/", {"region": tree.community.pk, "name": "王秀兰", "id_number": ID_NUMBER}
    )

    assert response.status_code == 403
    assert not Elder.objects.exists()


def test_grid_worker_may_not_open_the_status_page(client, grid_user, elder):
    response = login(client, grid_user).get(f"/elders/{elder.pk}/status/")

    assert response.status_code == 403
    assert "您的角色没有此权限" in response.content.decode()


def test_merge_page_moves_the_twin_into_the_kept_record(client, worker, tree, elder):
    twin = ElderFactory(region=tree.grid, name="王秀兰", birth_date=elder.birth_date, address=elder.address, id_number="")

    response = login(client, worker).post("/elders/merge/", {"keep": elder.pk, "other": twin.pk})

    assert response.status_code == 302
    assert not Elder.objects.filter(pk=twin.pk).exists()
    assert ChangeRecord.objects.filter(model="elders.elder", object_id=elder.pk, action="merge").exists()


# --- forms ------------------------------------------------------------------------------------------------------


def test_create_page_with_bad_id_and_bad_phone_shows_both_errors_and_writes_nothing(client, worker, tree):
    response = login(client, worker).post(
        "/elders/new/", {"region": tree.community.pk, "name": "王秀兰", "id_number": "110105194912310021", "phone": "12345"}
    )

    assert response.status_code == 200
    assert {"id_number", "phone"} <= set(response.context["form"].errors)
    assert not Elder.objects.exists()
    assert not ChangeRecord.objects.filter(model="elders.elder").exists()


def test_create_page_registers_and_redirects_to_the_detail(client, worker, tree):
    response = login(client, worker).post(
        "/elders/new/", {"region": tree.grid.pk, "name": "王秀兰", "id_number": ID_NUMBER, "phone": "138-1234-5678"}
    )

    elder = Elder.objects.get()
    assert response.status_code == 302 and response.url == f"/elders/{elder.pk}/"
    assert (elder.sex, elder.phone_masked, elder.region) == ("F", "138****5678", tree.grid)


def test_edit_page_leaves_masked_numbers_unchanged(client, worker, elder):
    before = (elder.id_number_hash, elder.phone_hash)

    response = login(client, worker).post(
        f"/elders/{elder.pk}/edit/",
        {
            "region": elder.region_id,
            "name": "王秀兰",
            "id_number": "*****************X",
            "phone": "138****5678",
            "address": "新地址",
            "version": elder.version,
        },
    )

    assert response.status_code == 302
    elder.refresh_from_db()
    assert (elder.id_number_hash, elder.phone_hash, elder.address) == (*before, "新地址")


def test_status_page_moves_an_elder_out(client, worker, elder):
    response = login(client, worker).post(
        f"/elders/{elder.pk}/status/", {"action": "move_out", "effective_on": str(timezone.localdate()), "reason": "随子女"}
    )

    assert response.status_code == 302
    elder.refresh_from_db()
    assert elder.status == Status.MOVED_OUT


def test_duplicates_page_does_not_query_per_group(client, worker, tree, django_assert_max_num_queries):
    for n in range(6):
        for _ in range(2):
            ElderFactory(
                region=tree.community, name="王秀兰", birth_date=datetime.date(1950, 1, 1 + n), address="1号楼", id_number=""
            )
    login(client, worker)

    # 8 queries today; one per group would add 6.
    with django_assert_max_num_queries(10):
        response = client.get("/elders/duplicates/")

    assert [len(group) for group in response.context["groups"]] == [2] * 6
