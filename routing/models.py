"""Day routes (路线规划, issue 14): who goes where, in what order, on one day.

- `Base`: where an organisation's people set off from (its station; providers.Organisation has
  no coordinates) and the canteen its meal round starts from; or a grid's office (no organisation).
- `RoutingProfile`: how one person travels and works a day — a caregiver or courier
  (providers.Caregiver) or a grid worker (an accounts.User with the grid role): on foot, e-bike or
  by car, from home or the base and back, how many meals they carry, their lunch break.
  A person without a profile plans with the defaults (settings.ROUTING).
- `DayPlan`: one plan of one owner (an organisation, or a grid region for grid workers) for one
  day and kind (care visits, meal round, grid visits); a re-plan is a new version, the old one
  superseded. `PlannedStop`: one stop of a person's route with its times; `UnplannedStop`: what
  could not be planned and why.

Scope. Every row carries the region it belongs to (the organisation's, or the grid's) and, for an
organisation's rows, the organisation (the second axis): a station's dispatcher reaches its own
plans, a community its subtree's.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


class Mode(models.TextChoices):
    FOOT = "foot", _("步行")
    EBIKE = "ebike", _("电动自行车")
    CAR = "car", _("汽车")


class Anchor(models.TextChoices):
    HOME = "home", _("家")
    BASE = "base", _("服务站")


class Base(models.Model):
    """Where an organisation's routes start and end (its station), and the canteen its meal
    round loads at; or, organisation empty, a grid's office."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"

    organisation = models.OneToOneField(
        "providers.Organisation",
        verbose_name=_("服务机构"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_base",
    )
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=80)
    # WGS-84 degrees, as merchants and homes are stored.
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    canteen = models.ForeignKey(
        "merchants.Merchant",
        verbose_name=_("送餐出发的食堂"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("出发站点")
        verbose_name_plural = _("出发站点")
        constraints = [
            models.UniqueConstraint(
                fields=["region"], condition=models.Q(organisation__isnull=True), name="routing_base_one_per_grid"
            )
        ]

    def __str__(self):
        return self.name


class RoutingProfile(models.Model):
    """How one person travels and works a day (a caregiver or courier, or a grid worker)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"

    caregiver = models.OneToOneField(
        "providers.Caregiver",
        verbose_name=_("服务人员"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_profile",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("网格员"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_profile",
    )
    # Copied from the caregiver's organisation (or the grid worker's region) for the scope.
    region = models.ForeignKey("regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "providers.Organisation", verbose_name=_("服务机构"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(_("出行方式"), max_length=8, choices=Mode.choices, default=Mode.EBIKE)
    start_at = models.CharField(_("出发地"), max_length=4, choices=Anchor.choices, default=Anchor.HOME)
    end_at = models.CharField(_("收工地"), max_length=4, choices=Anchor.choices, default=Anchor.HOME)
    does_care = models.BooleanField(_("上门服务"), default=True)
    does_meals = models.BooleanField(_("送餐"), default=False)
    capacity = models.PositiveSmallIntegerField(_("每趟最多送餐（份）"), default=0)
    break_minutes = models.PositiveSmallIntegerField(_("午休（分钟）"), default=0)
    break_from = models.TimeField(_("午休最早开始"), null=True, blank=True)
    break_to = models.TimeField(_("午休最晚开始"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("路线设置")
        verbose_name_plural = _("路线设置")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(caregiver__isnull=False, user__isnull=True)
                | models.Q(caregiver__isnull=True, user__isnull=False),
                name="routing_profile_one_person",
            )
        ]


class Kind(models.TextChoices):
    CARE = "care", _("上门服务")
    MEALS = "meals", _("送餐")
    GRID = "grid", _("网格走访")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("待派单")
    APPLIED = "applied", _("已派单")
    SUPERSEDED = "superseded", _("已重排")


class DayPlan(models.Model):
    """One day's routes of one owner (an organisation, or a grid region) for one kind of work."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "organisation"
    HISTORY_LABELS = {"status": _("状态")}

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
        db_index=False,
    )
    day = models.DateField(_("日期"))
    kind = models.CharField(_("类型"), max_length=6, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The solver's objective ("duration"): every route's seconds from leaving to coming back —
    # travel, waiting for a window and the service itself. Time on the road alone is the sum of
    # `routes[*].travel_minutes` (the way back included).
    cost = models.PositiveIntegerField(_("路线总时长（秒）"), default=0)
    distance_m = models.PositiveIntegerField(_("总路程（米）"), default=0)
    solver_seconds = models.FloatField(_("求解用时（秒）"), default=0)
    feasible = models.BooleanField(_("满足全部硬约束"), default=True)
    planned_count = models.PositiveIntegerField(_("已排"), default=0)
    unplanned_count = models.PositiveIntegerField(_("未排"), default=0)
    # Each person's route as the board draws it: [{"person": key, "name", "start": [lat, lng],
    # "end": [lat, lng], "leave": iso, "back": iso, "distance_m", "travel_minutes"}].
    routes = models.JSONField(_("路线"), default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    applied_at = models.DateTimeField(_("派单时间"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("日路线计划")
        verbose_name_plural = _("日路线计划")
        ordering = ["-day", "-id"]
        indexes = [
            # The list, newest day first, for a small subtree and a big one (docs/architecture.md).
            models.Index(fields=["region", "status", "day", "id"], name="dayplan_region_status_day"),
            models.Index(fields=["status", "day", "id", "region"], name="dayplan_status_day_region"),
            # The list (every status, newest day first): a community's last page as fast as the city's first.
            models.Index(fields=["region", "day", "id"], name="dayplan_region_day"),
            models.Index(fields=["day", "id", "region"], name="dayplan_day_region"),
            models.Index(fields=["organisation", "day", "kind"], name="dayplan_org_day_kind"),
        ]

    def __str__(self):
        return f"{self.day} {self.get_kind_display()} v{self.version}"


class PlannedStop(models.Model):
    """One stop of one person's route: a visit (an order) or a grid worker's due visit."""

    SCOPE_PATH = "plan__region__path"
    SCOPE_ORG = "plan__organisation"

    plan = models.ForeignKey(DayPlan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="stops")
    caregiver = models.ForeignKey(
        "providers.Caregiver", verbose_name=_("服务人员"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("网格员"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("工单"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    due = models.ForeignKey(
        "visits.VisitDue",
        verbose_name=_("应访"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,  # as visits' own references to dues: derived rows, rebuilt in bulk
    )
    seq = models.PositiveSmallIntegerField(_("顺序"))
    arrive_at = models.DateTimeField(_("计划到达"))
    start_at = models.DateTimeField(_("计划开始"))
    end_at = models.DateTimeField(_("计划结束"))
    travel_minutes = models.PositiveSmallIntegerField(_("路上（分钟）"), default=0)
    distance_m = models.PositiveIntegerField(_("路程（米）"), default=0)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    pinned = models.BooleanField(_("人工调整"), default=False)
    fixed = models.BooleanField(_("已完成或进行中"), default=False)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("计划站点")
        verbose_name_plural = _("计划站点")
        ordering = ["plan", "caregiver", "user", "seq"]
        indexes = [
            models.Index(fields=["plan", "caregiver", "seq"], name="plannedstop_plan_person"),
            # The phone page: a caregiver's stops of a day, the latest plan first.
            models.Index(fields=["caregiver", "start_at"], name="plannedstop_caregiver_start"),
            models.Index(fields=["order"], name="plannedstop_order"),
        ]

    @property
    def person(self):
        return self.caregiver or self.user

    @property
    def person_key(self) -> str:
        return f"caregiver:{self.caregiver_id}" if self.caregiver_id else f"user:{self.user_id}"


class UnplannedStop(models.Model):
    """A visit no route could take, with the reason (a code and words)."""

    SCOPE_PATH = "plan__region__path"
    SCOPE_ORG = "plan__organisation"

    plan = models.ForeignKey(DayPlan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="unplanned")
    order = models.ForeignKey(
        "orders.Order", verbose_name=_("工单"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    due = models.ForeignKey(
        "visits.VisitDue",
        verbose_name=_("应访"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
    )
    code = models.CharField(_("原因代码"), max_length=12)
    reason = models.CharField(_("原因"), max_length=200)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("未排站点")
        verbose_name_plural = _("未排站点")
        ordering = ["plan", "id"]
