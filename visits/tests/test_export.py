"""The visit records' export (visits.exporter): a background job of the user's scope and the
list's filters, access-logged (the rows hold the elders' addresses)."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AccessLog
from conftest import make_user
from elders.categories import years_before
from elders.tests.factories import ElderFactory
from elders.tests.sheets import read_xlsx
from jobs.models import Job
from visits.services import visit_record
from visits.tests.conftest import registered

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(tree):
    today = timezone.localdate()
    now = timezone.now()
    mine = registered(
        ElderFactory(region=tree.grid, name="冷国兴", address="安泰路 8 号 301", birth_date=years_before(today, 85))
    )
    other = registered(
        ElderFactory(region=tree.community2, name="欧阳秀", address="驻春路 2 号", birth_date=years_before(today, 80))
    )
    worker = make_user("gridx", "grid", tree.grid)
    worker2 = make_user("comm2x", "community", tree.community2)
    at = now - datetime.timedelta(hours=3)
    visit_record(by=worker, elder=mine, visited_at=at, checklist={"gas": "hazard"}, outcome="concern", now=now)
    visit_record(by=worker, elder=mine, visited_at=at - datetime.timedelta(days=1), via="phone", now=now)
    visit_record(by=worker2, elder=other, visited_at=at, now=now)
    return type("R", (), {"mine": mine, "other": other})


def test_the_export_holds_the_scope_only_with_the_filters_and_is_logged(
    tree, client, recorded, django_capture_on_commit_callbacks
):
    street = make_user("streetx", "street", tree.street)
    client.force_login(street)
    assert "visit-export" in client.get("/visits/records/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/visits/records/export/", {"outcome": ""})
    job = Job.objects.get(kind="visit_export")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    rows = read_xlsx(job.output_file.path)
    assert rows[0][:4] == ["探访时间", "老人", "地区", "地址"]
    assert [r[1] for r in rows[1:]] == ["冷国兴", "冷国兴"]  # 欧阳秀 is in another street
    assert rows[1][3] == "安泰路 8 号 301" and "燃气" in rows[1][8]
    log = AccessLog.objects.get(kind="export", model="visits.visit")
    assert (log.by, log.detail["rows"], log.detail["job"], log.fields) == (street, 2, job.pk, "address")

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/visits/records/export/", {"outcome": "concern"})
    job2 = Job.objects.filter(kind="visit_export").latest("pk")
    assert [r[1:3] for r in read_xlsx(job2.output_file.path)[1:]] == [["冷国兴", "安泰第一网格"]]
    assert AccessLog.objects.filter(kind="export", model="visits.visit").latest("pk").detail["filters"]["outcome"] == "concern"


def test_the_api_starts_the_export_and_a_grid_worker_may_not(tree, client, recorded, django_capture_on_commit_callbacks):
    office = make_user("cityx", "aging_office", tree.city)
    client.force_login(office)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/visits/export", {"missed": False}, content_type="application/json")
    assert r.status_code == 202
    job = Job.objects.get(pk=r.json()["job_id"])
    assert {row[1] for row in read_xlsx(job.output_file.path)[1:]} == {"冷国兴", "欧阳秀"}
    client.force_login(make_user("gridy", "grid", tree.grid))
    assert client.post("/api/visits/export", {}, content_type="application/json").status_code == 403
    assert client.post("/visits/records/export/").status_code == 403
