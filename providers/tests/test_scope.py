"""The second scope axis: an organisation's users see and change only their organisation and
its staff, whatever the region, with no region of their own; regions see their subtree."""

import pytest

from conftest import make_user
from providers import selectors, services
from providers.models import Caregiver, Organisation
from providers.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_orgs(tree):
    a = f.organisation(tree, name="康乃馨家政", region=tree.community)
    b = f.organisation(tree, name="驻春路家政", region=tree.community2)
    return a, b


def test_a_provider_user_sees_only_their_own_organisation_and_staff(tree, two_orgs):
    a, b = two_orgs
    own = f.caregiver(tree, a, name="王丽")
    f.caregiver(tree, b, name="赵敏")
    user = f.org_user(a)

    assert list(selectors.organisation_list(user=user)) == [a]
    assert [c.name for c in selectors.caregiver_list(user=user)] == ["王丽"]
    assert selectors.caregiver_get(user=user, caregiver_id=own.pk) == own


def test_the_organisation_is_reached_whatever_its_region(tree):
    """The organisation sits in 驻春路社区; its user, attached to no region, still reaches it."""
    org = f.organisation(tree, region=tree.community2)
    user = f.org_user(org)

    assert user.region is None
    assert list(Organisation.objects.restrict(user, "view")) == [org]


def test_another_organisations_staff_is_a_404_page(tree, two_orgs, client):
    a, b = two_orgs
    theirs = f.caregiver(tree, b, name="赵敏")
    client.force_login(f.org_user(a))

    assert client.get(f"/providers/staff/{theirs.pk}/").status_code == 404
    assert client.get(f"/providers/organisations/{b.pk}/").status_code == 404
    assert client.get(f"/api/providers/staff/{theirs.pk}").status_code == 404


def test_a_provider_user_cannot_write_into_another_organisation(tree, two_orgs):
    a, b = two_orgs
    user = f.org_user(a)

    with pytest.raises(Exception) as refused:
        services.caregiver_create(by=user, data={"organisation": b.pk, "kind": "nanny", "name": "冒名"})
    assert "所属机构" in str(refused.value) or "organisation" in str(refused.value)
    assert not Caregiver.objects.filter(name="冒名").exists()


def test_a_provider_user_without_naming_the_organisation_registers_into_their_own(tree, two_orgs):
    a, _b = two_orgs
    user = f.org_user(a)

    person = services.caregiver_create(by=user, data={"kind": "aide", "name": "李芳"})

    assert person.organisation == a


def test_a_provider_user_without_region_uses_every_page_without_a_500(tree, two_orgs, client):
    a, _b = two_orgs
    person = f.caregiver(tree, a)
    client.force_login(f.org_user(a))

    for url in [
        "/",
        "/providers/organisations/",
        "/providers/staff/",
        f"/providers/staff/{person.pk}/",
        "/jobs/",
        "/accounts/tokens/",
    ]:
        assert client.get(url).status_code == 200, url
    # not the elder register, nor the region tree (a clear 403, not a 500)
    assert client.get("/elders/").status_code == 403
    assert client.get("/regions/").status_code == 403
    assert client.get("/api/elders").status_code == 403


def test_an_organisations_user_may_change_only_its_contact(tree, two_orgs):
    a, _b = two_orgs
    user = f.org_user(a)

    services.organisation_update(by=user, organisation=a, data={"contact_name": "张经理", "rating": "5A", "name": "改名"})

    a.refresh_from_db()
    assert a.contact_name == "张经理"
    assert a.rating == "" and a.name == "康乃馨家政"


def test_a_region_sees_the_organisations_of_its_subtree_only(tree, two_orgs):
    a, b = two_orgs
    street = make_user("street", "street", tree.street)
    community2 = make_user("c2", "community", tree.community2)

    assert list(selectors.organisation_list(user=street)) == [a]
    assert list(selectors.organisation_list(user=community2)) == [b]


def test_a_caregiver_role_reads_but_does_not_change_staff(tree, two_orgs, client):
    a, _b = two_orgs
    person = f.caregiver(tree, a)
    client.force_login(f.org_user(a, role="caregiver"))

    assert client.get(f"/providers/staff/{person.pk}/").status_code == 200
    assert client.get(f"/providers/staff/{person.pk}/edit/").status_code == 403
