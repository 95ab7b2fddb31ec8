"""Permission and scope, once (core.access, core.scoping): the same four refusals on pages and
API, and one subtree rule behind restrict(), in_scope() and Region.contains()."""

import pytest
from django.db.models import Q

from accounts.models import User
from accounts.services import api_token_create
from conftest import make_user
from core.access import get_scoped_or_404, requires
from core.scoping import Scope, Subtree, in_scope
from elders.models import Elder
from elders.tests.factories import ElderFactory
from regions.models import Region

pytestmark = pytest.mark.django_db

NO_REGION = "尚未分配所属区域"
NO_PERMISSION = "您的角色没有此权限"


@pytest.fixture
def elder(tree):
    return ElderFactory(region=tree.grid)


@pytest.fixture
def no_region_user(db):
    """A community worker whose administrator forgot the region (the user form allows it)."""
    return make_user("noregion", "community", None)


def bearer(user) -> dict:
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


# --- a user with no region: a clear refusal, never a 500 --------------------------------------

PAGES_OF_A_REGION = ["/elders/", "/regions/", "/elders/new/", "/elders/duplicates/", "/elders/import/", "/accounts/users/"]


@pytest.mark.parametrize("path", PAGES_OF_A_REGION)
def test_page_refuses_a_user_without_region_with_a_message_not_a_500(client, no_region_user, path):
    no_region_user.role = "admin"  # every permission: only the missing region refuses
    no_region_user.save()
    client.force_login(no_region_user)

    response = client.get(path)

    assert response.status_code == 403
    body = response.content.decode()
    assert NO_REGION in body and "联系管理员" in body


def test_api_list_refuses_a_user_without_region_in_the_error_shape(client, no_region_user):
    response = client.get("/api/elders", headers=bearer(no_region_user))

    assert response.status_code == 403
    data = response.json()
    assert NO_REGION in data["detail"]
    assert data["errors"] == [{"field": None, "message": data["detail"]}]


def test_api_detail_refuses_a_user_without_region(client, no_region_user, elder):
    response = client.get(f"/api/elders/{elder.pk}", headers=bearer(no_region_user))

    assert response.status_code == 403
    assert NO_REGION in response.json()["detail"]


# --- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/elders/", "/regions/", "/accounts/users/", "/audit/access/"])
def test_page_sends_an_anonymous_visitor_to_the_login_page(client, tree, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("path", ["/api/elders", "/api/elders/1", "/api/elders/1/history"])
def test_api_answers_an_anonymous_caller_401(client, tree, path):
    response = client.get(path)

    assert response.status_code == 401
    assert response.json()["detail"]


# --- the role lacks the permission: 403 ------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("auditor", "/elders/new/"),
        ("grid", "/elders/duplicates/"),
        ("street", "/accounts/users/new/"),
        ("community", "/audit/access/"),
        ("elder", "/regions/"),
        ("caregiver", "/elders/"),
    ],
)
def test_page_refuses_a_role_without_the_permission_with_403(client, tree, role, path):
    client.force_login(make_user(f"u_{role}", role, tree.community))

    response = client.get(path)

    assert response.status_code == 403
    assert NO_PERMISSION in response.content.decode()


STATUS_BODY = {"action": "decease", "effective_on": "2024-01-01", "reason": "病故"}


@pytest.mark.parametrize(
    ("role", "method", "path", "body"),
    [
        ("caregiver", "get", "/api/elders", None),
        ("auditor", "post", "/api/elders", {"region": 1, "name": "王秀兰"}),
        ("grid", "post", "/api/elders/{id}/status", STATUS_BODY),
        ("auditor", "post", "/api/elders/{id}/reveal", {}),
        ("grid", "post", "/api/elders/export", {}),
    ],
)
def test_api_refuses_a_role_without_the_permission_with_403(client, tree, elder, role, method, path, body):
    user = make_user(f"u_{role}", role, tree.community)

    if method == "get":
        response = client.get(path, headers=bearer(user))
    else:
        response = client.post(path.format(id=elder.pk), body, content_type="application/json", headers=bearer(user))

    assert response.status_code == 403
    assert NO_PERMISSION in response.json()["detail"]
    assert Elder.objects.get(pk=elder.pk).status == "active"


# --- another region: 404, never 403 ----------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "edit/", "status/"])
def test_page_of_an_elder_in_another_region_is_404(client, worker_in_other_region, elder, suffix):
    client.force_login(worker_in_other_region)

    assert client.get(f"/elders/{elder.pk}/{suffix}").status_code == 404


@pytest.mark.parametrize("suffix", ["", "/history"])
def test_api_elder_in_another_region_is_404(client, worker_in_other_region, elder, suffix):
    response = client.get(f"/api/elders/{elder.pk}{suffix}", headers=bearer(worker_in_other_region))

    assert response.status_code == 404


def test_user_pages_of_a_user_in_another_street_are_404(client, tree):
    street_admin = make_user("streetadmin", "admin", tree.street)
    other = make_user("other", "community", tree.community2)
    client.force_login(street_admin)

    assert client.get(f"/accounts/users/{other.pk}/").status_code == 404
    assert client.get(f"/accounts/users/{other.pk}/password/").status_code == 404
    assert client.post(f"/accounts/users/{other.pk}/end-sessions/").status_code == 404


# --- get_scoped_or_404 and requires() as functions --------------------------------------------


def test_get_scoped_or_404_tells_no_permission_from_out_of_scope(tree, worker, worker_in_other_region, grid_user, elder):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    assert get_scoped_or_404(Elder, worker, elder.pk, "change") == elder
    with pytest.raises(Http404):
        get_scoped_or_404(Elder, worker_in_other_region, elder.pk, "change")
    with pytest.raises(PermissionDenied):
        get_scoped_or_404(Elder, grid_user, elder.pk, "merge")  # grid workers do not merge


def test_requires_names_what_it_requires(tree):
    @requires("view", Elder)
    def view(request):
        return "ok"

    assert view.required_permission == ("view", Elder)
    assert view.__name__ == "view"


# --- one subtree rule ---------------------------------------------------------------------------


def test_subtree_rule_separator_ends_a_node():
    assert "/1/5/23/" in Subtree("/1/5/")
    assert "/1/5/" in Subtree("/1/5/")
    assert "/1/50/" not in Subtree("/1/5/")
    assert "/1/" not in Subtree("/1/5/")
    assert "/1/5/" not in Subtree("")  # no region: nothing


def test_restrict_in_scope_and_region_contains_agree_on_every_pair_of_nodes(tree):
    """The three former deciders of "inside the subtree" give the same answer for every node of
    the tree, as seen from every node (through a user attached there)."""
    nodes = list(Region.objects.all())
    for top in nodes:
        user = User(username=f"probe{top.pk}", role="admin", region=top)
        by_query = set(Region.objects.restrict(user, "view").values_list("pk", flat=True))
        by_region_q = set(Region.objects.filter(Subtree(top.path).q("path")).values_list("pk", flat=True))
        for node in nodes:
            expected = node.path.startswith(top.path)
            assert top.contains(node) is expected
            assert in_scope(user, node.path) is expected
            assert (node.pk in by_query) is expected
            assert (node.pk in by_region_q) is expected


def test_restrict_by_id_list_and_by_path_find_the_same_rows(tree, monkeypatch):
    """Small subtrees are filtered by region id list, big ones by path: the same rows."""
    import core.scoping

    for region in (tree.grid, tree.community, tree.street, tree.district, tree.city, tree.community2):
        ElderFactory(region=region)
    for top in (tree.root, tree.city, tree.district, tree.street, tree.community, tree.grid):
        user = make_user(f"u{top.pk}", "admin", top)
        by_ids = set(Elder.objects.restrict(user).values_list("pk", flat=True))
        monkeypatch.setattr(core.scoping, "ID_LIST_MAX", 0)
        by_path = set(Elder.objects.restrict(user).values_list("pk", flat=True))
        monkeypatch.undo()
        assert by_ids == by_path
        assert by_ids == set(Elder.objects.filter(region__path__startswith=top.path).values_list("pk", flat=True))


# --- the second axis: an organisation ---------------------------------------------------------


class _Order:
    """A throwaway model declaration of the kind the providers issue brings: an order belongs to
    a community (its elder's) and is sent to a provider organisation."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "provider"


def test_scope_rule_of_a_row_with_an_organisation():
    scope = Scope("/1/5/", org_id=7)

    assert scope.covers(path="/1/5/9/")  # in the region subtree
    assert scope.covers(path="/2/8/", org_id=7)  # elsewhere, but sent to the user's organisation
    assert not scope.covers(path="/2/8/", org_id=8)
    assert not Scope("", org_id=None).covers(path="/2/8/", org_id=None)
    assert Scope("", org_id=7).covers(path="/2/8/", org_id=7)  # a provider's user with no region
    assert not Scope("", org_id=7).is_empty


def test_scope_filter_ors_the_region_and_the_organisation(tree):
    wanted = Scope(tree.street.path, org_id=7).q(_Order)

    assert wanted.connector == Q.OR
    region_part, org_part = wanted.children
    assert org_part == ("provider", 7)
    lookup, ids = region_part
    assert lookup == "region_id__in"
    assert set(ids) == set(Region.objects.filter(path__startswith=tree.street.path).values_list("pk", flat=True))
    # Without an organisation (today's users) only the region axis applies.
    assert Scope(tree.street.path).q(_Order) == Q(region_id__in=ids)


def test_restrict_reaches_rows_of_the_users_organisation_in_another_region(tree, monkeypatch):
    """restrict() in SQL with both axes: Elder stands in for an order, its `created_by` for the
    provider organisation (a user id here), the worker's `organisation_id` for their organisation."""
    worker = make_user("w", "community", tree.community)
    provider = make_user("provider_org", "provider", tree.community2)
    own = ElderFactory(region=tree.grid)
    sent = ElderFactory(region=tree.community2, created_by=provider)
    ElderFactory(region=tree.community2)  # elsewhere and not the organisation's
    monkeypatch.setattr(Elder, "SCOPE_ORG", "created_by", raising=False)

    assert set(Elder.objects.restrict(worker)) == {own}
    worker.organisation_id = provider.pk
    assert set(Elder.objects.restrict(worker)) == {own, sent}
