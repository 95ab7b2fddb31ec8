"""The service catalogue (服务清单, SPEC §2.3): what can be ordered, at what price, by whom.

The vocabulary other apps point at lives here: skills and certificate kinds (a caregiver has
them, a service item requires them), categories and items. Rows are initial data an admin
edits, never code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Skill(models.Model):
    """A skill a service needs and a worker has (做饭, 康复护理, 理发 …)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("技能")
        verbose_name_plural = _("技能")
        ordering = ["code"]

    def __str__(self):
        return self.name


class CertificateKind(models.Model):
    """A kind of certificate. Graded certificates (养老护理员 初级/中级/高级 …) are one row per
    grade of one `family`, with `rank` rising with the grade: a service that requires a grade
    accepts any certificate of the same family with a rank at least as high."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60, unique=True)
    family = models.SlugField(_("证书系列"), max_length=40)
    rank = models.PositiveSmallIntegerField(_("等级序号"), default=1)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("证书类型")
        verbose_name_plural = _("证书类型")
        ordering = ["family", "rank"]

    def __str__(self):
        return self.name


class Scheme(models.TextChoices):
    """001's eight service categories, and the ten categories of 004's time bank."""

    SERVICE = "service", _("服务清单")
    TIMEBANK = "timebank", _("时间银行")


class ServiceCategory(models.Model):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    scheme = models.CharField(_("类别体系"), max_length=10, choices=Scheme.choices, default=Scheme.SERVICE)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务类别")
        verbose_name_plural = _("服务类别")
        ordering = ["scheme", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["scheme", "name"], name="service_category_scheme_name")]

    def __str__(self):
        return self.name


class Unit(models.TextChoices):
    VISIT = "visit", _("次")
    HOUR = "hour", _("小时")
    MEAL = "meal", _("餐")
    TIME = "time", _("人次")


class PaymentMode(models.TextChoices):
    FREE = "free", _("无偿")
    LOW_COST = "low_cost", _("低偿")
    PAID = "paid", _("有偿")
    GOVERNMENT = "government", _("政府购买")
    TIME_COIN = "time_coin", _("时间币")


class ServiceItem(models.Model):
    """One orderable service (送餐, 助浴, 陪同看病 …) with its default price and rules.

    `price_fen` is the catalogue's default; price lists set on a region node override it for
    their subtree (catalogue.PriceList, issue 10). `payment_modes`, `outcomes` (what a worker must
    record before check-out) and `orderable_by` (roles) are lists of codes.
    """

    category = models.ForeignKey(ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, related_name="items")
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    description = models.TextField(_("说明"), blank=True, default="")
    unit = models.CharField(_("计量单位"), max_length=8, choices=Unit.choices, default=Unit.VISIT)
    price_fen = models.PositiveIntegerField(_("指导价（分）"), default=0)
    duration_minutes = models.PositiveSmallIntegerField(_("默认时长（分钟）"), default=60)
    payment_modes = models.JSONField(_("付费方式"), default=list, blank=True)
    required_skills = models.ManyToManyField(Skill, verbose_name=_("所需技能"), blank=True, related_name="items")
    required_certificates = models.ManyToManyField(CertificateKind, verbose_name=_("所需证书"), blank=True, related_name="items")
    outcomes = models.JSONField(_("签退前须记录"), default=list, blank=True)
    orderable_by = models.JSONField(_("可下单角色"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("服务项目")
        verbose_name_plural = _("服务项目")
        ordering = ["category__scheme", "category__position", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "name"], name="service_item_category_name")]

    def __str__(self):
        return self.name
