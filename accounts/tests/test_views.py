"""The user administration pages: the list, a new user, the role table."""

import pytest

from accounts.models import User
from conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def street_admin(tree):
    """An administrator of 东城街道 (安泰社区 is inside, 驻春路社区 is not)."""
    return make_user("street_admin", "admin", tree.street)


def test_user_list_shows_the_users_of_the_admins_subtree_with_role_and_region(
    client, street_admin, worker, worker_in_other_region
):
    worker.full_name = "李芳"
    worker.save()
    client.force_login(street_admin)

    response = client.get("/accounts/users/")

    html = response.content.decode()
    assert response.status_code == 200
    assert [u.username for u in response.context["page"]] == ["street_admin", "community"]
    assert "李芳" in html and "社区工作人员" in html and "安泰社区" in html
    assert "community2" not in html


def test_user_list_finds_a_user_by_name(client, street_admin, worker, grid_user):
    worker.full_name = "李芳"
    worker.save()
    client.force_login(street_admin)

    response = client.get("/accounts/users/", {"q": "李芳"})

    assert [u.username for u in response.context["page"]] == ["community"]


def test_new_user_page_creates_a_user_in_the_admins_subtree(client, street_admin, tree):
    client.force_login(street_admin)
    assert client.get("/accounts/users/new/").status_code == 200

    response = client.post(
        "/accounts/users/new/",
        {"username": "wanggrid", "full_name": "王网格", "role": "grid", "region": tree.grid.pk, "password": "Xk9#mqLw2025"},
    )

    assert response.status_code == 302 and response.url == "/accounts/users/"
    user = User.objects.get(username="wanggrid")
    assert (user.full_name, user.role, user.region, user.is_active) == ("王网格", "grid", tree.grid, True)
    assert user.check_password("Xk9#mqLw2025")


def test_new_user_page_offers_only_regions_of_the_admins_subtree(client, street_admin, tree):
    client.force_login(street_admin)

    response = client.get("/accounts/users/new/")

    offered = {value for value, _label in response.context["form"].fields["region"].choices}
    assert tree.community.pk in offered and tree.grid.pk in offered
    assert tree.community2.pk not in offered and tree.city.pk not in offered


def test_roles_page_lists_each_role_with_its_permissions(client, city_user):
    client.force_login(city_user)

    response = client.get("/accounts/roles/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "社区工作人员" in html and "网格员" in html and "审计员" in html
    assert "登记老年人" in html and "查看个人信息访问日志" in html
    community = next(r for r in response.context["roles"] if r["code"] == "community")
    assert "elders.add_elder" in community["perms"] and "accounts.add_user" not in community["perms"]
