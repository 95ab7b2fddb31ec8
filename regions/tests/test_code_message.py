"""Issue 8, finding 11: the region-code uniqueness message names no region outside the user's
scope; region names refuse invisible and bidi control characters."""

import pytest
from django.core.exceptions import ValidationError

from conftest import make_user
from regions.models import Level, Region
from regions.services import region_create, region_update

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("action", ["create", "update"])
def test_code_taken_outside_the_users_scope_is_refused_without_naming_that_region(tree, action):
    street_admin = make_user("streetadmin", "admin", tree.street)  # an admin of 东城街道 only
    outside = tree.community2  # 驻春路社区, under 和平路街道: not in 东城街道's subtree
    with pytest.raises(ValidationError) as exc_info:
        if action == "create":
            region_create(name="新社区", level=Level.COMMUNITY, parent=tree.street, code=outside.code, by=street_admin)
        else:
            region_update(region=tree.community, name=tree.community.name, code=outside.code, by=street_admin)
    message = exc_info.value.message_dict["code"][0]
    assert outside.code in message
    assert outside.name not in message and "和平路" not in message
    assert not Region.objects.filter(name="新社区").exists()


@pytest.mark.parametrize("action", ["create", "update"])
def test_code_taken_inside_the_users_scope_names_the_region(tree, admin_user, action):
    with pytest.raises(ValidationError) as exc_info:
        if action == "create":
            region_create(name="新社区", level=Level.COMMUNITY, parent=tree.street, code=tree.community2.code, by=admin_user)
        else:
            region_update(region=tree.community, name=tree.community.name, code=tree.community2.code, by=admin_user)
    assert tree.community2.name in exc_info.value.message_dict["code"][0]


def test_region_edit_page_does_not_name_a_region_outside_scope(client, tree):
    street_admin = make_user("streetadmin", "admin", tree.street)  # an admin of 东城街道 only
    client.force_login(street_admin)
    response = client.post(f"/regions/{tree.community.pk}/edit/", {"name": tree.community.name, "code": tree.community2.code})
    assert tree.community2.name not in response.content.decode()
    tree.community.refresh_from_db()
    assert tree.community.code == "990102001001"


@pytest.mark.parametrize("ch", ["\u202e", "\u200b", "\u2066", "\x07", "\ufeff"])
@pytest.mark.parametrize("action", ["create", "update"])
def test_region_name_refuses_invisible_characters(tree, admin_user, action, ch):
    with pytest.raises(ValidationError) as exc_info:
        if action == "create":
            region_create(name=f"新{ch}网格", level=Level.GRID, parent=tree.community, by=admin_user)
        else:
            region_update(region=tree.grid, name=f"新{ch}网格", code="", by=admin_user)
    assert "name" in exc_info.value.message_dict
    assert not Region.objects.filter(name__startswith="新").exists()
