"""The needs ledger (需求清单, SPEC §2.2, seed 004): per elder, what they need, from whom we
heard it, which catalogue items answer it, and where its follow-up stands.

A need's region is the elder's, copied so a community's list is one indexed read (no join
through the register): needs.services keeps it in sync when an elder moves (a post_save
receiver on Elder and the daily `need_regions_sync`).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.scoping import ScopedManager


class Kind(models.TextChoices):
    GENERAL = "general", _("普需")
    SPECIAL = "special", _("特需")
    URGENT = "urgent", _("刚需")


class Source(models.TextChoices):
    VISIT = "visit", _("上门走访")
    CALL = "call", _("电话")
    ASSESSMENT = "assessment", _("能力评估")
    ELDER = "elder", _("老人本人")
    FAMILY = "family", _("家属")
    OTHER = "other", _("其他")


class State(models.TextChoices):
    OPEN = "open", _("待处理")
    PLANNED = "planned", _("已安排")
    MET = "met", _("已满足")
    CLOSED = "closed", _("已关闭")


# Open and planned needs are the ones a follow-up date can make overdue.
PENDING = (State.OPEN, State.PLANNED)

NEED_ACTIONS = {
    "plan": _("安排服务"),
    "meet": _("标记已满足"),
    "close": _("关闭"),
    "reopen": _("重新打开"),
}
# Actions that need a reason (the note of the change record and the row's close_reason).
REASON_REQUIRED = {"close", "reopen"}

NEED_MACHINE = StateMachine(
    transitions={
        (State.OPEN, "plan"): State.PLANNED,
        (State.OPEN, "meet"): State.MET,
        (State.OPEN, "close"): State.CLOSED,
        (State.PLANNED, "meet"): State.MET,
        (State.PLANNED, "close"): State.CLOSED,
        (State.PLANNED, "reopen"): State.OPEN,
        (State.MET, "reopen"): State.OPEN,
        (State.CLOSED, "reopen"): State.OPEN,
    },
    field="state",
    actions=NEED_ACTIONS,
)


class Need(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"items": _("对应服务项目"), "responsible_name": _("负责人")}

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.CASCADE, related_name="needs")
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+", help_text=_("老人的所属区域")
    )
    kind = models.CharField(_("需求类型"), max_length=10, choices=Kind.choices, default=Kind.GENERAL)
    source = models.CharField(_("需求来源"), max_length=12, choices=Source.choices, default=Source.VISIT)
    description = models.CharField(_("需求描述"), max_length=500)
    items = models.ManyToManyField("catalogue.ServiceItem", verbose_name=_("对应服务项目"), blank=True, related_name="needs")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    close_reason = models.CharField(_("关闭原因"), max_length=200, blank=True, default="")
    follow_up_on = models.DateField(_("跟进日期"), null=True, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    state_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求")
        ordering = ["follow_up_on", "id"]
        indexes = [
            # The overdue and open lists sort by follow-up date: one index for a small subtree
            # (read its rows by region), one for a big one (walk the date order).
            models.Index(fields=["region", "state", "follow_up_on", "id"], name="need_region_state_follow"),
            models.Index(fields=["state", "follow_up_on", "id", "region"], name="need_state_follow_region"),
            # The default and overdue lists ask for open OR planned: partial indexes hold exactly
            # those rows in follow-up order, so neither side sorts (state IN (…) defeats the two above).
            models.Index(
                fields=["region", "follow_up_on", "id"], name="need_pending_region_follow", condition=models.Q(state__in=PENDING)
            ),
            models.Index(
                fields=["follow_up_on", "id", "region"], name="need_pending_follow_region", condition=models.Q(state__in=PENDING)
            ),
        ]

    def __str__(self):
        return self.description[:30]
