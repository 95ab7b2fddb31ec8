"""The elder registry (老年人信息库, SPEC §2.1): one record per person aged 60+."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.statemachine import StateMachine
from core.idnumbers import mask_id_number
from core.phones import mask_phone
from core.redact import redact_numbers
from core.scoping import ScopedManager


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Hukou(models.TextChoices):
    URBAN = "urban", _("城镇")
    RURAL = "rural", _("农村")


class LivingArrangement(models.TextChoices):
    ALONE = "alone", _("独居")
    SPOUSE = "spouse", _("与配偶同住")
    CHILDREN = "children", _("与子女同住")
    RELATIVES = "relatives", _("与其他亲属同住")
    INSTITUTION = "institution", _("机构")


class MaritalStatus(models.TextChoices):
    MARRIED = "married", _("有配偶")
    WIDOWED = "widowed", _("丧偶")
    DIVORCED = "divorced", _("离异")
    UNMARRIED = "unmarried", _("未婚")


class IncomeLevel(models.TextChoices):
    LOW = "low", _("低收入")
    MIDDLE = "middle", _("中等收入")
    HIGH = "high", _("较高收入")


class PensionType(models.TextChoices):
    EMPLOYEE = "employee", _("城镇职工养老保险")
    RESIDENT = "resident", _("城乡居民养老保险")
    PUBLIC = "public", _("机关事业单位养老保险")
    NONE = "none", _("无养老金")


class AbilityLevel(models.TextChoices):
    """GB/T 42195-2022 levels; set from the ability assessment (or by hand until one exists)."""

    INTACT = "intact", _("能力完好")
    MILD = "mild", _("轻度失能")
    MODERATE = "moderate", _("中度失能")
    SEVERE = "severe", _("重度失能")
    COMPLETE = "complete", _("完全失能")


class DisabilityGrade(models.TextChoices):
    GRADE_1 = "1", _("一级")
    GRADE_2 = "2", _("二级")
    GRADE_3 = "3", _("三级")
    GRADE_4 = "4", _("四级")


class CarePreference(models.TextChoices):
    HOME = "home", _("居家养老")
    COMMUNITY = "community", _("社区日间照料")
    INSTITUTION = "institution", _("机构养老")
    UNDECIDED = "undecided", _("未定")


class Status(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已去世")
    INSTITUTION = "institution", _("入住机构")


# (from, action) -> to. Nothing else assigns Elder.status (STYLE: state machines).
STATUS_TRANSITIONS = {
    (Status.ACTIVE, "move_out"): Status.MOVED_OUT,
    (Status.ACTIVE, "decease"): Status.DECEASED,
    (Status.ACTIVE, "enter_institution"): Status.INSTITUTION,
    (Status.INSTITUTION, "decease"): Status.DECEASED,
    (Status.INSTITUTION, "return_home"): Status.ACTIVE,
    (Status.INSTITUTION, "move_out"): Status.MOVED_OUT,
    (Status.MOVED_OUT, "move_in"): Status.ACTIVE,
}
STATUS_ACTIONS = {
    "move_in": _("迁入"),
    "move_out": _("迁出"),
    "decease": _("去世"),
    "enter_institution": _("入住养老机构"),
    "return_home": _("回到居家"),
}
STATUS_MACHINE = StateMachine(transitions=STATUS_TRANSITIONS, field="status", actions=STATUS_ACTIONS)


def age_on(born: datetime.date, day: datetime.date) -> int:
    """Full years from `born` to `day` (the one age rule: pages, API, export, validation)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class Elder(models.Model):
    """One person in the register. Age and categories are computed, never stored."""

    SCOPE_PATH = "region__path"
    # History (audit.services.change_record) keeps these only masked; their labels there.
    HISTORY_MASKED = {"id_number": mask_id_number, "phone": mask_phone, "contacts": redact_numbers}
    HISTORY_LABELS = {
        "id_number": _("身份证号"),
        "phone": _("联系电话"),
        "contacts": _("紧急联系人"),
        "merged_into": _("合并到档案"),
        "snapshot": _("合并前的档案"),
    }
    HISTORY_ACTIONS = {"ability": _("能力评估")}  # elders.services.elder_set_ability_level

    # Indexed through elder_region_status_pinyin below; every index here is paid on each import row.
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属社区/网格"), on_delete=models.PROTECT, related_name="elders", db_index=False
    )
    name = models.CharField(_("姓名"), max_length=32)
    # Search keys for the name: full pinyin and initials, surname read as a surname (单 shan).
    name_pinyin = models.CharField(max_length=128, blank=True, default="")
    name_initials = models.CharField(max_length=32, blank=True, default="")
    # The given name (name without the surname), so "国兴" finds 冷国兴 through a prefix index.
    name_given = models.CharField(max_length=32, blank=True, default="")

    # ID number: encrypted, its keyed hash for lookup and uniqueness, and the masked form shown.
    id_number_enc = models.TextField(blank=True, default="")
    id_number_hash = models.CharField(max_length=64, blank=True, default="")
    id_number_masked = models.CharField(_("身份证号"), max_length=18, blank=True, default="")
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"))

    phone_enc = models.TextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, default="")
    phone_masked = models.CharField(_("联系电话"), max_length=20, blank=True, default="")
    phone_tail = models.CharField(max_length=4, blank=True, default="")

    address = models.CharField(_("详细地址"), max_length=255, blank=True, default="")
    # Home location, WGS-84 decimal degrees (core/geo.py: GCJ-02 points copied from Chinese map
    # apps are ~500 m off). Both or neither; the 15-minute circle (merchants) reads them.
    home_lat = models.FloatField(_("纬度"), null=True, blank=True)
    home_lng = models.FloatField(_("经度"), null=True, blank=True)
    hukou = models.CharField(_("户籍类型"), max_length=8, choices=Hukou.choices, blank=True, default="")
    living_arrangement = models.CharField(_("居住情况"), max_length=12, choices=LivingArrangement.choices, blank=True, default="")
    marital_status = models.CharField(_("婚姻状况"), max_length=12, choices=MaritalStatus.choices, blank=True, default="")
    children_count = models.PositiveSmallIntegerField(_("子女数"), default=0)
    children_away = models.BooleanField(_("子女在外地"), default=False)
    income_level = models.CharField(_("收入水平"), max_length=8, choices=IncomeLevel.choices, blank=True, default="")
    pension_type = models.CharField(_("养老金类型"), max_length=12, choices=PensionType.choices, blank=True, default="")
    is_dibao = models.BooleanField(_("低保"), default=False)
    is_tekun = models.BooleanField(_("特困"), default=False)
    disability_grade = models.CharField(_("残疾等级"), max_length=1, choices=DisabilityGrade.choices, blank=True, default="")
    ability_level = models.CharField(_("自理能力"), max_length=10, choices=AbilityLevel.choices, blank=True, default="")
    chronic_illnesses = models.CharField(_("慢性病"), max_length=255, blank=True, default="")
    is_party_member = models.BooleanField(_("老党员"), default=False)
    is_retired_cadre = models.BooleanField(_("离退休干部"), default=False)
    is_veteran_family = models.BooleanField(_("军烈属/优抚对象"), default=False)
    is_model_worker = models.BooleanField(_("老模范"), default=False)
    is_family_planning_special = models.BooleanField(_("计划生育特殊家庭"), default=False)
    interests = models.CharField(_("特长爱好"), max_length=255, blank=True, default="")
    care_preference = models.CharField(_("养老意愿"), max_length=12, choices=CarePreference.choices, blank=True, default="")
    family_situation = models.TextField(_("家庭情况"), blank=True, default="")
    notes = models.TextField(_("备注"), blank=True, default="")

    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.ACTIVE)
    status_changed_on = models.DateField(_("状态变更日期"), null=True, blank=True)
    # Raised by one on every write through the services and the importer, each of which also
    # writes one change record; an edit carries the version it started from and a stale one is
    # refused (issue 8: lost updates).
    version = models.PositiveIntegerField(default=1)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = _("老年人")
        verbose_name_plural = _("老年人")
        ordering = ["name_pinyin", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_hash"], condition=~models.Q(id_number_hash=""), name="elder_id_number_unique"
            ),
        ]
        indexes = [
            # The list's two ways to a page (docs/architecture.md, "The scope rule"): by name over a
            # big subtree, by region for a small one. Each ends with what the other side needs, so
            # the page's ids come from the index alone (core.pagination reads ids first).
            models.Index(fields=["status", "name_pinyin", "id", "region"], name="elder_status_pinyin_region"),
            models.Index(fields=["region", "status", "name_pinyin", "id"], name="elder_region_status_pinyin"),
            models.Index(fields=["birth_date"], name="elder_birth_date"),
            # 独居/空巢 combined with an age band (独居 AND 80+), the seeds' headline counts.
            models.Index(fields=["living_arrangement", "birth_date"], name="elder_living_birth"),
            models.Index(fields=["name", "birth_date"], name="elder_name_birth"),
            models.Index(fields=["phone_hash"], name="elder_phone_hash"),
            models.Index(fields=["phone_tail"], name="elder_phone_tail"),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def history_hidden_fields(user) -> set:
        """Fields whose values a user's history shows as "已修改": without the reveal
        permission, the birth date (issue 8: they see age)."""
        return set() if user.may("reveal", Elder) else {"birth_date"}

    def age_on(self, day) -> int:
        return age_on(self.birth_date, day)

    @property
    def age(self) -> int:
        return self.age_on(timezone.localdate())

    @property
    def categories(self) -> list:
        from elders.categories import categories_of

        return categories_of(self)


class EmergencyContact(models.Model):
    """A child, relative or neighbour to call for an elder."""

    class Relation(models.TextChoices):
        CHILD = "child", _("子女")
        SPOUSE = "spouse", _("配偶")
        RELATIVE = "relative", _("亲属")
        NEIGHBOUR = "neighbour", _("邻居")
        OTHER = "other", _("其他")

    elder = models.ForeignKey(Elder, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=32)
    relation = models.CharField(_("关系"), max_length=12, choices=Relation.choices, default=Relation.CHILD)
    phone_enc = models.TextField(blank=True, default="")
    # Keyed hash of the normalised number (core.crypto.lookup_hash, set by core.phones.store_phone):
    # the hotline finds an elder by a relative's number without decrypting anyone's (issue 11).
    phone_hash = models.CharField(max_length=64, blank=True, default="")
    phone_masked = models.CharField(_("电话"), max_length=20, blank=True, default="")
    is_primary = models.BooleanField(_("首要联系人"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["phone_hash"], name="contact_phone_hash")]


class StatusChange(models.Model):
    """Moved in or out, deceased, entered an institution — with its effective date."""

    elder = models.ForeignKey(Elder, on_delete=models.CASCADE, related_name="status_changes")
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=12, choices=Status.choices)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    effective_on = models.DateField(_("生效日期"))
    reason = models.CharField(_("原因/去向"), max_length=255, blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_on", "-id"]
