"""Apps register their kinds of job; the jobs app and its pages name no app and show what the
kind registered."""

import pathlib
import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from jobs import registry
from jobs.models import Job
from jobs.services import job_create, job_expire_stale, job_rerun
from jobs.tests.test_jobs import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey_kind():
    """A kind of job some other app registers: no template, no re-run."""
    kind = registry.register_job_kind(
        "survey_check", label="年度核查", task="jobs.tasks.periodic_task", stale_message="核查中止，请重新运行"
    )
    yield kind
    del registry._KINDS["survey_check"]


def test_the_jobs_app_and_its_templates_name_no_app():
    root = pathlib.Path(settings.BASE_DIR)
    sources = [p for p in (root / "jobs").glob("*.py")] + list((root / "templates" / "jobs").glob("*.html"))
    named = {str(p.relative_to(root)) for p in sources if re.search(r"elder|老年人", p.read_text(encoding="utf-8"))}
    assert named == set()


def test_the_register_s_kinds_are_registered_by_the_elders_app():
    labels = {k.code: str(k.label) for k in registry.job_kinds()}
    assert (labels["elder_import"], labels["elder_export"]) == ("老年人导入", "老年人导出")
    assert registry.job_kind("elder_import").can_rerun and not registry.job_kind("elder_export").can_rerun


def test_a_kind_is_registered_once():
    with pytest.raises(ValueError, match="twice"):
        registry.register_job_kind("elder_import", label="x", task="x")


def test_a_registered_kind_s_job_page_shows_its_label_and_leads_back_to_the_job_list(client, worker, survey_kind):
    job = job_create(by=worker, kind="survey_check", params={})
    client.force_login(worker)

    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()

    assert "年度核查" in page and f'href="{reverse("jobs:list")}"' in page
    assert "年度核查 #%d" % job.pk in client.get(reverse("jobs:list")).content.decode()


def test_a_job_whose_worker_died_fails_with_its_kind_s_message(worker, survey_kind, settings):
    job = job_create(by=worker, kind="survey_check", params={})
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.JOB_LEASE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=long_ago, heartbeat_at=long_ago)

    assert job_expire_stale() == 1
    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.FAILED, "核查中止，请重新运行")


def test_a_kind_not_registered_as_rerunnable_is_not_run_again(worker, survey_kind):
    job = job_create(by=worker, kind="survey_check", params={}, upload=upload(b"x"), input_name="a.xlsx")
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    job.refresh_from_db()

    with pytest.raises(ValidationError) as refused:
        job_rerun(job=job, by=worker)
    assert refused.value.message_dict == {"job": ["这类任务不能重新运行，请重新发起"]}


def test_a_running_job_shows_the_phase_its_kind_names_in_words(client, worker):
    job = job_create(by=worker, kind="elder_export", params={})
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, phase="export", progress_total=10)
    client.force_login(worker)

    assert "进行中 · 正在导出" in client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
