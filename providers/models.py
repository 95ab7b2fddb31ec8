"""Providers (服务队伍, SPEC §2.4): service organisations, their staff and certificates,
volunteers and their teams.

Scope. An organisation lives in its home region (`region`); its staff and their certificates
follow it. Organisation, Caregiver and Certificate also declare `SCOPE_ORG`, the second scope
axis (core/scoping.py): the users of an organisation (role provider or caregiver, with
`User.organisation` set and usually no region) reach that organisation's rows, and nothing
else, whatever the region. Teams and volunteers belong to a community and are scoped by region
only.

Personal numbers (a caregiver's ID number and phone, a volunteer's phone) are stored as the
elders' are: encrypted, a keyed hash, and the masked form that pages show (core.crypto,
core.idnumbers, core.phones); the full value comes only from a selector that writes the access
log. Home locations are WGS-84 degrees (latitude, longitude), as a phone's GPS gives them.
"""

import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.idnumbers import mask_id_number
from core.phones import mask_phone
from core.scoping import ScopedManager


class OrganisationKind(models.TextChoices):
    SERVICE_ORG = "service_org", _("服务机构")
    SOCIAL_ORG = "social_org", _("社会组织")
    HOUSEKEEPING = "housekeeping", _("家政公司")
    STATION = "station", _("居家养老服务站")
    DAY_CARE = "day_care", _("日间照料中心")
    MEDICAL = "medical", _("医疗机构")
    OTHER = "other", _("其它")


class Rating(models.TextChoices):
    A5 = "5A", "5A"
    A4 = "4A", "4A"
    A3 = "3A", "3A"
    A2 = "2A", "2A"
    A1 = "1A", "1A"


class QuotaUnit(models.TextChoices):
    HOURS = "hours", _("小时")
    FEN = "fen", _("分（金额）")
    VISITS = "visits", _("人次")


class QuotaPeriod(models.TextChoices):
    MONTH = "month", _("每月")
    YEAR = "year", _("每年")


class OrganisationStatus(models.TextChoices):
    ACTIVE = "active", _("合作中")
    SUSPENDED = "suspended", _("暂停")
    ENDED = "ended", _("已终止")


class Organisation(models.Model):
    """A service organisation (服务机构、社会组织、家政公司、服务站、日间照料中心 …)."""

    SCOPE_PATH = "region__path"
    SCOPE_ORG = "id"  # an organisation's own users reach their organisation
    HISTORY_LABELS = {"service_area": _("服务区域")}

    name = models.CharField(_("机构名称"), max_length=80)
    kind = models.CharField(_("机构类型"), max_length=16, choices=OrganisationKind.choices)
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="organisations"
    )
    rating = models.CharField(_("星级评定"), max_length=2, choices=Rating.choices, blank=True, default="")
    rated_on = models.DateField(_("评定日期"), null=True, blank=True)
    contract_number = models.CharField(_("合同编号"), max_length=40, blank=True, default="")
    contract_start = models.DateField(_("合同开始"), null=True, blank=True)
    contract_end = models.DateField(_("合同结束"), null=True, blank=True)
    service_area = models.ManyToManyField("regions.Region", verbose_name=_("服务区域"), blank=True, related_name="served_by")
    contact_name = models.CharField(_("联系人"), max_length=32, blank=True, default="")
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    quota_amount = models.PositiveIntegerField(_("购买服务额度"), default=0)
    quota_unit = models.CharField(_("额度单位"), max_length=8, choices=QuotaUnit.choices, default=QuotaUnit.HOURS)
    quota_period = models.CharField(_("额度周期"), max_length=8, choices=QuotaPeriod.choices, default=QuotaPeriod.MONTH)
    status = models.CharField(_("状态"), max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务机构")
        verbose_name_plural = _("服务机构")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["region", "status", "name", "id"], name="org_region_status_name"),
            models.Index(fields=["status", "name", "id", "region"], name="org_status_name_region"),
        ]

    def __str__(self):
        return self.name

    @property
    def quota_text(self) -> str:
        if not self.quota_amount:
            return ""
        amount = self.quota_amount
        if self.quota_unit == QuotaUnit.FEN:
            return f"{self.get_quota_period_display()} {amount / 100:.2f} 元"
        return f"{self.get_quota_period_display()} {amount} {self.get_quota_unit_display()}"


class CaregiverKind(models.TextChoices):
    AIDE = "aide", _("助老服务员")
    CARER = "carer", _("护工")
    NANNY = "nanny", _("保姆")
    HOURLY = "hourly", _("小时工")
    NURSE = "nurse", _("护士")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class StaffStatus(models.TextChoices):
    ACTIVE = "active", _("在职")
    LEFT = "left", _("离职")


STAFF_STATUS = StateMachine(
    transitions={(StaffStatus.ACTIVE, "leave"): StaffStatus.LEFT, (StaffStatus.LEFT, "rejoin"): StaffStatus.ACTIVE},
    field="status",
    actions={"leave": _("办理离职"), "rejoin": _("重新入职")},
)

WEEKDAYS = [(1, _("周一")), (2, _("周二")), (3, _("周三")), (4, _("周四")), (5, _("周五")), (6, _("周六")), (7, _("周日"))]


def weekdays_text(days) -> str:
    names = dict(WEEKDAYS)
    return "、".join(str(names[d]) for d in sorted(days or []) if d in names)


def mask_certificate_number(number: str) -> str:
    """A certificate number shown: its first 2 and last 2 characters (证书号 “12********34”)."""
    number = number or ""
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


class Caregiver(models.Model):
    """A member of an organisation's staff (助老服务员, 护工, 保姆, 小时工, 护士)."""

    SCOPE_PATH = "organisation__region__path"
    SCOPE_ORG = "organisation"
    HISTORY_MASKED = {"id_number": mask_id_number, "phone": mask_phone}
    HISTORY_LABELS = {"id_number": _("身份证号"), "phone": _("联系电话"), "skills": _("技能")}

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("所属机构"), on_delete=models.PROTECT, related_name="staff", db_index=False
    )
    kind = models.CharField(_("人员类别"), max_length=8, choices=CaregiverKind.choices)
    name = models.CharField(_("姓名"), max_length=32)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True, default="")
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number_enc = models.TextField(blank=True, default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, default="")
    phone_enc = models.TextField(blank=True, default="")
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    skills = models.ManyToManyField("catalogue.Skill", verbose_name=_("技能"), blank=True, related_name="caregivers")
    # WGS-84 degrees, as a phone's GPS reports them (no conversion to GCJ-02 here).
    home_lat = models.FloatField(_("住址纬度"), null=True, blank=True)
    home_lng = models.FloatField(_("住址经度"), null=True, blank=True)
    work_start = models.TimeField(_("上班时间"), null=True, blank=True)
    work_end = models.TimeField(_("下班时间"), null=True, blank=True)
    work_days = models.JSONField(_("工作日"), default=list, blank=True)  # ISO weekdays 1 (Mon) … 7 (Sun)
    languages = models.CharField(_("语言和方言"), max_length=80, blank=True, default="")
    status = models.CharField(_("状态"), max_length=8, choices=StaffStatus.choices, default=StaffStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # The account the worker signs in with on the phone (role caregiver, same organisation):
    # their visits, check-in and check-out (orders app, issue 11).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="caregiver",
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务人员")
        verbose_name_plural = _("服务人员")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["organisation", "status", "name", "id"], name="caregiver_org_status_name"),
            models.Index(fields=["status", "name", "id", "organisation"], name="caregiver_status_name_org"),
        ]

    def __str__(self):
        return self.name

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = datetime.date.today()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    @property
    def work_days_text(self) -> str:
        return weekdays_text(self.work_days)

    @property
    def days_off_text(self) -> str:
        return weekdays_text([d for d, _label in WEEKDAYS if d not in (self.work_days or [])])

    @staticmethod
    def history_hidden_fields(user) -> set:
        return set()


class Certificate(models.Model):
    """A caregiver's certificate (养老护理员 初级/中级/高级, 健康证 …) with its number and expiry."""

    SCOPE_PATH = "caregiver__organisation__region__path"
    SCOPE_ORG = "caregiver__organisation"
    HISTORY_MASKED = {"number": mask_certificate_number}

    caregiver = models.ForeignKey(Caregiver, verbose_name=_("服务人员"), on_delete=models.CASCADE, related_name="certificates")
    kind = models.ForeignKey(
        "catalogue.CertificateKind", verbose_name=_("证书类型"), on_delete=models.PROTECT, related_name="certificates"
    )
    number = models.CharField(_("证书编号"), max_length=40, blank=True, default="")
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("证书")
        verbose_name_plural = _("证书")
        ordering = ["expires_on", "id"]

    def __str__(self):
        return f"{self.kind} {self.number_masked}"

    @property
    def number_masked(self) -> str:
        return mask_certificate_number(self.number)


class TeamKind(models.TextChoices):
    PARTY = "party", _("党员志愿服务队")
    YOUTH = "youth", _("团员青年志愿服务队")
    YOUNG_OLD = "young_old", _("低龄老人志愿服务队")
    OTHER = "other", _("其它")


class Team(models.Model):
    """A volunteer team of a community (000: 党员、团员青年、低龄老人 three teams)."""

    SCOPE_PATH = "region__path"

    region = models.ForeignKey("regions.Region", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="teams")
    kind = models.CharField(_("队伍类型"), max_length=10, choices=TeamKind.choices)
    name = models.CharField(_("队伍名称"), max_length=60)
    leader = models.CharField(_("队长"), max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["region", "kind", "name", "id"]
        indexes = [models.Index(fields=["region", "kind", "name", "id"], name="team_region_kind_name")]

    def __str__(self):
        return self.name


class VolunteerStatus(models.TextChoices):
    APPLIED = "applied", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


VOLUNTEER_STATUS = StateMachine(
    transitions={
        (VolunteerStatus.APPLIED, "approve"): VolunteerStatus.APPROVED,
        (VolunteerStatus.APPLIED, "reject"): VolunteerStatus.REJECTED,
        (VolunteerStatus.REJECTED, "reapply"): VolunteerStatus.APPLIED,
    },
    field="status",
    actions={"approve": _("审核通过"), "reject": _("审核不通过"), "reapply": _("重新申请")},
)


class Volunteer(models.Model):
    """A volunteer of a community: registers, is approved (or not, with a reason), joins a team."""

    SCOPE_PATH = "region__path"
    HISTORY_MASKED = {"phone": mask_phone}
    HISTORY_LABELS = {"phone": _("联系电话"), "skills": _("技能")}

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="volunteers", db_index=False
    )
    team = models.ForeignKey(
        Team, verbose_name=_("志愿服务队"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    name = models.CharField(_("姓名"), max_length=32)
    phone_enc = models.TextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, default="")
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    skills = models.ManyToManyField("catalogue.Skill", verbose_name=_("技能"), blank=True, related_name="volunteers")
    available_days = models.JSONField(_("可服务日"), default=list, blank=True)  # ISO weekdays 1 … 7
    available_from = models.TimeField(_("可服务时段起"), null=True, blank=True)
    available_to = models.TimeField(_("可服务时段止"), null=True, blank=True)
    status = models.CharField(_("审核状态"), max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.APPLIED)
    status_reason = models.CharField(_("审核意见"), max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The volunteer's own account (role volunteer): the tasks they take (orders, time bank).
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["region", "status", "name", "id"], name="volunteer_region_status_name"),
            models.Index(fields=["status", "name", "id", "region"], name="volunteer_status_name_region"),
        ]

    def __str__(self):
        return self.name

    @property
    def age(self) -> int | None:
        return datetime.date.today().year - self.birth_year if self.birth_year else None

    @property
    def available_days_text(self) -> str:
        return weekdays_text(self.available_days)


class Absence(models.Model):
    """A caregiver's days off beyond their weekly days (leave, sick, training): dispatch does not
    offer them in the window, and route planning leaves them out (orders, issue 11)."""

    SCOPE_PATH = "caregiver__organisation__region__path"
    SCOPE_ORG = "caregiver__organisation"

    class Reason(models.TextChoices):
        LEAVE = "leave", _("请假")
        SICK = "sick", _("病假")
        TRAINING = "training", _("培训")
        OTHER = "other", _("其他")

    caregiver = models.ForeignKey(Caregiver, verbose_name=_("服务人员"), on_delete=models.CASCADE, related_name="absences")
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    reason = models.CharField(_("原因"), max_length=10, choices=Reason.choices, default=Reason.LEAVE)
    note = models.CharField(_("说明"), max_length=120, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务人员请假")
        verbose_name_plural = _("服务人员请假")
        ordering = ["caregiver", "starts_on"]
        indexes = [models.Index(fields=["caregiver", "starts_on", "ends_on"], name="absence_caregiver_dates")]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="absence_dates_order")]

    def __str__(self):
        return f"{self.caregiver} {self.starts_on}–{self.ends_on}"
