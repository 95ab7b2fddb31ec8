"""The job page says so when the task worker is not running, instead of 排队中 forever
(issue 9): a job queued for WORKER_WAIT_SECONDS with no task started or finished meanwhile."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from elders.jobs import ELDER_EXPORT
from jobs.models import Job
from jobs.selectors import WORKER_WAIT_SECONDS
from jobs.services import job_create

pytestmark = pytest.mark.django_db

NOTICE = "后台任务程序没有运行"


@pytest.fixture
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def queued_job(user, *, seconds_ago):
    job = job_create(by=user, kind=ELDER_EXPORT, params={})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED, created_at=timezone.now() - timedelta(seconds=seconds_ago))
    return job


def a_task(**fields):
    now = timezone.now()
    return DBTaskResult.objects.create(
        args_kwargs={}, task_path="jobs.tasks.periodic_task", backend_name="default", run_after=now, **fields
    )


def test_a_job_queued_long_with_no_worker_seen_says_the_worker_is_not_running(client, worker, database_backend):
    job = queued_job(worker, seconds_ago=WORKER_WAIT_SECONDS + 5)
    client.force_login(worker)

    page = client.get(f"/jobs/{job.pk}/").content.decode()
    polled = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"}).content.decode()

    assert NOTICE in page and "make run" in page
    assert NOTICE in polled  # the polled progress says it too, and goes on polling
    assert 'hx-trigger="every 1s"' in polled


def test_a_job_just_queued_waits_without_the_notice(client, worker, database_backend):
    job = queued_job(worker, seconds_ago=2)
    client.force_login(worker)

    assert NOTICE not in client.get(f"/jobs/{job.pk}/").content.decode()


def test_no_notice_while_a_worker_is_busy_with_another_task(client, worker, database_backend):
    job = queued_job(worker, seconds_ago=WORKER_WAIT_SECONDS * 10)
    a_task(status="RUNNING", started_at=timezone.now() - timedelta(minutes=5))
    client.force_login(worker)

    assert NOTICE not in client.get(f"/jobs/{job.pk}/").content.decode()


def test_no_notice_when_a_worker_finished_a_task_lately(client, worker, database_backend):
    job = queued_job(worker, seconds_ago=WORKER_WAIT_SECONDS * 10)
    a_task(status="SUCCESSFUL", started_at=timezone.now() - timedelta(seconds=3), finished_at=timezone.now())
    client.force_login(worker)

    assert NOTICE not in client.get(f"/jobs/{job.pk}/").content.decode()
