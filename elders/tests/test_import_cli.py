"""python manage.py import_elders: exit 0 all imported, 1 rows rejected, 2 file unreadable;
the console operator is recorded; --user narrows the scope to that user's region."""

import io

import pytest
from django.core.management import call_command

from audit.models import AccessLog, ChangeRecord
from core import crypto
from elders.models import Elder, EmergencyContact
from elders.tests.sheets import COLUMN, HEADER, id_number, person, read_xlsx, write_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def os_user(monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "zhangwei")
    return "zhangwei"


def import_elders(*args):
    """Run the command; return (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_elders", *[str(a) for a in args], stdout=out, stderr=err)
    return exit_info.value.code, out.getvalue(), err.getvalue()


def counts():
    return Elder.objects.count(), EmergencyContact.objects.count(), ChangeRecord.objects.filter(model="elders.elder").count()


@pytest.fixture
def good_file(tmp_path):
    return write_xlsx(tmp_path / "名单.xlsx", [person(1), person(2), person(3)])


@pytest.fixture
def file_with_a_bad_row(tmp_path):
    return write_xlsx(tmp_path / "名单.xlsx", [person(1), person(2, 所属社区="幸福社区"), person(3)])


def test_exits_0_when_every_row_is_imported(tree, good_file):
    status, out, _err = import_elders(good_file)

    assert status == 0
    assert Elder.objects.count() == 3
    assert "新增 3" in out


def test_without_user_acts_for_the_whole_tree(tree, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [person(1, 所属社区="安泰社区"), person(2, 所属社区="驻春路社区")])

    status, _out, _err = import_elders(path)

    assert status == 0
    assert set(Elder.objects.values_list("region", flat=True)) == {tree.community.pk, tree.community2.pk}


def test_without_user_records_the_console_operator_in_history_and_access_log(tree, good_file, os_user):
    import_elders(good_file)

    records = ChangeRecord.objects.filter(model="elders.elder", action="import")
    assert records.count() == 3
    assert {r.by.username for r in records} == {f"console:{os_user}"}
    log = AccessLog.objects.get(kind="import")
    assert log.by.username == f"console:{os_user}"
    assert log.detail["created"] == 3


def test_console_operator_cannot_log_in(tree, good_file, os_user, client):
    from accounts.models import User

    import_elders(good_file)

    operator = User.objects.get(username=f"console:{os_user}")
    assert operator.is_active is False
    assert client.login(username=operator.username, password="") is False


def test_exits_1_and_writes_nothing_when_a_row_is_rejected(tree, file_with_a_bad_row):
    before = counts()

    status, out, _err = import_elders(file_with_a_bad_row)

    assert status == 1
    assert counts() == before
    assert "第3行 [所属社区]" in out
    assert "未写入" in out


def test_skip_invalid_exits_1_and_imports_the_good_rows(tree, file_with_a_bad_row):
    status, _out, _err = import_elders(file_with_a_bad_row, "--skip-invalid")

    assert status == 1
    assert Elder.objects.count() == 2


def test_dry_run_exits_0_and_writes_nothing(tree, good_file):
    status, out, _err = import_elders(good_file, "--dry-run")

    assert status == 0
    assert counts() == (0, 0, 0)
    assert not AccessLog.objects.filter(kind="import").exists()
    assert "将新增 3" in out and "试导入" in out


def test_dry_run_with_a_bad_row_exits_1(tree, file_with_a_bad_row):
    status, _out, _err = import_elders(file_with_a_bad_row, "--dry-run")

    assert status == 1
    assert Elder.objects.count() == 0


def test_errors_out_writes_the_bad_rows_with_their_reason(tree, file_with_a_bad_row, tmp_path):
    errors = tmp_path / "错误行.xlsx"

    status, _out, _err = import_elders(file_with_a_bad_row, "--errors-out", errors)

    assert status == 1
    header, *body = read_xlsx(errors)
    assert header[: len(HEADER) + 1] == [*HEADER, "错误原因"]
    assert [r[COLUMN["身份证号"]] for r in body] == [id_number(2)]


def test_errors_out_is_not_written_when_every_row_is_good(tree, good_file, tmp_path):
    errors = tmp_path / "错误行.xlsx"

    import_elders(good_file, "--errors-out", errors)

    assert not errors.exists()


def test_reimport_of_the_same_file_exits_0_without_duplicates(tree, good_file):
    import_elders(good_file)
    before = counts()

    status, out, _err = import_elders(good_file)

    assert status == 0
    assert counts() == before
    assert "无变化 3" in out


def test_exits_2_when_the_file_is_not_a_workbook(tree, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_text("姓名,身份证号\n冷国兴,110105194912310021\n", encoding="utf-8")

    status, _out, err = import_elders(path)

    assert status == 2
    assert "无法读取文件" in err
    assert Elder.objects.count() == 0


def test_exits_2_when_the_sheet_has_no_header(tree, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [["冷国兴", id_number(1)]], header=["甲", "乙"])

    status, _out, err = import_elders(path)

    assert status == 2
    assert "没有找到表头" in err


def test_exits_2_when_the_file_does_not_exist(tree, tmp_path):
    status, _out, err = import_elders(tmp_path / "nowhere.xlsx")

    assert status == 2
    assert "nowhere.xlsx" in err


def test_with_user_of_another_community_a_row_for_antai_is_refused(tree, worker_in_other_region, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [person(1, 所属社区="安泰社区"), person(2, 所属社区="驻春路社区")])

    status, out, _err = import_elders(path, "--user", "community2")

    assert status == 1
    assert Elder.objects.count() == 0
    assert "第2行 [所属社区]" in out


def test_with_user_imports_into_their_community_and_records_them(tree, worker_in_other_region, tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", [person(2, 所属社区="驻春路社区")])

    status, _out, _err = import_elders(path, "--user", "community2")

    assert status == 0
    elder = Elder.objects.get(id_number_hash=crypto.lookup_hash(id_number(2)))
    assert elder.region == tree.community2
    assert ChangeRecord.objects.get(model="elders.elder", object_id=elder.pk).by == worker_in_other_region


def test_with_an_unknown_user_exits_2(tree, good_file):
    status, _out, err = import_elders(good_file, "--user", "nobody")

    assert status == 2
    assert "nobody" in err
    assert Elder.objects.count() == 0


def test_with_a_user_without_import_permission_exits_2_and_writes_nothing(tree, city_user, good_file):
    status, _out, err = import_elders(good_file, "--user", "city")

    assert status == 2
    assert "权限" in err
    assert Elder.objects.count() == 0


def test_a_hostile_workbook_exits_2_with_the_reason_and_writes_nothing(tree, tmp_path):
    from elders.tests.hostile import far_cell

    path = tmp_path / "名单.xlsx"
    path.write_bytes(far_cell("XFD1048576"))

    status, _out, err = import_elders(path)

    assert status == 2
    assert "16384 列" in err
    assert Elder.objects.count() == 0
