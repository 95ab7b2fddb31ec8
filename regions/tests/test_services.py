"""The region tree: paths end with a separator, users act only inside their subtree."""

import pytest
from django.core.exceptions import ValidationError

from audit.models import ChangeRecord
from regions.models import Level, Region
from regions.selectors import region_choices_for_elders, region_list
from regions.services import region_create, region_update

pytestmark = pytest.mark.django_db


def test_path_lists_the_ids_from_the_root_and_ends_with_a_separator(tree):
    assert tree.community.path == f"{tree.street.path}{tree.community.pk}/"
    assert tree.community.depth_ids[-2:] == [tree.street.pk, tree.community.pk]


def test_create_records_history(admin_user, tree):
    region = region_create(name="新网格", level=Level.GRID, parent=tree.community, by=admin_user)

    record = ChangeRecord.objects.get(model="regions.region", object_id=region.pk)
    assert (record.action, record.by) == ("create", admin_user)


def test_create_refuses_a_child_level_not_below_its_parent(tree):
    with pytest.raises(ValidationError) as exc_info:
        region_create(name="错层", level=Level.STREET, parent=tree.community)

    assert "level" in exc_info.value.message_dict
    assert not Region.objects.filter(name="错层").exists()


def test_create_refuses_a_parent_outside_the_users_subtree(worker, tree):
    with pytest.raises(ValidationError) as exc_info:
        region_create(name="越权网格", level=Level.GRID, parent=tree.community2, by=worker)

    assert "parent" in exc_info.value.message_dict
    assert not Region.objects.filter(name="越权网格").exists()


def test_create_refuses_a_second_root_for_a_user_with_a_region(admin_user, tree):
    with pytest.raises(ValidationError):
        region_create(name="另一个全国", level=Level.COUNTRY, parent=None, by=admin_user)


def test_create_refuses_a_duplicate_code(tree):
    with pytest.raises(ValidationError) as exc_info:
        region_create(name="重码社区", level=Level.COMMUNITY, parent=tree.street, code=tree.community.code)

    assert "code" in exc_info.value.message_dict


def test_create_refuses_a_duplicate_name_under_one_parent(tree):
    with pytest.raises(ValidationError):
        region_create(name="安泰社区", level=Level.COMMUNITY, parent=tree.street)

    assert Region.objects.filter(name="安泰社区").count() == 1


def test_update_records_before_and_after(admin_user, tree):
    region_update(region=tree.community, name="安泰新社区", code=tree.community.code, by=admin_user)

    record = ChangeRecord.objects.get(model="regions.region", object_id=tree.community.pk, action="update")
    assert record.changes == {"name": ["安泰社区", "安泰新社区"]}


def test_user_sees_only_their_subtree(worker, tree):
    assert set(region_list(user=worker)) == {tree.community, tree.grid}


def test_city_user_sees_both_streets(city_user, tree):
    names = set(region_list(user=city_user).values_list("name", flat=True))

    assert {"东城街道", "和平路街道", "安泰社区", "驻春路社区"} <= names
    assert "示范省" not in names


def test_a_sibling_whose_id_starts_with_the_same_digits_is_outside_the_subtree(worker, tree):
    # Paths end with "/", so /…/5/ is not a prefix of /…/57/. The sibling gets an id that
    # begins with the community's own digits, whatever the database's id counter says.
    from regions.models import Region

    sibling = Region.objects.create(pk=int(f"{tree.community.pk}7"), name="兄弟社区", level=Level.COMMUNITY, parent=tree.street)
    sibling.path = f"{tree.street.path}{sibling.pk}/"
    sibling.save(update_fields=["path"])
    assert sibling.path.startswith(tree.community.path[:-1])

    assert sibling not in set(region_list(user=worker))


def test_elders_can_be_registered_only_in_communities_and_grids(city_user, tree):
    levels = set(region_choices_for_elders(user=city_user).values_list("level", flat=True))

    assert levels == {Level.COMMUNITY, Level.GRID}


def test_region_page_of_another_subtree_is_404(client, worker, tree):
    client.force_login(worker)

    response = client.get(f"/regions/?parent={tree.community2.pk}")

    assert response.status_code == 404


def test_update_refuses_a_code_used_by_another_region_naming_the_field(admin_user, tree):
    with pytest.raises(ValidationError) as exc_info:
        region_update(region=tree.community2, name="驻春路社区", code=tree.community.code, by=admin_user)

    assert "安泰社区" in exc_info.value.message_dict["code"][0]
    tree.community2.refresh_from_db()
    assert tree.community2.code == "990102002001"
