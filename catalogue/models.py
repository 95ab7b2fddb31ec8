"""The service catalogue (服务清单, SPEC §2.3): what can be ordered, at what price, by whom.

The vocabulary other apps point at lives here: skills and certificate kinds (a caregiver has
them, a service item requires them), categories and items. Rows are initial data an admin
edits, never code.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager


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


# --- price lists by region (SPEC §2.3: prices may differ by district or street) ------------------


class PriceList(models.Model):
    """The prices a region node sets for its subtree (a district, a street …), one per node.

    The rule, per item (catalogue.selectors.price_for): on a date, the price of an item at a
    region is that of the nearest node — the region itself, then its parent, up to the root —
    whose list holds an entry for that item valid on that date; else the catalogue's default
    `ServiceItem.price_fen`. A lower list that does not name an item (or whose entry for it has
    expired) does not hide an ancestor's price for that item.
    """

    SCOPE_PATH = "region__path"
    HISTORY_LABELS = {"note": _("说明")}

    region = models.OneToOneField(
        "regions.Region", verbose_name=_("适用区域"), on_delete=models.PROTECT, related_name="price_list"
    )
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("区域价目表")
        verbose_name_plural = _("区域价目表")
        ordering = ["region__path"]

    def __str__(self):
        return str(self.region)


class PriceEntry(models.Model):
    """One item's price in a price list, valid from a date (inclusive) to a date (inclusive, or open)."""

    SCOPE_PATH = "price_list__region__path"

    price_list = models.ForeignKey(PriceList, verbose_name=_("价目表"), on_delete=models.CASCADE, related_name="entries")
    item = models.ForeignKey(ServiceItem, verbose_name=_("服务项目"), on_delete=models.PROTECT, related_name="price_entries")
    price_fen = models.PositiveIntegerField(_("价格（分）"))
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("价目")
        verbose_name_plural = _("价目")
        ordering = ["item__category__position", "item__position", "valid_from"]
        indexes = [models.Index(fields=["item", "price_list", "valid_from"], name="price_entry_item_list_from")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="price_entry_period",
            )
        ]

    def __str__(self):
        return f"{self.item} {self.price_fen}"

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext

        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": gettext("截止日期不能早于生效日期，请重新选择")})
        if self.price_list_id and self.item_id and self.valid_from:
            overlapping = PriceEntry.objects.filter(price_list_id=self.price_list_id, item_id=self.item_id).exclude(pk=self.pk)
            if self.valid_to:
                overlapping = overlapping.filter(valid_from__lte=self.valid_to)
            overlapping = overlapping.filter(models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=self.valid_from))
            if overlapping.exists():
                raise ValidationError({"valid_from": gettext("本价目表中该项目在这段日期已有价格，请先结束原价格或调整生效日期")})


# --- entitlements by level and category (分级分类服务, 001) --------------------------------------


class EntitlementPackage(models.Model):
    """A service package for elders of some ability levels and/or categories, set on a region
    node for its subtree (30 hours of government-purchased home care a month for 重度失能 …).

    Inheritance as price lists, per `code`: a lower node's package with the same code replaces
    the ancestor's in its subtree; an ancestor's package of another code still applies.
    An elder matches when their ability level is one of `ability_levels` (or the list is empty)
    AND they are in at least one of `categories` (or the list is empty); a package names at
    least one of the two.
    """

    SCOPE_PATH = "region__path"

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("适用区域"), on_delete=models.PROTECT, related_name="entitlement_packages"
    )
    code = models.SlugField(_("代码"), max_length=40)
    name = models.CharField(_("名称"), max_length=60)
    ability_levels = models.JSONField(_("适用能力等级"), default=list, blank=True)
    categories = models.JSONField(_("适用老人类别"), default=list, blank=True)
    payment_mode = models.CharField(_("付费方式"), max_length=12, choices=PaymentMode.choices, default=PaymentMode.GOVERNMENT)
    valid_from = models.DateField(_("生效日期"))
    valid_to = models.DateField(_("截止日期"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("分级分类服务包")
        verbose_name_plural = _("分级分类服务包")
        ordering = ["region__path", "code"]
        constraints = [models.UniqueConstraint(fields=["region", "code"], name="entitlement_package_region_code")]

    def __str__(self):
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext

        errors = {}
        if not self.ability_levels and not self.categories:
            errors["ability_levels"] = gettext("适用能力等级和适用老人类别至少选择一项")
        if self.valid_to and self.valid_from and self.valid_to < self.valid_from:
            errors["valid_to"] = gettext("截止日期不能早于生效日期，请重新选择")
        if errors:
            raise ValidationError(errors)


class EntitlementGrant(models.Model):
    """What a package grants a month: a quantity of one item, or of any item of one category."""

    SCOPE_PATH = "package__region__path"

    package = models.ForeignKey(EntitlementPackage, verbose_name=_("服务包"), on_delete=models.CASCADE, related_name="grants")
    item = models.ForeignKey(
        ServiceItem, verbose_name=_("服务项目"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        ServiceCategory, verbose_name=_("服务类别"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quantity = models.PositiveIntegerField(_("每月数量"))
    unit = models.CharField(_("计量单位"), max_length=8, choices=Unit.choices, default=Unit.HOUR)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("服务包额度")
        verbose_name_plural = _("服务包额度")
        ordering = ["package", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(item__isnull=True, category__isnull=False)
                | models.Q(item__isnull=False, category__isnull=True),
                name="entitlement_grant_item_or_category",
            )
        ]

    def __str__(self):
        return f"{self.item or self.category} {self.quantity}{self.get_unit_display()}"

    def clean(self):
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext

        if bool(self.item_id) == bool(self.category_id):
            raise ValidationError({"item": gettext("服务项目和服务类别请选择其中一项")})
        if not self.quantity:
            raise ValidationError({"quantity": gettext("每月数量应为大于 0 的整数")})
        if self.item_id and self.unit != self.item.unit:
            raise ValidationError(
                {"unit": gettext("计量单位应与服务项目一致（%(unit)s）") % {"unit": self.item.get_unit_display()}}
            )
