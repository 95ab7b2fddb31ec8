"""The merchant import as a background job: the API starts it (202), it acts as its user
(regions resolved only in that user's scope), and a hostile workbook fails the job with a
plain Chinese message and writes nothing (the elders' hostile files, elders.tests.hostile)."""

import io
import zipfile

import pytest

from elders.tests import hostile
from elders.tests.sheets import upload
from jobs.models import Job
from merchants.models import Merchant
from merchants.tests.test_excel import row, sheet
from merchants.tests.test_views_api import Api

pytestmark = pytest.mark.django_db


def api_import(client, user, data: bytes, name="网点.xlsx", **fields):
    api = Api(client, user)
    return client.post("/api/merchants/import", {"file": upload(data, name), **fields}, headers=api.headers)


def run_api_import(client, user, data: bytes, capture, **fields) -> Job:
    with capture(execute=True):
        answer = api_import(client, user, data, **fields)
    assert answer.status_code == 202, answer.content
    job = Job.objects.get(pk=answer.json()["job_id"])
    assert answer.json()["url"].endswith(f"/api/jobs/{job.pk}")
    return job


def test_the_api_starts_a_job_and_the_job_writes_the_merchants(client, worker, tree, django_capture_on_commit_callbacks):
    job = run_api_import(client, worker, sheet([row()]).getvalue(), django_capture_on_commit_callbacks)

    assert job.kind == "merchant_import" and job.by == worker and job.params["via"] == "api"
    assert job.status == "succeeded", job.error
    assert job.result["created"] == 1 and job.result["written"]
    assert Merchant.objects.get().region == tree.community
    followed = client.get(f"/api/jobs/{job.pk}", headers=Api(client, worker).headers).json()
    assert followed["status"] == "succeeded" and followed["result"]["created"] == 1


def test_an_api_dry_run_writes_nothing_and_counts_what_it_would_do(client, worker, tree, django_capture_on_commit_callbacks):
    job = run_api_import(
        client,
        worker,
        sheet([row(), row(名称="邻里小超市", 类型="超市")]).getvalue(),
        django_capture_on_commit_callbacks,
        dry_run="true",
    )

    assert (job.result["created"], job.result["written"], job.result["dry_run"]) == (2, False, True)
    assert not Merchant.objects.exists() and job.input_file  # kept for the confirm


def test_the_api_refuses_without_the_import_permission(client, tree):
    from conftest import make_user

    viewer = make_user("gridder", "grid", tree.community)
    assert not viewer.may("import", Merchant)

    assert api_import(client, viewer, sheet([row()]).getvalue()).status_code == 403
    assert not Job.objects.exists()


def test_the_job_resolves_communities_only_in_its_users_scope(
    client, worker_in_other_region, tree, django_capture_on_commit_callbacks
):
    """A worker of 驻春路社区 names 安泰社区 (by name and by code): a row error, nothing written."""
    rows = [row(), row(名称="邻里小超市", 类型="超市", 所属社区=tree.community.code)]
    job = run_api_import(client, worker_in_other_region, sheet(rows).getvalue(), django_capture_on_commit_callbacks)

    assert job.status == "succeeded" and job.result["rejected"] == 2 and not job.result["written"]
    messages = [e["message"] for e in job.result["errors"]]
    assert "不在您的辖区内" in messages[0] and "不是您辖区内的社区" in messages[1]
    assert not Merchant.objects.exists()


def test_no_personal_number_or_file_content_is_a_job_parameter(client, worker, tree, django_capture_on_commit_callbacks):
    job = run_api_import(client, worker, sheet([row(电话="13812345678")]).getvalue(), django_capture_on_commit_callbacks)

    assert set(job.params) == {"dry_run", "skip_invalid", "via"}


# --- hostile workbooks: the job fails with a plain message, nothing is written --------------------


def failed(client, worker, data: bytes, capture, name="网点.xlsx") -> str:
    job = run_api_import(client, worker, data, capture, name=name)
    assert job.status == "failed" and not job.result
    assert not Merchant.objects.exists()
    assert "Traceback" not in job.error and "/" not in job.error  # no server path, no class name
    return job.error


def test_a_cell_at_xfd1048576_fails_the_job_naming_the_limit(client, worker, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_MAX_COLUMNS = 64

    message = failed(client, worker, hostile.far_cell("XFD1048576"), django_capture_on_commit_callbacks)

    assert "16384 列" in message and "最多 64 列" in message


def test_a_shared_strings_bomb_fails_the_job_before_it_is_inflated(client, worker, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_MAX_SHARED_STRINGS_MB = 5

    message = failed(client, worker, hostile.shared_strings_bomb(20), django_capture_on_commit_callbacks)

    assert "共享字符串过大" in message and "上限 5 MB" in message


def test_a_zip_that_is_not_a_workbook_fails_the_job(client, worker, django_capture_on_commit_callbacks):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")

    assert failed(client, worker, buffer.getvalue(), django_capture_on_commit_callbacks).startswith("无法读取文件")


def test_a_file_that_is_not_a_zip_is_refused_before_any_job(client, worker, tree):
    answer = api_import(client, worker, hostile.NOT_A_ZIP)

    assert answer.status_code == 422 and "Excel" in answer.content.decode()
    assert not Job.objects.exists()


def test_the_page_refuses_a_file_that_is_not_a_zip_naming_the_field(client, worker, tree):
    client.force_login(worker)

    page = client.post("/merchants/import/", {"file": upload(hostile.NOT_A_ZIP, "网点.xlsx")})

    assert page.status_code == 200 and "Excel" in page.content.decode()
    assert not Job.objects.exists()
