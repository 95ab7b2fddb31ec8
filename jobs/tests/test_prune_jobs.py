from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from elders.jobs import ELDER_IMPORT
from jobs.models import Job


@pytest.mark.django_db
def test_prune_jobs_removes_the_files_of_old_jobs_and_keeps_recent_ones(worker):
    old = Job.objects.create(kind=ELDER_IMPORT, by=worker, region=worker.region)
    old.input_file.save("old.xlsx", ContentFile(b"old"), save=True)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = Job.objects.create(kind=ELDER_IMPORT, by=worker, region=worker.region)
    new.input_file.save("new.xlsx", ContentFile(b"new"), save=True)
    old_path = old.input_file.path

    call_command("prune_jobs", "--days", "7")

    old.refresh_from_db()
    new.refresh_from_db()
    assert not old.input_file
    assert new.input_file
    import os

    assert not os.path.exists(old_path)


@pytest.mark.django_db
def test_job_list_shows_the_users_own_jobs_with_their_results(client, worker, tree):
    from conftest import make_user

    colleague = make_user("colleague", "community", tree.community)
    mine = Job.objects.create(
        kind=ELDER_IMPORT,
        by=worker,
        region=worker.region,
        input_name="花名册.xlsx",
        status=Job.Status.SUCCEEDED,
        result={"created": 12, "updated": 3, "rejected": 1},
    )
    Job.objects.create(kind=ELDER_IMPORT, by=colleague, region=worker.region, input_name="别人的.xlsx")
    client.force_login(worker)

    html = client.get("/jobs/").content.decode()

    assert "花名册.xlsx" in html and f"/jobs/{mine.pk}/" in html
    assert "新增 12" in html
    assert "别人的.xlsx" not in html
