"""The time bank (时间银行, SPEC §2.7, seed 004): members, their accounts, and a double-entry,
append-only ledger of time coins in integer minutes.

- A `Bank` is a community's (one each), or a street's or the city's shared one; its joining
  rules, category rates, credit line and member levels are configuration on the row.
- A `Member` is a person of the bank: an elder of the register, a volunteer, or a resident
  named here; with an account of their own (`Account`, kind personal). A bank also has
  accounts that are nobody's: its pools (donations, incentives), the **issue** account that
  service hours are credited from (its balance is minus every coin ever earned), the **hold**
  account that keeps coins a time-coin order has reserved, and the **clearing** account that
  coins cross when a member moves to another bank.
- A `Transfer` is one event (a service paid, a gift, a desk withdrawal, a reversal …); its
  `Movement`s sum to zero. Nothing is updated or deleted: a correction is a new transfer that
  `reverses` the first (one reversal each, by a unique constraint).
- `Account.balance_minutes` is a stored copy of the sum of its movements, kept in the same
  transaction under a row lock (accounts locked in id order) so limits hold under concurrency;
  the suite and a scheduled audit (timebank.audit) prove it equal to the ledger.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


class Category(models.TextChoices):
    """The ten kinds of service of 驻春路社区's bank (seed 004)."""

    MUTUAL_CARE = "mutual_care", _("互助养老")
    POVERTY_RELIEF = "relief", _("社区帮困")
    TUTORING = "tutoring", _("义务家教")
    LEGAL_AID = "legal_aid", _("法律援助")
    SECURITY = "security", _("社区治安")
    HEALTH_CARE = "health_care", _("医疗保健")
    HEALTH_TALK = "health_talk", _("健康讲座")
    EDUCATION = "education", _("社区教育")
    CULTURE_SPORTS = "culture", _("社区文体")
    ENVIRONMENT = "environment", _("社区环保")


class Bank(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"rules": _("入会条件"), "rates": _("类别折算率"), "levels": _("星级标准")}

    region = models.OneToOneField(
        "regions.Region",
        verbose_name=_("所属区域"),
        on_delete=models.PROTECT,
        related_name="time_bank",
        help_text=_("社区的时间银行；街道或全市可开办共用的时间银行"),
    )
    name = models.CharField(_("名称"), max_length=60)
    # Joining rules: {"min_age": 18, "residence": true, "approval": true}.
    rules = models.JSONField(_("入会条件"), default=dict, blank=True)
    # Category rates: {category: per_mille}, minutes credited = minutes served × rate / 1000
    # (1000 = one hour of service earns one hour of coins); a category not listed: 1000.
    rates = models.JSONField(_("类别折算率"), default=dict, blank=True)
    # How far below zero a personal account may go (minutes; 0: never below zero).
    credit_line_minutes = models.PositiveIntegerField(_("透支额度（分钟）"), default=0)
    # Star levels (星级义工): [{"level": 1, "label": "一星义工", "min_minutes": 600, "min_rating": 4.0,
    # "incentive": "…"}, …] by hours served and average rating.
    levels = models.JSONField(_("星级标准"), default=list, blank=True)
    active = models.BooleanField(_("运营中"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("时间银行")
        verbose_name_plural = _("时间银行")

    def __str__(self):
        return self.name


class MemberStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    ACTIVE = "active", _("正常")
    REFUSED = "refused", _("未通过")
    LEFT = "left", _("已退出")
    MOVED = "moved", _("已转出")


class Member(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_MASKED = {}

    bank = models.ForeignKey(Bank, verbose_name=_("时间银行"), on_delete=models.PROTECT, related_name="members")
    # The member's community (for a shared bank, where they live): the scope of their row.
    region = models.ForeignKey("regions.Region", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("姓名"), max_length=32)
    elder = models.ForeignKey(
        "elders.Elder",
        verbose_name=_("老年人档案"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_bank_members",
    )
    volunteer = models.ForeignKey(
        "providers.Volunteer",
        verbose_name=_("志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="time_bank_members",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="time_bank_members",
    )
    phone_enc = models.TextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, default="")
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    is_retired_cadre = models.BooleanField(_("离退休干部"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.PENDING)
    joined_on = models.DateField(_("入会日期"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The member's star level, recomputed from hours served and ratings (timebank.levels).
    level = models.PositiveSmallIntegerField(_("星级"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("会员")
        verbose_name_plural = _("会员")
        ordering = ["bank_id", "id"]
        indexes = [
            models.Index(fields=["region", "status", "id"], name="tb_member_region_status"),
            models.Index(fields=["bank", "status", "id"], name="tb_member_bank_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "elder"],
                condition=models.Q(elder__isnull=False) & ~models.Q(status__in=["left", "moved", "refused"]),
                name="tb_member_elder_once",
            ),
            models.UniqueConstraint(
                fields=["bank", "volunteer"],
                condition=models.Q(volunteer__isnull=False) & ~models.Q(status__in=["left", "moved", "refused"]),
                name="tb_member_volunteer_once",
            ),
        ]

    def __str__(self):
        return self.name


class AccountKind(models.TextChoices):
    PERSONAL = "personal", _("个人账户")
    POOL = "pool", _("公益池")
    ISSUE = "issue", _("服务记账")
    HOLD = "hold", _("预扣")
    CLEARING = "clearing", _("跨行清算")


class Account(models.Model):
    SCOPE_PATH = "bank__region__path"

    bank = models.ForeignKey(Bank, verbose_name=_("时间银行"), on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(_("账户类型"), max_length=10, choices=AccountKind.choices, default=AccountKind.PERSONAL)
    member = models.OneToOneField(
        Member, verbose_name=_("会员"), null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    name = models.CharField(_("账户名称"), max_length=60)
    # The sum of this account's movements, kept under a row lock (see the module's docstring).
    balance_minutes = models.BigIntegerField(_("余额（分钟）"), default=0)
    # Personal accounts may not go below -credit_line (the bank's, unless set here); the bank's
    # own accounts (issue, hold, clearing) are not limited; pools may not go below zero.
    credit_line_minutes = models.PositiveIntegerField(_("透支额度（分钟）"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销户时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("时间币账户")
        verbose_name_plural = _("时间币账户")
        ordering = ["bank_id", "kind", "id"]
        indexes = [models.Index(fields=["bank", "kind"], name="tb_account_bank_kind")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="personal", member__isnull=False) | ~models.Q(kind="personal"),
                name="tb_account_personal_has_member",
            ),
            # One issue, hold and clearing account per bank.
            models.UniqueConstraint(
                fields=["bank", "kind"], condition=models.Q(kind__in=["issue", "hold", "clearing"]), name="tb_account_system_once"
            ),
        ]

    def __str__(self):
        return self.name


class TransferKind(models.TextChoices):
    SERVICE = "service", _("服务存入")
    SPEND = "spend", _("兑换服务")
    HOLD = "hold", _("预扣")
    TAKE = "take", _("结算扣除")
    RELEASE = "release", _("取消退回")
    GIFT = "gift", _("转赠")
    DONATION = "donation", _("捐赠")
    INCENTIVE = "incentive", _("激励发放")
    GROUP = "group", _("集体活动")
    DESK_DEPOSIT = "desk_deposit", _("窗口存入")
    DESK_WITHDRAWAL = "desk_withdrawal", _("窗口取出")
    IMPORT = "import", _("表格导入")
    MOVE_OUT = "move_out", _("转出他行")
    MOVE_IN = "move_in", _("他行转入")
    REVERSAL = "reversal", _("冲正")


class Confirmation(models.TextChoices):
    NONE = "", _("无")
    ONLINE = "online", _("本人在线确认")
    SIGNATURE = "signature", _("本人签字（图片）")
    CODE = "code", _("一次性验证码")
    PROXY = "proxy", _("代理人确认")


class Transfer(models.Model):
    SCOPE_PATH = "bank__region__path"

    bank = models.ForeignKey(Bank, verbose_name=_("时间银行"), on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(_("交易类型"), max_length=16, choices=TransferKind.choices)
    category = models.CharField(_("服务类别"), max_length=12, choices=Category.choices, blank=True, default="")
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    # A reversal names the transfer it reverses; each transfer is reversed at most once.
    reverses = models.OneToOneField(
        "self", verbose_name=_("冲正的交易"), null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("服务工单"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The other side of a move between banks (the transfer in the other bank).
    counterpart = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    served_minutes = models.PositiveIntegerField(_("服务时长（分钟）"), null=True, blank=True)
    confirmation = models.CharField(_("本人确认方式"), max_length=10, choices=Confirmation.choices, blank=True, default="")
    # A signature image (a stored file's name) or the one-time code's keyed hash: never the code.
    confirmation_ref = models.CharField(max_length=200, blank=True, default="")
    proxy = models.ForeignKey(
        "timebank.Proxy", verbose_name=_("代理人"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A client's retry of the same request is the same transfer.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    at = models.DateTimeField(_("交易时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("时间币交易")
        verbose_name_plural = _("时间币交易")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["bank", "at", "id"], name="tb_transfer_bank_at"),
            models.Index(fields=["order", "kind"], name="tb_transfer_order", condition=models.Q(order__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "idempotency_key"], condition=~models.Q(idempotency_key=""), name="tb_transfer_idempotent"
            ),
        ]


class Movement(models.Model):
    """One leg of a transfer: minutes into (positive) or out of (negative) one account."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="movements")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="movements", db_index=False)
    minutes = models.BigIntegerField(_("分钟"))
    # The account's balance after this movement (the statement's running balance).
    balance_after = models.BigIntegerField(_("余额（分钟）"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("账户变动")
        verbose_name_plural = _("账户变动")
        ordering = ["account_id", "id"]
        indexes = [models.Index(fields=["account", "at", "id"], name="tb_movement_account_at")]
        constraints = [models.CheckConstraint(condition=~models.Q(minutes=0), name="tb_movement_nonzero")]


def proxy_active_q(today=None) -> models.Q:
    """Proxies in force on `today`: from `starts_on`, up to the day before `ends_on` (ending a
    proxy today ends it today). The one rule, for lists (members, selectors) and the ledger."""
    from django.utils import timezone

    today = today or timezone.localdate()
    return models.Q(starts_on__lte=today) & (models.Q(ends_on__isnull=True) | models.Q(ends_on__gt=today))


class Proxy(models.Model):
    """A relative or volunteer registered to act for a member (an elder not online), with the
    rights stated."""

    SCOPE_PATH = "member__region__path"

    member = models.ForeignKey(Member, verbose_name=_("会员"), on_delete=models.CASCADE, related_name="proxies")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("代理人账号"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("代理人姓名"), max_length=32)
    relation = models.CharField(_("关系"), max_length=20)
    can_view = models.BooleanField(_("可查看账户"), default=True)
    can_spend = models.BooleanField(_("可兑换服务"), default=False)
    can_give = models.BooleanField(_("可转赠、捐赠"), default=False)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    consent_note = models.CharField(_("本人同意方式"), max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("代理人")
        verbose_name_plural = _("代理人")

    def in_force_on(self, day) -> bool:
        """proxy_active_q for one loaded proxy."""
        return self.starts_on <= day and (self.ends_on is None or self.ends_on > day)


def proxies_in_force(user, right: str = "can_view", today=None):
    """The proxies `user` holds in force on `today` with `right` (can_view, can_spend, can_give):
    the one query the member pages, the API's account access and the postings use."""
    return Proxy.objects.filter(proxy_active_q(today), user=user, **{right: True})


class DeskCode(models.Model):
    """A one-time code the desk sent a member (through core.notify) to confirm a withdrawal or a
    deposit they are not online for: only its keyed hash is kept, with its expiry; used once."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="desk_codes")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField(_("有效期至"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("窗口验证码")
        verbose_name_plural = _("窗口验证码")
        indexes = [models.Index(fields=["member", "created_at"], name="tb_deskcode_member")]


class DayFigure(models.Model):
    """The figures' rollup (timebank.figures): per day (Asia/Shanghai), the community a transfer
    is counted in, bank, kind and category — how many transfers touching a member, services and
    minutes served (less those reversed later), and the sum of their legs (0 when the ledger is
    whole). Built set-based from the transfers up to a watermark; the figures add the few newer
    transfers live, so they stay exact and live for a city."""

    day = models.DateField()
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16)
    category = models.CharField(max_length=12, blank=True, default="")
    transfers = models.BigIntegerField(default=0)
    services = models.BigIntegerField(default=0)
    served_minutes = models.BigIntegerField(default=0)
    minutes_sum = models.BigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["region", "day"], name="tb_dayfigure_region_day")]
        constraints = [
            models.UniqueConstraint(fields=["day", "region", "bank", "kind", "category"], name="tb_dayfigure_once"),
        ]


class FigureWatermark(models.Model):
    """How far DayFigure has rolled: transfers with id ≤ rolled_to are in it; seen_max is the
    highest id seen at the last run, rolled at the next (a transaction still open then has
    committed by now)."""

    rolled_to = models.BigIntegerField(default=0)
    seen_max = models.BigIntegerField(default=0)
