"""The API's list kit: every list route answers one page shape, declares its filters and paging
in the OpenAPI, and gives ids plus names for what it points to."""

import pytest

from core.api_kit import PageIn, paginate
from elders.models import Elder
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db

PAGE_KEYS = {"items", "count", "count_is_exact", "page", "page_size", "pages"}


def resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


# Lists paged by keyset rather than page numbers, with a `next_cursor` (a statement of ten years:
# docs/timebank-ledger.md): their shape is {…, "items", "next_cursor"}.
KEYSET_LISTS = {"GET /api/timebank/accounts/{account_id}/movements"}


def test_every_list_route_answers_the_one_page_shape(client):
    spec = client.get("/api/openapi.json").json()
    lists = {}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            schema = resolve(spec, content.get("application/json", {}).get("schema", {}))
            if "items" in schema.get("properties", {}) or schema.get("type") == "array":
                lists[f"{method.upper()} {path}"] = set(schema.get("properties", {}))
    assert {"GET /api/elders", "POST /api/elders/search", "GET /api/elders/{elder_id}/history"} <= set(lists)
    # a bare array only for the short fixed lists: the categories, your own tokens, the catalogue's
    # vocabulary (about fifty items), the instruments in use (two) and the packages of your subtree (a few per region node)
    assert {op for op, keys in lists.items() if keys != PAGE_KEYS} == {
        "GET /api/elders/categories",
        "GET /api/auth/tokens",
        "GET /api/catalogue/categories",
        "GET /api/catalogue/items",
        "GET /api/catalogue/skills",
        "GET /api/catalogue/certificate-kinds",
        "GET /api/catalogue/packages",
        "GET /api/assessments/instruments",
    } | KEYSET_LISTS


def test_the_elder_list_declares_every_filter_and_the_paging_in_the_openapi(client):
    spec = client.get("/api/openapi.json").json()

    names = {p["name"] for p in spec["paths"]["/api/elders"]["get"]["parameters"]}

    assert names >= {"q", "region", "category", "age_min", "age_max", "status", "sex", "page", "page_size", "exact_count"}


def test_paginate_counts_pages_and_caps_the_page_size(worker):
    for _ in range(5):
        ElderFactory(region=worker.region)
    rows = Elder.objects.order_by("id")

    two = paginate(rows, PageIn(page=3, page_size=2))
    past_the_end = paginate(rows, PageIn(page=99, page_size=2))
    huge = paginate(rows, PageIn(page=1, page_size=10**6))

    assert {k: v for k, v in two.items() if k != "items"} == {
        "count": 5,
        "count_is_exact": True,
        "page": 3,
        "page_size": 2,
        "pages": 3,
    }
    assert len(two["items"]) == 1 and past_the_end["page"] == 3
    assert huge["page_size"] == 100 and len(huge["items"]) == 5


def test_a_region_comes_out_as_its_id_and_name_and_goes_in_as_its_id(client, worker, tree):
    from accounts.services import api_token_create

    headers = {"Authorization": f"Bearer {api_token_create(user=worker)}"}
    elder = ElderFactory(region=tree.grid)

    detail = client.get(f"/api/elders/{elder.pk}", headers=headers).json()
    changed = client.patch(
        f"/api/elders/{elder.pk}",
        {"region": detail["region"]["id"], "version": detail["version"]},
        content_type="application/json",
        headers=headers,
    )

    assert detail["region"] == {"id": tree.grid.pk, "name": tree.grid.name}
    assert changed.status_code == 200 and changed.json()["region"] == detail["region"]
