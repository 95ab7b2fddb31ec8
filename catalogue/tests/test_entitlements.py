"""Entitlements by level and category (分级分类): which packages apply to an elder, with the
same inheritance as price lists per package code, and the monthly quota of each item."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from catalogue.models import EntitlementPackage, ServiceCategory, ServiceItem
from catalogue.selectors import entitlements_for, package_matches
from catalogue.services import package_save
from conftest import make_user
from elders.tests.factories import ElderFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 12, 1)


@pytest.fixture
def office(tree):
    return make_user("office", "aging_office", tree.city)


def _package(by, region, code, *, levels=(), categories=(), grants, valid_from=DAY, valid_to=None, name=None):
    return package_save(
        by=by,
        package=EntitlementPackage(),
        data={
            "region": region,
            "code": code,
            "name": name or code,
            "ability_levels": list(levels),
            "categories": list(categories),
            "payment_mode": "government",
            "valid_from": valid_from,
            "valid_to": valid_to,
        },
        grants=grants,
    )


def _hours(item_code, n):
    item = ServiceItem.objects.get(code=item_code)
    return {"item": item, "category": None, "quantity": n, "unit": item.unit}


def test_severe_disability_gets_thirty_hours_of_home_care(tree, office):
    _package(office, tree.city, "severe_care", levels=["severe", "complete"], grants=[_hours("cleaning", 30)])
    severe = ElderFactory(region=tree.grid, ability_level="severe")
    mild = ElderFactory(region=tree.grid, ability_level="mild")

    ent = entitlements_for(severe, DAY)
    assert [p.code for p in ent.packages] == ["severe_care"]
    assert ent.quota_of(ServiceItem.objects.get(code="cleaning")) == 30
    assert entitlements_for(mild, DAY).packages == []


def test_a_category_package_applies_to_elders_of_that_category(tree, office):
    meals = ServiceCategory.objects.get(code="daily_care")
    _package(
        office,
        tree.district,
        "dibao_meals",
        categories=["dibao", "tekun"],
        grants=[{"item": None, "category": meals, "quantity": 20, "unit": "meal"}],
    )
    dibao = ElderFactory(region=tree.grid, is_dibao=True)
    other = ElderFactory(region=tree.grid)
    ent = entitlements_for(dibao, DAY)
    assert [(q.category, q.quantity, q.unit) for q in ent.quotas] == [(meals, 20, "meal")]
    assert entitlements_for(other, DAY).packages == []


def test_level_and_category_must_both_hold_when_both_are_named(tree, office):
    package = EntitlementPackage(ability_levels=["severe"], categories=["lives_alone"])
    assert package_matches(package, ability_level="severe", categories={"lives_alone", "very_old"})
    assert not package_matches(package, ability_level="severe", categories={"very_old"})
    assert not package_matches(package, ability_level="mild", categories={"lives_alone"})
    assert not package_matches(EntitlementPackage(), ability_level="severe", categories={"lives_alone"})


def test_a_lower_nodes_package_of_the_same_code_replaces_the_ancestors(tree, office):
    _package(office, tree.city, "severe_care", levels=["severe"], grants=[_hours("cleaning", 30)])
    _package(office, tree.street, "severe_care", levels=["severe"], grants=[_hours("cleaning", 40)])
    _package(office, tree.city, "severe_meals", levels=["severe"], grants=[_hours("meal_delivery", 60)])
    here = ElderFactory(region=tree.grid, ability_level="severe")
    there = ElderFactory(region=tree.community2, ability_level="severe")

    cleaning, meals = ServiceItem.objects.get(code="cleaning"), ServiceItem.objects.get(code="meal_delivery")
    ent = entitlements_for(here, DAY)
    assert ent.quota_of(cleaning) == 40  # the street's, not 30 + 40
    assert ent.quota_of(meals) == 60  # another code: the city's still applies
    assert entitlements_for(there, DAY).quota_of(cleaning) == 30


def test_packages_of_different_codes_granting_one_item_add_up(tree, office):
    _package(office, tree.city, "severe_care", levels=["severe"], grants=[_hours("cleaning", 30)])
    _package(office, tree.city, "alone_care", categories=["lives_alone"], grants=[_hours("cleaning", 4)])
    elder = ElderFactory(region=tree.grid, ability_level="severe", living_arrangement="alone")
    assert entitlements_for(elder, DAY).quota_of(ServiceItem.objects.get(code="cleaning")) == 34


def test_validity_and_inactive_packages(tree, office):
    package = _package(
        office,
        tree.city,
        "severe_care",
        levels=["severe"],
        grants=[_hours("cleaning", 30)],
        valid_to=DAY + datetime.timedelta(days=30),
    )
    elder = ElderFactory(region=tree.grid, ability_level="severe")
    assert entitlements_for(elder, DAY + datetime.timedelta(days=30)).packages
    assert not entitlements_for(elder, DAY + datetime.timedelta(days=31)).packages
    assert not entitlements_for(elder, DAY - datetime.timedelta(days=1)).packages
    package_save(by=office, package=package, data={"is_active": False})
    assert not entitlements_for(elder, DAY).packages


def test_a_package_is_refused_without_a_condition_or_a_grant_in_chinese(tree, office):
    with pytest.raises(ValidationError) as exc:
        _package(office, tree.city, "nobody", grants=[_hours("cleaning", 1)])
    assert "至少选择一项" in exc.value.message_dict["ability_levels"][0]
    with pytest.raises(ValidationError) as exc:
        _package(office, tree.city, "empty", levels=["severe"], grants=[])
    assert "额度" in exc.value.message_dict["grants"][0]
    with pytest.raises(ValidationError) as exc:
        _package(office, tree.city, "wrong_unit", levels=["severe"], grants=[{**_hours("cleaning", 3), "unit": "meal"}])
    assert "计量单位" in exc.value.message_dict["grants[0].unit"][0]
