"""Pairing (结对帮扶, SPEC §2.8, seed 000): a neighbour, relative, party member or volunteer
paired with an elder as their watcher (守望员: looks in, notices, raises the alarm) or helper
(互助员: lends a hand), from a start date to an end date.

The partner is a person, not always an account: a neighbour of 80 may have no phone app. Where
they have one (`user`), the watcher's phone page lists their elders and the alert chain
(alerts.escalation) notifies them through core.notify; where not, the chain names them and the
duty worker calls. A pairing's region is its elder's (copied, like needs), so a community's list
and "at-risk elders with no watcher" are one indexed read.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.phones import mask_phone
from core.scoping import ScopedManager


class Role(models.TextChoices):
    WATCHER = "watcher", _("守望员")
    HELPER = "helper", _("互助员")


class PartnerKind(models.TextChoices):
    NEIGHBOUR = "neighbour", _("邻居")
    RELATIVE = "relative", _("亲属")
    PARTY_MEMBER = "party_member", _("党员")
    VOLUNTEER = "volunteer", _("志愿者")
    OTHER = "other", _("其他")


class Pairing(models.Model):
    SCOPE_PATH = "region__path"
    HISTORY_MASKED = {"partner_phone": mask_phone}
    HISTORY_LABELS = {"partner_phone": _("结对人电话")}

    elder = models.ForeignKey("elders.Elder", verbose_name=_("老年人"), on_delete=models.CASCADE, related_name="pairings")
    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+", help_text=_("老人的所属区域")
    )
    role = models.CharField(_("结对角色"), max_length=10, choices=Role.choices, default=Role.WATCHER)
    partner_kind = models.CharField(_("结对人身份"), max_length=14, choices=PartnerKind.choices, default=PartnerKind.NEIGHBOUR)
    partner_name = models.CharField(_("结对人姓名"), max_length=32)
    # The partner's phone (core.phones.store_phone): encrypted, masked, hashed for lookups.
    phone_enc = models.TextField(blank=True, default="")
    phone_hash = models.CharField(max_length=64, blank=True, default="")
    phone_masked = models.CharField(_("结对人电话"), max_length=20, blank=True, default="")
    # The partner's account, if they have one: their phone page and their notices.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结对人账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pairings",
    )
    volunteer = models.ForeignKey(
        "providers.Volunteer", verbose_name=_("志愿者"), null=True, blank=True, on_delete=models.SET_NULL, related_name="pairings"
    )
    address_note = models.CharField(_("住址关系"), max_length=60, blank=True, default="", help_text=_("例如：同楼对门"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    end_reason = models.CharField(_("结束原因"), max_length=120, blank=True, default="")
    notes = models.CharField(_("备注"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("结对")
        verbose_name_plural = _("结对")
        ordering = ["elder_id", "role", "id"]
        indexes = [
            models.Index(fields=["region", "role", "ends_on", "id"], name="pairing_region_role"),
            models.Index(fields=["elder", "role", "ends_on"], name="pairing_elder_role"),
            models.Index(fields=["user", "ends_on"], name="pairing_user", condition=models.Q(user__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=models.F("starts_on")),
                name="pairing_ends_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()} {self.partner_name}"
