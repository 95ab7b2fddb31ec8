"""A job whose worker dies: its lease (heartbeat_at) runs out, it is marked failed with a
message the user understands, and a failed import can be run again on the same file. No
class name, traceback or server path reaches the job page or the API."""

import datetime

import pytest
from django.utils import timezone

from accounts.services import api_token_create
from elders.jobs import ELDER_EXPORT, ELDER_IMPORT
from elders.models import Elder
from elders.tests.sheets import person, upload, xlsx
from jobs.models import Job
from jobs.services import job_create, job_expire_stale, job_progress, job_run

pytestmark = pytest.mark.django_db

DIED = "导入进程意外中止，文件未写入任何数据，请重新运行"


def running_import(user, *, heard_seconds_ago: float, data: bytes | None = None) -> Job:
    """An import job left 'running' by a worker last heard from `heard_seconds_ago`."""
    job = job_create(
        by=user,
        kind=ELDER_IMPORT,
        params={"dry_run": False, "skip_invalid": False, "via": "web"},
        upload=upload(data if data is not None else xlsx([person(1)])),
        input_name="名单.xlsx",
    )
    then = timezone.now() - datetime.timedelta(seconds=heard_seconds_ago)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=then, heartbeat_at=then)
    return job


def auth(user):
    return {"Authorization": f"Bearer {api_token_create(user=user)}"}


def test_job_expire_stale_fails_a_running_job_whose_lease_ran_out(worker, settings):
    settings.JOB_LEASE_SECONDS = 300
    dead = running_import(worker, heard_seconds_ago=301)
    alive = running_import(worker, heard_seconds_ago=10)

    assert job_expire_stale() == 1

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.error) == (Job.Status.FAILED, DIED)
    assert dead.finished_at
    assert alive.status == Job.Status.RUNNING


def test_a_job_that_never_beat_expires_by_its_start_time(worker, settings):
    settings.JOB_LEASE_SECONDS = 60
    job = running_import(worker, heard_seconds_ago=120)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=None)

    assert job_expire_stale() == 1
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED


def test_progress_renews_the_lease(worker, settings):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=299)

    job_progress(job.pk)(10, 100, "validate")

    assert job_expire_stale() == 0
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING


@pytest.mark.django_db(transaction=True)  # the heartbeat writes on its own connection
def test_heartbeat_renews_the_lease_while_the_work_runs(worker, settings, monkeypatch):
    from jobs import services

    settings.JOB_LEASE_SECONDS = 300
    job = job_create(by=worker, kind=ELDER_EXPORT, params={})
    beats = []

    class Quick(services._Heartbeat):
        def __init__(self, job_id):
            super().__init__(job_id)
            self.interval = 0.05

    monkeypatch.setattr(services, "_Heartbeat", Quick)

    def work(j):
        import time

        Job.objects.filter(pk=j.pk).update(heartbeat_at=timezone.now() - datetime.timedelta(hours=1))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            beat = Job.objects.get(pk=j.pk).heartbeat_at
            if beat > timezone.now() - datetime.timedelta(minutes=1):
                beats.append(beat)
                break
            time.sleep(0.05)
        return {}

    job_run(job.pk, work)

    assert beats, "no heartbeat reached the job while its work ran"


def test_the_job_page_shows_a_dead_workers_job_as_failed_with_a_plain_message(client, worker, settings):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)
    client.force_login(worker)

    page = client.get(f"/jobs/{job.pk}/").content.decode()

    assert DIED in page
    assert 'data-status="failed"' in page
    assert "hx-trigger" not in page  # no longer polled
    assert "Traceback" not in page and "/jobs/in/" not in page


def test_the_job_api_reports_a_dead_workers_job_as_failed_and_rerunnable(client, worker, settings):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)

    data = client.get(f"/api/jobs/{job.pk}", headers=auth(worker)).json()

    assert (data["status"], data["error"], data["can_rerun"]) == ("failed", DIED, True)


def test_a_failed_import_is_run_again_from_its_page_on_the_same_file(
    client, worker, settings, django_capture_on_commit_callbacks
):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)
    client.force_login(worker)
    assert "用同一个文件重新运行" in client.get(f"/jobs/{job.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/jobs/{job.pk}/rerun/")

    again = Job.objects.exclude(pk=job.pk).get()
    assert response["Location"] == f"/jobs/{again.pk}/"
    assert (again.status, again.params["rerun_of"], again.result["created"]) == (Job.Status.SUCCEEDED, job.pk, 1)
    assert Elder.objects.count() == 1


def test_a_failed_import_is_run_again_through_the_api(client, worker, settings, django_capture_on_commit_callbacks):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)
    job_expire_stale()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/jobs/{job.pk}/rerun", headers=auth(worker))

    assert response.status_code == 202
    data = response.json()
    assert data["url"] == f"http://testserver/api/jobs/{data['job_id']}"
    assert Job.objects.get(pk=data["job_id"]).status == Job.Status.SUCCEEDED
    assert Elder.objects.count() == 1


def test_rerun_when_the_file_is_gone_asks_for_it_again(client, worker, settings):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)
    job_expire_stale()
    job.refresh_from_db()
    job.input_file.delete(save=True)

    response = client.post(f"/api/jobs/{job.pk}/rerun", headers=auth(worker))

    assert response.status_code == 422
    assert response.json()["errors"][0] == {"field": "file", "message": "原文件已不在，请重新上传"}
    assert Job.objects.count() == 1


def test_rerun_of_a_job_that_did_not_fail_is_refused(client, worker):
    job = running_import(worker, heard_seconds_ago=1)

    response = client.post(f"/api/jobs/{job.pk}/rerun", headers=auth(worker))

    assert response.status_code == 422
    assert Job.objects.count() == 1


def test_rerun_of_another_users_job_is_404(client, worker, worker_in_other_region, settings):
    settings.JOB_LEASE_SECONDS = 300
    job = running_import(worker, heard_seconds_ago=3600)
    job_expire_stale()

    response = client.post(f"/api/jobs/{job.pk}/rerun", headers=auth(worker_in_other_region))

    assert response.status_code == 404
    assert Job.objects.count() == 1


def test_an_unexpected_failure_shows_no_class_name_traceback_or_path(client, worker):
    job = job_create(by=worker, kind=ELDER_EXPORT, params={})

    def work(j):
        raise OSError(2, "No such file or directory", "/srv/yinling/media/jobs/in/secret.bin")

    job_run(job.pk, work)
    client.force_login(worker)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    data = client.get(f"/api/jobs/{job.pk}", headers=auth(worker)).json()

    for shown in (page, data["error"]):
        assert "任务意外出错" in shown
        for leak in ("Traceback", "OSError", "/srv/", "secret.bin", "File "):
            assert leak not in shown
