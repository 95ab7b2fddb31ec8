"""Uploaded and generated files hold personal data: they are deleted after their retention
(JOB_FILE_RETENTION_DAYS; exports with full numbers after FULL_NUMBER_EXPORT_RETENTION_HOURS),
the job stays, and its page says the file has expired instead of offering a broken link."""

import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from elders.jobs import ELDER_EXPORT, ELDER_IMPORT
from jobs.models import Job
from jobs.services import job_files_prune

pytestmark = pytest.mark.django_db


def job_with_files(user, *, age, kind=ELDER_IMPORT, input=True, output=True, **fields):
    job = Job.objects.create(kind=kind, by=user, region=user.region, status=Job.Status.SUCCEEDED, **fields)
    if input:
        job.input_name = "花名册.xlsx"
        job.input_file.save("in.xlsx", ContentFile(b"sheet"), save=False)
    if output:
        job.output_name = "结果.xlsx"
        job.output_file.save("out.xlsx", ContentFile(b"result"), save=False)
    job.save()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    job.refresh_from_db()
    return job


def paths(job):
    return [f.path for f in (job.input_file, job.output_file) if f]


def test_an_import_upload_and_its_error_workbook_are_deleted_after_seven_days(worker):
    old = job_with_files(worker, age=datetime.timedelta(days=7, minutes=1))
    files = paths(old)

    removed = job_files_prune()

    old.refresh_from_db()
    assert removed == 2
    assert (old.input_file.name, old.output_file.name) == ("", "")
    assert not any(os.path.exists(p) for p in files)
    assert old.output_expired and old.status == Job.Status.SUCCEEDED  # the job itself stays


def test_files_younger_than_the_retention_are_kept(worker):
    recent = job_with_files(worker, age=datetime.timedelta(days=6, hours=23))

    assert job_files_prune() == 0
    recent.refresh_from_db()
    assert recent.input_file and recent.output_file


def test_the_retention_comes_from_settings(worker, settings):
    settings.JOB_FILE_RETENTION_DAYS = 2
    job_with_files(worker, age=datetime.timedelta(days=3))

    assert job_files_prune() == 2


def test_an_export_with_full_numbers_is_deleted_after_24_hours_a_masked_one_is_kept(worker):
    full = job_with_files(
        worker,
        kind=ELDER_EXPORT,
        input=False,
        age=datetime.timedelta(hours=25),
        params={"reveal": True},
        result={"rows": 3, "full_numbers": True},
    )
    masked = job_with_files(
        worker,
        kind=ELDER_EXPORT,
        input=False,
        age=datetime.timedelta(hours=25),
        params={"reveal": False},
        result={"rows": 3, "full_numbers": False},
    )

    assert job_files_prune() == 1
    full.refresh_from_db()
    masked.refresh_from_db()
    assert (bool(full.output_file), bool(masked.output_file)) == (False, True)


def test_a_running_job_keeps_its_upload(worker):
    running = job_with_files(worker, age=datetime.timedelta(days=30), output=False)
    Job.objects.filter(pk=running.pk).update(status=Job.Status.RUNNING)

    assert job_files_prune() == 0


def test_an_upload_shared_by_a_dry_run_and_its_confirmation_is_cleared_on_both(worker):
    dry = job_with_files(worker, age=datetime.timedelta(days=8), output=False)
    confirmed = Job.objects.create(
        kind=ELDER_IMPORT, by=worker, region=worker.region, status=Job.Status.FAILED, input_file=dry.input_file.name
    )
    Job.objects.filter(pk=confirmed.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))

    job_files_prune()

    assert not Job.objects.exclude(input_file="").exists()


def test_prune_jobs_command_runs_the_same_service(worker):
    from django.core.management import call_command

    old = job_with_files(worker, age=datetime.timedelta(days=4))

    call_command("prune_jobs", "--days", "3")

    old.refresh_from_db()
    assert not old.input_file and not old.output_file


# --- what the user sees ---------------------------------------------------------------------------


def test_job_page_says_an_expired_export_has_expired_instead_of_offering_the_download(client, worker):
    job = job_with_files(worker, kind=ELDER_EXPORT, input=False, age=datetime.timedelta(days=8), result={"rows": 3})
    job_files_prune()
    client.force_login(worker)

    html = client.get(f"/jobs/{job.pk}/").content.decode()

    assert "已过期删除" in html
    assert f"/jobs/{job.pk}/download/" not in html


def test_an_old_download_link_of_an_expired_file_says_so(client, worker):
    job = job_with_files(worker, kind=ELDER_EXPORT, input=False, age=datetime.timedelta(days=8), result={"rows": 3})
    job_files_prune()
    client.force_login(worker)

    response = client.get(f"/jobs/{job.pk}/download/", follow=True)

    assert response.redirect_chain[-1][0] == f"/jobs/{job.pk}/"
    assert "已过期删除" in response.content.decode()


def test_job_page_of_an_import_says_its_error_workbook_and_upload_expired(client, worker):
    job = job_with_files(
        worker, age=datetime.timedelta(days=8), result={"rejected": 1, "created": 1, "written": False, "dry_run": True}
    )
    job_files_prune()
    client.force_login(worker)

    html = client.get(f"/jobs/{job.pk}/").content.decode()

    assert 'data-testid="file-expired"' in html and 'data-testid="input-expired"' in html
    assert "/download/" not in html and "/confirm/" not in html
