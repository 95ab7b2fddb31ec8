"""Writes of the time bank around its members (docs/timebank.md): the bank's settings, joining
and leaving, proxies, the desk's deposits and withdrawals with the member's confirmation, the
volunteer's gifts and donations, moving to another bank, and star levels.

Postings themselves are timebank.ledger's (post, deposit_service, withdraw, gift, donate,
move_member): every coin moves through it, so the ledger's limits and its audit hold. It is
imported where it is used.
"""

import datetime
import secrets
import uuid

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Avg, Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.crypto import lookup_hash
from core.text import refuse_invisible_characters
from timebank.models import (
    Account,
    AccountKind,
    Bank,
    Category,
    Confirmation,
    DeskCode,
    Member,
    MemberStatus,
    Proxy,
    Transfer,
    TransferKind,
    proxies_in_force,
    proxy_active_q,
)
from timebank.services import member_account_open

# --- the bank's settings ---------------------------------------------------------------------

RULE_KEYS = {"min_age", "residence", "approval"}
MAX_RATE = 5000  # per mille: at most five coins-hours an hour served
MAX_LEVELS = 10


def clean_rules(rules) -> dict:
    if not isinstance(rules, dict):
        raise ValidationError({"rules": _("入会条件格式不对，应为键值对。")})
    unknown = set(rules) - RULE_KEYS
    if unknown:
        raise ValidationError({"rules": _("入会条件里有不认识的项：%(k)s。") % {"k": "、".join(sorted(unknown))}})
    out = {}
    min_age = rules.get("min_age")
    if min_age not in (None, ""):
        if isinstance(min_age, bool) or not isinstance(min_age, int) or not 0 <= min_age <= 120:
            raise ValidationError({"rules": _("入会条件“最低年龄”应为 0 到 120 之间的整数。")})
        out["min_age"] = min_age
    for key in ("residence", "approval"):
        if key in rules:
            if not isinstance(rules[key], bool):
                raise ValidationError({"rules": _("入会条件“%(k)s”应为是或否。") % {"k": RULE_LABELS[key]}})
            out[key] = rules[key]
    return out


def rules_text(bank: Bank) -> str:
    """The joining rules in words, for the join form."""
    rules = bank.rules or {}
    parts = []
    if rules.get("min_age"):
        parts.append(_("年满 %(n)d 周岁") % {"n": rules["min_age"]})
    if rules.get("residence", True):
        parts.append(_("%(r)s辖区居民") % {"r": bank.region.name})
    parts.append(_("经社区审核后开户") if rules.get("approval", True) else _("登记即开户"))
    return "；".join(parts) + "。"


RULE_LABELS = {"min_age": "最低年龄", "residence": "须为本辖区居民", "approval": "须经审核"}


def clean_rates(rates) -> dict:
    if not isinstance(rates, dict):
        raise ValidationError({"rates": _("类别折算率格式不对，应为“类别：千分比”。")})
    out = {}
    for code, rate in rates.items():
        if code not in Category.values:
            raise ValidationError({"rates": _("类别折算率里没有“%(c)s”这个服务类别。") % {"c": code}})
        if isinstance(rate, bool) or not isinstance(rate, int) or not 0 < rate <= MAX_RATE:
            raise ValidationError(
                {
                    "rates": _("“%(c)s”的折算率应为 1 到 %(m)d 之间的整数（千分比，1000 即一小时记一小时）。")
                    % {"c": Category(code).label, "m": MAX_RATE}
                }
            )
        out[code] = rate
    return out


LEVEL_LABEL_MAX = 20
INCENTIVE_MAX = 200


def clean_levels(levels) -> list:
    """Star levels in order: each row's 服务时长下限 (minutes) higher than the level before and its
    评分下限 (0–5) not lower; nothing negative; at most MAX_LEVELS. The messages name the level and
    the field (the settings page's level rows show the same)."""
    if not isinstance(levels, list) or len(levels) > MAX_LEVELS:
        raise ValidationError({"levels": _("星级标准应为不超过 %(n)d 级的列表。") % {"n": MAX_LEVELS}})
    out = []
    previous = None
    for i, row in enumerate(levels, 1):
        if not isinstance(row, dict):
            raise ValidationError({"levels": _("星级标准第 %(i)d 级格式不对。") % {"i": i}})
        minutes, rating = row.get("min_minutes"), row.get("min_rating", 0)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ValidationError({"levels": _("星级标准第 %(i)d 级的“服务时长下限”应为不小于 0 的整数分钟。") % {"i": i}})
        if isinstance(rating, bool) or not isinstance(rating, int | float) or not 0 <= rating <= 5:
            raise ValidationError({"levels": _("星级标准第 %(i)d 级的“评分下限”应在 0 到 5 之间。") % {"i": i}})
        if previous is not None and minutes <= previous[0]:
            raise ValidationError(
                {
                    "levels": _("星级标准第 %(i)d 级的“服务时长下限”应高于第 %(p)d 级（%(m)s），请按从低到高的顺序填写。")
                    % {"i": i, "p": i - 1, "m": minutes_text(previous[0])}
                }
            )
        if previous is not None and rating < previous[1]:
            raise ValidationError(
                {
                    "levels": _("星级标准第 %(i)d 级的“评分下限”不能低于第 %(p)d 级（%(r)s 分）。")
                    % {"i": i, "p": i - 1, "r": f"{previous[1]:g}"}
                }
            )
        previous = (minutes, rating)
        label = refuse_invisible_characters(str(row.get("label") or _("%(i)d星义工") % {"i": i}).strip())
        if len(label) > LEVEL_LABEL_MAX:
            raise ValidationError(
                {"levels": _("星级标准第 %(i)d 级的“星级名称”最多 %(n)d 个字。") % {"i": i, "n": LEVEL_LABEL_MAX}}
            )
        incentive = refuse_invisible_characters(str(row.get("incentive") or "").strip())
        if len(incentive) > INCENTIVE_MAX:
            raise ValidationError(
                {"levels": _("星级标准第 %(i)d 级的“激励措施”最多 %(n)d 个字。") % {"i": i, "n": INCENTIVE_MAX}}
            )
        out.append({"level": i, "label": label, "min_minutes": minutes, "min_rating": float(rating), "incentive": incentive})
    return out


@transaction.atomic
def bank_settings_save(*, by, bank: Bank, name=None, rules=None, rates=None, credit_line_minutes=None, levels=None) -> Bank:
    """Change a bank's name, joining rules, rates, credit line or levels (each checked, with a
    Chinese message naming the setting); one change record with what changed."""
    bank = Bank.objects.select_for_update().get(pk=bank.pk)
    changes = {}
    new = {}
    if name is not None:
        new["name"] = refuse_invisible_characters(name.strip())
        if not new["name"]:
            raise ValidationError({"name": _("请填写时间银行的名称。")})
    if rules is not None:
        new["rules"] = clean_rules(rules)
    if rates is not None:
        new["rates"] = clean_rates(rates)
    if levels is not None:
        new["levels"] = clean_levels(levels)
    if credit_line_minutes is not None:
        if (
            isinstance(credit_line_minutes, bool)
            or not isinstance(credit_line_minutes, int)
            or not 0 <= credit_line_minutes <= 6000
        ):
            raise ValidationError({"credit_line_minutes": _("透支额度应为 0 到 6000 之间的整数分钟。")})
        new["credit_line_minutes"] = credit_line_minutes
    for field, value in new.items():
        if getattr(bank, field) != value:
            changes[field] = [getattr(bank, field), value]
            setattr(bank, field, value)
    if changes:
        bank.full_clean()
        bank.save()
        change_record(obj=bank, action="update", changes=changes, by=by, region=bank.region)
    return bank


# --- members ---------------------------------------------------------------------------------


def _age(born: datetime.date, today: datetime.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _in_subtree(region, root) -> bool:
    return region.path.startswith(root.path)


@transaction.atomic
def member_apply(
    *,
    by,
    bank: Bank,
    name: str = "",
    region=None,
    elder=None,
    volunteer=None,
    user=None,
    phone: str = "",
    birth_date: datetime.date | None = None,
    is_retired_cadre: bool = False,
    today: datetime.date | None = None,
) -> Member:
    """Someone joins the bank under its rules: `min_age` (from the elder's birth date or the one
    given), `residence` (their community inside the bank's region), `approval` (pending until
    decided; without it the member is active and their account open at once)."""
    from core.phones import normalize_phone, store_phone

    today = today or timezone.localdate()
    if not bank.active:
        raise ValidationError({"bank": _("该时间银行已停止运营，暂不接受入会。")})
    if elder is not None:
        name = name or elder.name
        region = region or elder.region
        birth_date = birth_date or elder.birth_date
    if volunteer is not None:
        name = name or volunteer.name
        region = region or volunteer.region
        user = user or volunteer.user
    name = refuse_invisible_characters((name or "").strip())
    if not name:
        raise ValidationError({"name": _("请填写会员姓名。")})
    if region is None:
        raise ValidationError({"region": _("请选择会员所在的社区。")})
    # a member's row lives in a community (or below): a grid counts as its community
    rules = bank.rules or {}
    if rules.get("residence", True) and not _in_subtree(region, bank.region):
        raise ValidationError({"region": _("该时间银行只接受%(r)s辖区的居民入会。") % {"r": bank.region.name}})
    min_age = rules.get("min_age")
    if min_age:
        if birth_date is None:
            raise ValidationError({"birth_date": _("该时间银行要求年满 %(n)d 周岁，请填写出生日期。") % {"n": min_age}})
        if _age(birth_date, today) < min_age:
            raise ValidationError({"birth_date": _("该时间银行要求年满 %(n)d 周岁才能入会。") % {"n": min_age}})
    already = Member.objects.filter(bank=bank).exclude(status__in=[MemberStatus.LEFT, MemberStatus.MOVED, MemberStatus.REFUSED])
    if elder is not None and already.filter(elder=elder).exists():
        raise ValidationError({"elder": _("这位老人已是该时间银行的会员或正在审核。")})
    if volunteer is not None and already.filter(volunteer=volunteer).exists():
        raise ValidationError({"volunteer": _("这位志愿者已是该时间银行的会员或正在审核。")})
    if user is not None and already.filter(user=user).exists():
        raise ValidationError({"user": _("该登录账号已是该时间银行的会员或正在审核。")})
    member = Member(
        bank=bank,
        region=region,
        name=name[:32],
        elder=elder,
        volunteer=volunteer,
        user=user,
        is_retired_cadre=is_retired_cadre,
        status=MemberStatus.PENDING,
    )
    if phone:
        normal = normalize_phone(phone)
        if not normal:
            raise ValidationError({"phone": _("联系电话格式不对，请填写 11 位手机号或带区号的固定电话。")})
        store_phone(member, normal)
    member.full_clean()
    member.save()
    change_record(obj=member, action="create", changes={"name": [None, member.name]}, by=by, region=region)
    if not rules.get("approval", True):
        member = _activate(member, by=by, today=today)
    return member


def _activate(member: Member, *, by, today) -> Member:
    member.status = MemberStatus.ACTIVE
    member.joined_on = today
    member.decided_by = by
    member.save(update_fields=["status", "joined_on", "decided_by"])
    member_account_open(member=member)
    return member


@transaction.atomic
def member_decide(*, by, member: Member, approve: bool, reason: str = "", today=None) -> Member:
    """Approve (the personal account opens) or refuse (a reason is required) a pending member."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status != MemberStatus.PENDING:
        raise ValidationError({"status": _("只能审核“待审核”的会员，该会员现在是“%(s)s”。") % {"s": member.get_status_display()}})
    reason = refuse_invisible_characters((reason or "").strip())[:200]
    before = member.status
    if approve:
        member = _activate(member, by=by, today=today or timezone.localdate())
    else:
        if not reason:
            raise ValidationError({"reason": _("不通过时请写明原因，会告知申请人。")})
        member.status = MemberStatus.REFUSED
        member.decided_by = by
        member.save(update_fields=["status", "decided_by"])
    changes = {"status": [before, member.status]}
    if reason:
        changes["reason"] = [None, reason]
    change_record(obj=member, action="update", changes=changes, by=by, region=member.region)
    return member


@transaction.atomic
def member_leave(*, by, member: Member, reason: str = "") -> Member:
    """A member leaves: their account is closed, which only an empty account may be (gift or
    donate the coins first, or move them with the member to another bank)."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.PENDING):
        raise ValidationError({"status": _("该会员现在是“%(s)s”，不能办理退出。") % {"s": member.get_status_display()}})
    account = Account.objects.select_for_update().filter(member=member).first()
    if account is not None and account.balance_minutes != 0:
        raise ValidationError(
            {"balance": _("账户还有 %(m)s 时间币，请先转赠、捐赠或清零后再退出。") % {"m": minutes_text(account.balance_minutes)}}
        )
    before = member.status
    member.status = MemberStatus.LEFT
    member.save(update_fields=["status"])
    if account is not None:
        account.closed_at = timezone.now()
        account.save(update_fields=["closed_at"])
    changes = {"status": [before, member.status]}
    if reason:
        changes["reason"] = [None, refuse_invisible_characters(reason)[:200]]
    change_record(obj=member, action="update", changes=changes, by=by, region=member.region)
    return member


def member_move(*, by, member: Member, to_bank: Bank):
    """Coins follow a person who moves to another community of the same city: the ledger's
    move_member checks the move (an active member, another active bank of the same city, no
    overdraft) and closes the account here and opens one there through the clearing accounts."""
    from timebank import ledger

    return ledger.move_member(member=member, to_bank=to_bank, by=by)


# --- proxies ---------------------------------------------------------------------------------


@transaction.atomic
def proxy_register(
    *,
    by,
    member: Member,
    name: str,
    relation: str,
    consent_note: str,
    user=None,
    can_view: bool = True,
    can_spend: bool = False,
    can_give: bool = False,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
) -> Proxy:
    """A relative or volunteer acts for the member with the rights stated, after the member's
    consent (how it was given is recorded)."""
    name = refuse_invisible_characters((name or "").strip())
    relation = refuse_invisible_characters((relation or "").strip())
    consent_note = refuse_invisible_characters((consent_note or "").strip())
    errors = {}
    if not name:
        errors["name"] = _("请填写代理人姓名。")
    if not relation:
        errors["relation"] = _("请填写代理人与会员的关系，如子女、邻居、志愿者。")
    if not consent_note:
        errors["consent_note"] = _("请写明会员本人如何同意的，如“本人签字的授权书”。")
    if not (can_view or can_spend or can_give):
        errors["can_view"] = _("请至少勾选一项代理权限。")
    if member.status != MemberStatus.ACTIVE:
        errors["member"] = _("只能为“正常”状态的会员登记代理人。")
    if user is not None and user.pk == getattr(member.user, "pk", None):
        errors["user"] = _("代理人不能是会员本人。")
    starts_on = starts_on or timezone.localdate()
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期。")
    if errors:
        raise ValidationError(errors)
    proxy = Proxy(
        member=member,
        user=user,
        name=name[:32],
        relation=relation[:20],
        can_view=can_view or can_spend or can_give,
        can_spend=can_spend,
        can_give=can_give,
        starts_on=starts_on,
        ends_on=ends_on,
        consent_note=consent_note[:120],
        created_by=by,
    )
    proxy.full_clean()
    proxy.save()
    change_record(
        obj=member,
        action="update",
        changes={"proxy": [None, f"{proxy.name}（{proxy.relation}）"]},
        by=by,
        region=member.region,
    )
    return proxy


@transaction.atomic
def proxy_end(*, by, proxy: Proxy, on: datetime.date | None = None) -> Proxy:
    on = on or timezone.localdate()
    if proxy.ends_on is not None and proxy.ends_on <= on:
        raise ValidationError({"ends_on": _("该代理已经结束。")})
    proxy.ends_on = max(on, proxy.starts_on)
    proxy.save(update_fields=["ends_on"])
    change_record(
        obj=proxy.member,
        action="update",
        changes={"proxy": [f"{proxy.name}（{proxy.relation}）", None]},
        by=by,
        region=proxy.member.region,
    )
    return proxy


# --- the member's confirmation at the desk ---------------------------------------------------

SIGNATURE_MAX_BYTES = 512 * 1024
CODE_MINUTES = 10
CODE_MAX_ATTEMPTS = 5


def signature_store(upload) -> str:
    """Keep a signature image (a real PNG or JPEG of at most 512 KB) under MEDIA with a random
    name; answer the stored name (the only thing the transfer keeps)."""
    if upload is None:
        raise ValidationError({"signature": _("请上传会员本人的签字图片。")})
    if upload.size > SIGNATURE_MAX_BYTES:
        raise ValidationError({"signature": _("签字图片不能超过 512 KB，请压缩后重新上传。")})
    data = upload.read(SIGNATURE_MAX_BYTES + 1)
    kind = _image_kind(data)
    if kind is None:
        raise ValidationError({"signature": _("签字图片只能是 PNG 或 JPEG 格式的图片。")})
    name = default_storage.save(f"timebank/signatures/{uuid.uuid4().hex}.{kind}", ContentFile(data))
    return name


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        kind = "png"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "jpg"
    else:
        return None
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is in requirements; magic bytes and size suffice
        return kind
    import io

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ("PNG", "JPEG"):
                return None
            width, height = image.size
            if not (8 <= width <= 4000 and 8 <= height <= 4000):
                return None
            image.verify()
    except Exception:  # noqa: BLE001 - any decoding failure is "not an image"
        return None
    return kind


@transaction.atomic
def desk_code_issue(*, by, member: Member, now=None) -> str:
    """A six-digit one-time code sent to the member (their own account and their proxies') through
    core.notify; only its keyed hash and expiry are kept. Answers the code for the desk's tests
    and for a member reached by telephone: the page never shows it."""
    from core.notify import notify

    now = now or timezone.now()
    recipients = [member.user_id] if member.user_id else []
    recipients += list(
        Proxy.objects.filter(proxy_active_q(timezone.localdate(now)), member=member, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    if not recipients:
        raise ValidationError({"code": _("该会员和代理人都没有登录账号，无法发送验证码，请改用签字确认。")})
    code = f"{secrets.randbelow(1_000_000):06d}"
    DeskCode.objects.filter(member=member, used_at__isnull=True).update(used_at=now)  # one live code at a time
    DeskCode.objects.create(
        member=member,
        code_hash=lookup_hash(f"{member.pk}:{code}"),
        expires_at=now + datetime.timedelta(minutes=CODE_MINUTES),
        created_by=by,
    )
    notify(
        recipients,
        subject=_("时间银行验证码"),
        body=_("您的时间银行窗口办理验证码是 %(code)s，%(m)d 分钟内有效。如非本人办理，请勿告诉他人。")
        % {"code": code, "m": CODE_MINUTES},
    )
    return code


def desk_code_check(*, member: Member, code: str, now=None) -> str:
    """The code the member read back: right, unexpired, unused; marks it used and answers its
    hash (the transfer's confirmation_ref). Five wrong tries spend the code."""
    now = now or timezone.now()
    code = (code or "").strip()
    row = DeskCode.objects.select_for_update().filter(member=member, used_at__isnull=True).order_by("-created_at").first()
    if row is None or row.expires_at <= now:
        raise ValidationError({"code": _("验证码已失效，请重新发送。")})
    if not (len(code) == 6 and code.isdigit()) or lookup_hash(f"{member.pk}:{code}") != row.code_hash:
        row.attempts += 1
        if row.attempts >= CODE_MAX_ATTEMPTS:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])
        raise ValidationError({"code": _("验证码不对，请核对会员读出的 6 位数字。")})
    row.used_at = now
    row.save(update_fields=["used_at"])
    return row.code_hash


def _confirmation(*, member, confirmation: str, signature=None, code: str = "", now=None) -> tuple[str, str]:
    if confirmation == Confirmation.SIGNATURE:
        return Confirmation.SIGNATURE, signature_store(signature)
    if confirmation == Confirmation.CODE:
        return Confirmation.CODE, desk_code_check(member=member, code=code, now=now)
    raise ValidationError({"confirmation": _("请选择会员本人的确认方式：签字图片或验证码。")})


def _desk_member_account(member: Member) -> Account:
    if member.status != MemberStatus.ACTIVE:
        raise ValidationError({"member": _("该会员现在是“%(s)s”，不能办理存取。") % {"s": member.get_status_display()}})
    account = Account.objects.filter(member=member).first()
    if account is None or account.closed_at is not None:
        raise ValidationError({"member": _("该会员的账户未开立或已销户。")})
    return account


def _positive_minutes(minutes, field="minutes") -> int:
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= 24 * 60:
        raise ValidationError({field: _("时长应为 1 到 1440 之间的整数分钟。")})
    return minutes


@transaction.atomic
def desk_deposit(
    *,
    by,
    member: Member,
    minutes_served: int,
    category: str,
    confirmation: str,
    signature=None,
    code: str = "",
    note: str = "",
    now=None,
) -> Transfer:
    """The desk records service a member gave offline: coins at the category's rate, with the
    member's confirmation (a signature image or the code they read back)."""
    account = _desk_member_account(member)
    minutes_served = _positive_minutes(minutes_served, "minutes_served")
    if category not in Category.values:
        raise ValidationError({"category": _("请选择服务类别。")})
    from timebank import ledger

    if ledger.coins_for(member.bank, category, minutes_served) <= 0:
        raise ValidationError({"minutes_served": _("按该类别的折算率，这次服务不足一分钟时间币。")})
    kind, ref = _confirmation(member=member, confirmation=confirmation, signature=signature, code=code, now=now)
    return ledger.deposit_service(
        member_account=account,
        minutes_served=minutes_served,
        category=category,
        by=by,
        kind=TransferKind.DESK_DEPOSIT,
        note=refuse_invisible_characters(note or "")[:200],
        confirmation=kind,
        confirmation_ref=ref,
    )


@transaction.atomic
def desk_withdraw(
    *, by, member: Member, minutes: int, confirmation: str, signature=None, code: str = "", note: str = "", now=None
) -> Transfer:
    """The desk pays out coins for a member who is not online (service they receive, a gift in
    kind), with their confirmation; the ledger refuses more than balance plus credit line."""
    account = _desk_member_account(member)
    minutes = _positive_minutes(minutes)
    kind, ref = _confirmation(member=member, confirmation=confirmation, signature=signature, code=code, now=now)
    from timebank import ledger

    return ledger.withdraw(
        member_account=account,
        minutes=minutes,
        by=by,
        confirmation=kind,
        confirmation_ref=ref,
        note=refuse_invisible_characters(note or "")[:200] or _("窗口取出"),
    )


# --- the member's own moves (my coins) -------------------------------------------------------


def acting_proxy(*, user, member: Member, right: str, today=None) -> Proxy | None:
    """The user's active proxy of `member` granting `right` (can_view, can_spend, can_give)."""
    return (
        proxies_in_force(user, right, today).filter(member=member).order_by("-starts_on").first()
        if user is not None and user.is_authenticated
        else None
    )


def _own_or_proxy(*, user, member: Member, right: str):
    if member.user_id == user.pk:
        return None
    proxy = acting_proxy(user=user, member=member, right=right)
    if proxy is None:
        raise ValidationError({"member": _("您不是该会员本人，也没有代理该会员转赠的权限。")})
    return proxy


def member_give(*, by, from_member: Member, to_number: int, to_name: str, minutes: int, note: str = ""):
    """Give coins to another member of the same bank, named by member number and checked by
    name (a parent's account, a neighbour's): by the member or a proxy with can_give."""
    from timebank import ledger

    proxy = _own_or_proxy(user=by, member=from_member, right="can_give")
    minutes = _positive_minutes(minutes)
    to = Member.objects.filter(pk=to_number, bank=from_member.bank, status=MemberStatus.ACTIVE).first()
    if to is None or to.name != (to_name or "").strip():
        raise ValidationError({"to_number": _("会员编号和姓名对不上，请核对对方的会员编号和姓名。")})
    if to.pk == from_member.pk:
        raise ValidationError({"to_number": _("不能转赠给自己。")})
    return ledger.gift(
        from_account=_desk_member_account(from_member),
        to_account=_desk_member_account(to),
        minutes=minutes,
        by=by,
        note=refuse_invisible_characters(note or "")[:200],
        proxy=proxy,
    )


def member_donate(*, by, member: Member, minutes: int):
    """Donate coins to the bank's pool (公益池)."""
    from timebank import ledger

    _own_or_proxy(user=by, member=member, right="can_give")
    minutes = _positive_minutes(minutes)
    return ledger.donate(from_account=_desk_member_account(member), minutes=minutes, by=by)


# --- levels ----------------------------------------------------------------------------------

from timebank.figures import SERVED_KINDS  # noqa: E402 - deposits carrying minutes served


def served_minutes_by_member(bank: Bank) -> dict[int, int]:
    """Minutes each member of `bank` served (SERVICE, desk and imported deposits carrying
    served minutes, less those reversed), one grouped query."""
    from timebank.models import Movement

    rows = (
        Movement.objects.filter(
            account__bank=bank,
            account__kind=AccountKind.PERSONAL,
            minutes__gt=0,
            transfer__kind__in=SERVED_KINDS,
            transfer__served_minutes__isnull=False,
            transfer__reversed_by__isnull=True,
        )
        .values("account__member_id")
        .annotate(served=Sum("transfer__served_minutes"))
    )
    return {r["account__member_id"]: int(r["served"] or 0) for r in rows}


def ratings_by_volunteer(volunteer_ids) -> dict[int, float]:
    from orders.models import Order

    rows = (
        Order.objects.filter(volunteer_id__in=volunteer_ids, rating__isnull=False)
        .values("volunteer_id")
        .annotate(avg=Avg("rating"), n=Count("id"))
    )
    return {r["volunteer_id"]: float(r["avg"]) for r in rows}


def level_for(levels: list, minutes: int, rating: float | None) -> int:
    """The highest level whose thresholds the member meets (no ratings yet: rating thresholds
    count as met, so a new volunteer is not held back by having no rated order)."""
    best = 0
    for row in levels or []:
        if minutes >= row["min_minutes"] and (rating is None or rating >= row.get("min_rating", 0)):
            best = row["level"]
    return best


def level_info(bank: Bank, level: int) -> dict | None:
    for row in bank.levels or []:
        if row["level"] == level:
            return row
    return None


def next_level(bank: Bank, level: int) -> dict | None:
    for row in bank.levels or []:
        if row["level"] > level:
            return row
    return None


@transaction.atomic
def levels_recompute(*, by, bank: Bank) -> dict:
    """Every active member's star level from hours served and their volunteer's ratings; writes
    only the members whose level changed (one change record each). Answers {level: count}."""
    served = served_minutes_by_member(bank)
    members = list(Member.objects.filter(bank=bank, status=MemberStatus.ACTIVE).only("id", "level", "volunteer_id", "region_id"))
    ratings = ratings_by_volunteer({m.volunteer_id for m in members if m.volunteer_id})
    counts: dict[int, int] = {}
    changed = []
    for m in members:
        level = level_for(bank.levels, served.get(m.pk, 0), ratings.get(m.volunteer_id))
        counts[level] = counts.get(level, 0) + 1
        if level != m.level:
            changed.append((m, m.level, level))
            m.level = level
    Member.objects.bulk_update([m for m, _b, _a in changed], ["level"], batch_size=1000)
    if changed:
        from audit.services import change_records_from_rows

        change_records_from_rows(
            model=Member,
            rows=[{"object_id": m.pk, "changes": {"level": [b, a]}, "region_id": m.region_id} for m, b, a in changed],
            by=by,
            action="update",
            note=_("星级重算"),
        )
    return counts


def levels_recompute_all() -> int:
    """The nightly recompute (jobs/schedule.py): every active bank's levels; answers how many banks."""
    banks = list(Bank.objects.filter(active=True).only("id", "levels"))
    for bank in banks:
        levels_recompute(by=None, bank=bank)
    return len(banks)


# --- words -----------------------------------------------------------------------------------


def minutes_text(minutes: int) -> str:
    """ "3小时20分" for 200 minutes; "-1小时" below zero."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(int(minutes)), 60)
    if hours and rest:
        return f"{sign}{hours}小时{rest}分"
    if hours:
        return f"{sign}{hours}小时"
    return f"{sign}{rest}分钟"


DEFAULT_LEVELS = [
    {"level": 1, "label": "一星义工", "min_minutes": 600, "min_rating": 0, "incentive": "颁发一星义工证书，优先参加社区活动。"},
    {"level": 2, "label": "二星义工", "min_minutes": 3000, "min_rating": 4.0, "incentive": "每年一次免费体检，社区公示表扬。"},
    {
        "level": 3,
        "label": "三星义工",
        "min_minutes": 6000,
        "min_rating": 4.5,
        "incentive": "推荐参评“最美志愿者”，纳入全市评先评优人选。",
    },
]
DEFAULT_RULES = {"min_age": 18, "residence": True, "approval": True}
