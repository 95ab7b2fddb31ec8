"""The scheduler: periodic tasks declared in jobs.schedule.SCHEDULE are enqueued through
django-tasks when due, once per interval, however many schedulers run and however often they
restart (the last run is a database row claimed with a conditional UPDATE)."""

import datetime
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from elders.jobs import ELDER_IMPORT
from jobs import schedule
from jobs.models import Job, ScheduledRun
from jobs.schedule import Periodic, schedule_tick

RUNS = []


def count_run():
    """A periodic function for the tests: counts its runs."""
    RUNS.append(1)
    return len(RUNS)


@pytest.fixture
def counting(monkeypatch):
    RUNS.clear()
    entry = Periodic("count", datetime.timedelta(hours=1), "jobs.tests.test_schedule.count_run")
    monkeypatch.setattr(schedule, "SCHEDULE", (entry,))
    return entry


NOON = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_a_due_task_is_enqueued_and_run_once(counting):
    assert schedule_tick(now=NOON) == ["count"]
    assert RUNS == [1]
    assert ScheduledRun.objects.get(name="count").last_run_at == NOON


@pytest.mark.django_db
def test_a_task_is_not_enqueued_again_within_its_interval_even_after_a_restart(counting):
    schedule_tick(now=NOON)

    # another process (a restart, or a second scheduler) sees the same row
    assert schedule_tick(now=NOON + datetime.timedelta(minutes=59)) == []
    assert RUNS == [1]


@pytest.mark.django_db
def test_a_task_is_enqueued_again_once_its_interval_has_passed(counting):
    schedule_tick(now=NOON)

    assert schedule_tick(now=NOON + datetime.timedelta(hours=1)) == ["count"]
    assert RUNS == [1, 1]


@pytest.mark.django_db
def test_a_failed_enqueue_leaves_the_task_due(counting, monkeypatch):
    from jobs import tasks

    class QueueDown:
        def enqueue(self, *args, **kwargs):
            raise RuntimeError("queue down")

    real = tasks.periodic_task
    monkeypatch.setattr(tasks, "periodic_task", QueueDown())
    with pytest.raises(RuntimeError):
        schedule_tick(now=NOON)
    monkeypatch.setattr(tasks, "periodic_task", real)

    assert schedule_tick(now=NOON + datetime.timedelta(minutes=1)) == ["count"]


def test_the_file_retention_is_registered():
    entry = schedule.periodic_get("job_files_prune")

    assert entry is not None and entry.every <= datetime.timedelta(hours=1)
    from jobs.services import job_files_prune

    assert schedule.import_string(entry.function) is job_files_prune


@pytest.mark.django_db
def test_run_scheduler_once_deletes_expired_job_files(worker):
    job = Job.objects.create(kind=ELDER_IMPORT, by=worker, region=worker.region, status=Job.Status.SUCCEEDED)
    job.input_file.save("in.xlsx", ContentFile(b"sheet"), save=True)
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))

    call_command("run_scheduler", "--once", verbosity=0)

    job.refresh_from_db()
    assert not job.input_file
    assert ScheduledRun.objects.get(name="job_files_prune").last_run_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_run_a_task_once(counting):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    ScheduledRun.objects.create(name="count")
    start = threading.Barrier(2)
    results = []

    def scheduler():
        from django.db import connections

        try:
            start.wait()
            results.append(schedule_tick(now=NOON))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert sorted(results) == [[], ["count"]]
    assert RUNS == [1]


def test_the_lease_of_dead_workers_and_old_login_records_are_on_the_schedule():
    from jobs.schedule import periodic_get

    assert periodic_get("job_expire_stale").function == "jobs.services.job_expire_stale"
    assert periodic_get("login_records_prune").function == "accounts.services.login_records_prune"
