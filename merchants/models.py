"""Partner merchants and service points (签约服务网点, SPEC §2.4, seeds 000 and 003).

A merchant signs an agreement with the community's station (number, signed on, period,
status) and gives elders holding the 爱心助老卡 a discount of 5–10 % (000). With its
location it forms the elders' 15-minute service circle (一刻钟为老服务圈, 003):
merchants.selectors.circle_for.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.phones import mask_phone
from core.scoping import ScopedManager

# The discount is stored in tenths of a percent (75 = 7.5 %); 000: 5–10 %.
DISCOUNT_MIN_TENTHS = 50
DISCOUNT_MAX_TENTHS = 100


class Kind(models.TextChoices):
    """Kinds of service point; the coverage page counts elders reached by each."""

    CLINIC = "clinic", _("诊所/卫生服务站")
    PHARMACY = "pharmacy", _("药店")
    CANTEEN = "canteen", _("餐饮/老年食堂")
    SUPERMARKET = "supermarket", _("超市")
    BARBER = "barber", _("理发")
    APPLIANCE = "appliance", _("家电维修")
    LOCKSMITH = "locksmith", _("开锁/修配锁")
    HOUSEKEEPING = "housekeeping", _("家政")
    STATION = "station", _("服务站/日间照料中心")
    OTHER = "other", _("其他")


class AgreementStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    EXPIRED = "expired", _("已到期")
    TERMINATED = "terminated", _("已终止")


class Merchant(models.Model):
    """One partner merchant or service point of a community (or street)."""

    SCOPE_PATH = "region__path"
    # A shop's phone is not a personal number, but history keeps it masked all the same (a
    # 个体工商户's shop phone is often the owner's mobile).
    HISTORY_MASKED = {"phone": mask_phone}
    HISTORY_LABELS = {
        "items": _("服务项目"),
        "opening_hours": _("营业时间"),
        "discount_tenths": _("优惠幅度（单位：0.1%）"),
    }

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属社区/街道"), on_delete=models.PROTECT, related_name="merchants", db_index=False
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    address = models.CharField(_("地址"), max_length=255, blank=True, default="")
    # WGS-84 decimal degrees (core/geo.py); both or neither.
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True, default="")
    contact_name = models.CharField(_("联系人"), max_length=32, blank=True, default="")

    agreement_no = models.CharField(_("协议编号"), max_length=40, blank=True, default="")
    signed_on = models.DateField(_("签订日期"), null=True, blank=True)
    period_start = models.DateField(_("协议开始"), null=True, blank=True)
    period_end = models.DateField(_("协议结束"), null=True, blank=True)
    status = models.CharField(_("协议状态"), max_length=12, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE)
    # None: no discount (a station or clinic serving free of charge); else 50–100 tenths of a percent.
    discount_tenths = models.PositiveSmallIntegerField(_("优惠幅度"), null=True, blank=True)

    items = models.ManyToManyField("catalogue.ServiceItem", verbose_name=_("服务项目"), blank=True, related_name="merchants")
    goods = models.TextField(_("商品与服务说明"), blank=True, default="")
    opening_hours = models.JSONField(_("营业时间"), default=dict, blank=True)
    notes = models.TextField(_("备注"), blank=True, default="")

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = _("签约服务网点")
        verbose_name_plural = _("签约服务网点")
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(discount_tenths__isnull=True)
                | models.Q(discount_tenths__gte=DISCOUNT_MIN_TENTHS, discount_tenths__lte=DISCOUNT_MAX_TENTHS),
                name="merchant_discount_5_to_10_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True, lng__isnull=True) | models.Q(lat__isnull=False, lng__isnull=False),
                name="merchant_point_both_or_neither",
            ),
        ]
        indexes = [
            # The list, by name, over a big subtree and a small one (docs/architecture.md).
            models.Index(fields=["status", "name", "id", "region"], name="merchant_status_name_region"),
            models.Index(fields=["region", "status", "name", "id"], name="merchant_region_status_name"),
            # The circle's box pre-filter: a range on lat, then lng read from the index.
            models.Index(fields=["lat", "lng"], name="merchant_lat_lng"),
        ]

    def __str__(self):
        return self.name

    @staticmethod
    def history_hidden_fields(user) -> set:
        return set()

    @property
    def discount_percent(self) -> str:
        """'7.5%' or ''."""
        if self.discount_tenths is None:
            return ""
        whole, tenth = divmod(self.discount_tenths, 10)
        return f"{whole}.{tenth}%" if tenth else f"{whole}%"

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None
