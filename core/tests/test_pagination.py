"""CappedPaginator: exact counts up to the cap, a lower bound past it, pages go on."""

import pytest

from core.pagination import CappedPaginator
from regions.models import Region


@pytest.fixture
def regions(tree):
    parent = tree.community
    Region.objects.bulk_create([Region(name=f"网格{i}", level=6, parent=parent, path=f"{parent.path}x{i}/") for i in range(25)])
    return Region.objects.filter(parent=parent).order_by("id")


@pytest.mark.django_db
def test_counts_exactly_up_to_the_cap(regions):
    total = regions.count()
    paginator = CappedPaginator(regions, 10, cap=100)

    assert paginator.count == total
    assert paginator.is_exact
    assert paginator.num_pages == -(-total // 10)


@pytest.mark.django_db
def test_past_the_cap_the_count_is_a_lower_bound_and_pages_go_on(regions):
    total = regions.count()
    paginator = CappedPaginator(regions, 5, cap=10)

    assert paginator.count == 11
    assert not paginator.is_exact
    last_full = paginator.page(total // 5)
    assert len(last_full.object_list) == 5 and last_full.has_next() is (total % 5 != 0)
    beyond_cap = paginator.page(3)
    assert [r.pk for r in beyond_cap.object_list] == [r.pk for r in regions[10:15]]


@pytest.mark.django_db
def test_api_list_says_when_its_count_is_exact(client, worker, tree):
    from elders.tests.factories import ElderFactory

    ElderFactory.create_batch(3, region=tree.community)
    token = client.post(
        "/api/auth/token", {"username": "community", "password": "demo12345"}, content_type="application/json"
    ).json()["token"]

    body = client.get("/api/elders", HTTP_AUTHORIZATION=f"Bearer {token}").json()

    assert body["count"] == 3 and body["count_is_exact"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", [("name", "id"), ("-name", "id"), ("level", "-id"), ("code", "-name")])
@pytest.mark.parametrize("filter_first", [False, True])
def test_pages_read_keys_first_hold_the_rows_of_a_plain_slice_in_order(regions, ordering, filter_first):
    """Keys first (ids, then rows) and filter first (sort not by an index) change how a page is
    read, never which rows it holds or their order."""
    listed = Region.objects.filter(parent=regions[0].parent).select_related("parent").order_by(*ordering)
    paginator = CappedPaginator(listed, 7, cap=100, filter_first=filter_first)

    pages = [list(paginator.page(n).object_list) for n in paginator.page_range]

    assert [r.pk for page in pages for r in page] == list(listed.values_list("pk", flat=True))
    assert all(r.parent.pk == regions[0].parent_id for page in pages for r in page)
