"""The region tree: 全国 › 省 › 市 › 区/县 › 街道/乡镇 › 社区/村 › 网格."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.scoping import ScopedManager, Subtree


class Level(models.IntegerChoices):
    COUNTRY = 0, _("全国")
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    DISTRICT = 3, _("区/县")
    STREET = 4, _("街道/乡镇")
    COMMUNITY = 5, _("社区/村")
    GRID = 6, _("网格")


class Region(models.Model):
    """A node of the region tree; `path` holds the ids from the root, "/1/5/23/"."""

    SCOPE_PATH = "path"

    name = models.CharField(_("名称"), max_length=64)
    # The 12-digit statistical division code (统计用区划代码) where known; grids have none.
    code = models.CharField(_("区划代码"), max_length=12, blank=True, default="")
    level = models.PositiveSmallIntegerField(_("层级"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=~models.Q(code=""), name="region_code_unique"),
            models.UniqueConstraint(fields=["parent", "name"], name="region_name_unique_in_parent"),
        ]

    def __str__(self):
        return self.name

    @property
    def depth_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def contains(self, other: "Region") -> bool:
        """Is `other` this node or below it (core.scoping.Subtree, the one subtree rule)?"""
        return other.path in Subtree(self.path)
