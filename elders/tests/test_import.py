"""The Excel import service: messy sheets read right, bad rows refused with a reason, and
nothing half-written — all or nothing by default, only the good rows with skip_invalid."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.models import AccessLog, ChangeRecord
from core import crypto
from elders.importer import UnreadableFile, import_elders, write_error_report
from elders.models import Elder, EmergencyContact
from elders.tests.factories import ElderFactory, born_years_ago
from elders.tests.sheets import COLUMN, HEADER, id_number, person, read_xlsx, xlsx
from regions.models import Level
from regions.services import region_create

pytestmark = pytest.mark.django_db


def run(rows, *, by, sheet_options=None, **options):
    return import_elders(io.BytesIO(xlsx(rows, **(sheet_options or {}))), by=by, filename="名单.xlsx", **options)


def counts():
    return Elder.objects.count(), EmergencyContact.objects.count(), ChangeRecord.objects.filter(model="elders.elder").count()


def elder_by_number(number):
    return Elder.objects.get(id_number_hash=crypto.lookup_hash(number))


def messages_of(report, row=None):
    return [e.message for e in report.errors if row is None or e.row == row]


# --- a good sheet ---------------------------------------------------------------------------------


def test_good_sheet_creates_every_elder_with_contact_and_import_history(worker):
    report = run([person(1, 姓名="冷国兴"), person(2, 姓名="单井英")], by=worker)

    assert (report.created, report.rejected, report.written) == (2, 0, True)
    elder = elder_by_number(id_number(1))
    assert elder.name == "冷国兴"
    assert elder.region == worker.region
    assert (elder.hukou, elder.living_arrangement, elder.marital_status) == ("urban", "alone", "widowed")
    assert elder.birth_date == datetime.date(1949, 12, 31)
    assert crypto.decrypt(elder.phone_enc) == "13812340001"
    assert [(c.name, crypto.decrypt(c.phone_enc), c.is_primary) for c in elder.contacts.all()] == [
        ("李小红", "13900001111", True)
    ]
    assert ChangeRecord.objects.filter(model="elders.elder", action="import", by=worker).count() == 2


def test_import_writes_one_access_log_of_kind_import(worker):
    run([person(1), person(2)], by=worker)

    log = AccessLog.objects.get(kind="import")
    assert log.by == worker
    assert (log.detail["created"], log.detail["rejected"]) == (2, 0)


def test_user_without_import_permission_is_refused(city_user):
    with pytest.raises(PermissionDenied):
        run([person(1)], by=city_user)

    assert Elder.objects.count() == 0


# --- messy sheets ---------------------------------------------------------------------------------


def test_title_row_above_the_header_is_skipped(worker):
    report = run([person(1)], by=worker, sheet_options={"title": "安泰社区60岁以上老年人花名册(2024年)"})

    assert report.header_row == 2
    assert report.created == 1
    assert Elder.objects.count() == 1


def test_community_merged_down_several_rows_belongs_to_each_row(worker):
    rows = [person(1), person(2, 所属社区=None), person(3, 所属社区=None)]
    # header on row 1, people on rows 2–4; 所属社区 is column G
    report = run(rows, by=worker, sheet_options={"merges": ["G2:G4"]})

    assert (report.created, report.rejected) == (3, 0)
    assert set(Elder.objects.values_list("region", flat=True)) == {worker.region.pk}


def test_merged_community_under_a_title_row_still_fills_every_row(worker):
    rows = [person(1), person(2, 所属社区=None)]
    report = run(rows, by=worker, sheet_options={"title": "花名册", "merges": ["G3:G4"]})

    assert (report.created, report.rejected) == (2, 0)


def test_full_width_digits_and_letters_are_read_as_half_width(worker):
    number = id_number(2)  # ends in X
    assert number.endswith("X")
    wide = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))

    report = run([person(2, 身份证号=wide, 联系电话="１３８１２３４５６７８")], by=worker)

    assert report.created == 1
    elder = elder_by_number(number)
    assert crypto.decrypt(elder.phone_enc) == "13812345678"


def test_leading_inner_and_trailing_spaces_are_removed(worker):
    number = id_number(1)
    spaced = f" {number[:6]} {number[6:14]} {number[14:]} "
    report = run([person(1, 姓名=" 冷 国兴 ", 身份证号=spaced, 所属社区="  安泰社区 ", 联系电话=" 138 1234 5678 ")], by=worker)

    assert report.created == 1
    elder = elder_by_number(number)
    assert elder.name == "冷国兴"
    assert crypto.decrypt(elder.phone_enc) == "13812345678"


def test_lowercase_x_is_read_as_upper_case(worker):
    number = id_number(2)
    report = run([person(2, 身份证号=number.lower())], by=worker)

    assert report.created == 1
    assert crypto.decrypt(elder_by_number(number).id_number_enc) == number


def test_fifteen_digit_old_id_number_is_stored_as_its_eighteen_digit_form(worker):
    number = id_number(3, born=datetime.date(1950, 3, 8))
    old = number[:6] + number[8:17]  # 15 digits: no century, no check digit

    report = run([person(3, 身份证号=old)], by=worker)

    assert report.created == 1
    elder = elder_by_number(number)
    assert elder.birth_date == datetime.date(1950, 3, 8)
    assert elder.sex == "M"


def test_fifteen_digit_id_number_stored_as_an_excel_number_is_accepted(worker):
    number = id_number(3, born=datetime.date(1950, 3, 8))
    old = int(number[:6] + number[8:17])

    report = run([person(3, 身份证号=old)], by=worker)

    assert report.created == 1
    assert elder_by_number(number)


def test_id_number_excel_stored_as_a_number_is_refused_because_its_last_digits_are_lost(worker):
    number = id_number(1)
    as_excel_keeps_it = float(number)  # 15 significant digits: the last ones are gone

    report = run([person(1, 身份证号=as_excel_keeps_it)], by=worker)

    assert report.rejected == 1
    [error] = report.errors
    assert error.column == "身份证号"
    assert "存成了数字" in error.message and "文本" in error.message
    assert Elder.objects.count() == 0


def test_id_number_shown_in_scientific_notation_is_refused(worker):
    report = run([person(1, 身份证号="1.10105E+17")], by=worker)

    assert report.rejected == 1
    assert "科学计数法" in messages_of(report)[0]


def test_id_number_with_a_wrong_check_digit_is_refused_naming_the_18th_digit(worker):
    number = id_number(1)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")

    report = run([person(1, 身份证号=wrong)], by=worker)

    assert [(e.row, e.column) for e in report.errors] == [(2, "身份证号")]
    assert "第18位" in report.errors[0].message


def test_birth_date_as_text_or_as_an_excel_date_is_accepted_when_it_agrees(worker):
    header = [*HEADER, "出生日期"]
    rows = [
        [*person(1), "1949年12月31日"],
        [*person(2), "1949/12/31"],
        [*person(3), datetime.datetime(1949, 12, 31)],
    ]

    report = run(rows, by=worker, sheet_options={"header": header, "date_columns": [len(HEADER)]})

    assert (report.created, report.rejected) == (3, 0)


def test_birth_date_that_disagrees_with_the_id_number_is_refused(worker):
    header = [*HEADER, "出生日期"]
    rows = [[*person(1), datetime.datetime(1950, 1, 1)]]

    report = run(rows, by=worker, sheet_options={"header": header, "date_columns": [len(HEADER)]})

    assert report.rejected == 1
    assert report.errors[0].column == "出生日期"
    assert "与身份证号不一致" in report.errors[0].message


def test_blank_rows_are_skipped_and_not_counted(worker):
    blank = [None] * len(HEADER)
    spaces = ["  "] * len(HEADER)
    report = run([person(1), blank, spaces, person(2), blank], by=worker)

    assert (report.total_rows, report.created, report.rejected) == (2, 2, 0)


def test_row_numbers_in_errors_are_the_rows_excel_shows(worker):
    blank = [None] * len(HEADER)
    rows = [person(1), blank, person(2, 姓名="")]

    report = run(rows, by=worker, sheet_options={"title": "花名册"})

    # title row 1, header row 2, people from row 3; the blank row is row 4
    assert [(e.row, e.column) for e in report.errors] == [(5, "姓名")]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("+86 138 1234 5678", "13812345678"),
        ("+86-13812345678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("0531-88881234", "0531-88881234"),
        ("(0531)8888-1234", "0531-88881234"),
        ("010 6552 1234", "010-65521234"),
    ],
)
def test_phones_with_plus_86_dashes_or_area_codes_are_normalised(worker, typed, stored):
    report = run([person(1, 联系电话=typed)], by=worker)

    assert report.created == 1
    assert crypto.decrypt(elder_by_number(id_number(1)).phone_enc) == stored


def test_landline_without_its_area_code_is_refused(worker):
    report = run([person(1, 联系电话="88881234")], by=worker)

    assert report.rejected == 1
    assert report.errors[0].column == "联系电话"
    assert "区号" in report.errors[0].message


def test_community_given_by_its_twelve_digit_code_is_found(worker, tree):
    report = run([person(1, 所属社区="990102001001"), person(2, 所属社区=990102001001)], by=worker)

    assert report.created == 2
    assert set(Elder.objects.values_list("region", flat=True)) == {tree.community.pk}


def test_unknown_community_name_is_refused(worker):
    report = run([person(1, 所属社区="幸福社区")], by=worker)

    assert report.rejected == 1
    assert report.errors[0].column == "所属社区"
    assert "幸福社区" in report.errors[0].message


def test_unknown_community_code_is_refused(worker):
    report = run([person(1, 所属社区="990102009009")], by=worker)

    assert report.rejected == 1
    assert "990102009009" in report.errors[0].message


@pytest.fixture
def second_antai(tree):
    """Another 安泰社区, in 和平路街道: the name alone is ambiguous for a user above both streets."""
    return region_create(name="安泰社区", level=Level.COMMUNITY, parent=tree.street2, code="990102002002")


def test_community_name_shared_by_two_streets_is_refused_as_ambiguous(admin_user, second_antai):
    report = run([person(1)], by=admin_user)

    assert report.rejected == 1
    assert "2个社区" in report.errors[0].message
    assert Elder.objects.count() == 0


def test_street_and_community_name_resolve_an_ambiguous_name(admin_user, second_antai, tree):
    report = run([person(1, 所属社区="和平路街道/安泰社区"), person(2, 所属社区="990102001001")], by=admin_user)

    assert report.created == 2
    assert elder_by_number(id_number(1)).region == second_antai
    assert elder_by_number(id_number(2)).region == tree.community


def test_community_name_shared_outside_the_users_scope_is_not_ambiguous_for_them(worker, second_antai, tree):
    report = run([person(1)], by=worker)

    assert report.created == 1
    assert elder_by_number(id_number(1)).region == tree.community


def test_same_person_twice_in_one_file_is_refused_naming_the_first_row(worker):
    number = id_number(1)
    old = number[:6] + number[8:17]
    report = run([person(1), person(2), person(1, 身份证号=old.lower())], by=worker)

    assert report.rejected == 1
    assert [(e.row, e.column) for e in report.errors] == [(4, "身份证号")]
    assert "第2行" in report.errors[0].message
    assert Elder.objects.count() == 0


def test_person_under_the_age_threshold_is_refused(worker):
    young = id_number(5, born=born_years_ago(60, days=1))
    report = run([person(5, 身份证号=young)], by=worker)

    assert report.rejected == 1
    assert "未满60周岁" in report.errors[0].message


def test_person_who_turned_sixty_today_is_accepted(worker):
    report = run([person(5, 身份证号=id_number(5, born=born_years_ago(60)))], by=worker)

    assert report.created == 1


def test_header_aliases_real_sheets_use_are_recognised(worker):
    header = ["老人姓名", "身份证号码", "手机号", "社区", "家庭住址"]
    rows = [["冷国兴", id_number(1), "13812345678", "安泰社区", "经济房15号楼"]]

    report = run(rows, by=worker, sheet_options={"header": header})

    assert report.created == 1
    assert elder_by_number(id_number(1)).address == "经济房15号楼"


def test_unknown_columns_are_ignored_with_a_warning(worker):
    report = run([[*person(1), "x"]], by=worker, sheet_options={"header": [*HEADER, "鞋码"]})

    assert report.created == 1
    assert any("鞋码" in w for w in report.warnings)


# --- all or nothing, skip invalid, dry run --------------------------------------------------------


def test_one_bad_row_means_nothing_is_written(worker):
    ElderFactory(region=worker.region)
    before = counts()

    report = run([person(1), person(2, 身份证号="123"), person(3)], by=worker)

    assert counts() == before
    assert (report.rejected, report.written) == (1, False)
    assert not AccessLog.objects.filter(kind="import").exists()


def test_one_bad_row_among_updates_means_no_existing_elder_is_changed(worker):
    run([person(1, 姓名="冷国兴")], by=worker)
    before = counts()

    report = run([person(1, 姓名="冷国兴", 详细地址="新地址"), person(2, 所属社区="幸福社区")], by=worker)

    assert report.written is False
    assert counts() == before
    assert elder_by_number(id_number(1)).address == "安泰小区1号楼"


def test_every_bad_row_is_reported_not_only_the_first(worker):
    report = run([person(1, 姓名=""), person(2), person(3, 身份证号=""), person(4, 所属社区="")], by=worker)

    assert sorted({e.row for e in report.errors}) == [2, 4, 5]
    assert report.rejected == 3


def test_skip_invalid_imports_only_the_good_rows(worker):
    report = run([person(1), person(2, 身份证号="123"), person(3)], by=worker, skip_invalid=True)

    assert (report.created, report.rejected, report.written) == (2, 1, True)
    assert Elder.objects.count() == 2
    assert EmergencyContact.objects.count() == 2
    assert ChangeRecord.objects.filter(action="import").count() == 2


def test_dry_run_writes_nothing_but_reports_what_would_be_created_and_updated(worker):
    run([person(1)], by=worker)
    before = counts()
    logs = AccessLog.objects.count()

    report = run([person(1, 详细地址="新地址"), person(2), person(3)], by=worker, dry_run=True)

    assert counts() == before
    assert AccessLog.objects.count() == logs
    assert (report.created, report.updated, report.written) == (2, 1, False)
    assert sorted((p["row"], p["action"]) for p in report.preview) == [(2, "update"), (3, "create"), (4, "create")]
    assert elder_by_number(id_number(1)).address == "安泰小区1号楼"


def test_dry_run_still_reports_the_bad_rows(worker):
    report = run([person(1), person(2, 所属社区="幸福社区")], by=worker, dry_run=True)

    assert (report.created, report.rejected) == (1, 1)
    assert [e.row for e in report.errors] == [3]


# --- re-import ------------------------------------------------------------------------------------


def test_reimport_of_the_same_file_creates_no_duplicates_and_records_nothing(worker):
    rows = [person(1), person(2), person(3)]
    run(rows, by=worker)
    before = counts()

    report = run(rows, by=worker)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
    assert counts() == before


def test_reimport_updates_changed_people_and_records_import_history_for_them_only(worker):
    run([person(1), person(2), person(3)], by=worker)
    changed = elder_by_number(id_number(2))

    report = run([person(1), person(2, 详细地址="经济房15号楼7单元", 联系电话="13999998888"), person(3)], by=worker)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert Elder.objects.count() == 3
    changed.refresh_from_db()
    assert changed.address == "经济房15号楼7单元"
    assert crypto.decrypt(changed.phone_enc) == "13999998888"
    assert changed.phone_tail == "8888"
    [record] = ChangeRecord.objects.filter(model="elders.elder", action="import", object_id=changed.pk).order_by("-id")[:1]
    assert record.changes["address"] == ["安泰小区2号楼", "经济房15号楼7单元"]
    assert record.changes["phone"] == ["138****0002", "139****8888"]
    imports = ChangeRecord.objects.filter(model="elders.elder", action="import")
    assert imports.count() == 4  # three creates, one update


def test_reimport_with_a_new_contact_replaces_the_primary_contact(worker):
    run([person(1)], by=worker)
    elder = elder_by_number(id_number(1))

    run([person(1, 紧急联系人="王大明", 紧急联系人电话="13700002222")], by=worker)

    assert [(c.name, crypto.decrypt(c.phone_enc)) for c in elder.contacts.all()] == [("王大明", "13700002222")]


def test_reimport_with_a_new_name_updates_the_pinyin_search_keys(worker):
    run([person(1, 姓名="冷国兴")], by=worker)

    run([person(1, 姓名="单井英")], by=worker)

    elder = elder_by_number(id_number(1))
    assert (elder.name, elder.name_pinyin, elder.name_initials) == ("单井英", "shanjingying", "sjy")


def test_id_number_registered_in_another_community_is_refused_without_saying_where(worker, tree):
    ElderFactory(region=tree.community2, id_number=id_number(1), name="冷国兴")

    report = run([person(1)], by=worker)

    assert report.rejected == 1
    message = report.errors[0].message
    assert "其他辖区" in message
    assert "驻春路" not in message and "冷国兴" not in message
    assert Elder.objects.count() == 1


# --- scope ----------------------------------------------------------------------------------------


def test_row_for_a_community_outside_the_users_scope_is_refused(worker_in_other_region):
    report = run([person(1, 所属社区="安泰社区"), person(2, 所属社区="990102001001")], by=worker_in_other_region)

    assert report.rejected == 2
    assert all(e.column == "所属社区" for e in report.errors)
    assert Elder.objects.count() == 0


# --- the error report -----------------------------------------------------------------------------


def error_report_rows(report):
    out = io.BytesIO()
    write_error_report(report, out)
    return out.getvalue(), read_xlsx(out.getvalue())


def test_error_report_holds_only_bad_rows_under_the_original_header_with_a_reason(worker):
    number = id_number(1)
    rows = [person(1), person(2, 所属社区="幸福社区"), person(3), person(4, 联系电话="88881234")]
    report = run(rows, by=worker, sheet_options={"title": "花名册"})

    _data, sheet = error_report_rows(report)

    header, *body = [r for r in sheet if any(c not in ("", None) for c in r)]
    assert header[: len(HEADER)] == HEADER
    assert header[len(HEADER)] == "错误原因"
    assert [r[COLUMN["身份证号"]] for r in body] == [id_number(2), id_number(4)]
    assert number not in [r[COLUMN["身份证号"]] for r in body]
    assert "幸福社区" in body[0][len(HEADER)]
    assert "区号" in body[1][len(HEADER)]


def test_error_report_keeps_id_numbers_as_text(worker):
    old = id_number(3)[:6] + id_number(3)[8:17]
    rows = [person(1, 所属社区="幸福社区"), person(3, 身份证号=int(old), 所属社区="幸福社区")]
    report = run(rows, by=worker)

    _data, sheet = error_report_rows(report)

    ids = [r[COLUMN["身份证号"]] for r in sheet[1:]]
    assert ids == [id_number(1), old]
    assert all(isinstance(v, str) for v in ids)


def test_error_report_fixed_and_uploaded_again_imports_the_fixed_rows(worker):
    from openpyxl import load_workbook

    report = run([person(1), person(2, 所属社区="幸福社区"), person(3, 联系电话="88881234")], by=worker, skip_invalid=True)
    assert report.created == 1
    data, _sheet = error_report_rows(report)
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    sheet.cell(row=2, column=COLUMN["所属社区"] + 1, value="安泰社区")
    sheet.cell(row=3, column=COLUMN["联系电话"] + 1, value="0531-88881234")
    fixed = io.BytesIO()
    book.save(fixed)
    fixed.seek(0)

    again = import_elders(fixed, by=worker, filename="名单-错误行.xlsx")

    assert (again.created, again.rejected, again.written) == (2, 0, True)
    assert Elder.objects.count() == 3


# --- files that cannot be read --------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_unreadable(worker):
    with pytest.raises(UnreadableFile) as info:
        import_elders(io.BytesIO(b"name,id\n"), by=worker)

    assert "无法读取文件" in str(info.value)


def test_a_sheet_without_a_header_row_is_unreadable(worker):
    with pytest.raises(UnreadableFile) as info:
        run([["冷国兴", id_number(1)]], by=worker, sheet_options={"header": ["甲", "乙"]})

    assert "没有找到表头" in str(info.value)


def test_a_sheet_without_the_community_column_is_unreadable(worker):
    with pytest.raises(UnreadableFile) as info:
        run([["冷国兴", id_number(1)]], by=worker, sheet_options={"header": ["姓名", "身份证号"]})

    assert "所属社区" in str(info.value)


def test_row_numbers_stay_right_when_the_sheet_starts_below_blank_rows(worker):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    # rows 1–2 empty, the header on row 3 starting in column B
    for col, header in enumerate(HEADER, start=2):
        sheet.cell(row=3, column=col, value=header)
    for col, value in enumerate(person(1, 所属社区="幸福社区"), start=2):
        sheet.cell(row=4, column=col, value=value)
    data = io.BytesIO()
    book.save(data)
    data.seek(0)

    report = import_elders(data, by=worker)

    assert report.header_row == 3
    assert [(e.row, e.column) for e in report.errors] == [(4, "所属社区")]


def test_community_code_in_full_width_digits_is_found(worker, tree):
    wide = "990102001001".translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    report = run([person(1, 所属社区=wide)], by=worker)

    assert (report.created, report.rejected) == (1, 0)
    assert elder_by_number(id_number(1)).region == tree.community


def test_community_name_with_full_width_spaces_around_it_is_found(worker):
    report = run([person(1, 所属社区="\u3000安泰社区\u3000")], by=worker)

    assert report.created == 1


def test_phone_excel_stored_as_a_number_is_read(worker):
    report = run([person(1, 联系电话=13812345678, 紧急联系人电话=13900001111)], by=worker)

    assert report.created == 1
    assert crypto.decrypt(elder_by_number(id_number(1)).phone_enc) == "13812345678"


def test_birth_date_as_a_bare_excel_serial_number_is_read_as_a_date(worker):
    serial = (datetime.date(1949, 12, 31) - datetime.date(1899, 12, 30)).days

    report = run([[*person(1), serial]], by=worker, sheet_options={"header": [*HEADER, "出生日期"]})

    assert (report.created, report.rejected) == (1, 0)


@settings(max_examples=200, deadline=None)
@given(
    born=st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1960, 12, 31)),  # 19xx: the 15-digit form
    sequence=st.integers(0, 999),
    form=st.sampled_from(["plain", "lower", "full_width", "spaced", "old"]),
)
def test_every_messy_form_of_an_id_number_cleans_to_the_same_number(born, sequence, form):
    from core.idnumbers import parse_id_number
    from elders.importer.read import _id_cell

    number = id_number(sequence, born=born)
    typed = {
        "plain": number,
        "lower": number.lower(),
        "full_width": number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")),
        "spaced": f" {number[:6]} {number[6:14]}\u3000{number[14:]} ",
        # the 15-digit form leaves out the century (always 19) and the check digit
        "old": number[:6] + number[8:17],
    }[form]

    assert parse_id_number(_id_cell(typed)).number == number


# --- big files: rows checked by worker processes ----------------------------------------------------


@pytest.fixture
def parallel(monkeypatch):
    """The path a big file takes (two forked checkers, a window of chunks ahead of the writer),
    on a small sheet: every file counts as big and a chunk is three rows."""
    from elders.importer import check

    monkeypatch.setattr(check, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(check, "CHUNK_ROWS", 3)
    monkeypatch.setattr(check, "WINDOW", 2)


def test_big_file_checked_by_workers_imports_every_row_in_sheet_order(worker, parallel):
    rows = [person(n, 姓名=f"王{'秀兰建国淑珍'[n % 6]}") for n in range(1, 23)]

    report = run(rows, by=worker)

    assert (report.total_rows, report.created, report.rejected, report.written) == (22, 22, 0, True)
    assert [p["row"] for p in report.preview] == list(range(2, 22))  # sheet rows, in order
    assert counts() == (22 + 0, 22, 22)
    assert Elder.objects.filter(region=worker.region, name__startswith="王").count() == 22


def test_big_file_with_a_bad_row_and_a_repeat_writes_nothing_and_reports_both(worker, parallel):
    rows = [person(n) for n in range(1, 20)]
    rows[12][COLUMN["身份证号"]] = "110105194912310000"  # wrong check digit, sheet row 14
    rows[17][COLUMN["身份证号"]] = id_number(3)  # the person of sheet row 4 again, sheet row 19

    report = run(rows, by=worker)

    assert (report.created, report.rejected, report.written) == (17, 2, False)
    assert sorted({e.row for e in report.errors}) == [14, 19]
    assert any("第4行" in m for m in messages_of(report, 19))
    assert counts() == (0, 0, 0)


def test_big_file_with_skip_invalid_writes_only_the_good_rows(worker, parallel):
    rows = [person(n) for n in range(1, 11)]
    rows[4][COLUMN["所属社区"]] = "不存在社区"

    report = run(rows, by=worker, skip_invalid=True)

    assert (report.created, report.rejected, report.written) == (9, 1, True)
    assert counts() == (9, 9, 9)


def test_lookup_of_registered_elders_by_a_thousand_id_hashes_can_use_the_unique_index(worker):
    """With seq scans priced out, the plan must still reach elder_id_number_unique: PostgreSQL
    cannot see the partial index's condition in an IN list of over 100 values by itself, and
    without it every chunk of an import scanned the whole register."""
    from django.db import connection, transaction

    from elders.importer.check import CHUNK_ROWS
    from elders.importer.write import registered_by_hash

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner rule")
    hashes = [crypto.lookup_hash(id_number(n % 1000, born=datetime.date(1940 + n // 1000, 1, 1))) for n in range(CHUNK_ROWS)]
    sql, params = registered_by_hash(hashes, fields=["id"]).query.sql_with_params()  # the elder table alone
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "elder_id_number_unique" in plan, plan
