"""Excel in and out for staff and volunteers, with the elders' importer rules: the guarded
reader, a dry run that writes nothing, all-or-nothing unless bad rows are skipped, the error
workbook of the bad rows, jobs; exports masked and logged."""

import pytest

from audit.models import AccessLog
from conftest import make_user
from elders.importer.read import UnreadableFile
from elders.tests.sheets import read_xlsx, upload, xlsx
from jobs.models import Job
from providers.importer import import_sheet
from providers.models import Caregiver, Volunteer
from providers.tests import factories as f

pytestmark = pytest.mark.django_db

STAFF_HEADER = ["所属机构", "人员类别*", "姓名*", "身份证号", "联系电话", "技能", "工作日", "上班时间", "下班时间"]


def staff_row(n, **over):
    values = {
        "所属机构": "康乃馨家政",
        "人员类别*": "保姆",
        "姓名*": f"保姆{n}",
        "身份证号": f.id_number(n),
        "联系电话": f"1381234{n:04d}",
        "技能": "做饭",
        "工作日": "周一、周二、周三",
        "上班时间": "08:00",
        "下班时间": "17:00",
    }
    values.update(over)
    return [values[h] for h in STAFF_HEADER]


@pytest.fixture
def org(tree):
    f.skill("做饭")
    return f.organisation(tree, name="康乃馨家政")


def sheet(tmp_path, rows, header=STAFF_HEADER, title="康乃馨家政人员名单"):
    path = tmp_path / "staff.xlsx"
    path.write_bytes(xlsx(rows, header=header, title=title))
    return str(path)


def test_a_dry_run_checks_every_row_and_writes_nothing(tree, org, tmp_path):
    rows = [staff_row(1), staff_row(2), staff_row(3, **{"人员类别*": "厨师", "联系电话": "12"})]

    report = import_sheet(sheet(tmp_path, rows), by=f.org_user(org), what="caregiver", dry_run=True)

    assert (report.created, report.rejected, report.written) == (2, 1, False)
    assert not Caregiver.objects.exists()
    messages = {e.column: e.message for e in report.errors}
    assert "人员类别" in messages and "厨师" in messages["人员类别"]
    assert "联系电话" in messages
    assert report.errors[0].row == 5  # the title row, the header, then the third data row


def test_all_or_nothing_unless_bad_rows_are_skipped(tree, org, tmp_path):
    rows = [staff_row(1), staff_row(2, **{"姓名*": ""})]
    user = f.org_user(org)

    report = import_sheet(sheet(tmp_path, rows), by=user, what="caregiver")
    assert not report.written and not Caregiver.objects.exists()

    report = import_sheet(sheet(tmp_path, rows), by=user, what="caregiver", skip_invalid=True)
    assert report.written and list(Caregiver.objects.values_list("name", flat=True)) == ["保姆1"]
    person = Caregiver.objects.get()
    assert person.work_days == [1, 2, 3] and person.phone_masked == "138****0001"
    assert [s.name for s in person.skills.all()] == ["做饭"]


def test_a_second_import_updates_by_id_number(tree, org, tmp_path):
    user = f.org_user(org)
    import_sheet(sheet(tmp_path, [staff_row(1)]), by=user, what="caregiver")

    report = import_sheet(sheet(tmp_path, [staff_row(1, **{"姓名*": "王丽"})]), by=user, what="caregiver")

    assert (report.created, report.updated) == (0, 1)
    assert list(Caregiver.objects.values_list("name", flat=True)) == ["王丽"]


def test_rows_for_another_organisation_are_refused(tree, org, tmp_path):
    f.organisation(tree, name="驻春路家政", region=tree.community2)
    rows = [staff_row(1, **{"所属机构": "驻春路家政"})]

    report = import_sheet(sheet(tmp_path, rows), by=f.org_user(org), what="caregiver")

    assert report.rejected == 1 and "不在您的管辖范围内" in report.errors[0].message
    assert not Caregiver.objects.exists()


def test_a_file_without_the_header_is_unreadable(tree, org, tmp_path):
    with pytest.raises(UnreadableFile) as refused:
        import_sheet(sheet(tmp_path, [["x"]], header=["甲", "乙"]), by=f.org_user(org), what="caregiver")
    assert "人员类别" in str(refused.value)


def test_the_page_runs_a_dry_run_job_with_an_error_file_then_confirms(tree, org, client, django_capture_on_commit_callbacks):
    user = f.org_user(org)
    client.force_login(user)
    data = xlsx([staff_row(1), staff_row(2, **{"身份证号": "110105197503010000"})], header=STAFF_HEADER)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/providers/staff/import/", {"file": upload(data, "人员.xlsx"), "dry_run": "on"})
    job = Job.objects.get(kind="caregiver_import")
    assert response.status_code == 302 and job.region == org.region  # the user has no region: the organisation's
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert (job.result["created"], job.result["rejected"]) == (1, 1)
    assert not Caregiver.objects.exists()
    errors = read_xlsx(job.output_file.path)
    assert errors[0][-2:] == ["错误原因", "原行号"]
    assert "校验位" in errors[1][-2] and errors[1][2] == "保姆2"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/providers/staff/import/{job.pk}/confirm/", {"skip_invalid": "1"})
    assert list(Caregiver.objects.values_list("name", flat=True)) == ["保姆1"]


def test_the_export_is_masked_scoped_and_logged(tree, org, client, django_capture_on_commit_callbacks):
    f.caregiver(tree, org, name="王丽", id_number=f.id_number(9), phone="13812345678")
    other = f.organisation(tree, name="驻春路家政", region=tree.community2)
    f.caregiver(tree, other, name="赵敏")
    user = f.org_user(org)
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/providers/staff/export/")

    job = Job.objects.get(kind="caregiver_export")
    job.refresh_from_db()
    rows = read_xlsx(job.output_file.path)
    assert rows[0][:3] == ["所属机构", "人员类别", "姓名"]
    assert [r[2] for r in rows[1:]] == ["王丽"]
    assert "13812345678" not in str(rows) and f.id_number(9) not in str(rows)
    log = AccessLog.objects.get(kind="export")
    assert (log.model, log.by, log.detail["rows"]) == ("providers.caregiver", user, 1)


VOLUNTEER_HEADER = ["所属社区*", "志愿服务队", "姓名*", "联系电话*", "出生年份", "可服务日"]


def test_volunteers_round_trip_the_masked_export_comes_back_as_an_error_file(tree, tmp_path):
    """Import volunteers, export them, upload the export again: the export holds masked phones,
    so each row is refused naming 联系电话, and the error workbook has them to fix."""
    f.team(tree, name="党员志愿服务队")
    worker = make_user("w", "community", tree.community)
    rows = [
        ["安泰社区", "党员志愿服务队", "张红", "13912345678", "1958", "周六、周日"],
        ["安泰社区", "", "李华", "13700001111", "", ""],
    ]
    path = tmp_path / "v.xlsx"
    path.write_bytes(xlsx(rows, header=VOLUNTEER_HEADER))

    report = import_sheet(str(path), by=worker, what="volunteer")
    assert (report.created, report.written) == (2, True)
    assert set(Volunteer.objects.values_list("status", flat=True)) == {"applied"}
    assert Volunteer.objects.get(name="张红").team.name == "党员志愿服务队"

    from providers.exporter import export

    out = tmp_path / "out.xlsx"
    assert export(user=worker, what="volunteer", out=str(out)) == 2
    exported = read_xlsx(str(out))
    assert exported[1][3] == "139****5678"

    again = import_sheet(str(out), by=worker, what="volunteer")
    assert again.rejected == 2 and not again.written
    assert {e.column for e in again.errors} == {"联系电话"}
    err = tmp_path / "err.xlsx"
    from elders.importer.report import write_error_report

    write_error_report(again, str(err))
    assert [r[2] for r in read_xlsx(str(err))[1:]] == ["张红", "李华"]


def test_templates_download(tree, org, client):
    client.force_login(f.org_user(org))

    response = client.get("/providers/staff/import/template.xlsx")

    assert response.status_code == 200
    header = read_xlsx(response.content)[0]
    assert "姓名*" in header and "人员类别*" in header
