"""The data migration elders 0006: every stored old-style mask (370102********4110) and every
recorded search word or text holding a whole number is rewritten (issue 8)."""

import datetime
import importlib

import pytest
from django.apps import apps

from audit.models import AccessLog, ChangeRecord
from elders.jobs import ELDER_EXPORT
from elders.models import Elder
from elders.tests.factories import ElderFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db

migration = importlib.import_module("elders.migrations.0006_remask_id_numbers")
NUMBER = "11010519491231002X"
OLD = "110105********002X"


def test_remask_rewrites_the_register_history_access_log_and_jobs(tree, worker):
    elder = ElderFactory(region=tree.community, id_number=NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    Elder.objects.filter(pk=elder.pk).update(id_number_masked=OLD)
    no_number = ElderFactory(region=tree.community)
    Elder.objects.filter(pk=no_number.pk).update(id_number_masked="")
    record = ChangeRecord.objects.create(
        model="elders.elder",
        object_id=elder.pk,
        action="merged",
        changes={
            "id_number": [None, OLD],
            "birth_date": [None, "1949-12-31"],
            "snapshot": [{"id_number": "370102********4110", "phone": "138****5678"}, None],
        },
        note="2025-01-01 迁往女儿家 13812345678",
        region=tree.community,
    )
    address = ChangeRecord.objects.create(
        model="elders.elder", object_id=elder.pk, action="update", changes={"address": ["甲", "乙"]}, region=tree.community
    )
    log = AccessLog.objects.create(
        kind="export", model="elders.elder", detail={"filters": {"q": "19491231", "status": "active"}, "rows": 1}
    )
    job = Job.objects.create(
        kind=ELDER_EXPORT,
        by=worker,
        region=tree.community,
        params={"filters": {"q": "138 1234 5678"}},
        result={"preview": [{"name": "王秀兰", "note": NUMBER}]},
        error=f"第3行 {NUMBER}",
    )

    migration.remask(apps, None)

    elder.refresh_from_db()
    no_number.refresh_from_db()
    record.refresh_from_db()
    log.refresh_from_db()
    job.refresh_from_db()
    assert elder.id_number_masked == "*****************X"
    assert no_number.id_number_masked == ""
    assert record.changes == {
        "id_number": [None, "*****************X"],
        "birth_date": [None, "1949-12-31"],
        "snapshot": [{"id_number": "*****************0", "phone": "138****5678"}, None],
    }
    assert record.note == "2025-01-01 迁往女儿家 138****5678"
    assert ChangeRecord.objects.get(pk=address.pk).changes == {"address": ["甲", "乙"]}
    assert log.detail == {"filters": {"q": "********", "status": "active"}, "rows": 1}
    assert job.params == {"filters": {"q": "*************"}}
    assert job.result == {"preview": [{"name": "王秀兰", "note": "*****************X"}]}
    assert job.error == "第3行 *****************X"


def test_remask_twice_changes_nothing_more(tree):
    elder = ElderFactory(region=tree.community, id_number=NUMBER, sex="F", birth_date=datetime.date(1949, 12, 31))
    migration.remask(apps, None)
    migration.remask(apps, None)
    elder.refresh_from_db()
    assert elder.id_number_masked == "*****************X"
