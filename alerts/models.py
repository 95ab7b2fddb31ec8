"""Emergency alerts (紧急救助, SPEC §2.9, seed 000): call devices registered to elders, alerts
from a device gateway, the hotline or a visit, and the escalation chain each alert walks until
someone acknowledges it.

The chain is data. An `EscalationPolicy` belongs to a region (a community sets its own; a
street's or the city's is the default below it; without any, `DEFAULT_STEPS`). When an alert is
raised its steps are **copied** onto the alert (`Alert.steps`): editing the policy later does not
change an alert in flight. `Alert.step` is the index of the next step to run and `next_step_at`
when; the escalation tick (alerts.escalation, every few seconds through the task layer) runs the
steps that are due, set-based over the indexed `next_step_at`. Acknowledging stops the chain;
resolving records the outcome. Every step, acknowledgement and resolution is an `AlertEvent`
with its time: the timeline on the board and the response figures come from them.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.scoping import ScopedManager


class DeviceKind(models.TextChoices):
    CALL_BUTTON = "call_button", _("一键呼叫器")
    WATCH = "watch", _("智能手表/手环")
    FALL_SENSOR = "fall_sensor", _("跌倒报警器")
    GAS = "gas", _("燃气报警器")
    SMOKE = "smoke", _("烟感报警器")
    DOOR = "door", _("门磁/活动监测")
    OTHER = "other", _("其他")


class DeviceStatus(models.TextChoices):
    ACTIVE = "active", _("在用")
    RETIRED = "retired", _("已停用")


class Device(models.Model):
    """A call device in an elder's home. Its gateway signs in with a per-device token: only the
    token's keyed hash is kept (core.crypto.lookup_hash); the token is shown once when issued."""

    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"token": _("网关令牌")}  # the services record issuing, never the token

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="devices")
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+", help_text=_("老人的所属区域")
    )
    kind = models.CharField(_("设备类型"), max_length=12, choices=DeviceKind.choices, default=DeviceKind.CALL_BUTTON)
    number = models.CharField(_("设备编号"), max_length=40, unique=True, help_text=_("设备机身上的编号（IMEI 或序列号）"))
    installed_on = models.DateField(_("安装日期"))
    installed_by = models.CharField(_("安装人/单位"), max_length=60, blank=True, default="")
    status = models.CharField(_("状态"), max_length=10, choices=DeviceStatus.choices, default=DeviceStatus.ACTIVE)
    battery = models.PositiveSmallIntegerField(_("电量（%）"), null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    heartbeat_minutes = models.PositiveIntegerField(
        _("心跳间隔（分钟）"), default=60, help_text=_("超过两个间隔没有心跳即标记为失联")
    )
    # When the device counts as silent: last heartbeat (or install) + 2 intervals; kept by the
    # services so "silent devices" is one indexed range read.
    silent_after = models.DateTimeField(null=True, blank=True)
    # When the community was told this device went silent (silent_devices_notify, hourly); a
    # heartbeat clears it, so each silence is told once.
    silent_notified_at = models.DateTimeField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True, default="")
    token_issued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("呼叫设备")
        verbose_name_plural = _("呼叫设备")
        ordering = ["region_id", "id"]
        indexes = [
            models.Index(fields=["region", "status", "id"], name="device_region_status"),
            models.Index(fields=["silent_after", "id", "region"], name="device_silent", condition=models.Q(status="active")),
            models.Index(fields=["token_hash"], name="device_token", condition=~models.Q(token_hash="")),
            models.Index(fields=["elder", "status"], name="device_elder"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"


class StepTarget(models.TextChoices):
    WATCHER = "watcher", _("通知守望员")
    HELPER = "helper", _("通知互助员")
    FAMILY = "family", _("通知家属")
    DUTY = "duty", _("通知社区值班人员")
    GRID = "grid", _("通知网格员")
    CALL_120 = "call_120", _("提示拨打 120")


# The chain when no region above the elder's has one: watcher, 3 minutes, family, 3 minutes, the
# community's duty worker, 5 minutes, then the board prompts to call 120 (seed 000's neighbours
# first; the local emergency practice the issue quotes). `wait_minutes` is the wait after the step.
DEFAULT_STEPS = [
    {"target": StepTarget.WATCHER.value, "wait_minutes": 3},
    {"target": StepTarget.FAMILY.value, "wait_minutes": 3},
    {"target": StepTarget.DUTY.value, "wait_minutes": 5},
    {"target": StepTarget.CALL_120.value, "wait_minutes": 0},
]


class EscalationPolicy(models.Model):
    """The ordered steps for alerts of elders in `region` and below (the nearest region up the
    tree that has one wins). `steps`: [{"target": StepTarget, "wait_minutes": int}, …]."""

    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"steps": _("升级步骤")}

    region = models.OneToOneField(
        "regions.Region", verbose_name=_("适用区域"), on_delete=models.PROTECT, related_name="escalation_policy"
    )
    steps = models.JSONField(_("升级步骤"), default=list)
    duty_users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("值班人员"), blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("升级策略")
        verbose_name_plural = _("升级策略")

    def __str__(self):
        return str(self.region)


class Source(models.TextChoices):
    DEVICE = "device", _("呼叫设备")
    HOTLINE = "hotline", _("热线")
    VISIT = "visit", _("走访发现")
    WATCHER = "watcher", _("守望员报告")


class Kind(models.TextChoices):
    SOS = "sos", _("一键呼救")
    FALL = "fall", _("跌倒")
    GAS = "gas", _("燃气泄漏")
    SMOKE = "smoke", _("烟雾/火情")
    INACTIVITY = "inactivity", _("长时间无活动")
    HEALTH = "health", _("突发疾病")
    OTHER = "other", _("其他")


class Status(models.TextChoices):
    RAISED = "raised", _("待响应")
    ACKNOWLEDGED = "acknowledged", _("已响应")
    RESOLVED = "resolved", _("已处置")


class Outcome(models.TextChoices):
    FALSE_ALARM = "false_alarm", _("误报")
    HELPED_HOME = "helped_home", _("上门处置")
    HOSPITAL = "hospital", _("送医")
    CALLED_120 = "called_120", _("已呼叫 120")
    FAMILY = "family", _("家属处理")
    HAZARD_FIXED = "hazard_fixed", _("隐患已排除")
    DIED = "died", _("已去世")
    OTHER = "other", _("其他")


ALERT_MACHINE = StateMachine(
    transitions={
        (Status.RAISED, "acknowledge"): Status.ACKNOWLEDGED,
        (Status.RAISED, "resolve"): Status.RESOLVED,
        (Status.ACKNOWLEDGED, "resolve"): Status.RESOLVED,
    },
    field="status",
    actions={"acknowledge": _("响应"), "resolve": _("处置完毕")},
)


class Alert(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"steps": _("升级步骤")}

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="alerts")
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(
        Device, verbose_name=_("呼叫设备"), null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    # The device's own id for the event: a gateway that retries sends the same one (idempotent).
    event_id = models.CharField(_("设备事件编号"), max_length=64, blank=True, default="")
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.DEVICE)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices, default=Kind.SOS)
    description = models.CharField(_("情况说明"), max_length=500, blank=True, default="")
    occurred_at = models.DateTimeField(_("发生时间"), help_text=_("设备或报告人给出的时间"))
    received_at = models.DateTimeField(_("接收时间"))
    status = models.CharField(_("状态"), max_length=14, choices=Status.choices, default=Status.RAISED)
    # The policy's steps at the moment the alert was raised (a later edit does not reach here).
    steps = models.JSONField(_("升级步骤"), default=list)
    step = models.PositiveSmallIntegerField(_("下一步序号"), default=0)
    next_step_at = models.DateTimeField(_("下一步时间"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("响应时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("响应人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("处置人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("处置结果"), max_length=14, choices=Outcome.choices, blank=True, default="")
    outcome_note = models.CharField(_("处置说明"), max_length=500, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("紧急呼叫")
        verbose_name_plural = _("紧急呼叫")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["device", "event_id"], condition=~models.Q(event_id=""), name="alert_device_event_unique"
            ),
        ]
        indexes = [
            # The escalation tick: alerts still raised whose next step is due.
            models.Index(fields=["next_step_at", "id"], name="alert_next_step", condition=models.Q(status="raised")),
            # The board (open alerts, newest first) and the list by region and time.
            models.Index(fields=["region", "status", "received_at", "id"], name="alert_region_status_time"),
            models.Index(fields=["status", "received_at", "id", "region"], name="alert_status_time_region"),
            models.Index(fields=["region", "received_at", "id"], name="alert_region_time"),
            models.Index(fields=["elder", "received_at"], name="alert_elder_time"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.received_at:%Y-%m-%d %H:%M}"


class AlertEvent(models.Model):
    """One thing that happened to an alert, with its time: a step run (who was notified, by
    which channel), an acknowledgement, a note, the resolution."""

    class Kind(models.TextChoices):
        RAISED = "raised", _("接警")
        NOTIFIED = "notified", _("已通知")
        PROMPT = "prompt", _("提示")
        ACKNOWLEDGED = "acknowledged", _("响应")
        NOTE = "note", _("记录")
        RESOLVED = "resolved", _("处置完毕")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"))
    kind = models.CharField(_("事件"), max_length=14, choices=Kind.choices)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    target = models.CharField(_("对象"), max_length=12, blank=True, default="")
    # Names and masked numbers only (never a full number): what the board shows.
    text = models.CharField(_("说明"), max_length=300, blank=True, default="")
    to_user_ids = models.JSONField(default=list, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("呼叫处置记录")
        verbose_name_plural = _("呼叫处置记录")
        ordering = ["alert_id", "at", "id"]
        indexes = [models.Index(fields=["alert", "at"], name="alertevent_alert_at")]
