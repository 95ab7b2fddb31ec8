"""One change-record service (personal fields masked as the model declares) and one history
partial any model's page includes."""

import pytest
from django.template.loader import render_to_string

from audit.models import ChangeRecord
from audit.selectors import change_records_for, history_rows
from audit.services import change_record
from elders.models import Elder
from elders.tests.factories import ElderFactory
from regions.models import Region

pytestmark = pytest.mark.django_db


def test_change_record_masks_the_personal_fields_the_model_declares(worker):
    elder = ElderFactory(region=worker.region)

    record = change_record(
        obj=elder,
        action="update",
        changes={
            "id_number": ["", "11010519491231002X"],
            "phone": ["13912345678", ""],
            "contacts": [[], ["王小明 子女 13700001111"]],
        },
        by=worker,
        region=elder.region,
    )

    assert ChangeRecord.objects.get(pk=record.pk).changes == {
        "id_number": ["", "*****************X"],
        "phone": ["139****5678", ""],
        "contacts": [[], ["王小明 子女 ***********"]],
    }


def test_change_record_masks_the_fields_the_caller_names(worker):
    region = worker.region

    record = change_record(
        obj=region,
        action="update",
        changes={"phone": ["", "13912345678"]},
        by=worker,
        region=region,
        masked={"phone": lambda v: v and "***"},
    )

    assert record.changes == {"phone": ["", "***"]}


def test_the_history_partial_shows_any_model_s_changes_by_label(worker):
    region = worker.region
    change_record(obj=region, action="update", changes={"name": ["安泰", "安泰社区"]}, by=worker, region=region)

    rows = history_rows(user=worker, records=change_records_for(user=worker, obj=region), model=Region)
    page = render_to_string("audit/_history.html", {"history": rows})

    assert "变更历史" in page and "安泰" in page and "安泰社区" in page
    assert rows[0]["changes"] == [{"label": Region._meta.get_field("name").verbose_name, "before": "安泰", "after": "安泰社区"}]


def test_the_elder_history_names_regions_and_hides_birth_dates_without_reveal(worker, grid_user, city_user):
    elder = ElderFactory(region=worker.region)
    change_record(
        obj=elder,
        action="update",
        changes={
            "birth_date": ["1950-01-01", "1951-01-01"],
            "region": [worker.region.pk, grid_user.region.pk],
            "sex": ["F", "M"],
        },
        by=worker,
        region=elder.region,
    )

    def shown(user):
        rows = history_rows(user=user, records=change_records_for(user=user, obj=elder, whole=True), model=Elder)
        return {str(c["label"]): (c["before"], c["after"]) for c in rows[0]["changes"]}

    assert shown(worker)["出生日期"] == ("1950-01-01", "1951-01-01")
    assert shown(worker)["所属社区/网格"] == (worker.region.name, grid_user.region.name)
    assert shown(worker)["性别"] == ("女", "男")
    assert not city_user.may("reveal", Elder)
    assert shown(city_user)["出生日期"] == ("已修改", "已修改")
