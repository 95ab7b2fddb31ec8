"""Background jobs: run on commit, record their result or failure, and belong to the user who
started them — anyone else, even in the same community, gets a 404."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from hypothesis import given
from hypothesis import strategies as st

from accounts.services import api_token_create
from conftest import make_user
from elders.jobs import ELDER_EXPORT, ELDER_IMPORT
from elders.models import Elder
from elders.tests.sheets import person, upload, xlsx
from jobs.models import Job
from jobs.selectors import job_get, job_list
from jobs.services import job_create, job_enqueue, job_progress, job_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(tree):
    """Another worker of 安泰社区."""
    return make_user("community_b", "community", tree.community)


def new_job(user, **over):
    return job_create(by=user, kind=over.pop("kind", ELDER_EXPORT), params=over.pop("params", {}), **over)


def job_with_output(user):
    job = new_job(user)
    job.output_name = "名单.xlsx"
    job.output_file.save("out.xlsx", ContentFile(b"xlsx bytes"), save=True)
    return job


def api_get(client, user, path):
    return client.get(path, headers={"Authorization": f"Bearer {api_token_create(user=user)}"})


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


# --- services -------------------------------------------------------------------------------------


def test_job_create_belongs_to_the_user_and_their_region(worker):
    job = job_create(by=worker, kind=ELDER_IMPORT, params={"dry_run": True}, upload=upload(b"x"), input_name="a.xlsx")

    job.refresh_from_db()
    assert (job.by, job.region, job.status, job.params) == (worker, worker.region, Job.Status.QUEUED, {"dry_run": True})
    assert job.input_file.read() == b"x"


def test_job_run_records_the_result_and_success(worker):
    job = new_job(worker)

    job_run(job.pk, lambda j: {"rows": 3})

    job.refresh_from_db()
    assert (job.status, job.result, job.percent) == (Job.Status.SUCCEEDED, {"rows": 3}, 100)
    assert job.started_at and job.finished_at


def test_job_run_records_a_validation_failure_as_its_chinese_message(worker):
    job = new_job(worker)

    def work(j):
        raise ValidationError("身份证号校验位不正确,请核对第18位")

    job_run(job.pk, work)

    job.refresh_from_db()
    assert (job.status, job.error) == (Job.Status.FAILED, "身份证号校验位不正确,请核对第18位")
    assert job.finished_at


def test_job_run_records_an_unexpected_failure_and_never_leaves_the_job_running(worker):
    job = new_job(worker)

    def work(j):
        raise RuntimeError("disk full")

    job_run(job.pk, work)

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("任务意外出错")
    assert "RuntimeError" not in job.error and "disk full" not in job.error


def test_job_run_does_not_run_a_finished_job_again(worker):
    job = new_job(worker)
    job_run(job.pk, lambda j: {"n": 1})
    calls = []

    job_run(job.pk, lambda j: calls.append(1) or {"n": 2})

    job.refresh_from_db()
    assert calls == []
    assert job.result == {"n": 1}


def test_job_enqueue_starts_the_task_only_on_commit(worker, django_capture_on_commit_callbacks):
    from elders.tasks import elder_export_task

    job = new_job(worker, params={"filters": {}})
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job_enqueue(job, elder_export_task)

    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert len(callbacks) == 1


def test_job_enqueue_runs_the_task_and_records_its_id(worker, django_capture_on_commit_callbacks):
    from elders.tasks import elder_export_task

    job = new_job(worker, params={"filters": {}})
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue(job, elder_export_task)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.task_id


def test_job_progress_records_done_total_and_phase(worker):
    job = new_job(worker)

    job_progress(job.pk)(250, 1000, "validate")

    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.phase, job.percent) == (250, 1000, "validate", 25)


@given(done=st.integers(0, 10**7), total=st.integers(0, 10**7), status=st.sampled_from(Job.Status.values))
def test_percent_is_100_only_when_succeeded_and_otherwise_between_0_and_99(done, total, status):
    job = Job(progress_done=done, progress_total=total, status=status)

    if status == Job.Status.SUCCEEDED:
        assert job.percent == 100
    else:
        assert 0 <= job.percent <= 99
        assert job.percent == (min(99, done * 100 // total) if total else 0)


# --- selectors ------------------------------------------------------------------------------------


def test_job_list_holds_only_the_users_own_jobs(worker, colleague, admin_user):
    mine = new_job(worker)
    new_job(colleague)
    new_job(admin_user)

    assert list(job_list(user=worker)) == [mine]


def test_admin_does_not_see_other_peoples_jobs(worker, admin_user):
    new_job(worker)

    assert list(job_list(user=admin_user)) == []


def test_job_get_of_a_colleagues_job_is_404(worker, colleague):
    from django.http import Http404

    job = new_job(colleague)

    with pytest.raises(Http404):
        job_get(user=worker, job_id=job.pk)


# --- pages ----------------------------------------------------------------------------------------


def test_job_list_page_shows_only_the_users_jobs(client, worker, colleague):
    mine = new_job(worker)
    new_job(colleague)
    client.force_login(worker)

    response = client.get("/jobs/")

    assert response.status_code == 200
    assert list(response.context["jobs"]) == [mine]


def test_job_page_shows_progress_to_its_owner(client, worker):
    job = new_job(worker)
    job_progress(job.pk)(10, 40, "export")
    client.force_login(worker)

    response = client.get(f"/jobs/{job.pk}/")

    assert response.status_code == 200
    assert response.context["job"].percent == 25


def test_job_page_polled_by_htmx_returns_only_the_progress_partial(client, worker):
    job = new_job(worker)
    client.force_login(worker)

    response = client.get(f"/jobs/{job.pk}/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="job-progress"' in html
    assert "<html" not in html


def test_job_page_is_404_for_a_colleague_in_the_same_community(client, worker, colleague):
    job = new_job(worker)
    client.force_login(colleague)

    assert client.get(f"/jobs/{job.pk}/").status_code == 404


def test_download_gives_the_owner_the_output_file(client, worker):
    job = job_with_output(worker)
    client.force_login(worker)

    response = client.get(f"/jobs/{job.pk}/download/")

    assert response.status_code == 200
    assert body(response) == b"xlsx bytes"
    assert "attachment" in response["Content-Disposition"]


def test_download_is_404_for_a_colleague_in_the_same_community(client, worker, colleague):
    job = job_with_output(worker)
    client.force_login(colleague)

    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_download_of_a_job_without_output_is_404(client, worker):
    job = new_job(worker)
    client.force_login(worker)

    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404


# --- API ------------------------------------------------------------------------------------------


def test_api_job_gives_its_status_progress_and_result(client, worker):
    job = new_job(worker)
    job_run(job.pk, lambda j: {"rows": 2})

    response = api_get(client, worker, f"/api/jobs/{job.pk}")

    assert response.status_code == 200
    data = response.json()
    assert (data["id"], data["kind"], data["status"], data["percent"]) == (job.pk, "elder_export", "succeeded", 100)
    assert (data["result"], data["has_output"]) == ({"rows": 2}, False)


def test_api_job_is_404_with_a_chinese_message_for_a_colleague(client, worker, colleague):
    job = new_job(worker)

    response = api_get(client, colleague, f"/api/jobs/{job.pk}")

    assert response.status_code == 404
    assert response.json()["detail"].startswith("未找到")


def test_api_download_gives_the_owner_the_file_and_others_404(client, worker, colleague):
    job = job_with_output(worker)

    mine = api_get(client, worker, f"/api/jobs/{job.pk}/download")
    theirs = api_get(client, colleague, f"/api/jobs/{job.pk}/download")

    assert (mine.status_code, body(mine)) == (200, b"xlsx bytes")
    assert theirs.status_code == 404


# --- an import job end to end ---------------------------------------------------------------------


def test_confirming_a_dry_run_twice_asks_for_the_file_again_instead_of_failing(
    client, worker, django_capture_on_commit_callbacks
):
    client.force_login(worker)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/elders/import/", {"file": upload(xlsx([person(1)])), "dry_run": "on"})
    dry = Job.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/elders/import/{dry.pk}/confirm/")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/elders/import/{dry.pk}/confirm/")

    assert response["Location"] == "/elders/import/"
    assert Job.objects.count() == 2
    assert not Job.objects.filter(status=Job.Status.FAILED).exists()
    assert Elder.objects.count() == 1
