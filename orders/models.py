"""Service orders, the closed loop 制单→点单→派单→接单→评单 (SPEC §2.5–2.6, issue 11).

One `Order` is one scheduled service to one elder: an item of the catalogue, a window
(`scheduled_start` … `scheduled_end`), a provider (an organisation, and within it a caregiver,
or a volunteer), and what its visit recorded at the door (EVV: check-in and check-out with
time, place and accuracy). Recurring plans (`OrderPlan`, RFC 5545 rules with China's working
days) create one order per occurrence. Its status moves only through `ORDER_MACHINE`.

Scope. An order's region is the elder's, copied when it is created (a community's list is one
indexed read). `SCOPE_ORG = "organisation"`: the organisation an order is dispatched to reaches
it whatever its region (the second scope axis, core/scoping.py), so a provider's dispatcher and
its caregivers see the orders sent to them and nothing else.

Money is integer fen; the split among payers lives in the settlements app.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.scoping import ScopedManager


class Source(models.TextChoices):
    HOTLINE = "hotline", _("服务热线")
    VISIT = "visit", _("走访")
    ELDER = "elder", _("老人本人")
    RELATIVE = "relative", _("家属")
    NEED = "need", _("需求台账")
    PLAN = "plan", _("周期计划")
    DESK = "desk", _("窗口")


class Status(models.TextChoices):
    CREATED = "created", _("待派单")
    DISPATCHED = "dispatched", _("已派单")
    ACCEPTED = "accepted", _("已接单")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("已完成")
    EVALUATED = "evaluated", _("已评价")
    SETTLED = "settled", _("已结算")
    CANCELLED = "cancelled", _("已取消")


# States in which an order is still to be served (the board, the caregiver's day, availability).
OPEN = (Status.CREATED, Status.DISPATCHED, Status.ACCEPTED, Status.IN_SERVICE)
# States of a service delivered (the visit happened: statements, scorecards).
DELIVERED = (Status.COMPLETED, Status.EVALUATED, Status.SETTLED)

ORDER_ACTIONS = {
    "dispatch": _("派单"),
    "assign": _("指派服务人员"),
    "accept": _("接单"),
    "reject": _("拒单"),
    "reassign": _("改派"),
    "check_in": _("签到"),
    "check_out": _("签退"),
    "rate": _("评价"),
    "settle": _("结算"),
    "cancel": _("取消"),
}
# Moves that need a reason (the change record's note, and the order's cancel_reason).
REASON_REQUIRED = {"reject", "reassign", "cancel"}

# The one transition table (STYLE: state machines). (from, action) -> to.
# - dispatch: to an organisation (its dispatcher then assigns) or straight to a caregiver/volunteer;
# - assign: the organisation's dispatcher picks one of its staff (stays dispatched);
# - reject: the worker or organisation declines: back to created, to be dispatched again;
# - reassign: the station takes it back from whoever had it and dispatches anew (→ dispatched);
# - completed orders nobody rates are still settled (completed → settled).
ORDER_MACHINE = StateMachine(
    transitions={
        (Status.CREATED, "dispatch"): Status.DISPATCHED,
        (Status.CREATED, "cancel"): Status.CANCELLED,
        (Status.DISPATCHED, "assign"): Status.DISPATCHED,
        (Status.DISPATCHED, "accept"): Status.ACCEPTED,
        (Status.DISPATCHED, "reject"): Status.CREATED,
        (Status.DISPATCHED, "reassign"): Status.DISPATCHED,
        (Status.DISPATCHED, "cancel"): Status.CANCELLED,
        (Status.ACCEPTED, "check_in"): Status.IN_SERVICE,
        (Status.ACCEPTED, "reject"): Status.CREATED,
        (Status.ACCEPTED, "reassign"): Status.DISPATCHED,
        (Status.ACCEPTED, "cancel"): Status.CANCELLED,
        (Status.IN_SERVICE, "check_out"): Status.COMPLETED,
        (Status.COMPLETED, "rate"): Status.EVALUATED,
        (Status.COMPLETED, "settle"): Status.SETTLED,
        (Status.EVALUATED, "settle"): Status.SETTLED,
    },
    field="status",
    actions=ORDER_ACTIONS,
)


class Verification(models.TextChoices):
    """Whether a delivered visit may be paid (EVV): an exception keeps it pending until a person resolves it."""

    PENDING = "pending", _("待核验")
    VERIFIED = "verified", _("已核验")
    DISPUTED = "disputed", _("有争议")
    REJECTED = "rejected", _("核验不通过")


class Order(models.Model):
    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"
    HISTORY_LABELS = {"caregiver": _("服务人员"), "organisation": _("服务机构")}
    HISTORY_ACTIONS = {"auto_dispatch": _("自动派单")}

    # The foreign keys that lead an index below (elder, organisation, caregiver, volunteer, plan)
    # need no index of their own: the composite one serves the join and the delete check.
    elder = models.ForeignKey(
        "elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    item = models.ForeignKey("catalogue.ServiceItem", verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    payment_mode = models.CharField(_("付费方式"), max_length=12, default="paid")
    unit_price_fen = models.PositiveIntegerField(_("单价（分）"), default=0)
    amount_fen = models.PositiveIntegerField(_("金额（分）"), default=0)  # unit price × quantity, fixed when created
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.HOTLINE)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.CREATED)
    scheduled_start = models.DateTimeField(_("预约开始"))
    scheduled_end = models.DateTimeField(_("预约结束"))
    organisation = models.ForeignKey(
        "providers.Organisation",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    caregiver = models.ForeignKey(
        "providers.Caregiver",
        verbose_name=_("服务人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    volunteer = models.ForeignKey(
        "providers.Volunteer",
        verbose_name=_("志愿者"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", verbose_name=_("签约网点"), null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    need = models.ForeignKey(
        "needs.Need", verbose_name=_("对应需求"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    plan = models.ForeignKey(
        "orders.OrderPlan",
        verbose_name=_("周期计划"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
        db_index=False,
    )
    agreement = models.ForeignKey(
        "orders.Agreement", verbose_name=_("服务协议"), null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    caller_name = models.CharField(_("来电人"), max_length=32, blank=True, default="")
    caller_relation = models.CharField(_("来电人关系"), max_length=16, blank=True, default="")
    notes = models.CharField(_("备注"), max_length=500, blank=True, default="")
    # Dispatch: an order not accepted by this time shows on the supervision board.
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    accept_by = models.DateTimeField(_("接单时限"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=200, blank=True, default="")
    # EVV: what the visit recorded at the door (orders/evv.py). *_device_at is the phone's own
    # clock when the record was made offline and sent later (then *_delayed).
    checkin_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checkin_device_at = models.DateTimeField(_("签到（手机时间）"), null=True, blank=True)
    checkin_lat = models.FloatField(_("签到纬度"), null=True, blank=True)
    checkin_lng = models.FloatField(_("签到经度"), null=True, blank=True)
    checkin_accuracy_m = models.PositiveIntegerField(_("签到定位精度（米）"), null=True, blank=True)
    checkin_distance_m = models.PositiveIntegerField(_("签到距老人家（米）"), null=True, blank=True)
    checkin_delayed = models.BooleanField(_("签到为离线补传"), default=False)
    checkout_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    checkout_device_at = models.DateTimeField(_("签退（手机时间）"), null=True, blank=True)
    checkout_lat = models.FloatField(_("签退纬度"), null=True, blank=True)
    checkout_lng = models.FloatField(_("签退经度"), null=True, blank=True)
    checkout_accuracy_m = models.PositiveIntegerField(_("签退定位精度（米）"), null=True, blank=True)
    checkout_distance_m = models.PositiveIntegerField(_("签退距老人家（米）"), null=True, blank=True)
    checkout_delayed = models.BooleanField(_("签退为离线补传"), default=False)
    outcomes = models.JSONField(_("服务记录"), default=dict, blank=True)  # {outcome code: value} required by the item
    worker_notes = models.CharField(_("服务备注"), max_length=500, blank=True, default="")
    flags = models.JSONField(_("异常标记"), default=list, blank=True)  # late, no_show, short, over_run, outside_geofence …
    verification = models.CharField(_("核验"), max_length=10, choices=Verification.choices, default=Verification.PENDING)
    # Evaluation (评单).
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=300, blank=True, default="")
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("评价人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rated_via = models.CharField(_("评价方式"), max_length=10, blank=True, default="")  # portal, callback
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务工单")
        verbose_name_plural = _("服务工单")
        ordering = ["-scheduled_start", "-id"]
        indexes = [
            # The lists sort by the window: one index for a small subtree, one for a big one
            # (docs/architecture.md "Fast at every level").
            models.Index(fields=["region", "status", "scheduled_start", "id"], name="order_region_status_start"),
            models.Index(fields=["status", "scheduled_start", "id", "region"], name="order_status_start_region"),
            models.Index(fields=["region", "scheduled_start", "id"], name="order_region_start"),
            models.Index(fields=["scheduled_start", "id", "region"], name="order_start_region"),
            models.Index(fields=["organisation", "status", "scheduled_start"], name="order_org_status_start"),
            models.Index(fields=["caregiver", "scheduled_start"], name="order_caregiver_start"),
            models.Index(fields=["volunteer", "scheduled_start"], name="order_volunteer_start"),
            models.Index(fields=["elder", "scheduled_start"], name="order_elder_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(scheduled_end__gte=models.F("scheduled_start")), name="order_window_order"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5), name="order_rating_1_5"
            ),
            # One row per plan occurrence: re-running the generator never doubles a visit (and
            # the index a plan's orders are read by).
            models.UniqueConstraint(fields=["plan", "scheduled_start"], name="order_plan_occurrence"),
        ]

    def __str__(self):
        return f"{self.item} · {self.elder}"

    @property
    def worker(self):
        return self.caregiver or self.volunteer


class OrderPlan(models.Model):
    """A recurring plan (送餐 every working day, 打扫卫生 every Friday): an RFC 5545 rule over
    dates, a time of day and a duration; `calendar` says how China's holidays and make-up working
    days (调休, chinese-calendar) bend it. Orders are generated ahead (orders/plans.py)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"

    class Calendar(models.TextChoices):
        ALL_DAYS = "all_days", _("按规则，节假日照常")
        WORKING_DAYS = "working_days", _("仅法定工作日（含调休上班日）")
        SKIP_HOLIDAYS = "skip_holidays", _("按规则，跳过法定节假日")

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="order_plans")
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("catalogue.ServiceItem", verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    payment_mode = models.CharField(_("付费方式"), max_length=12, default="paid")
    rrule = models.CharField(_("重复规则"), max_length=200, help_text=_("RFC 5545，例如 FREQ=WEEKLY;BYDAY=FR"))
    calendar = models.CharField(_("节假日"), max_length=14, choices=Calendar.choices, default=Calendar.ALL_DAYS)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    start_time = models.TimeField(_("上门时间"))
    duration_minutes = models.PositiveSmallIntegerField(_("时长（分钟）"))
    organisation = models.ForeignKey(
        "providers.Organisation",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order_plans",
    )
    caregiver = models.ForeignKey(
        "providers.Caregiver", verbose_name=_("固定服务人员"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    auto_dispatch = models.BooleanField(_("自动派单"), default=True)
    agreement = models.ForeignKey(
        "orders.Agreement", verbose_name=_("服务协议"), null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    generated_until = models.DateField(_("已生成至"), null=True, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("周期服务计划")
        verbose_name_plural = _("周期服务计划")
        ordering = ["region__path", "id"]
        indexes = [models.Index(fields=["is_active", "generated_until"], name="order_plan_active_until")]

    def __str__(self):
        return f"{self.item} · {self.elder}"


class Agreement(models.Model):
    """The service agreement (签订协议, seed 000) with an elder: parties, items, prices and who
    pays what; printable as a PDF with signature lines (orders/agreement_pdf.py)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"

    class Status(models.TextChoices):
        DRAFT = "draft", _("草拟")
        SIGNED = "signed", _("已签订")
        ENDED = "ended", _("已终止")

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.PROTECT, related_name="agreements")
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "providers.Organisation",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="agreements",
    )
    number = models.CharField(_("协议编号"), max_length=40)
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    # [{"item": id, "name": …, "unit": …, "unit_price_fen": …, "quantity": …, "frequency": …,
    #   "payers": [{"kind": "elder", "label": …, "share": "…"}]}] — fixed when signed.
    lines = models.JSONField(_("服务内容"), default=list, blank=True)
    elder_signatory = models.CharField(_("老人或代理人签字"), max_length=32, blank=True, default="")
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    terms = models.TextField(_("约定事项"), blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务协议")
        verbose_name_plural = _("服务协议")
        ordering = ["-valid_from", "-id"]
        constraints = [models.UniqueConstraint(fields=["region", "number"], name="agreement_region_number")]

    def __str__(self):
        return self.number


class ExceptionCode(models.TextChoices):
    LATE = "late", _("迟到")
    NO_SHOW = "no_show", _("未到")
    OUTSIDE_GEOFENCE = "outside_geofence", _("签到地点超出范围")
    CHECKOUT_OUTSIDE = "checkout_outside", _("签退地点超出范围")
    LOW_ACCURACY = "low_accuracy", _("定位精度不足")
    NO_LOCATION = "no_location", _("未获取定位")
    SHORT = "short", _("服务时长不足")
    OVER_RUN = "over_run", _("服务超时")
    DELAYED_SYNC = "delayed_sync", _("离线补传")
    CLOCK_SKEW = "clock_skew", _("手机时间异常")
    DISPUTED = "disputed", _("老人或家属有异议")


class VisitException(models.Model):
    """A visit outside the grace or the geofence: kept for a person to resolve, never silently
    accepted or rejected. An open exception keeps its order unpayable."""

    SCOPE_PATH = "order__region__path"
    SCOPE_ORG = "order__organisation"

    class Resolution(models.TextChoices):
        OPEN = "open", _("待处理")
        ACCEPTED = "accepted", _("认可，可结算")
        REJECTED = "rejected", _("不认可，不结算")

    order = models.ForeignKey(Order, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="exceptions")
    code = models.CharField(_("异常类型"), max_length=20, choices=ExceptionCode.choices)
    detail = models.CharField(_("说明"), max_length=200, blank=True, default="")
    opened_at = models.DateTimeField(_("发现时间"), auto_now_add=True)
    resolution = models.CharField(_("处理结果"), max_length=10, choices=Resolution.choices, default=Resolution.OPEN)
    resolution_note = models.CharField(_("处理说明"), max_length=200, blank=True, default="")
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务核验异常")
        verbose_name_plural = _("服务核验异常")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["resolution", "opened_at"], name="visit_exception_open")]
        constraints = [models.UniqueConstraint(fields=["order", "code"], name="visit_exception_order_code")]


class StrayCheckin(models.Model):
    """A check-in that matched no scheduled visit of the worker: queued for a person to match to
    an order, or to dismiss (orders/evv.py)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"

    class State(models.TextChoices):
        OPEN = "open", _("待处理")
        MATCHED = "matched", _("已关联工单")
        DISMISSED = "dismissed", _("已驳回")

    caregiver = models.ForeignKey("providers.Caregiver", verbose_name=_("服务人员"), on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "providers.Organisation", verbose_name=_("服务机构"), on_delete=models.CASCADE, related_name="+"
    )
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    elder = models.ForeignKey(
        "elders.Elder", verbose_name=_("老年人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("签到时间"))
    device_at = models.DateTimeField(_("手机时间"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.OPEN)
    order = models.ForeignKey(
        Order, verbose_name=_("关联工单"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("未匹配签到")
        verbose_name_plural = _("未匹配签到")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["state", "at"], name="stray_checkin_state_at")]


class IdempotencyKey(models.Model):
    """A client's key for one create or check-in/out (the phone's offline queue retries with the
    same key): the first request's answer is kept and a retry gets it back, never a double."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    operation = models.CharField(max_length=40)
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class FollowUp(models.Model):
    """A follow-up a poor rating (≤ 2) or a failed call-back opens, with a deadline."""

    SCOPE_PATH = "order__region__path"
    SCOPE_ORG = "order__organisation"

    class Reason(models.TextChoices):
        LOW_RATING = "low_rating", _("低分评价")
        CALLBACK = "callback", _("回访发现问题")
        COMPLAINT = "complaint", _("投诉")

    class State(models.TextChoices):
        OPEN = "open", _("待跟进")
        CLOSED = "closed", _("已办结")

    order = models.ForeignKey(Order, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="follow_ups")
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices)
    due_on = models.DateField(_("办结期限"))
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    note = models.CharField(_("情况"), max_length=300, blank=True, default="")
    outcome = models.CharField(_("办结情况"), max_length=300, blank=True, default="")
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("整改跟进")
        verbose_name_plural = _("整改跟进")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["state", "due_on"], name="follow_up_state_due")]


class CallBack(models.Model):
    """A call-back check (回访) of a delivered, usually government-purchased, service."""

    SCOPE_PATH = "order__region__path"

    order = models.ForeignKey(Order, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="call_backs")
    sampled_at = models.DateTimeField(_("抽中时间"), auto_now_add=True)
    called_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reached = models.BooleanField(_("已联系上"), null=True, blank=True)
    received = models.BooleanField(_("确认接受了服务"), null=True, blank=True)
    on_time = models.BooleanField(_("按时上门"), null=True, blank=True)
    full_duration = models.BooleanField(_("服务时长足够"), null=True, blank=True)
    same_worker = models.BooleanField(_("是同一服务人员"), null=True, blank=True)
    note = models.CharField(_("回访记录"), max_length=300, blank=True, default="")

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务回访")
        verbose_name_plural = _("服务回访")
        ordering = ["-sampled_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["order"], name="call_back_one_per_order")]

    @property
    def passed(self) -> bool | None:
        answers = (self.received, self.on_time, self.full_duration, self.same_worker)
        if any(a is None for a in answers):
            return None
        return all(answers)


class FamilyLink(models.Model):
    """A relative's account linked to an elder by the community, with the elder's consent
    recorded: the family portal shows that elder's orders (and, later, visits and alerts)."""

    SCOPE_PATH = "elder__region__path"

    class Relation(models.TextChoices):
        CHILD = "child", _("子女")
        SPOUSE = "spouse", _("配偶")
        RELATIVE = "relative", _("亲属")
        SELF = "self", _("本人")
        OTHER = "other", _("其他")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("家属账号"), on_delete=models.CASCADE, related_name="family_links"
    )
    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.CASCADE, related_name="family_links")
    relation = models.CharField(_("关系"), max_length=10, choices=Relation.choices, default=Relation.CHILD)
    consent_on = models.DateField(_("老人同意日期"))
    consent_note = models.CharField(_("同意方式"), max_length=120, help_text=_("例如：本人签字同意书，存档编号"))
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("家属关联")
        verbose_name_plural = _("家属关联")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "elder"], condition=models.Q(ended_at__isnull=True), name="family_link_active"
            )
        ]


class ElderPreference(models.Model):
    """What an elder asked for in who serves them (a woman caregiver, a dialect, a known worker):
    dispatch ranks by it (orders/dispatch.py)."""

    SCOPE_PATH = "elder__region__path"

    elder = models.OneToOneField(
        "elders.Elder", verbose_name=_("老年人"), on_delete=models.CASCADE, related_name="service_preference"
    )
    caregiver_sex = models.CharField(_("服务人员性别"), max_length=1, blank=True, default="")
    languages = models.CharField(_("语言和方言"), max_length=80, blank=True, default="")
    preferred_caregiver = models.ForeignKey(
        "providers.Caregiver", verbose_name=_("指定服务人员"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.CharField(_("其他要求"), max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务偏好")
        verbose_name_plural = _("服务偏好")
