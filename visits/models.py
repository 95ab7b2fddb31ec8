"""Care visits (探访关爱, SPEC §2.8): who must be visited how often, each contact made, and the
monthly visit rate every community is measured on (民政部等十部门, 2022: 100 % by end 2025).

Three tables carry it:

- `VisitRule`: the risk tiers as configuration. A region's rules apply to it and below (the
  nearest region up the tree with active rules wins; without any, the platform's rules, region
  NULL). Each rule is a tier with a period (weekly, monthly, quarterly, yearly), an optional
  "within N hours of a major event", and `criteria`: a list of clauses, any of which puts an
  elder in the tier (first rule by `priority` wins). A clause is a dict of conditions that must
  all hold: `min_age`, `categories` (all of these elders.categories codes), `any_categories`
  (at least one), `conditions` (visits' own: `dementia`, `severe_illness`, from the latest
  assessment and the register; docs/visits.md).
- `VisitDue`: one obligation to visit one elder by a time — from a rule's period (source
  `rule`), a major event (`event`: within the rule's hours) or a campaign (`campaign`: every
  独居 elder in the street within 48 hours). It is met by the first visit that reaches the elder
  (not a missed one) between its `opens_at` and whenever it is made: `visit`/`visited_at` are set
  then; met late is still met, but the visit rate counts only `visited_at <= due_at`. Due and
  overdue lists are reads of the unmet rows by `due_at`; the rule rows of each period are
  written set-based for the whole city at the period's start (visits.duties).
- `Visit`: one contact — at home, by phone or video, through a pairing partner or a relative, or
  a missed visit (空访) with its reason — with a one-minute checklist, an outcome and follow-ups
  (a need, an order, an alert, a referral).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


class Period(models.TextChoices):
    WEEK = "week", _("每周")
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


class VisitRule(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"criteria": _("适用条件")}

    # NULL: the platform's rules (the default every region has until it sets its own).
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("适用区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tier = models.CharField(_("风险等级代码"), max_length=20)
    label = models.CharField(_("风险等级"), max_length=40)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=10, help_text=_("数字小的先匹配"))
    period = models.CharField(_("探访频次"), max_length=8, choices=Period.choices, default=Period.MONTH)
    event_hours = models.PositiveSmallIntegerField(
        _("重大事件后探访时限（小时）"), null=True, blank=True, help_text=_("留空表示不要求")
    )
    criteria = models.JSONField(_("适用条件"), default=list)
    active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("探访规则")
        verbose_name_plural = _("探访规则")
        ordering = ["region_id", "priority", "id"]
        constraints = [
            models.UniqueConstraint(fields=["region", "tier"], name="visitrule_region_tier"),
            models.UniqueConstraint(fields=["tier"], condition=models.Q(region__isnull=True), name="visitrule_default_tier"),
        ]

    def __str__(self):
        return self.label


class CampaignReason(models.TextChoices):
    HEAT = "heat", _("高温")
    COLD = "cold", _("寒潮")
    FESTIVAL = "festival", _("节日")
    EPIDEMIC = "epidemic", _("疫情")
    DISASTER = "disaster", _("灾害天气")
    OTHER = "other", _("其他")


class Campaign(models.Model):
    """ "Visit every 独居 elder in the street within 48 hours": a one-off round on top of the rules.
    Its targets are written as `VisitDue` rows (source campaign) when it starts."""

    SCOPE_PATH = "region__path"

    region = models.ForeignKey("regions.Region", verbose_name=_("范围"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=60)
    reason = models.CharField(_("原因"), max_length=10, choices=CampaignReason.choices, default=CampaignReason.OTHER)
    criteria = models.JSONField(_("探访对象条件"), default=list)
    starts_at = models.DateTimeField(_("开始时间"))
    hours = models.PositiveSmallIntegerField(_("完成时限（小时）"), default=48)
    due_at = models.DateTimeField(_("截止时间"))
    target_count = models.PositiveIntegerField(_("探访对象数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("专项探访")
        verbose_name_plural = _("专项探访")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["region", "starts_at"], name="campaign_region_start")]

    def __str__(self):
        return self.name


class EventKind(models.TextChoices):
    HOSPITAL = "hospital", _("住院/出院")
    BEREAVEMENT = "bereavement", _("丧偶/亲人离世")
    FALL = "fall", _("跌倒")
    ILLNESS = "illness", _("突发疾病")
    ALERT = "alert", _("紧急呼叫")
    DISASTER = "disaster", _("灾害/意外")
    OTHER = "other", _("其他重大事件")


class MajorEvent(models.Model):
    """Something that happened to an elder after which the rule asks for a visit within hours
    (a fall, a discharge, a bereavement; an alert resolved as sent to hospital raises one)."""

    SCOPE_PATH = "region__path"

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.CASCADE, related_name="major_events")
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("事件类型"), max_length=12, choices=EventKind.choices)
    happened_at = models.DateTimeField(_("发生时间"))
    description = models.CharField(_("说明"), max_length=300, blank=True, default="")
    alert = models.ForeignKey(
        "alerts.Alert", verbose_name=_("紧急呼叫"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("重大事件")
        verbose_name_plural = _("重大事件")
        ordering = ["-happened_at", "-id"]
        indexes = [models.Index(fields=["elder", "happened_at"], name="majorevent_elder")]


class Via(models.TextChoices):
    HOME = "home", _("入户探访")
    PHONE = "phone", _("电话")
    VIDEO = "video", _("视频")
    PARTNER = "partner", _("结对人代访")
    RELATIVE = "relative", _("亲属代访")


class MissedReason(models.TextChoices):
    NOT_HOME = "not_home", _("不在家")
    NO_ANSWER = "no_answer", _("电话无人接听")
    REFUSED = "refused", _("拒绝探访")
    IN_HOSPITAL = "in_hospital", _("住院")
    AWAY = "away", _("外出/随子女暂住")
    OTHER = "other", _("其他")


class Outcome(models.TextChoices):
    NORMAL = "normal", _("正常")
    CONCERN = "concern", _("需关注")
    EMERGENCY = "emergency", _("紧急")


class Visit(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"checklist": _("探访情况")}

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="visits")
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    visited_at = models.DateTimeField(_("探访时间"))
    via = models.CharField(_("探访方式"), max_length=10, choices=Via.choices, default=Via.HOME)
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("探访人账号"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visitor_name = models.CharField(_("探访人"), max_length=32)
    pairing = models.ForeignKey(
        "pairing.Pairing", verbose_name=_("结对"), null=True, blank=True, on_delete=models.SET_NULL, related_name="visits"
    )
    # A missed visit (空访): counted as an attempt, never as the contact a rule asks for.
    missed = models.BooleanField(_("空访"), default=False)
    missed_reason = models.CharField(_("空访原因"), max_length=12, choices=MissedReason.choices, blank=True, default="")
    # The one-minute checklist (visits.checklist.ITEMS: code -> value); docs/visits.md.
    checklist = models.JSONField(_("探访情况"), default=dict, blank=True)
    outcome = models.CharField(_("探访结果"), max_length=10, choices=Outcome.choices, default=Outcome.NORMAL)
    notes = models.CharField(_("备注"), max_length=500, blank=True, default="")
    # Follow-ups the visit opened.
    need = models.ForeignKey(
        "needs.Need", verbose_name=_("登记需求"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("服务工单"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    alert = models.ForeignKey(
        "alerts.Alert", verbose_name=_("紧急呼叫"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referral = models.CharField(_("转介"), max_length=200, blank=True, default="", help_text=_("例如：转介社区卫生服务中心"))
    # A phone that recorded the visit offline sends its own key: a replay is the same visit.
    client_key = models.CharField(max_length=64, blank=True, default="")
    # Kept on the phone without network and sent later (visits/static/visits/visit_form.js): the
    # time is the phone's, the upload came after (shown as 离线补传).
    offline = models.BooleanField(_("离线补传"), default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("探访记录")
        verbose_name_plural = _("探访记录")
        ordering = ["-visited_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "client_key"], condition=~models.Q(client_key=""), name="visit_client_key_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["region", "visited_at", "id"], name="visit_region_time"),
            models.Index(fields=["visited_at", "id", "region"], name="visit_time_region"),
            models.Index(fields=["elder", "visited_at"], name="visit_elder_time"),
            models.Index(fields=["visitor", "visited_at"], name="visit_visitor_time"),
        ]

    def __str__(self):
        return f"{self.elder_id} {self.visited_at:%Y-%m-%d}"


class DueSource(models.TextChoices):
    RULE = "rule", _("定期探访")
    EVENT = "event", _("重大事件后探访")
    CAMPAIGN = "campaign", _("专项探访")


class VisitDue(models.Model):
    SCOPE_PATH = "region__path"

    # No database foreign-key constraints on elder and region: the rule rows are derived, written a
    # million at a time for the whole city (visits.duties.dues_build) from the elders' own rows,
    # and a constraint's per-row check (which locks each elder's row FOR KEY SHARE) was the larger
    # part of the build. Django still cascades deletes of an elder (on_delete) and the columns
    # are indexed; docs/visits.md "Dues".
    elder = models.ForeignKey(
        "elders.Elder",
        verbose_name=_("老年人"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    region = models.ForeignKey(
        "regions.Region",
        verbose_name=_("所属区域"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    source = models.CharField(_("来源"), max_length=10, choices=DueSource.choices, default=DueSource.RULE)
    tier = models.CharField(_("风险等级"), max_length=20, blank=True, default="")
    period = models.CharField(_("探访频次"), max_length=8, choices=Period.choices, blank=True, default="")
    # The window: a visit from opens_at on meets it; due by due_at.
    opens_at = models.DateTimeField(_("起始时间"))
    due_at = models.DateTimeField(_("应访截止"))
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="dues", db_index=False)
    event = models.ForeignKey(MajorEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="dues", db_index=False)
    # No constraint either (see elder): deleting a visit would check every due by an unindexed column.
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False, db_constraint=False
    )
    visited_at = models.DateTimeField(_("探访时间"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("应访")
        verbose_name_plural = _("应访")
        ordering = ["due_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["elder", "opens_at"], condition=models.Q(source="rule"), name="visitdue_rule_period"),
            # Partial: the rule rows (most of the table) carry neither, and skip both indexes.
            models.UniqueConstraint(
                fields=["campaign", "elder"], condition=models.Q(campaign__isnull=False), name="visitdue_campaign_elder"
            ),
            models.UniqueConstraint(fields=["event"], condition=models.Q(event__isnull=False), name="visitdue_event"),
        ]
        indexes = [
            # Due and overdue lists: the unmet rows by due time, for a small and a big subtree.
            models.Index(
                fields=["region", "due_at", "id"], name="visitdue_open_region", condition=models.Q(visited_at__isnull=True)
            ),
            models.Index(
                fields=["due_at", "id", "region"], name="visitdue_open_due", condition=models.Q(visited_at__isnull=True)
            ),
            # A visit meets the elder's open rows; the elder's page lists them. The rule rows (a
            # million a month for a city) are found by elder through the unique index
            # visitdue_rule_period; this one holds only the few others. Ask for an elder's dues with
            # `dues_of_elder_q`, whose two arms match the two partial indexes (a BitmapOr).
            models.Index(fields=["elder", "due_at"], name="visitdue_elder_other", condition=~models.Q(source="rule")),
            # The monthly rate: the rule rows due in a month, by region, with what the rate reads
            # (elder, visited_at), so a city's month is an index-only scan (visits.selectors.visit_rate).
            models.Index(
                fields=["due_at", "region", "elder", "visited_at"], name="visitdue_rule_rate", condition=models.Q(source="rule")
            ),
        ]


def dues_of_elder_q(**lookup) -> models.Q:
    """`lookup` on the elder (elder=…, elder_id__in=…) written so PostgreSQL reads each partial
    index for its rows: the rule rows by visitdue_rule_period, the others by visitdue_elder_other."""
    return models.Q(source="rule", **lookup) | (~models.Q(source="rule") & models.Q(**lookup))
