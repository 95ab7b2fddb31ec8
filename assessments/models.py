"""Ability assessment (能力评估, SPEC §2.2): instruments as versioned data, one record per visit.

An Instrument row is one version of a scale (GB/T 42195-2022, Barthel): its whole definition
(items, options, points, groups, levels with cut-offs, adjustment rules) is a validated JSON
document (assessments/definition.py). A new version with other cut-offs is a new row; the
published row with the highest version of a code is the one in use.

An Assessment belongs to an elder and is scoped through the elder's region (SCOPE_PATH
"elder__region__path": an elder who moves takes the records along). Its score and levels are
computed by assessments.scoring from the answers and the adjustment facts, by the services only.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.scoping import ScopedManager
from elders.models import AbilityLevel


class Instrument(models.Model):
    code = models.CharField(_("量表编码"), max_length=20)
    version = models.PositiveIntegerField(_("版本"))
    name = models.CharField(_("量表名称"), max_length=100)
    definition = models.JSONField(_("量表定义"))
    is_published = models.BooleanField(_("已发布"), default=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    note = models.CharField(_("版本说明"), max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("评估量表")
        verbose_name_plural = _("评估量表")
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version_unique")]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def clean(self):
        from assessments.definition import validate_definition

        validate_definition(self.definition)


class Reason(models.TextChoices):
    FIRST = "first", _("首次评估")
    PERIODIC = "periodic", _("常规评估")
    CHANGE = "change", _("状态变化后即时评估")
    DISPUTE = "dispute", _("因评估结果有疑问进行的复评")
    OTHER = "other", _("其他")


class Status(models.TextChoices):
    DRAFT = "draft", _("填写中")
    COMPLETED = "completed", _("已完成")


ASSESSMENT_STATUS = StateMachine(
    transitions={(Status.DRAFT, "complete"): Status.COMPLETED},
    field="status",
    actions={"complete": _("完成评估")},
)


class Assessment(models.Model):
    SCOPE_PATH = "elder__region__path"
    HISTORY_LABELS = {"answers": _("评估答案"), "facts": _("等级变更依据")}

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="assessments")
    instrument = models.ForeignKey(Instrument, verbose_name=_("评估量表"), on_delete=models.PROTECT, related_name="+")
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评估员"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    assessed_on = models.DateField(_("评估日期"))
    place = models.CharField(_("评估地点"), max_length=100, blank=True, default="")
    reason = models.CharField(_("评估原因"), max_length=10, choices=Reason.choices, default=Reason.FIRST)
    answers = models.JSONField(_("评估答案"), default=dict, blank=True)  # item code -> points of the chosen option
    facts = models.JSONField(_("等级变更依据"), default=dict, blank=True)  # coma, dementia, risk_events …
    score = models.PositiveSmallIntegerField(_("总分"), default=0)
    group_scores = models.JSONField(_("分组得分"), default=dict, blank=True)
    base_level = models.CharField(_("初步等级"), max_length=10, blank=True, default="")
    final_level = models.CharField(_("最终等级"), max_length=10, blank=True, default="")
    adjustments = models.JSONField(_("等级变更"), default=list, blank=True)  # [{"code", "reason"}]
    # What the set-based recompute needs to redo the levels in SQL from the score alone.
    raise_steps = models.PositiveSmallIntegerField(default=0)
    forced_level = models.CharField(max_length=10, blank=True, default="")
    graded_with = models.PositiveIntegerField(_("分级所用版本"), default=1)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # The elder's latest completed assessment of an instrument that drives the ability level.
    is_latest = models.BooleanField(default=False)
    next_due = models.DateField(_("下次评估日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("能力评估")
        verbose_name_plural = _("能力评估")
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["elder", "status", "assessed_on"], name="assess_elder_status_on"),
            models.Index(fields=["status", "assessed_on", "id"], name="assess_status_on_id"),
            # the due list: latest only, by due date
            models.Index(fields=["next_due", "id", "elder"], name="assess_latest_due", condition=models.Q(is_latest=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["elder"], condition=models.Q(is_latest=True), name="assess_one_latest_per_elder"),
        ]

    def __str__(self):
        return f"{self.elder_id} {self.assessed_on}"

    @staticmethod
    def history_hidden_fields(user) -> set:
        return set()

    def level_label(self, code: str) -> str:
        from assessments.scoring import level_name

        return level_name(self.instrument.definition, code) or (AbilityLevel(code).label if code in AbilityLevel.values else code)

    @property
    def final_level_label(self) -> str:
        return self.level_label(self.final_level)

    @property
    def base_level_label(self) -> str:
        return self.level_label(self.base_level)
