"""The time bank's member services: joining under the bank's rules, deciding, leaving, proxies,
settings, the desk's confirmations, levels and figures. Tests that post coins go through
timebank.ledger and are marked `needs_ledger` (they run after h/tbledger is merged)."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from timebank import members as services
from timebank.models import Account, AccountKind, DeskCode, Member, MemberStatus
from timebank.tests.conftest import needs_ledger

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 6, 1)


def png_bytes(size=(40, 20)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", size, 255).save(out, "PNG")
    return out.getvalue()


# --- joining ---------------------------------------------------------------------------------


def test_a_resident_old_enough_applies_and_waits_for_approval(bank, desk_user, tree):
    member = services.member_apply(
        by=desk_user, bank=bank, name="李建国", region=tree.grid, birth_date=datetime.date(1960, 1, 1), today=TODAY
    )

    assert member.status == MemberStatus.PENDING
    assert not Account.objects.filter(member=member).exists()


def test_approval_opens_the_personal_account(bank, desk_user, tree):
    member = services.member_apply(by=desk_user, bank=bank, name="李建国", region=tree.grid, birth_date=datetime.date(1960, 1, 1))

    member = services.member_decide(by=desk_user, member=member, approve=True, today=TODAY)

    assert member.status == MemberStatus.ACTIVE and member.joined_on == TODAY
    account = Account.objects.get(member=member)
    assert account.kind == AccountKind.PERSONAL and account.balance_minutes == 0


def test_a_bank_without_approval_opens_the_account_at_once(bank, desk_user, tree):
    services.bank_settings_save(by=desk_user, bank=bank, rules={"approval": False, "residence": True})
    bank.refresh_from_db()

    member = services.member_apply(by=desk_user, bank=bank, name="张桂兰", region=tree.community)

    assert member.status == MemberStatus.ACTIVE
    assert Account.objects.filter(member=member).exists()


def test_too_young_is_refused_naming_the_birth_date(bank, desk_user, tree):
    with pytest.raises(ValidationError) as exc:
        services.member_apply(
            by=desk_user, bank=bank, name="小明", region=tree.grid, birth_date=datetime.date(2015, 1, 1), today=TODAY
        )

    assert "年满 18 周岁" in exc.value.message_dict["birth_date"][0]


def test_min_age_needs_a_birth_date(bank, desk_user, tree):
    with pytest.raises(ValidationError) as exc:
        services.member_apply(by=desk_user, bank=bank, name="无生日", region=tree.grid)

    assert "出生日期" in exc.value.message_dict["birth_date"][0]


def test_residence_outside_the_bank_region_is_refused(bank, desk_user, tree):
    with pytest.raises(ValidationError) as exc:
        services.member_apply(by=desk_user, bank=bank, name="外来", region=tree.community2, birth_date=datetime.date(1960, 1, 1))

    assert "安泰社区" in exc.value.message_dict["region"][0]


def test_the_same_elder_cannot_join_twice(bank, desk_user, tree):
    from elders.tests.factories import ElderFactory

    elder = ElderFactory(region=tree.grid, birth_date=datetime.date(1945, 1, 1))
    services.member_apply(by=desk_user, bank=bank, elder=elder)

    with pytest.raises(ValidationError) as exc:
        services.member_apply(by=desk_user, bank=bank, elder=elder)
    assert "elder" in exc.value.message_dict


def test_refusing_needs_a_reason(bank, desk_user, tree):
    member = services.member_apply(by=desk_user, bank=bank, name="李建国", region=tree.grid, birth_date=datetime.date(1960, 1, 1))

    with pytest.raises(ValidationError) as exc:
        services.member_decide(by=desk_user, member=member, approve=False)
    assert "reason" in exc.value.message_dict

    member = services.member_decide(by=desk_user, member=member, approve=False, reason="不是本社区常住居民")
    assert member.status == MemberStatus.REFUSED


def test_an_active_member_cannot_be_decided_again(member, desk_user):
    with pytest.raises(ValidationError):
        services.member_decide(by=desk_user, member=member, approve=True)


def test_leaving_with_an_empty_account_closes_it(member, desk_user):
    member = services.member_leave(by=desk_user, member=member, reason="搬家")

    assert member.status == MemberStatus.LEFT
    assert Account.objects.get(member=member).closed_at is not None


def test_leaving_with_coins_left_is_refused(member, desk_user):
    Account.objects.filter(member=member).update(balance_minutes=30)

    with pytest.raises(ValidationError) as exc:
        services.member_leave(by=desk_user, member=member)
    assert "30分钟" in exc.value.message_dict["balance"][0]


def test_the_phone_is_stored_masked_and_hashed(member):
    assert member.phone_masked == "138****5678"
    assert member.phone_hash and "13812345678" not in member.phone_enc


# --- settings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"rules": {"min_age": 200}}, "rules", "0 到 120"),
        ({"rules": {"colour": "red"}}, "rules", "不认识"),
        ({"rates": {"nonsense": 1000}}, "rates", "nonsense"),
        ({"rates": {"health_care": 0}}, "rates", "医疗保健"),
        ({"levels": [{"min_minutes": 600}, {"min_minutes": 300}]}, "levels", "第 2 级"),
        ({"levels": [{"min_minutes": -1}]}, "levels", "服务时长下限"),
        ({"levels": [{"min_minutes": 600}, {"min_minutes": 600}]}, "levels", "应高于第 1 级（10小时）"),
        ({"levels": [{"min_minutes": 600, "min_rating": 4.5}, {"min_minutes": 900, "min_rating": 4}]}, "levels", "评分下限"),
        ({"levels": [{"min_minutes": 600, "label": "很长" * 11}]}, "levels", "星级名称"),
        ({"credit_line_minutes": -5}, "credit_line_minutes", "透支额度"),
    ],
)
def test_bad_settings_are_refused_in_chinese_naming_the_setting(bank, desk_user, kwargs, field, words):
    with pytest.raises(ValidationError) as exc:
        services.bank_settings_save(by=desk_user, bank=bank, **kwargs)

    assert words in exc.value.message_dict[field][0]


def test_settings_saved_with_one_change_record(bank, desk_user):
    from audit.models import ChangeRecord

    before = ChangeRecord.objects.count()
    bank = services.bank_settings_save(by=desk_user, bank=bank, rates={"health_care": 1500}, credit_line_minutes=120)

    assert bank.rates == {"health_care": 1500} and bank.credit_line_minutes == 120
    assert ChangeRecord.objects.count() == before + 1


def test_credited_minutes_follow_the_category_rate(bank, desk_user):
    from timebank.ledger import coins_for

    bank = services.bank_settings_save(by=desk_user, bank=bank, rates={"health_care": 1500})

    assert coins_for(bank, "health_care", 60) == 90
    assert coins_for(bank, "tutoring", 60) == 60


# --- proxies ---------------------------------------------------------------------------------


def test_a_proxy_is_registered_with_rights_and_consent(member, desk_user, member_user):
    proxy = services.proxy_register(
        by=desk_user,
        member=member,
        user=member_user,
        name="王小红",
        relation="女儿",
        consent_note="本人签字授权书",
        can_give=True,
    )

    assert proxy.can_view and proxy.can_give and not proxy.can_spend
    assert services.acting_proxy(user=member_user, member=member, right="can_give") == proxy
    assert services.acting_proxy(user=member_user, member=member, right="can_spend") is None


def test_a_proxy_needs_consent_and_a_right(member, desk_user):
    with pytest.raises(ValidationError) as exc:
        services.proxy_register(
            by=desk_user, member=member, name="王小红", relation="女儿", consent_note="", can_view=False, can_give=False
        )
    assert {"consent_note", "can_view"} <= set(exc.value.message_dict)


def test_an_ended_proxy_no_longer_acts(member, desk_user, member_user):
    proxy = services.proxy_register(
        by=desk_user,
        member=member,
        user=member_user,
        name="王小红",
        relation="女儿",
        consent_note="授权书",
        can_give=True,
        starts_on=timezone.localdate() - datetime.timedelta(days=5),
    )
    services.proxy_end(by=desk_user, proxy=proxy)

    assert services.acting_proxy(user=member_user, member=member, right="can_give") is None


# --- the desk's confirmations ----------------------------------------------------------------


def test_a_real_small_png_signature_is_kept_under_a_random_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    name = services.signature_store(SimpleUploadedFile("签字.png", png_bytes(), content_type="image/png"))

    assert name.startswith("timebank/signatures/") and name.endswith(".png") and "签字" not in name
    assert (tmp_path / name).exists()


@pytest.mark.parametrize(
    "data",
    [b"GIF89a" + b"\0" * 100, b"\x89PNG\r\n\x1a\n" + b"not really", b"<svg onload=alert(1)>"],
)
def test_anything_but_a_real_png_or_jpeg_is_refused(data):
    with pytest.raises(ValidationError) as exc:
        services.signature_store(SimpleUploadedFile("x.png", data))
    assert "PNG 或 JPEG" in exc.value.message_dict["signature"][0]


def test_a_signature_over_512_kb_is_refused():
    upload = SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (600 * 1024))
    with pytest.raises(ValidationError) as exc:
        services.signature_store(upload)
    assert "512 KB" in exc.value.message_dict["signature"][0]


def test_the_code_is_sent_hashed_and_checked_once(member, desk_user, member_user, monkeypatch):
    sent = []
    monkeypatch.setattr("core.notify.notify", lambda ids, subject, body: sent.append((list(ids), body)))
    Member.objects.filter(pk=member.pk).update(user=member_user)
    member.refresh_from_db()

    code = services.desk_code_issue(by=desk_user, member=member)

    assert len(code) == 6 and code.isdigit()
    assert sent[0][0] == [member_user.pk] and code in sent[0][1]
    row = DeskCode.objects.get(member=member)
    assert code not in row.code_hash
    ref = services.desk_code_check(member=member, code=code)
    assert ref == row.code_hash
    with pytest.raises(ValidationError):  # used once
        services.desk_code_check(member=member, code=code)


def test_a_wrong_or_expired_code_is_refused(member, desk_user, member_user, monkeypatch):
    monkeypatch.setattr("core.notify.notify", lambda *a, **k: None)
    Member.objects.filter(pk=member.pk).update(user=member_user)
    member.refresh_from_db()
    now = timezone.now()
    code = services.desk_code_issue(by=desk_user, member=member, now=now)
    wrong = "000000" if code != "000000" else "111111"

    with pytest.raises(ValidationError) as exc:
        services.desk_code_check(member=member, code=wrong, now=now)
    assert "验证码不对" in exc.value.message_dict["code"][0]
    with pytest.raises(ValidationError) as exc:
        services.desk_code_check(member=member, code=code, now=now + datetime.timedelta(minutes=11))
    assert "失效" in exc.value.message_dict["code"][0]


def test_five_wrong_codes_spend_it(member, desk_user, member_user, monkeypatch):
    monkeypatch.setattr("core.notify.notify", lambda *a, **k: None)
    Member.objects.filter(pk=member.pk).update(user=member_user)
    member.refresh_from_db()
    code = services.desk_code_issue(by=desk_user, member=member)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationError):
            services.desk_code_check(member=member, code=wrong)

    with pytest.raises(ValidationError):
        services.desk_code_check(member=member, code=code)


def test_no_account_to_send_a_code_to_says_use_a_signature(member, desk_user):
    with pytest.raises(ValidationError) as exc:
        services.desk_code_issue(by=desk_user, member=member)
    assert "签字" in exc.value.message_dict["code"][0]


def test_a_desk_record_without_confirmation_is_refused_before_posting(member, desk_user):
    with pytest.raises(ValidationError) as exc:
        services.desk_withdraw(by=desk_user, member=member, minutes=30, confirmation="")
    assert "confirmation" in exc.value.message_dict


# --- levels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "rating", "level"),
    [(0, None, 0), (600, None, 1), (3000, 3.9, 1), (3000, 4.2, 2), (6000, 4.6, 3), (6000, None, 3)],
)
def test_level_from_hours_and_rating(minutes, rating, level):
    assert services.level_for(services.DEFAULT_LEVELS, minutes, rating) == level


def test_levels_recompute_writes_only_the_changed(bank, member, desk_user):
    Member.objects.filter(pk=member.pk).update(level=2)  # no hours: back to 0

    counts = services.levels_recompute(by=desk_user, bank=bank)

    member.refresh_from_db()
    assert member.level == 0 and counts == {0: 1}


def test_minutes_in_words():
    assert services.minutes_text(200) == "3小时20分"
    assert services.minutes_text(60) == "1小时"
    assert services.minutes_text(-45) == "-45分钟"


# --- figures and scope -----------------------------------------------------------------------


def test_figures_count_members_and_prove_the_empty_ledger_balanced(bank, member, desk_user, tree):
    from timebank.selectors import figures

    services.member_apply(by=desk_user, bank=bank, name="待审", region=tree.grid, birth_date=datetime.date(1960, 1, 1))

    f = figures(user=desk_user, region=tree.community)

    assert f.members == {"active": 1, "pending": 1}
    assert f.services == 0 and f.healthy and f.banks == 1
    assert [p["name"] for p in f.pools] == ["安泰社区爱心时间银行公益池"]


def test_another_communitys_staff_sees_none_of_the_members(bank, member, worker_in_other_region):
    from timebank.selectors import member_list

    assert list(member_list(user=worker_in_other_region)) == []


def test_a_member_role_user_sees_only_their_own_and_their_proxied(bank, member, desk_user, tree, member_user):
    from timebank.selectors import member_list

    other = services.member_decide(
        by=desk_user,
        member=services.member_apply(
            by=desk_user, bank=bank, name="邻居", region=tree.grid, birth_date=datetime.date(1950, 1, 1)
        ),
        approve=True,
    )
    assert list(member_list(user=member_user)) == []

    services.proxy_register(
        by=desk_user, member=other, user=member_user, name="志愿者", relation="志愿者", consent_note="口头同意，社区见证"
    )

    assert list(member_list(user=member_user)) == [other]


# --- through the ledger (after the merge) ----------------------------------------------------


@needs_ledger
def test_desk_withdrawal_with_a_signature_posts_and_keeps_the_image_name(member, desk_user, settings, tmp_path):
    from timebank import ledger

    settings.MEDIA_ROOT = tmp_path
    account = member.account
    ledger.deposit_service(member_account=account, minutes_served=120, category="mutual_care", by=desk_user)

    transfer = services.desk_withdraw(
        by=desk_user,
        member=member,
        minutes=45,
        confirmation="signature",
        signature=SimpleUploadedFile("s.png", png_bytes()),
        note="兑换助浴",
    )

    account.refresh_from_db()
    assert account.balance_minutes == 75
    assert transfer.confirmation == "signature" and transfer.confirmation_ref.startswith("timebank/signatures/")


@needs_ledger
def test_desk_deposit_with_a_code_credits_at_the_rate(member, desk_user, member_user, monkeypatch):
    monkeypatch.setattr("core.notify.notify", lambda *a, **k: None)
    Member.objects.filter(pk=member.pk).update(user=member_user)
    member.refresh_from_db()
    services.bank_settings_save(by=desk_user, bank=member.bank, rates={"health_care": 1500})
    member.bank.refresh_from_db()
    code = services.desk_code_issue(by=desk_user, member=member)

    transfer = services.desk_deposit(
        by=desk_user, member=member, minutes_served=60, category="health_care", confirmation="code", code=code
    )

    member.account.refresh_from_db()
    assert member.account.balance_minutes == 90 and transfer.served_minutes == 60
    assert transfer.confirmation == "code" and code not in transfer.confirmation_ref


@needs_ledger
def test_a_withdrawal_beyond_balance_and_credit_line_is_refused(member, desk_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError):
        services.desk_withdraw(
            by=desk_user, member=member, minutes=30, confirmation="signature", signature=SimpleUploadedFile("s.png", png_bytes())
        )


@needs_ledger
def test_a_member_gives_to_a_parent_by_number_and_name(bank, member, desk_user, tree, member_user):
    from timebank import ledger

    Member.objects.filter(pk=member.pk).update(user=member_user)
    member.refresh_from_db()
    parent = services.member_decide(
        by=desk_user,
        member=services.member_apply(
            by=desk_user, bank=bank, name="王大爷", region=tree.grid, birth_date=datetime.date(1940, 1, 1)
        ),
        approve=True,
    )
    ledger.deposit_service(member_account=member.account, minutes_served=120, category="mutual_care", by=desk_user)

    with pytest.raises(ValidationError):
        services.member_give(by=member_user, from_member=member, to_number=parent.pk, to_name="王小爷", minutes=30)
    services.member_give(by=member_user, from_member=member, to_number=parent.pk, to_name="王大爷", minutes=30)

    parent.account.refresh_from_db()
    assert parent.account.balance_minutes == 30


@needs_ledger
def test_levels_follow_served_hours(bank, member, desk_user):
    from timebank import ledger

    for _ in range(5):
        ledger.deposit_service(member_account=member.account, minutes_served=120, category="mutual_care", by=desk_user)

    services.levels_recompute(by=desk_user, bank=bank)

    member.refresh_from_db()
    assert member.level == 1


def test_coins_follow_only_within_the_city(member, desk_user, tree):
    from regions.models import Level
    from regions.services import region_create
    from timebank.services import bank_open

    other_city = region_create(name="邻市", level=Level.CITY, parent=tree.province, code="990200000000")
    far = bank_open(by=None, region=other_city, name="邻市时间银行")

    with pytest.raises(ValidationError) as exc:
        services.member_move(by=desk_user, member=member, to_bank=far)
    assert "同一城市" in exc.value.message_dict["to_bank"][0]
    with pytest.raises(ValidationError):
        services.member_move(by=desk_user, member=member, to_bank=member.bank)


@needs_ledger
def test_coins_follow_a_member_to_a_community_of_the_same_city(member, desk_user, other_bank):
    from timebank import ledger

    ledger.deposit_service(member_account=member.account, minutes_served=90, category="mutual_care", by=desk_user)

    services.member_move(by=desk_user, member=member, to_bank=other_bank)

    member.refresh_from_db()
    assert member.status == MemberStatus.MOVED
    moved = Member.objects.get(bank=other_bank, name=member.name)
    assert moved.account.balance_minutes == 90


def test_the_nightly_recompute_covers_every_bank(bank, other_bank, member):
    from jobs.schedule import periodic_get

    Member.objects.filter(pk=member.pk).update(level=3)

    assert periodic_get("timebank_levels").run() == 2

    member.refresh_from_db()
    assert member.level == 0


def test_a_street_bank_serves_its_communities(tree, desk_user):
    from timebank.selectors import bank_get, bank_list, member_list
    from timebank.services import bank_open

    street_bank = bank_open(by=None, region=tree.street, name="东城街道时间银行", rules={"approval": False})
    assert list(bank_list(user=desk_user)) == [street_bank]  # the community's staff see the shared bank
    assert bank_get(user=desk_user, bank_id=street_bank.pk) == street_bank
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises((Http404, PermissionDenied)):
        bank_get(user=desk_user, bank_id=street_bank.pk, action="change")  # its settings are the street's

    member = services.member_apply(by=desk_user, bank=street_bank, name="街道会员", region=tree.grid)

    assert member.status == MemberStatus.ACTIVE and list(member_list(user=desk_user)) == [member]
