"""Settlement in fen (SPEC §2.5, issue 11): who pays what of each delivered visit, and the
monthly statements per payer, organisation and worker.

`Share` — one payer's part of one order's price, written when the visit is checked out
(settlements/split.py: the payers in their order, each claims what its rule allows of what is
left, the elder pays the rest; shares add up to the price and are never negative).
`Statement` + `StatementLine` — a month's statement for one party; frozen once issued: a share
that becomes payable later, or a correction, is a new line on a later statement, never an edit.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import Scope, ScopedManager, ScopedQuerySet


class StatementScopedQuerySet(ScopedQuerySet):
    """Shares and statement lines are read with the statements' permissions
    (settlements.view_statement, issue_statement, export_statement): the roles hold no codes of
    their own for them. The scope itself is the one rule (core.scoping.Scope)."""

    def restrict(self, user, action: str = "view"):
        if not getattr(user, "is_authenticated", False) or not user.may(action, Statement):
            return self.none()
        scope = Scope.of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(scope.q(self.model))


class ShareManager(models.Manager.from_queryset(StatementScopedQuerySet)):
    pass


class Share(models.Model):
    """One payer's part of one delivered visit's price (or a correction of one)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"
    HISTORY_ACTIONS = {"correct": _("更正")}

    order = models.ForeignKey("orders.Order", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="shares")
    payer_kind = models.CharField(_("付费方"), max_length=16)  # a code of settlements.payers' registry
    payer_key = models.CharField(_("付费方标识"), max_length=40, blank=True, default="")  # package code, merchant id, region id …
    payer_label = models.CharField(_("付费方名称"), max_length=80, blank=True, default="")
    amount_fen = models.IntegerField(_("金额（分）"))  # a correction line may be negative; a split never is
    month = models.DateField(_("所属月份"))  # the first day of the month of the visit
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    organisation = models.ForeignKey(
        "providers.Organisation",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # share_org_month leads with it
    )
    caregiver = models.ForeignKey(
        "providers.Caregiver", verbose_name=_("服务人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    volunteer = models.ForeignKey(
        "providers.Volunteer", verbose_name=_("志愿者"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self", verbose_name=_("更正"), null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    # A subsidy share: how many of the quota's units (the item's unit) it used, and which quota
    # ("<package code>/item:<id>/<unit>" or ".../category:<id>/<unit>"): the month's later
    # visits count what earlier shares used (settlements/payers.py).
    units = models.PositiveIntegerField(_("额度用量"), default=0)
    quota_key = models.CharField(_("额度"), max_length=60, blank=True, default="")
    # True while the share waits for a statement outside its own month's build: written after
    # its month ended (a late check-out, a correction), or its order was not payable when its
    # month was built. A month's build takes its own month's shares and these (a small partial
    # index), never the whole history (settlements/services.py).
    awaits_statement = models.BooleanField(_("待补记"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShareManager()

    class Meta:
        verbose_name = _("费用分担")
        verbose_name_plural = _("费用分担")
        ordering = ["order", "id"]
        indexes = [
            models.Index(fields=["month", "payer_kind", "region"], name="share_month_payer_region"),
            models.Index(fields=["region", "month"], name="share_region_month"),
            models.Index(fields=["organisation", "month"], name="share_org_month"),
            models.Index(fields=["month"], condition=models.Q(awaits_statement=True), name="share_awaits_statement"),
        ]
        constraints = [
            # A split never makes a negative share; only a correction may be negative.
            models.CheckConstraint(
                condition=models.Q(corrects__isnull=False) | models.Q(amount_fen__gte=0), name="share_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.payer_label or self.payer_kind} {self.amount_fen}"


class Statement(models.Model):
    """A month's statement of one party: a payer (government of a region, a package, the elders of
    a community, a merchant …), an organisation, or a worker."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"
    HISTORY_ACTIONS = {"build": _("生成"), "issue": _("出具")}

    class Kind(models.TextChoices):
        PAYER = "payer", _("付费方对账单")
        ORGANISATION = "organisation", _("服务机构结算单")
        WORKER = "worker", _("服务人员结算单")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        ISSUED = "issued", _("已出具")

    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    month = models.DateField(_("月份"))
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    party_key = models.CharField(_("对象标识"), max_length=60)
    party_label = models.CharField(_("对象"), max_length=80)
    payer_kind = models.CharField(_("付费方"), max_length=16, blank=True, default="")
    organisation = models.ForeignKey(
        "providers.Organisation", verbose_name=_("服务机构"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caregiver = models.ForeignKey(
        "providers.Caregiver", verbose_name=_("服务人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.DRAFT)
    total_fen = models.BigIntegerField(_("合计（分）"), default=0)
    line_count = models.PositiveIntegerField(_("笔数"), default=0)
    issued_at = models.DateTimeField(_("出具时间"), null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("月度结算单")
        verbose_name_plural = _("月度结算单")
        ordering = ["-month", "kind", "party_label", "id"]
        indexes = [models.Index(fields=["region", "month", "kind"], name="statement_region_month_kind")]
        constraints = [
            models.UniqueConstraint(fields=["kind", "month", "region", "party_key"], name="statement_party_month"),
        ]


class StatementLine(models.Model):
    """One share on one statement. A share sits on at most one statement of each kind."""

    SCOPE_PATH = "statement__region__path"
    SCOPE_ORG = "statement__organisation"

    # A city month's build writes millions of lines (settlements/services.py), so each costs as
    # little as it can: no foreign-key constraint in the database — PostgreSQL would check both
    # keys of every line, one by one, at commit (over a minute for a city month) — and no index of
    # `share` of its own (statement_line_share_kind leads with it). Lines are written only by the
    # build, joined from the shares and statements it has in hand, in its transaction; shares are
    # never deleted and a statement's lines go before it.
    statement = models.ForeignKey(
        Statement, verbose_name=_("结算单"), on_delete=models.PROTECT, related_name="lines", db_constraint=False
    )
    share = models.ForeignKey(
        Share, verbose_name=_("费用分担"), on_delete=models.PROTECT, related_name="lines", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=12)  # the statement's kind, copied for the constraint below
    amount_fen = models.IntegerField(_("金额（分）"))
    is_late = models.BooleanField(_("补记（以前月份）"), default=False)

    objects = ShareManager()

    class Meta:
        verbose_name = _("结算明细")
        verbose_name_plural = _("结算明细")
        ordering = ["statement", "id"]
        constraints = [models.UniqueConstraint(fields=["share", "kind"], name="statement_line_share_kind")]
