"""User administration of an organisation's users (accounts pages): the organisation field,
no region for them, and the administrator sees and edits them."""

import pytest

from accounts.models import User
from conftest import make_user
from providers.tests import factories as f

pytestmark = pytest.mark.django_db


def _form(**over):
    data = {"username": "knx", "full_name": "康乃馨负责人", "role": "provider", "region": "", "password": "Xk9#mqLw2025"}
    data.update(over)
    return data


def test_an_administrator_creates_a_provider_user_of_an_organisation_without_region(tree, client):
    org = f.organisation(tree, name="康乃馨家政")
    client.force_login(make_user("root", "admin", tree.root))

    response = client.post("/accounts/users/new/", _form(organisation=org.pk))

    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(username="knx")
    assert (user.organisation, user.region) == (org, None)
    # listed and editable, though it has no region
    assert "knx" in client.get("/accounts/users/").content.decode()
    assert client.get(f"/accounts/users/{user.pk}/").status_code == 200


def test_an_organisation_with_a_region_too_is_refused(tree, client):
    org = f.organisation(tree)
    client.force_login(make_user("root", "admin", tree.root))

    response = client.post("/accounts/users/new/", _form(organisation=org.pk, region=tree.community.pk))

    assert response.status_code == 200 and "清空所属区域" in response.content.decode()
    assert not User.objects.filter(username="knx").exists()


def test_only_provider_and_caregiver_roles_belong_to_an_organisation(tree, client):
    org = f.organisation(tree)
    client.force_login(make_user("root", "admin", tree.root))

    response = client.post("/accounts/users/new/", _form(organisation=org.pk, role="community"))

    assert "只有“服务机构”和“助老服务员”角色" in response.content.decode()


def test_an_organisation_outside_the_administrators_region_is_refused(tree):
    from django.core.exceptions import ValidationError

    from accounts.services import user_create

    org = f.organisation(tree, region=tree.community2)
    street_admin = make_user("street_admin", "admin", tree.street)

    with pytest.raises(ValidationError):
        user_create(
            by=street_admin, username="x", full_name="", role="provider", region=None, password="Xk9#mqLw2025", organisation=org
        )


def test_an_administrator_of_another_street_gets_404_on_the_organisations_user(tree, client):
    org = f.organisation(tree, region=tree.community)
    target = f.org_user(org)
    client.force_login(make_user("s2admin", "admin", tree.street2))

    assert client.get(f"/accounts/users/{target.pk}/").status_code == 404
    assert target.username not in client.get("/accounts/users/").content.decode()


def test_changing_the_organisation_ends_the_users_sessions(tree):
    from accounts.services import user_update

    a = f.organisation(tree)
    b = f.organisation(tree)
    target = f.org_user(a)
    root = make_user("root", "admin", tree.root)

    user_update(by=root, user=target, full_name="x", role="provider", region=None, is_active=True, organisation=b)

    target.refresh_from_db()
    assert target.organisation == b and target.sessions_ended_at is not None
