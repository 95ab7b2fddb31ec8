"""The list stays fast at every level of user: the query plan of a community's late page reads
about the community's rows, not the register (PostgreSQL only; docs/performance.md), and a page
costs the same few queries whatever page it is and whoever asks."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.services import api_token_create
from conftest import make_user
from regions.models import Level, Region

pytestmark = pytest.mark.django_db

# 10 districts of ~200 communities, ~100 streets, ~10 elders a community: each level a small
# share of the register, as in the 2,000,000-elder city.
ELDERS, COMMUNITIES = 20_000, 2_000


@pytest.fixture
def city(transactional_db):
    """Committed (the database is emptied after the test), so generate_city ends with VACUUM
    (ANALYZE) as on a real server, where autovacuum keeps the visibility map set."""
    call_command("generate_city", elders=ELDERS, communities=COMMUNITIES, city_name="测速市", seed=3, stdout=io.StringIO())
    return Region.objects.get(name="测速市", level=Level.CITY)


def _elder_queries(client, user, path):
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries.captured_queries]


def _rows_read(plan: dict, table: str) -> int:
    """Rows a plan node and its children took from `table`: returned plus removed by a filter."""
    total = 0
    if plan.get("Relation Name") == table:
        loops = plan.get("Actual Loops", 1)
        total += (plan.get("Actual Rows", 0) + plan.get("Rows Removed by Filter", 0)) * loops
    for child in plan.get("Plans", []):
        total += _rows_read(child, table)
    return total


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are PostgreSQL's")
def test_late_page_reads_about_the_users_rows_not_the_register(client, city):
    """For a community, a street and a district of median place: the last page's SQL reads at
    most about twice the user's own rows from the elder table. Walking the register in name
    order to the last page (the old plan for a district) reads most of the city."""
    from elders.models import Elder

    read_by_level = {}
    for level, role in ((Level.COMMUNITY, "community"), (Level.STREET, "street"), (Level.DISTRICT, "aging_office")):
        nodes = list(Region.objects.filter(path__startswith=city.path, level=level).order_by("code"))
        node = nodes[len(nodes) // 2]
        size = Elder.objects.filter(region__path__startswith=node.path, status="active").count()
        last = -(-size // 20)

        body, sqls = _elder_queries(client, make_user(f"u{level}", role, node), f"/api/elders?page={last}")

        assert body["page"] == last and body["count"] == size
        page_sql = [s for s in sqls if '"elders_elder"' in s and "LIMIT" in s and "COUNT(" not in s.upper()]
        assert page_sql, sqls
        for sql in page_sql:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            read_by_level[Level(level).name] = (_rows_read(plan[0]["Plan"], Elder._meta.db_table), size)
    assert all(read <= 2 * size + 100 for read, size in read_by_level.values()), read_by_level


def test_a_list_page_costs_the_same_queries_at_every_page_and_level(client, tree):
    """Page 1 and the last page, for a community worker, a street and the city: the same number
    of queries, none per row (the keys-first page read is one query for ids, one for the rows)."""
    from elders.tests.factories import ElderFactory

    for i in range(45):
        ElderFactory(region=tree.grid if i % 2 else tree.community2)
    counts = set()
    for user in (
        make_user("c", "community", tree.community),
        make_user("s", "street", tree.street),
        make_user("a", "aging_office", tree.city),
    ):
        first, sqls = _elder_queries(client, user, "/api/elders?page_size=5")
        counts.add(len(sqls))
        last = -(-first["count"] // 5)
        body, sqls = _elder_queries(client, user, f"/api/elders?page={last}&page_size=5")
        assert body["page"] == last > 1 and body["items"]
        counts.add(len(sqls))
    assert len(counts) == 1, counts
    assert counts.pop() <= 7
