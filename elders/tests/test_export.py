"""Export: exactly the filtered elders in the user's scope, numbers masked unless the user
may and asks to see them, every export in the access log; another community's elders are
never in it."""

import datetime
import io

import pytest

from accounts.services import api_token_create
from audit.models import AccessLog
from conftest import make_user
from elders.importer import import_elders
from elders.models import Elder, Status
from elders.tests.factories import ElderFactory, EmergencyContactFactory, born_years_ago
from elders.tests.sheets import id_number, read_xlsx
from jobs.models import Job
from regions.models import Level
from regions.services import region_create

pytestmark = pytest.mark.django_db

NAME, ID_NUMBER, PHONE = 0, 1, 2  # columns of the export, as in the template


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def export(client, user, **params):
    """POST /api/elders/export as `user`, the filters in the JSON body; returns (response, rows
    under the header). The file's bytes stay on `response.data` (a streamed body can be read once)."""
    headers = {"Authorization": f"Bearer {api_token_create(user=user)}"}
    if isinstance(params.get("category"), str):
        params["category"] = [params["category"]]
    response = client.post("/api/elders/export", params, content_type="application/json", headers=headers)
    if response.status_code != 200:
        return response, None
    response.data = body(response)
    return response, read_xlsx(response.data)[1:]


def names(rows):
    return sorted(r[NAME] for r in rows)


def registered(region, name, n, **over):
    """An elder whose ID number (id_number(n)) agrees with their birth date and sex."""
    born = datetime.date(1949, 12, 31)
    return ElderFactory(region=region, name=name, id_number=id_number(n), birth_date=born, sex="M" if n % 2 else "F", **over)


@pytest.fixture
def street_user(tree):
    return make_user("street", "street", tree.street)


@pytest.fixture
def register(tree):
    """冷国兴 in 安泰社区, 单井英 in its grid, 曾秀英 in 驻春路社区."""
    return {
        "leng": registered(tree.community, "冷国兴", 1, phone="13812345678"),
        "shan": registered(tree.grid, "单井英", 2),
        "zeng": registered(tree.community2, "曾秀英", 4),
    }


def test_export_is_an_xlsx_of_the_users_elders_with_the_template_headers(client, worker, register):
    response, rows = export(client, worker)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header = read_xlsx(response.data)[0]
    assert header[:3] == ["姓名", "身份证号", "联系电话"]
    assert names(rows) == ["冷国兴", "单井英"]


def test_export_masks_id_numbers_and_phones_by_default(client, worker, register):
    _response, rows = export(client, worker)

    row = next(r for r in rows if r[NAME] == "冷国兴")
    assert row[ID_NUMBER] == "*****************1"
    assert row[PHONE] == "138****5678"


def test_export_masks_id_number_ending_in_x_as_the_registry_shows_it(client, worker, register):
    _response, rows = export(client, worker)

    row = next(r for r in rows if r[NAME] == "单井英")
    assert row[ID_NUMBER] == "*****************X"


def test_export_with_reveal_shows_full_numbers_to_a_user_who_may_see_them(client, worker, register):
    _response, rows = export(client, worker, reveal="true")

    row = next(r for r in rows if r[NAME] == "冷国兴")
    assert row[ID_NUMBER] == id_number(1)
    assert row[PHONE] == "13812345678"
    log = AccessLog.objects.get(kind="export")
    assert log.fields == "id_number,phone"
    assert log.detail["full_numbers"] is True


def test_export_with_reveal_stays_masked_for_a_user_without_the_reveal_permission(client, city_user, register):
    _response, rows = export(client, city_user, reveal="true")

    assert all("*" in r[ID_NUMBER] for r in rows)
    log = AccessLog.objects.get(kind="export")
    assert (log.fields, log.detail["full_numbers"]) == ("", False)


def test_export_writes_an_access_log_with_the_filter_and_row_count(client, worker, register):
    export(client, worker, q="冷")

    log = AccessLog.objects.get(kind="export")
    assert log.by == worker
    assert log.region == worker.region
    assert log.detail["filters"]["q"] == "冷"
    assert log.detail["rows"] == 1


def test_export_of_nothing_is_still_logged(client, worker, register):
    _response, rows = export(client, worker, q="查无此人")

    assert rows == []
    assert AccessLog.objects.get(kind="export").detail["rows"] == 0


def test_export_holds_exactly_the_filtered_elders(client, worker, tree):
    ElderFactory(region=tree.community, name="冷国兴", birth_date=born_years_ago(85), sex="M")
    ElderFactory(region=tree.community, name="冷秀英", birth_date=born_years_ago(70), sex="F")
    ElderFactory(region=tree.community, name="王秀兰", birth_date=born_years_ago(90), sex="F")

    _response, rows = export(client, worker, q="冷", age_min=80)

    assert names(rows) == ["冷国兴"]


def test_export_leaves_out_elders_no_longer_in_residence_unless_asked(client, worker, tree):
    ElderFactory(region=tree.community, name="冷国兴")
    ElderFactory(region=tree.community, name="王秀兰", status=Status.DECEASED)

    _response, default = export(client, worker)
    _response, every = export(client, worker, status="all")

    assert names(default) == ["冷国兴"]
    assert names(every) == ["冷国兴", "王秀兰"]


def test_export_with_the_category_filter_holds_only_that_category(client, worker, tree):
    ElderFactory(region=tree.community, name="冷国兴", is_dibao=True)
    ElderFactory(region=tree.community, name="王秀兰", is_dibao=False)

    _response, rows = export(client, worker, category="dibao")

    assert names(rows) == ["冷国兴"]


def test_community2_export_never_contains_antai_people(client, worker_in_other_region, register):
    _response, rows = export(client, worker_in_other_region, status="all")

    assert names(rows) == ["曾秀英"]


def test_community2_export_filtered_to_antai_region_is_empty(client, worker_in_other_region, register, tree):
    _response, rows = export(client, worker_in_other_region, region=tree.community.pk)

    assert rows == []


def test_community2_export_searching_an_antai_id_number_is_empty(client, worker_in_other_region, register):
    _response, rows = export(client, worker_in_other_region, q=id_number(1), reveal="true")

    assert rows == []
    assert AccessLog.objects.get(kind="export").detail["rows"] == 0


def test_street_export_holds_every_community_of_its_subtree_and_no_other(client, street_user, register, tree):
    other = region_create(name="东城第二社区", level=Level.COMMUNITY, parent=tree.street, code="990102001002")
    ElderFactory(region=other, name="解明")

    _response, rows = export(client, street_user)

    assert names(rows) == ["冷国兴", "单井英", "解明"]


def test_city_export_holds_both_streets(client, city_user, register):
    _response, rows = export(client, city_user)

    assert names(rows) == ["冷国兴", "单井英", "曾秀英"]


def test_export_is_403_for_a_role_without_the_export_permission(client, grid_user, register):
    response, _rows = export(client, grid_user)

    assert response.status_code == 403
    assert not AccessLog.objects.filter(kind="export").exists()


def test_export_needs_a_login(client, register):
    response = client.post("/api/elders/export", {}, content_type="application/json")

    assert response.status_code == 401


def test_export_with_full_numbers_reimports_without_changes(client, worker, tree):
    elder = registered(tree.community, "冷国兴", 1, hukou="urban", marital_status="widowed", is_dibao=True)
    EmergencyContactFactory(elder=elder, name="冷红", phone="13912345678")
    registered(tree.grid, "单井英", 2, phone="0531-88881234")
    response, _rows = export(client, worker, reveal="true")

    report = import_elders(io.BytesIO(response.data), by=worker)

    assert (report.rejected, report.created, report.updated, report.unchanged) == (0, 0, 0, 2)
    assert Elder.objects.count() == 2


def test_export_rows_carry_the_primary_contact_labels_age_categories_and_status(client, worker, tree):
    elder = ElderFactory(
        region=tree.grid,
        name="冷国兴",
        birth_date=born_years_ago(85),
        living_arrangement="alone",
        marital_status="widowed",
        children_count=2,
    )
    EmergencyContactFactory(elder=elder, name="邻居老李", relation="neighbor", phone="13700002222", is_primary=False)
    EmergencyContactFactory(elder=elder, name="冷红", relation="child", phone="13912345678", is_primary=True)

    response, rows = export(client, worker)

    header = read_xlsx(response.data)[0]
    row = dict(zip(header, rows[0], strict=False))
    assert (row["紧急联系人"], row["与老人关系"], row["紧急联系人电话"]) == ("冷红", "子女", "139****5678")
    assert (row["所属社区"], row["所属网格"]) == (tree.community.code or tree.community.name, tree.grid.name)
    assert (row["居住情况"], row["婚姻状况"], row["子女数"]) == ("独居", "丧偶", "2")
    assert int(float(row["年龄"])) == 85
    assert {"高龄", "独居", "空巢"} <= set(row["类别"].split("、"))
    assert row["状态"] == "在册"


# --- the export page (a background job) -----------------------------------------------------------


def start_export(client, capture, **data):
    with capture(execute=True):
        return client.post("/elders/export/", data)


def test_export_page_runs_a_job_whose_file_holds_the_filtered_elders(
    client, worker, register, django_capture_on_commit_callbacks
):
    client.force_login(worker)

    response = start_export(client, django_capture_on_commit_callbacks, q="单")

    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert (job.status, job.result["rows"]) == (Job.Status.SUCCEEDED, 1)
    rows = read_xlsx(body(client.get(f"/jobs/{job.pk}/download/")))[1:]
    assert [(r[NAME], r[ID_NUMBER]) for r in rows] == [("单井英", "*****************X")]
    log = AccessLog.objects.get(kind="export")
    assert (log.detail["rows"], log.detail["job"], log.detail["filters"]["q"]) == (1, job.pk, "单")


def test_export_page_for_community2_never_holds_antai_people(
    client, worker_in_other_region, register, django_capture_on_commit_callbacks
):
    client.force_login(worker_in_other_region)

    start_export(client, django_capture_on_commit_callbacks, status="all")

    job = Job.objects.get()
    rows = read_xlsx(body(client.get(f"/jobs/{job.pk}/download/")))[1:]
    assert [r[NAME] for r in rows] == ["曾秀英"]


def test_export_page_with_reveal_shows_full_numbers_only_with_the_permission(
    client, city_user, register, django_capture_on_commit_callbacks
):
    client.force_login(city_user)

    start_export(client, django_capture_on_commit_callbacks, reveal="1")

    job = Job.objects.get()
    rows = read_xlsx(body(client.get(f"/jobs/{job.pk}/download/")))[1:]
    assert all("*" in r[ID_NUMBER] for r in rows)
    assert job.result["full_numbers"] is False


def test_export_page_with_a_category_filter_exports_that_category(client, worker, tree, django_capture_on_commit_callbacks):
    ElderFactory(region=tree.community, name="冷国兴", is_dibao=True)
    ElderFactory(region=tree.community, name="王秀兰", is_dibao=False)
    client.force_login(worker)

    start_export(client, django_capture_on_commit_callbacks, category="dibao")

    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED, job.error
    rows = read_xlsx(body(client.get(f"/jobs/{job.pk}/download/")))[1:]
    assert [r[NAME] for r in rows] == ["冷国兴"]
