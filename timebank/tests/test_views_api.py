"""The time bank's pages and API, and the import of a sheet of transfers, end to end through the
test client. Those that post coins are marked `needs_ledger` (they run after h/tbledger)."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from timebank.models import DeskCode, Member, MemberStatus, Proxy
from timebank.tests.conftest import needs_ledger

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_members_list_shows_the_banks_members(desk_user, member):
    response = client_for(desk_user).get("/timebank/")

    assert response.status_code == 200
    assert "王秀英" in response.content.decode()


def test_another_community_sees_none(member, worker_in_other_region):
    response = client_for(worker_in_other_region).get("/timebank/")

    assert "王秀英" not in response.content.decode()
    assert client_for(worker_in_other_region).get(f"/timebank/members/{member.pk}/").status_code == 404


def test_join_and_approve_through_the_pages(desk_user, bank, tree):
    c = client_for(desk_user)
    response = c.post(
        f"/timebank/banks/{bank.pk}/join/",
        {"name": "赵桂兰", "region": tree.grid.pk, "birth_date": "1955-04-01", "phone": "13900001111"},
    )
    member = Member.objects.get(name="赵桂兰")
    assert response.status_code == 302 and member.status == MemberStatus.PENDING

    c.post(f"/timebank/members/{member.pk}/decide/", {"decision": "approve"})

    member.refresh_from_db()
    assert member.status == MemberStatus.ACTIVE and member.account.balance_minutes == 0


def test_join_too_young_shows_the_rule_on_the_form(desk_user, bank, tree):
    response = client_for(desk_user).post(
        f"/timebank/banks/{bank.pk}/join/", {"name": "小李", "region": tree.grid.pk, "birth_date": "2015-01-01"}
    )

    assert response.status_code == 422
    assert "年满 18 周岁" in response.content.decode()


def test_a_proxy_is_registered_on_the_member_page(desk_user, member, member_user):
    response = client_for(desk_user).post(
        f"/timebank/members/{member.pk}/proxies/",
        {
            "name": "王小红",
            "relation": "女儿",
            "account": member_user.username,
            "can_view": "on",
            "can_give": "on",
            "consent_note": "授权书",
        },
    )

    assert response.status_code == 302
    proxy = Proxy.objects.get(member=member)
    assert proxy.user == member_user and proxy.can_give and not proxy.can_spend


def test_the_code_is_sent_and_never_shown(desk_user, member, member_user, monkeypatch):
    sent = []
    monkeypatch.setattr("core.notify.notify", lambda ids, subject, body: sent.append(body))
    Member.objects.filter(pk=member.pk).update(user=member_user)
    c = client_for(desk_user)

    response = c.post(f"/timebank/desk/{member.pk}/code/", follow=True)

    assert DeskCode.objects.filter(member=member).count() == 1
    code = sent[0].split("验证码是 ")[1][:6]
    assert code.isdigit() and code not in response.content.decode()


def test_a_desk_record_with_a_bad_image_is_refused_in_chinese(desk_user, member):
    response = client_for(desk_user).post(
        f"/timebank/desk/{member.pk}/",
        {
            "action": "withdraw",
            "minutes": "30",
            "confirmation": "signature",
            "signature": SimpleUploadedFile("x.png", b"<svg/>", content_type="image/png"),
        },
    )

    assert response.status_code == 422
    assert "PNG 或 JPEG" in response.content.decode()


def level_rows(*rows, extra=1) -> dict:
    """The settings form's level rows (label, hours, rating, incentive) as a browser posts them."""
    data = {"level-TOTAL_FORMS": str(len(rows) + extra), "level-INITIAL_FORMS": "0"}
    for i, (label, hours, rating, incentive) in enumerate(rows):
        data |= {f"level-{i}-label": label, f"level-{i}-min_hours": hours, f"level-{i}-min_rating": rating}
        data |= {f"level-{i}-incentive": incentive}
    return data


def settings_form(bank, **extra) -> dict:
    from timebank.models import Category

    form = {"name": bank.name, "credit_line_minutes": "0", "residence": "on", "approval": "on", "min_age": "18"}
    return form | {f"rate_{c}": "1000" for c in Category.values} | extra


def test_the_settings_page_shows_the_levels_as_rows_in_hours(desk_user, bank):
    page = client_for(desk_user).get(f"/timebank/banks/{bank.pk}/settings/").content.decode()

    assert 'name="level-0-label" value="一星义工"' in page and 'name="level-0-min_hours" value="10.0"' in page
    assert 'name="level-2-min_rating" value="4.5"' in page


def test_levels_edited_in_the_form_are_kept_in_minutes(desk_user, bank):
    rows = level_rows(("一星义工", "10", "", "颁发证书"), ("二星义工", "25.5", "4.2", "免费体检"))

    response = client_for(desk_user).post(f"/timebank/banks/{bank.pk}/settings/", settings_form(bank) | rows)

    bank.refresh_from_db()
    assert response.status_code == 302
    assert [(lv["label"], lv["min_minutes"], lv["min_rating"], lv["incentive"]) for lv in bank.levels] == [
        ("一星义工", 600, 0.0, "颁发证书"),
        ("二星义工", 1530, 4.2, "免费体检"),
    ]


@pytest.mark.parametrize(
    ("rows", "words"),
    [
        ((("一星", "30", "", ""), ("二星", "10", "", "")), "第 2 级的“服务时长下限（小时）”应高于第 1 级的 30 小时"),
        ((("一星", "10", "", ""), ("二星", "10", "", "")), "应高于第 1 级的 10 小时"),
        ((("一星", "10", "4.5", ""), ("二星", "20", "4.0", "")), "第 2 级的“评分下限（0–5）”不能低于第 1 级的 4.5 分"),
        ((("一星", "-1", "", ""),), "“服务时长下限（小时）”不能为负数"),
        ((("一星", "10", "6", ""),), "“评分下限（0–5）”不能超过 5"),
        ((("一星", "abc", "", ""),), "“服务时长下限（小时）”请填写数字"),
        ((("", "10", "", ""),), "请填写第 1 级的“星级名称”"),
        ((("一星", "", "4", "证书"),), "请填写第 1 级的“服务时长下限（小时）”"),
    ],
)
def test_bad_levels_are_refused_beside_the_field_in_chinese(desk_user, bank, rows, words):
    before = list(bank.levels)

    response = client_for(desk_user).post(f"/timebank/banks/{bank.pk}/settings/", settings_form(bank) | level_rows(*rows))

    bank.refresh_from_db()
    assert response.status_code == 422
    assert words in response.content.decode()
    assert bank.levels == before


def test_a_level_row_ticked_for_deletion_goes(desk_user, bank):
    rows = level_rows(("一星义工", "10", "", ""), ("二星义工", "30", "4", "")) | {"level-1-DELETE": "on"}

    client_for(desk_user).post(f"/timebank/banks/{bank.pk}/settings/", settings_form(bank) | rows)

    bank.refresh_from_db()
    assert [lv["label"] for lv in bank.levels] == ["一星义工"]


def test_the_statement_prints_and_exports_with_an_access_log(desk_user, member):
    from audit.models import AccessLog

    c = client_for(desk_user)
    assert c.get(f"/timebank/members/{member.pk}/statement/").status_code == 200
    response = c.post(f"/timebank/members/{member.pk}/statement.xlsx")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert AccessLog.objects.filter(model="timebank.member", object_id=str(member.pk)).count() == 2


def test_figures_page_and_api_agree(desk_user, member):
    c = client_for(desk_user)
    page = c.get("/timebank/figures/")
    api = c.get("/api/timebank/figures").json()

    assert page.status_code == 200 and "平衡" in page.content.decode()
    assert api["members"] == {"active": 1} and api["healthy"] is True and api["services"] == 0


def test_my_page_for_someone_not_a_member(member_user):
    response = client_for(member_user).get("/timebank/me/")

    assert response.status_code == 200
    assert "还不是时间银行的会员" in response.content.decode()


def test_my_page_for_a_member_shows_the_balance(member, member_user):
    Member.objects.filter(pk=member.pk).update(user=member_user)

    response = client_for(member_user).get("/timebank/me/")

    assert "我的时间币" in response.content.decode() and f"会员编号 {member.pk}" in response.content.decode()


def test_staff_pages_are_refused_to_a_member_role(member, member_user):
    assert client_for(member_user).get("/timebank/").status_code == 403
    assert client_for(member_user).get(f"/timebank/members/{member.pk}/").status_code == 403


# --- the API ---------------------------------------------------------------------------------


def test_api_join_decide_and_read(desk_user, bank, tree):
    c = client_for(desk_user)
    created = c.post(
        f"/api/timebank/banks/{bank.pk}/members",
        {"name": "钱玉兰", "region": tree.grid.pk, "birth_date": "1950-01-01"},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    pk = created.json()["id"]

    decided = c.post(f"/api/timebank/members/{pk}/decide", {"approve": True}, content_type="application/json")

    assert decided.status_code == 200 and decided.json()["balance_minutes"] == 0
    listed = c.get("/api/timebank/members?status=active").json()
    assert [m["name"] for m in listed["items"]] == ["钱玉兰"]
    assert c.get(f"/api/timebank/members/{pk}/statement").json()["items"] == []


def test_api_bank_settings_refused_with_the_field(desk_user, bank):
    response = client_for(desk_user).patch(
        f"/api/timebank/banks/{bank.pk}", {"rates": {"tutoring": 99999}}, content_type="application/json"
    )

    assert response.status_code == 422
    assert "义务家教" in response.json()["detail"] + str(response.json()["errors"])


def test_api_me_holds_only_my_own(member, member_user):
    Member.objects.filter(pk=member.pk).update(user=member_user)

    body = client_for(member_user).get("/api/timebank/me").json()

    assert body["member"]["id"] == member.pk and body["acting_for"] == []


# --- the import ------------------------------------------------------------------------------


def sheet(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.append(["时间币交易台账"])  # a title above the header
    ws.append(["会员编号", "姓名", "联系电话", "类型", "时长（分钟）", "服务类别", "说明"])
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_dry_run_finds_members_and_reports_bad_rows(desk_user, member):
    from python_calamine import CalamineWorkbook

    from timebank.imports import import_transfers

    data = sheet(
        [
            [member.pk, "王秀英", "", "存入", 60, "互助养老", "陪同就医"],
            ["", "王秀英", "13812345678", "取出", 30, "", ""],  # by name and phone
            [member.pk, "李四", "", "存入", 60, "互助养老", ""],  # the name does not match
            [99999, "", "", "存入", 60, "互助养老", ""],  # no such member
            [member.pk, "", "", "借出", 60, "", ""],  # no such kind
            [member.pk, "", "", "存入", 2000, "", ""],  # too long, no category
        ]
    )

    report = import_transfers(SimpleUploadedFile("台账.xlsx", data), by=desk_user, dry_run=True)

    assert report.total_rows == 6 and report.created == 2 and report.rejected == 4
    assert not report.written
    bad = CalamineWorkbook.from_filelike(io.BytesIO(report.error_file)).get_sheet_by_index(0).to_python()
    assert bad[0][-2] == "错误原因" and len(bad) == 5
    assert "姓名与会员编号对不上" in bad[1][-2]


def test_import_refuses_a_member_of_another_community(member, tree):
    from accounts.roles import Role
    from conftest import make_user
    from timebank.imports import import_transfers

    other_desk = make_user("desk2", Role.COMMUNITY, tree.community2)

    report = import_transfers(
        SimpleUploadedFile("台账.xlsx", sheet([[member.pk, "", "", "存入", 60, "互助养老", ""]])), by=other_desk, dry_run=True
    )

    assert report.rejected == 1 and report.created == 0


@needs_ledger
def test_import_writes_once_even_if_uploaded_twice(desk_user, member):
    from timebank.imports import import_transfers

    data = sheet([[member.pk, "", "", "存入", 60, "互助养老", ""], [member.pk, "", "", "取出", 20, "", ""]])

    first = import_transfers(SimpleUploadedFile("台账.xlsx", data), by=desk_user)
    second = import_transfers(SimpleUploadedFile("台账.xlsx", data), by=desk_user)

    member.account.refresh_from_db()
    assert first.created == 2 and second.created == 0 and second.unchanged == 2
    assert member.account.balance_minutes == 40


@needs_ledger
def test_api_desk_withdraw_with_the_code(desk_user, member, member_user, monkeypatch):
    from timebank import ledger

    sent = []
    monkeypatch.setattr("core.notify.notify", lambda ids, subject, body: sent.append(body))
    Member.objects.filter(pk=member.pk).update(user=member_user)
    ledger.deposit_service(member_account=member.account, minutes_served=60, category="mutual_care", by=desk_user)
    c = client_for(desk_user)
    assert c.post(f"/api/timebank/desk/{member.pk}/code").json() == {"sent": True, "expires_in_minutes": 10}
    code = sent[0].split("验证码是 ")[1][:6]

    response = c.post(f"/api/timebank/desk/{member.pk}/withdraw", {"minutes": 25, "code": code}, content_type="application/json")

    assert response.status_code == 201 and response.json()["balance_minutes"] == 35


@needs_ledger
def test_my_page_gives_and_donates(member, member_user, desk_user, bank, tree):
    from timebank import ledger
    from timebank.members import member_apply, member_decide

    Member.objects.filter(pk=member.pk).update(user=member_user)
    parent = member_decide(
        by=desk_user,
        member=member_apply(by=desk_user, bank=bank, name="王大爷", region=tree.grid, birth_date=datetime.date(1940, 1, 1)),
        approve=True,
    )
    ledger.deposit_service(member_account=member.account, minutes_served=120, category="mutual_care", by=desk_user)
    c = client_for(member_user)

    wrong = c.post("/timebank/me/give/", {"to_number": parent.pk, "to_name": "王二爷", "minutes": 30})
    assert wrong.status_code == 422 and "对不上" in wrong.content.decode()
    assert c.post("/timebank/me/give/", {"to_number": parent.pk, "to_name": "王大爷", "minutes": 30}).status_code == 302
    assert c.post("/timebank/me/donate/", {"minutes": 10}).status_code == 302

    member.account.refresh_from_db()
    parent.account.refresh_from_db()
    assert (member.account.balance_minutes, parent.account.balance_minutes) == (80, 30)


def test_bank_settings_save_rates_per_category(desk_user, bank):
    from timebank.models import Category

    form = {"name": bank.name, "credit_line_minutes": "60", "residence": "on", "approval": "on", "min_age": "18"}
    form |= {f"rate_{c}": "1000" for c in Category.values} | {"rate_health_care": "1500"} | level_rows()

    response = client_for(desk_user).post(f"/timebank/banks/{bank.pk}/settings/", form)

    bank.refresh_from_db()
    assert response.status_code == 302
    assert bank.rates == {"health_care": 1500} and bank.credit_line_minutes == 60 and bank.levels == []
    assert bank.rules == {"residence": True, "approval": True, "min_age": 18}


def test_a_volunteer_applies_from_the_phone(bank, member_user):
    from providers.models import Volunteer

    Volunteer.objects.create(region=bank.region, name="孙志愿", user=member_user, status="approved")
    c = client_for(member_user)
    page = c.get("/timebank/me/").content.decode()
    assert "加入安泰社区爱心时间银行" in page

    too_young = c.post("/timebank/me/join/", {"birth_date": "2015-01-01"})
    assert too_young.status_code == 422 and "年满 18 周岁" in too_young.content.decode()
    assert c.post("/timebank/me/join/", {"birth_date": "1980-01-01"}).status_code == 302

    member = Member.objects.get(user=member_user)
    assert member.status == MemberStatus.PENDING and member.name == "孙志愿" and member.volunteer.name == "孙志愿"


# --- the statement for a period as a PDF ------------------------------------------------------------


@needs_ledger
def test_the_pdf_statement_of_a_period_is_a4_and_access_logged(client, tree, bank, member, desk_user):
    import datetime

    from audit.models import AccessLog
    from timebank import ledger

    ledger.deposit_service(member_account=member.account, minutes_served=90, category="mutual_care", by=desk_user)
    client.force_login(desk_user)
    today = datetime.date.today()

    response = client.get(f"/timebank/members/{member.pk}/statement.pdf?start={today.replace(day=1)}&end={today}")

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(response.content))
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "时间币对账单" in text and "王秀英" in text and "期初余额" in text  # the CJK font is embedded
    log = AccessLog.objects.filter(model="timebank.member", object_id=member.pk).latest("id")
    assert log.fields == "statement" and log.detail["format"] == "pdf" and log.detail["end"] == today.isoformat()


@needs_ledger
def test_the_pdf_statement_shows_the_opening_balance_and_the_periods_movements(tree, bank, member, desk_user):
    import datetime

    from django.utils import timezone

    from timebank import ledger
    from timebank.statement_pdf import statement_context

    old = timezone.now() - datetime.timedelta(days=40)
    ledger.deposit_service(member_account=member.account, minutes_served=120, category="mutual_care", by=desk_user, at=old)
    ledger.deposit_service(member_account=member.account, minutes_served=30, category="mutual_care", by=desk_user)
    today = timezone.localdate()

    ctx = statement_context(member=member, start=today - datetime.timedelta(days=10), end=today)

    assert ctx["opening"] == 120 and ctx["totals"] == {"in": 30, "out": 0} and ctx["closing"] == 150
    assert [m.minutes for m in ctx["rows"]] == [30]


def test_a_pdf_period_that_ends_before_it_starts_is_refused_naming_the_field(client, tree, bank, member, desk_user):
    client.force_login(desk_user)
    token_client = client

    response = token_client.get(f"/api/timebank/members/{member.pk}/statement.pdf?start=2026-05-01&end=2026-04-01")

    assert response.status_code == 422
    assert "开始日期不能晚于结束日期" in response.json()["detail"]


def test_a_pdf_statement_of_another_regions_member_is_not_found(client, tree, other_bank, desk_user):
    from timebank.tests.factories import member_of

    stranger = member_of(other_bank, "外区会员", region=tree.community2)
    client.force_login(desk_user)

    assert client.get(f"/timebank/members/{stranger.pk}/statement.pdf").status_code == 404
    assert client.get(f"/api/timebank/members/{stranger.pk}/statement.pdf").status_code == 404
