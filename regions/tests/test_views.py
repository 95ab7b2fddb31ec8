"""The region pages: browse the subtree one level at a time, add a node below one."""

import pytest

from conftest import make_user
from regions.models import Level, Region

pytestmark = pytest.mark.django_db


def test_region_page_lists_the_children_of_the_users_region(client, tree):
    client.force_login(make_user("street", "street", tree.street))

    response = client.get("/regions/")

    html = response.content.decode()
    assert response.status_code == 200
    assert [r.name for r in response.context["page"]] == ["安泰社区"]
    assert "驻春路社区" not in html and "和平路街道" not in html


def test_region_page_opens_a_child_and_shows_the_trail_back(client, tree):
    client.force_login(make_user("street", "street", tree.street))

    response = client.get("/regions/", {"parent": tree.community.pk})

    assert [r.name for r in response.context["page"]] == ["安泰第一网格"]
    assert [r.name for r in response.context["trail"]] == ["东城街道", "安泰社区"]


def test_region_add_creates_a_node_one_level_below_its_parent(client, admin_user, tree):
    client.force_login(admin_user)

    response = client.post(f"/regions/{tree.community.pk}/add/", {"name": "安泰第二网格", "code": ""})

    assert response.status_code == 302 and response.url == f"/regions/?parent={tree.community.pk}"
    region = Region.objects.get(name="安泰第二网格")
    assert (region.parent, region.level) == (tree.community, Level.GRID)
    assert region.path.startswith(tree.community.path)


def test_region_add_with_a_bad_code_creates_nothing_and_says_why(client, admin_user, tree):
    client.force_login(admin_user)

    response = client.post(f"/regions/{tree.community.pk}/add/", {"name": "安泰第二网格", "code": "12"}, follow=True)

    assert not Region.objects.filter(name="安泰第二网格").exists()
    assert "区划代码应为12位数字" in response.content.decode()
