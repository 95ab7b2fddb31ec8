"""Roles as permission sets (SPEC §1). Inspectable at /accounts/roles/.

A permission reads "<app>.<action>_<model>", as Django's own do. Scope is separate: the
region a user is attached to bounds every permission below.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("平台管理员")
    AGING_OFFICE = "aging_office", _("老龄办/民政局")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区工作人员")
    GRID = "grid", _("网格员")
    PROVIDER = "provider", _("服务机构")
    CAREGIVER = "caregiver", _("助老服务员")
    VOLUNTEER = "volunteer", _("志愿者")
    MERCHANT = "merchant", _("签约服务网点")
    ELDER = "elder", _("老人/家属")
    AUDITOR = "auditor", _("审计员")


@dataclass(frozen=True)
class Permission:
    code: str
    label: str


PERMISSIONS = [
    Permission("regions.view_region", _("查看区域")),
    Permission("regions.add_region", _("新建区域")),
    Permission("regions.change_region", _("修改区域")),
    Permission("accounts.view_user", _("查看用户")),
    Permission("accounts.add_user", _("新建用户")),
    Permission("accounts.change_user", _("修改用户、重置密码")),
    Permission("elders.view_elder", _("查看老年人档案（号码脱敏）")),
    Permission("elders.add_elder", _("登记老年人")),
    Permission("elders.change_elder", _("修改老年人档案")),
    Permission("elders.status_elder", _("变更老年人状态（迁入迁出、去世、入住机构）")),
    Permission("elders.merge_elder", _("合并疑似重复档案")),
    Permission("elders.reveal_elder", _("查看完整身份证号和电话（留痕）")),
    Permission("elders.import_elder", _("Excel 导入老年人")),
    Permission("elders.export_elder", _("导出老年人名单（留痕）")),
    Permission("audit.view_accesslog", _("查看个人信息访问日志")),
    Permission("audit.view_changerecord", _("查看变更历史")),
    Permission("jobs.view_job", _("查看后台任务")),
    Permission("assessments.view_assessment", _("查看能力评估和评估报告（留痕）")),
    Permission("assessments.add_assessment", _("新建能力评估")),
    Permission("assessments.change_assessment", _("填写、完成能力评估")),
    Permission("assessments.publish_instrument", _("发布评估量表新版本并重新分级")),
]
ALL = frozenset(p.code for p in PERMISSIONS)
_REGISTRY_READ = {"regions.view_region", "elders.view_elder", "audit.view_changerecord", "jobs.view_job"}
_REGISTRY_WRITE = _REGISTRY_READ | {
    "elders.add_elder",
    "elders.change_elder",
    "elders.status_elder",
    "elders.merge_elder",
    "elders.reveal_elder",
    "elders.import_elder",
    "elders.export_elder",
}

# Community and grid workers assess on home visits; aging and street offices read.
_ASSESS_READ = {"assessments.view_assessment"}
_ASSESS_WRITE = _ASSESS_READ | {"assessments.add_assessment", "assessments.change_assessment"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL,
    # Aging offices and street offices oversee: they read and export, and keep their users.
    Role.AGING_OFFICE: frozenset(_REGISTRY_READ | {"elders.export_elder", "accounts.view_user"} | _ASSESS_READ),
    Role.STREET: frozenset(_REGISTRY_READ | {"elders.export_elder", "accounts.view_user"} | _ASSESS_READ),
    # Community workers keep the register (000: 尽心建立数据库).
    Role.COMMUNITY: frozenset(_REGISTRY_WRITE | _ASSESS_WRITE),
    # Grid workers visit door to door: they read, correct and call their grid's elders.
    Role.GRID: frozenset(_REGISTRY_READ | {"elders.change_elder", "elders.reveal_elder"} | _ASSESS_WRITE),
    Role.AUDITOR: frozenset({"regions.view_region", "elders.view_elder", "audit.view_accesslog", "audit.view_changerecord"}),
    # These roles reach elders through their orders and tasks (later capabilities), not the register.
    Role.PROVIDER: frozenset({"regions.view_region", "jobs.view_job"}),
    Role.CAREGIVER: frozenset({"regions.view_region"}),
    Role.VOLUNTEER: frozenset({"regions.view_region"}),
    Role.MERCHANT: frozenset({"regions.view_region"}),
    Role.ELDER: frozenset(),
}
