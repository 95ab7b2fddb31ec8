"""Writing merchants: the discount rule, dates, hours, the region, history."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audit.models import ChangeRecord
from merchants.models import Merchant
from merchants.services import MerchantChanged, merchant_create, merchant_update
from merchants.validation import clean_discount

pytestmark = pytest.mark.django_db


def data(tree, **over):
    values = {"region": tree.community.pk, "name": "安泰理发店", "kind": "理发", "discount": "8", "phone": "0573-88001234"}
    values.update(over)
    return values


@pytest.mark.parametrize(
    ("typed", "tenths"), [("5", 50), ("10", 100), ("7.5", 75), ("8%", 80), (" 6 ", 60), ("", None), (None, None)]
)
def test_discounts_from_five_to_ten_percent_are_taken(typed, tenths):
    assert clean_discount(typed) == tenths


@pytest.mark.parametrize("typed", ["4.9", "10.1", "0", "20", "85", "-5"])
def test_a_discount_outside_five_to_ten_percent_is_refused_naming_the_range(typed):
    with pytest.raises(ValidationError) as exc:
        clean_discount(typed)
    message = exc.value.messages[0]
    assert "优惠幅度" in message and ("5% 到 10%" in message or "不是数字" in message)


@pytest.mark.parametrize("typed", ["八折", "abc", "7.55", "1e1"])
def test_a_discount_that_is_not_a_percentage_says_what_to_type(typed):
    with pytest.raises(ValidationError) as exc:
        clean_discount(typed)
    assert "优惠幅度" in exc.value.messages[0]


def test_the_database_refuses_a_discount_outside_the_range_too(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Merchant.objects.create(region=tree.community, name="x", kind="barber", discount_tenths=120)


def test_create_keeps_every_field_and_writes_history(tree, worker):
    m = merchant_create(
        by=worker,
        data=data(
            tree,
            lat="30.628",
            lng="120.565",
            period_start="2026-01-01",
            period_end="2027-12-31",
            opening_hours=["08:00-20:00"] * 5 + ["休息", "09:00-12:00"],
        ),
    )
    assert (m.kind, m.discount_tenths, m.lat, m.lng, m.phone) == ("barber", 80, 30.628, 120.565, "0573-88001234")
    assert m.opening_hours["0"] == [["08:00", "20:00"]] and m.opening_hours["5"] == []
    record = ChangeRecord.objects.get(model="merchants.merchant", object_id=m.pk)
    assert record.action == "create" and record.changes["discount_tenths"] == [None, 80]
    assert "88001234" not in str(record.changes)  # the phone kept masked in history


def test_every_bad_field_is_named_at_once(tree, worker):
    with pytest.raises(ValidationError) as exc:
        merchant_create(
            by=worker,
            data=data(
                tree,
                name="",
                kind="洗浴",
                discount="12",
                lat="200",
                lng="120",
                period_start="2026-05-01",
                period_end="2026-01-01",
                opening_hours=["8点到晚上"],
            ),
        )
    errors = exc.value.message_dict
    assert {"name", "kind", "discount", "lat", "period_end", "opening_hours"} <= set(errors)
    assert "周一" in errors["opening_hours"][0]
    assert Merchant.objects.count() == 0


def test_a_merchant_belongs_to_a_street_or_community_in_scope(tree, worker, worker_in_other_region):
    with pytest.raises(ValidationError) as exc:
        merchant_create(by=worker_in_other_region, data=data(tree))
    assert "region" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        merchant_create(by=worker, data=data(tree, region=tree.grid.pk))
    assert "街道或社区" in exc.value.message_dict["region"][0]


def test_a_grid_worker_may_not_register_merchants(tree, grid_user):
    with pytest.raises(PermissionDenied):
        merchant_create(by=grid_user, data=data(tree))


def test_update_records_before_and_after_and_refuses_a_stale_version(tree, worker):
    m = merchant_create(by=worker, data=data(tree))
    m = merchant_update(by=worker, merchant=m, data={"discount": "10", "status": "已终止"}, version=1)
    assert (m.discount_tenths, m.status, m.version) == (100, "terminated", 2)
    record = ChangeRecord.objects.filter(object_id=m.pk, model="merchants.merchant").order_by("-id").first()
    assert record.changes["discount_tenths"] == [80, 100]
    with pytest.raises(MerchantChanged):
        merchant_update(by=worker, merchant=m, data={"discount": "5"}, version=1)
    m.refresh_from_db()
    assert m.discount_tenths == 100
