"""Price lists by region: the nearest node's price per item, else the catalogue default."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import PriceEntry, ServiceItem
from catalogue.selectors import price_for, prices_for
from catalogue.services import price_entry_set
from conftest import make_user

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 12, 1)


@pytest.fixture
def office(tree):
    return make_user("office", "aging_office", tree.city)


@pytest.fixture
def items(db):
    return ServiceItem.objects.get(code="cleaning"), ServiceItem.objects.get(code="meal_delivery")


def test_city_sets_street_overrides_community_and_grid_inherit_the_street(tree, office, items):
    cleaning, _meal = items
    price_entry_set(by=office, region=tree.city, item=cleaning, price_fen=3000, valid_from=DAY)
    price_entry_set(by=office, region=tree.street, item=cleaning, price_fen=2500, valid_from=DAY)

    assert price_for(cleaning, tree.district, DAY).price_fen == 3000
    assert price_for(cleaning, tree.street, DAY).price_fen == 2500
    community = price_for(cleaning, tree.community, DAY)
    assert community.price_fen == 2500 and community.region == tree.street
    assert price_for(cleaning, tree.grid, DAY).price_fen == 2500
    # The other street has no list: the city's price.
    assert price_for(cleaning, tree.community2, DAY).price_fen == 3000


def test_a_lower_list_for_another_item_does_not_hide_the_ancestors_price(tree, office, items):
    cleaning, meal = items
    price_entry_set(by=office, region=tree.city, item=cleaning, price_fen=3000, valid_from=DAY)
    price_entry_set(by=office, region=tree.street, item=meal, price_fen=200, valid_from=DAY)

    assert price_for(cleaning, tree.community, DAY).price_fen == 3000
    assert price_for(meal, tree.community, DAY).price_fen == 200


def test_no_list_anywhere_is_the_catalogue_default(tree, items):
    cleaning, _ = items
    price = price_for(cleaning, tree.grid, DAY)
    assert price.price_fen == cleaning.price_fen and price.is_default


def test_an_expired_or_future_lower_price_falls_through_to_the_ancestor(tree, office, items):
    cleaning, _ = items
    price_entry_set(by=office, region=tree.city, item=cleaning, price_fen=3000, valid_from=DAY)
    price_entry_set(
        by=office, region=tree.street, item=cleaning, price_fen=2000, valid_from=DAY, valid_to=DAY + datetime.timedelta(days=30)
    )
    assert price_for(cleaning, tree.community, DAY + datetime.timedelta(days=30)).price_fen == 2000
    assert price_for(cleaning, tree.community, DAY + datetime.timedelta(days=31)).price_fen == 3000
    assert price_for(cleaning, tree.community, DAY - datetime.timedelta(days=1)).price_fen == cleaning.price_fen


def test_a_new_price_ends_the_open_one_the_day_before(tree, office, items):
    cleaning, _ = items
    first = price_entry_set(by=office, region=tree.street, item=cleaning, price_fen=3000, valid_from=DAY)
    price_entry_set(by=office, region=tree.street, item=cleaning, price_fen=3300, valid_from=DAY + datetime.timedelta(days=31))
    first.refresh_from_db()
    assert first.valid_to == DAY + datetime.timedelta(days=30)
    assert price_for(cleaning, tree.street, DAY + datetime.timedelta(days=30)).price_fen == 3000
    assert price_for(cleaning, tree.street, DAY + datetime.timedelta(days=31)).price_fen == 3300


def test_overlapping_prices_for_one_item_are_refused_in_chinese_naming_the_field(tree, office, items):
    cleaning, _ = items
    price_entry_set(
        by=office, region=tree.street, item=cleaning, price_fen=3000, valid_from=DAY, valid_to=DAY + datetime.timedelta(days=60)
    )
    with pytest.raises(ValidationError) as exc:
        price_entry_set(
            by=office, region=tree.street, item=cleaning, price_fen=2800, valid_from=DAY + datetime.timedelta(days=10)
        )
    assert "已有价格" in exc.value.message_dict["valid_from"][0]
    with pytest.raises(ValidationError) as exc:
        price_entry_set(
            by=office, region=tree.district, item=cleaning, price_fen=1, valid_from=DAY, valid_to=DAY - datetime.timedelta(days=1)
        )
    assert "截止日期" in exc.value.message_dict["valid_to"][0]


def test_setting_a_price_is_recorded_in_history(tree, office, items):
    from audit.models import ChangeRecord

    cleaning, _ = items
    price_entry_set(by=office, region=tree.street, item=cleaning, price_fen=2500, valid_from=DAY)
    record = ChangeRecord.objects.get(model="catalogue.pricelist")
    assert record.by == office and record.region == tree.street
    assert record.changes["打扫卫生"] == [None, "25.00"]


def test_a_role_without_the_permission_cannot_set_prices(tree, items):
    from core.access import NotPermitted

    worker = make_user("w", "community", tree.community)
    with pytest.raises(NotPermitted):
        price_entry_set(by=worker, region=tree.community, item=items[0], price_fen=1, valid_from=DAY)


NODES = ["city", "district", "street", "community", "grid"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=st.lists(
        st.tuples(st.sampled_from(NODES), st.sampled_from([0, 1]), st.integers(0, 100_000), st.integers(-3, 3)),
        max_size=8,
    ),
    at=st.sampled_from(NODES),
)
def test_the_price_is_the_nearest_nodes_valid_entry_for_that_item(tree, office, items, plan, at):
    """Whatever lists the chain holds, per item: the deepest node at or above `at` with an entry
    valid today wins; else the default. prices_for agrees with price_for."""
    PriceEntry.objects.all().delete()
    expected = {}
    depth = {name: i for i, name in enumerate(NODES)}
    seen = set()
    for node, which, price, start in plan:
        if (node, which) in seen:
            continue  # one entry per node and item keeps the model simple
        seen.add((node, which))
        item = items[which]
        valid_from = DAY + datetime.timedelta(days=start)
        price_entry_set(by=office, region=getattr(tree, node), item=item, price_fen=price, valid_from=valid_from)
        if start <= 0 and depth[node] <= depth[at]:
            known = expected.get(which)
            if known is None or depth[node] > known[0]:
                expected[which] = (depth[node], price)
    region = getattr(tree, at)
    resolved = prices_for(list(items), region, DAY)
    for which, item in enumerate(items):
        want = expected[which][1] if which in expected else item.price_fen
        assert price_for(item, region, DAY).price_fen == want
        assert resolved[item.pk].price_fen == want
