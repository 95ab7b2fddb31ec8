from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from jobs.models import Job


@pytest.mark.django_db
def test_prune_jobs_removes_the_files_of_old_jobs_and_keeps_recent_ones(worker):
    old = Job.objects.create(kind=Job.Kind.ELDER_IMPORT, by=worker, region=worker.region)
    old.input_file.save("old.xlsx", ContentFile(b"old"), save=True)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    new = Job.objects.create(kind=Job.Kind.ELDER_IMPORT, by=worker, region=worker.region)
    new.input_file.save("new.xlsx", ContentFile(b"new"), save=True)
    old_path = old.input_file.path

    call_command("prune_jobs", "--days", "7")

    old.refresh_from_db()
    new.refresh_from_db()
    assert not old.input_file
    assert new.input_file
    import os

    assert not os.path.exists(old_path)
