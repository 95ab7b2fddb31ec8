"""Import through the pages (template, upload, confirm after a dry run) and through the API
(POST /api/elders/import): a job runs the import, its report and error file stay with the
user who started it."""

import pytest

from accounts.services import api_token_create
from audit.models import ChangeRecord
from conftest import make_user
from elders.jobs import ELDER_IMPORT
from elders.models import Elder, EmergencyContact
from elders.tests.sheets import COLUMN, HEADER, id_number, person, read_xlsx, upload, xlsx
from jobs.models import Job

pytestmark = pytest.mark.django_db


def counts():
    return Elder.objects.count(), EmergencyContact.objects.count(), ChangeRecord.objects.filter(model="elders.elder").count()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def logged_in(client, worker):
    client.force_login(worker)
    return client


@pytest.fixture
def colleague(tree):
    """Another worker of the same community: same scope, but not the one who started the job."""
    return make_user("community_b", "community", tree.community)


def start_import(client, rows, capture, **fields):
    data = {"file": upload(xlsx(rows))}
    data.update(fields)
    with capture(execute=True):
        response = client.post("/elders/import/", data)
    return response


# --- the template ---------------------------------------------------------------------------------


def test_template_has_the_chinese_headers_in_order(logged_in):
    response = logged_in.get("/elders/import/template.xlsx")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header = [str(h).rstrip("*") for h in read_xlsx(response.content)[0]]
    assert header[: len(HEADER)] == HEADER  # the ten columns, in the template's order


def test_template_filled_in_imports(logged_in, worker, tmp_path):
    from openpyxl import load_workbook

    template = tmp_path / "模板.xlsx"
    template.write_bytes(logged_in.get("/elders/import/template.xlsx").content)
    book = load_workbook(template)
    sheet = book.worksheets[0]
    for col, value in enumerate(person(1), start=1):
        sheet.cell(row=2, column=col, value=value)  # over the example row, as the help says
    book.save(template)

    with template.open("rb") as fh:
        from elders.importer import import_elders

        report = import_elders(fh, by=worker)

    assert (report.created, report.rejected) == (1, 0)


def test_template_is_refused_to_a_user_who_may_not_import(client, city_user):
    client.force_login(city_user)

    response = client.get("/elders/import/template.xlsx")

    assert response.status_code == 403


def test_template_needs_a_login(client, tree):
    response = client.get("/elders/import/template.xlsx")

    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


# --- upload on the page ---------------------------------------------------------------------------


def test_upload_creates_a_job_runs_it_and_redirects_to_the_job_page(logged_in, worker, django_capture_on_commit_callbacks):
    response = start_import(logged_in, [person(1), person(2)], django_capture_on_commit_callbacks)

    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.kind, job.by, job.status) == (ELDER_IMPORT, worker, Job.Status.SUCCEEDED)
    assert (job.result["created"], job.result["rejected"]) == (2, 0)
    assert Elder.objects.count() == 2


def test_upload_that_imported_deletes_the_uploaded_sheet(logged_in, django_capture_on_commit_callbacks, settings):
    start_import(logged_in, [person(1)], django_capture_on_commit_callbacks)

    job = Job.objects.get()
    assert not job.input_file
    assert not list((settings.MEDIA_ROOT / "jobs" / "in").glob("*"))


def test_upload_with_a_bad_row_writes_nothing_and_offers_the_error_file(logged_in, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2, 所属社区="幸福社区")], django_capture_on_commit_callbacks)

    job = Job.objects.get()
    assert counts() == (0, 0, 0)
    assert job.result["written"] is False
    assert job.result["errors"] == [{"row": 3, "column": "所属社区", "message": job.result["errors"][0]["message"]}]
    response = logged_in.get(f"/jobs/{job.pk}/download/")
    assert response.status_code == 200
    header, *rows = read_xlsx(body(response))
    assert header[: len(HEADER) + 1] == [*HEADER, "错误原因"]
    assert [r[COLUMN["身份证号"]] for r in rows] == [id_number(2)]


def test_upload_with_skip_invalid_imports_the_good_rows(logged_in, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2, 所属社区="幸福社区")], django_capture_on_commit_callbacks, skip_invalid="on")

    assert Elder.objects.count() == 1
    assert Job.objects.get().result["rejected"] == 1


def test_dry_run_upload_writes_nothing_and_keeps_the_file_for_confirming(logged_in, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2)], django_capture_on_commit_callbacks, dry_run="on")

    job = Job.objects.get()
    assert counts() == (0, 0, 0)
    assert (job.result["dry_run"], job.result["created"]) == (True, 2)
    assert job.input_file


def test_confirm_after_a_dry_run_imports_for_real(logged_in, worker, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2)], django_capture_on_commit_callbacks, dry_run="on")
    dry = Job.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in.post(f"/elders/import/{dry.pk}/confirm/")

    real = Job.objects.exclude(pk=dry.pk).get()
    assert response["Location"] == f"/jobs/{real.pk}/"
    assert (real.status, real.result["dry_run"], real.result["created"]) == (Job.Status.SUCCEEDED, False, 2)
    assert Elder.objects.count() == 2
    assert ChangeRecord.objects.filter(model="elders.elder", action="import", by=worker).count() == 2


def test_confirm_with_skip_invalid_imports_the_good_rows_of_the_dry_run(logged_in, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2, 所属社区="幸福社区")], django_capture_on_commit_callbacks, dry_run="on")
    dry = Job.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post(f"/elders/import/{dry.pk}/confirm/", {"skip_invalid": "1"})

    assert Elder.objects.count() == 1


def test_confirm_of_someone_elses_dry_run_is_404_and_imports_nothing(
    client, worker, colleague, django_capture_on_commit_callbacks
):
    client.force_login(worker)
    start_import(client, [person(1)], django_capture_on_commit_callbacks, dry_run="on")
    dry = Job.objects.get()
    client.force_login(colleague)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/elders/import/{dry.pk}/confirm/")

    assert response.status_code == 404
    assert Job.objects.count() == 1
    assert Elder.objects.count() == 0


def test_job_page_and_download_are_404_for_another_user_of_the_same_community(
    client, worker, colleague, django_capture_on_commit_callbacks
):
    client.force_login(worker)
    start_import(client, [person(1, 所属社区="幸福社区")], django_capture_on_commit_callbacks)
    job = Job.objects.get()
    assert job.output_file
    client.force_login(colleague)

    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404


def test_job_page_shows_the_report_to_the_user_who_started_it(logged_in, django_capture_on_commit_callbacks):
    start_import(logged_in, [person(1), person(2, 所属社区="幸福社区")], django_capture_on_commit_callbacks)
    job = Job.objects.get()

    response = logged_in.get(f"/jobs/{job.pk}/")

    assert response.status_code == 200
    assert "幸福社区" in response.content.decode()


def test_upload_page_is_refused_to_a_user_who_may_not_import(client, city_user):
    client.force_login(city_user)

    response = client.post("/elders/import/", {"file": upload(xlsx([person(1)]))})

    assert response.status_code == 403
    assert Job.objects.count() == 0


def test_upload_of_a_file_that_is_not_excel_is_refused_on_the_form(logged_in):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = logged_in.post("/elders/import/", {"file": SimpleUploadedFile("名单.csv", b"a,b\n")})

    assert response.status_code == 200
    assert Job.objects.count() == 0
    assert "请上传 Excel 文件" in response.content.decode()


def test_upload_of_an_unreadable_workbook_fails_the_job_with_a_chinese_message(logged_in, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        logged_in.post("/elders/import/", {"file": upload(b"PK\x03\x04 not really a workbook")})

    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("无法读取文件")
    assert Elder.objects.count() == 0


def test_upload_whose_content_is_not_a_workbook_is_refused_on_the_form_without_a_job(logged_in):
    response = logged_in.post("/elders/import/", {"file": upload(b"<html>not a workbook</html>", "名单.xlsx")})

    assert response.status_code == 200
    assert "内容不是 Excel 格式" in response.content.decode()
    assert Job.objects.count() == 0


# --- the API --------------------------------------------------------------------------------------


class Api:
    """The import API as a client uses it: POST the file (202 and a job), then GET the job."""

    def __init__(self, client, user, capture=None):
        self.client = client
        self.capture = capture
        self.headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}

    def get(self, path):
        return self.client.get(path, headers=self.headers)

    def post(self, data: bytes, name="名单.xlsx", **fields):
        return self.client.post("/api/elders/import", {"file": upload(data, name), **fields}, headers=self.headers)

    def upload(self, data: bytes, name="名单.xlsx", **fields) -> dict:
        """The job (GET /api/jobs/{id}) after the import ran (the immediate task backend)."""
        with self.capture(execute=True):
            response = self.post(data, name, **fields)
        assert response.status_code == 202, response.content
        return self.get(response.json()["url"].replace("http://testserver", "")).json()


@pytest.fixture
def api(client, worker, django_capture_on_commit_callbacks):
    return Api(client, worker, django_capture_on_commit_callbacks)


def test_api_import_answers_202_with_the_job_and_its_url(api):
    with api.capture(execute=False) as callbacks:
        response = api.post(xlsx([person(1), person(2)]))

    assert response.status_code == 202
    data = response.json()
    job = Job.objects.get()
    assert (data["job_id"], data["status"]) == (job.pk, "queued")
    assert data["url"] == f"http://testserver/api/jobs/{job.pk}"
    assert len(callbacks) == 1  # the import runs in the task worker, after the answer
    assert Elder.objects.count() == 0


def test_api_import_dry_run_is_a_job_too_not_run_in_the_request(api):
    with api.capture(execute=False) as callbacks:
        response = api.post(xlsx([person(1)]), dry_run="true")

    assert response.status_code == 202
    assert Job.objects.get().status == Job.Status.QUEUED
    assert len(callbacks) == 1


def test_api_import_job_holds_the_result(api):
    job = api.upload(xlsx([person(1), person(2)]))

    assert job["status"] == "succeeded"
    assert (job["result"]["created"], job["result"]["updated"], job["result"]["rejected"]) == (2, 0, 0)
    assert job["has_output"] is False
    assert Elder.objects.count() == 2


def test_api_import_with_a_bad_row_lists_row_column_and_message_and_writes_nothing(api):
    job = api.upload(xlsx([person(1), person(2, 联系电话="88881234")]))

    assert job["result"]["rejected"] == 1
    [error] = job["result"]["errors"]
    assert (error["row"], error["column"]) == (3, "联系电话")
    assert "区号" in error["message"]
    assert counts() == (0, 0, 0)


def test_api_error_file_downloads_the_bad_rows(api):
    job = api.upload(xlsx([person(1), person(2, 联系电话="88881234")]))

    response = api.get(f"/api/jobs/{job['id']}/download")

    assert response.status_code == 200
    _header, *rows = read_xlsx(body(response))
    assert [r[COLUMN["身份证号"]] for r in rows] == [id_number(2)]


def test_api_dry_run_writes_nothing_and_reports_what_would_change(api):
    job = api.upload(xlsx([person(1), person(2)]), dry_run="true")

    assert (job["result"]["dry_run"], job["result"]["created"], job["result"]["written"]) == (True, 2, False)
    assert counts() == (0, 0, 0)


def test_api_skip_invalid_imports_the_good_rows(api):
    job = api.upload(xlsx([person(1), person(2, 联系电话="88881234")]), skip_invalid="true")

    assert (job["result"]["created"], job["result"]["rejected"]) == (1, 1)
    assert Elder.objects.count() == 1


def test_api_reimport_updates_without_duplicates(api):
    api.upload(xlsx([person(1), person(2)]))

    job = api.upload(xlsx([person(1), person(2, 详细地址="新地址")]))

    assert (job["result"]["created"], job["result"]["updated"], job["result"]["unchanged"]) == (0, 1, 1)
    assert Elder.objects.count() == 2


def test_api_import_of_a_broken_workbook_fails_the_job_with_a_chinese_message(api):
    job = api.upload(b"PK\x03\x04 broken", name="名单.xlsx")

    assert job["status"] == "failed"
    assert job["error"].startswith("无法读取文件")
    assert Elder.objects.count() == 0


def test_api_import_of_a_file_that_is_not_a_workbook_is_422_at_once(api):
    response = api.post(b"<html>no</html>", name="名单.xlsx")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    assert Job.objects.count() == 0


def test_api_import_of_a_sheet_without_header_fails_the_job(api):
    job = api.upload(xlsx([["冷国兴", id_number(1)]], header=["甲", "乙"]))

    assert job["status"] == "failed"
    assert "没有找到表头" in job["error"]


def test_api_import_row_for_another_community_is_refused(client, worker_in_other_region, django_capture_on_commit_callbacks):
    api = Api(client, worker_in_other_region, django_capture_on_commit_callbacks)

    job = api.upload(xlsx([person(1, 所属社区="安泰社区")]))

    assert job["result"]["rejected"] == 1
    assert job["result"]["errors"][0]["column"] == "所属社区"
    assert Elder.objects.count() == 0


def test_api_import_is_403_for_a_user_who_may_not_import(client, city_user):
    api = Api(client, city_user)

    response = api.post(xlsx([person(1)]))

    assert response.status_code == 403
    assert Job.objects.count() == 0


def test_api_import_with_the_old_background_flag_still_answers_202(api):
    with api.capture(execute=True):
        response = api.post(xlsx([person(1)]), background="true")

    assert response.status_code == 202
    job = api.get(f"/api/jobs/{response.json()['job_id']}").json()
    assert (job["status"], job["percent"], job["result"]["created"]) == ("succeeded", 100, 1)
    assert Elder.objects.count() == 1


def test_api_import_declares_202_and_the_job_url_in_the_schema(client):
    schema = client.get("/api/openapi.json").json()

    responses = schema["paths"]["/api/elders/import"]["post"]["responses"]
    assert "202" in responses and "200" not in responses
    ref = responses["202"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"job_id", "url"} <= set(schema["components"]["schemas"][ref]["properties"])


def test_upload_by_a_user_of_another_community_refuses_rows_for_antai(
    client, worker_in_other_region, django_capture_on_commit_callbacks
):
    client.force_login(worker_in_other_region)

    start_import(client, [person(1, 所属社区="安泰社区"), person(2, 所属社区="990102001001")], django_capture_on_commit_callbacks)

    job = Job.objects.get()
    assert job.result["rejected"] == 2
    assert {e["column"] for e in job.result["errors"]} == {"所属社区"}
    assert Elder.objects.count() == 0
