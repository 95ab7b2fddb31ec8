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
    Permission("merchants.view_merchant", _("查看签约服务网点和一刻钟服务圈")),
    Permission("merchants.change_merchant", _("登记、修改签约服务网点")),
    Permission("merchants.import_merchant", _("Excel 导入签约服务网点")),
    Permission("merchants.export_merchant", _("导出签约服务网点")),
    Permission("providers.view_organisation", _("查看服务机构")),
    Permission("providers.add_organisation", _("新建服务机构")),
    Permission("providers.change_organisation", _("修改服务机构")),
    Permission("providers.view_caregiver", _("查看服务人员和证书（号码脱敏）")),
    Permission("providers.add_caregiver", _("登记服务人员")),
    Permission("providers.change_caregiver", _("修改服务人员和证书")),
    Permission("providers.reveal_caregiver", _("查看服务人员完整身份证号和电话（留痕）")),
    Permission("providers.import_caregiver", _("Excel 导入服务人员")),
    Permission("providers.export_caregiver", _("导出服务人员名单（留痕）")),
    Permission("providers.view_team", _("查看志愿服务队")),
    Permission("providers.change_team", _("新建和修改志愿服务队")),
    Permission("providers.view_volunteer", _("查看志愿者（号码脱敏）")),
    Permission("providers.add_volunteer", _("登记志愿者")),
    Permission("providers.change_volunteer", _("修改志愿者")),
    Permission("providers.approve_volunteer", _("审核志愿者")),
    Permission("providers.reveal_volunteer", _("查看志愿者完整电话（留痕）")),
    Permission("providers.import_volunteer", _("Excel 导入志愿者")),
    Permission("providers.export_volunteer", _("导出志愿者名单（留痕）")),
    Permission("catalogue.view_serviceitem", _("查看服务清单")),
    Permission("catalogue.change_serviceitem", _("编辑服务清单（类别、项目、技能、证书类型）")),
    Permission("catalogue.view_pricelist", _("查看区域价目表")),
    Permission("catalogue.change_pricelist", _("设置本区域价目表")),
    Permission("catalogue.view_entitlementpackage", _("查看分级分类服务包")),
    Permission("catalogue.change_entitlementpackage", _("设置本区域分级分类服务包")),
    Permission("needs.view_need", _("查看需求台账")),
    Permission("needs.add_need", _("登记老人需求")),
    Permission("needs.change_need", _("跟进、关闭老人需求")),
    Permission("assessments.view_assessment", _("查看能力评估和评估报告（留痕）")),
    Permission("assessments.add_assessment", _("新建能力评估")),
    Permission("assessments.change_assessment", _("填写、完成能力评估")),
    Permission("assessments.publish_instrument", _("发布评估量表新版本并重新分级")),
    Permission("orders.view_order", _("查看服务工单")),
    Permission("orders.add_order", _("受理、新建服务工单（热线、走访、窗口）")),
    Permission("orders.dispatch_order", _("派单、改派")),
    Permission("orders.cancel_order", _("取消服务工单")),
    Permission("orders.serve_order", _("接单、拒单、签到签退、记录服务")),
    Permission("orders.rate_order", _("录入服务评价（回访代录）")),
    Permission("orders.view_orderplan", _("查看周期服务计划")),
    Permission("orders.change_orderplan", _("制定、修改周期服务计划")),
    Permission("orders.view_agreement", _("查看服务协议")),
    Permission("orders.change_agreement", _("签订、修改服务协议")),
    Permission("orders.view_visitexception", _("查看服务核验异常和未匹配签到")),
    Permission("orders.resolve_visitexception", _("处理服务核验异常和未匹配签到")),
    Permission("orders.view_followup", _("查看回访和整改跟进、监督看板")),
    Permission("orders.change_followup", _("回访、办结整改跟进")),
    Permission("orders.view_familylink", _("查看家属关联")),
    Permission("orders.change_familylink", _("关联家属账号（须老人同意）")),
    Permission("orders.portal_order", _("家属门户：为关联的老人下单、查看、评价")),
    Permission("settlements.view_statement", _("查看费用分担和月度结算单")),
    Permission("settlements.issue_statement", _("生成、出具月度结算单")),
    Permission("settlements.export_statement", _("导出结算单")),
    Permission("timebank.view_bank", _("查看时间银行、会员和账户")),
    Permission("timebank.change_bank", _("开办时间银行，设置入会条件、折算率和星级标准")),
    Permission("timebank.change_member", _("审核会员、登记代理人")),
    Permission("timebank.record_transfer", _("窗口代记存入、取出，导入交易表格")),
    Permission("timebank.reverse_transfer", _("冲正时间币交易")),
    Permission("timebank.export_bank", _("导出会员对账单和交易（留痕）")),
    Permission("timebank.use_account", _("我的时间币：查看、转赠、捐赠、兑换服务")),
    Permission("pairing.view_pairing", _("查看结对（守望员、互助员）")),
    Permission("pairing.change_pairing", _("建立、结束结对")),
    Permission("pairing.watch_pairing", _("守望员手机页：我结对的老人")),
    Permission("visits.view_visit", _("查看应访名单、探访记录和探访率")),
    Permission("visits.add_visit", _("记录探访（含空访）")),
    Permission("visits.change_visitrule", _("设置探访规则、发起专项探访、登记重大事件")),
    Permission("visits.export_visit", _("导出探访名单和探访记录（留痕）")),
    Permission("alerts.view_alert", _("查看紧急呼叫和呼叫看板")),
    Permission("alerts.add_alert", _("登记紧急呼叫（热线、走访）")),
    Permission("alerts.respond_alert", _("响应、处置紧急呼叫")),
    Permission("alerts.view_device", _("查看呼叫设备")),
    Permission("alerts.change_device", _("登记呼叫设备、签发设备令牌")),
    Permission("alerts.change_escalationpolicy", _("设置本区域升级策略和值班人员")),
    Permission("routing.view_dayplan", _("查看日路线计划")),
    Permission("routing.plan_dayplan", _("制定、重排、调整日路线计划并按计划派单")),
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
# Providers (docs/providers.md). The government side oversees organisations in its region;
# the community keeps its volunteers and teams; a provider's users keep their own staff
# (scoped to their organisation by SCOPE_ORG, core/scoping.py).
_PROVIDERS_OVERSIGHT = {
    "providers.view_organisation",
    "providers.add_organisation",
    "providers.change_organisation",
    "providers.view_caregiver",
    "providers.export_caregiver",
    "providers.view_team",
    "providers.view_volunteer",
    "providers.export_volunteer",
}
_VOLUNTEERS_KEEP = {
    "providers.change_team",
    "providers.add_volunteer",
    "providers.change_volunteer",
    "providers.approve_volunteer",
    "providers.reveal_volunteer",
    "providers.import_volunteer",
}
_PROVIDER_STAFF = {
    "providers.view_organisation",
    "providers.change_organisation",
    "providers.view_caregiver",
    "providers.add_caregiver",
    "providers.change_caregiver",
    "providers.reveal_caregiver",
    "providers.import_caregiver",
    "providers.export_caregiver",
}

# The catalogue: read by every role that orders or provides services (issue 10).
_CATALOGUE_READ = {"catalogue.view_serviceitem"}
# Price lists and packages: read where services are ordered and overseen; set by aging offices.
_PRICES_READ = _CATALOGUE_READ | {"catalogue.view_pricelist", "catalogue.view_entitlementpackage"}
_PRICES_SET = _PRICES_READ | {"catalogue.change_pricelist", "catalogue.change_entitlementpackage"}
_NEEDS_READ = {"needs.view_need"}
_NEEDS_WRITE = _NEEDS_READ | {"needs.add_need", "needs.change_need"}

# Community and grid workers assess on home visits; aging and street offices read.
_ASSESS_READ = {"assessments.view_assessment"}
_ASSESS_WRITE = _ASSESS_READ | {"assessments.add_assessment", "assessments.change_assessment"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL,
    # Aging offices and street offices oversee: they read and export, and keep their users.
    Role.AGING_OFFICE: frozenset(
        _REGISTRY_READ
        | {"elders.export_elder", "accounts.view_user"}
        | _PROVIDERS_OVERSIGHT
        | _PRICES_SET
        | _NEEDS_READ
        | _ASSESS_READ
    ),
    Role.STREET: frozenset(
        _REGISTRY_READ
        | {"elders.export_elder", "accounts.view_user"}
        | _PROVIDERS_OVERSIGHT
        | _PRICES_READ
        | _NEEDS_READ
        | _ASSESS_READ
    ),
    # Community workers keep the register (000: 尽心建立数据库), the needs ledger (004) and assess.
    Role.COMMUNITY: frozenset(
        _REGISTRY_WRITE | _PROVIDERS_OVERSIGHT | _VOLUNTEERS_KEEP | _PRICES_READ | _NEEDS_WRITE | _ASSESS_WRITE
    ),
    # Grid workers visit door to door: they read, correct and call their grid's elders.
    Role.GRID: frozenset(
        _REGISTRY_READ | {"elders.change_elder", "elders.reveal_elder"} | _PRICES_READ | _NEEDS_WRITE | _ASSESS_WRITE
    ),
    Role.AUDITOR: frozenset({"regions.view_region", "elders.view_elder", "audit.view_accesslog", "audit.view_changerecord"}),
    # These roles reach elders through their orders and tasks (later capabilities), not the register.
    # A provider's and a caregiver's users reach their own organisation (User.organisation).
    # They have no region (their organisation is their scope), so no region tree to browse.
    Role.PROVIDER: frozenset({"jobs.view_job"} | _PROVIDER_STAFF | _CATALOGUE_READ),
    Role.CAREGIVER: frozenset({"providers.view_organisation", "providers.view_caregiver"} | _CATALOGUE_READ),
    Role.VOLUNTEER: frozenset({"regions.view_region"} | _CATALOGUE_READ),
    Role.MERCHANT: frozenset({"regions.view_region"} | _CATALOGUE_READ),
    Role.ELDER: frozenset(_CATALOGUE_READ),
}
# Partner merchants (merchants app): every role reads them (the circle is for elders and those
# serving them; auditors, who review access to personal data, do not need them); communities and streets sign the agreements, so they keep the list.
_MERCHANTS_READ = {"merchants.view_merchant"}
_MERCHANTS_KEEP = _MERCHANTS_READ | {"merchants.change_merchant", "merchants.import_merchant", "merchants.export_merchant"}
for _role, _extra in (
    (Role.AGING_OFFICE, _MERCHANTS_READ | {"merchants.export_merchant"}),
    (Role.STREET, _MERCHANTS_KEEP),
    (Role.COMMUNITY, _MERCHANTS_KEEP),
    (Role.GRID, _MERCHANTS_READ),
    (Role.PROVIDER, _MERCHANTS_READ),
    (Role.CAREGIVER, _MERCHANTS_READ),
    (Role.VOLUNTEER, _MERCHANTS_READ),
    (Role.MERCHANT, _MERCHANTS_READ),
    (Role.ELDER, _MERCHANTS_READ),
):
    ROLE_PERMISSIONS[_role] = frozenset(ROLE_PERMISSIONS[_role] | _extra)
del _role, _extra

# Orders, the closed loop (issue 11, docs/orders.md). Communities take calls, dispatch, verify,
# call back and keep plans, agreements and family links; grid workers order from a visit;
# government offices oversee and settle; a provider's dispatcher assigns its staff and its
# caregivers serve (their own orders only: orders.selectors narrows the worker roles); the family
# portal is for relatives linked to an elder (FamilyLink), never the register.
_ORDERS_READ = {
    "orders.view_order",
    "orders.view_orderplan",
    "orders.view_agreement",
    "orders.view_visitexception",
    "orders.view_followup",
    "orders.view_familylink",
}
_ORDERS_DESK = _ORDERS_READ | {
    "orders.add_order",
    "orders.dispatch_order",
    "orders.cancel_order",
    "orders.rate_order",
    "orders.change_orderplan",
    "orders.change_agreement",
    "orders.resolve_visitexception",
    "orders.change_followup",
    "orders.change_familylink",
}
_STATEMENTS_READ = {"settlements.view_statement", "settlements.export_statement"}
_STATEMENTS_ISSUE = _STATEMENTS_READ | {"settlements.issue_statement"}
for _role, _extra in (
    (Role.AGING_OFFICE, _ORDERS_READ | _STATEMENTS_ISSUE),
    (Role.STREET, _ORDERS_READ | _STATEMENTS_ISSUE),
    (Role.COMMUNITY, _ORDERS_DESK | _STATEMENTS_READ),
    (Role.GRID, {"orders.view_order", "orders.add_order", "orders.view_orderplan"}),
    (
        Role.PROVIDER,
        {
            "orders.view_order",
            "orders.dispatch_order",
            "orders.serve_order",
            "orders.view_orderplan",
            "orders.view_agreement",
            "orders.view_visitexception",
            "orders.view_followup",
        }
        | _STATEMENTS_READ,
    ),
    (Role.CAREGIVER, {"orders.view_order", "orders.serve_order"}),
    (Role.VOLUNTEER, {"orders.view_order", "orders.serve_order"}),
    (Role.ELDER, {"orders.portal_order"}),
):
    ROLE_PERMISSIONS[_role] = frozenset(ROLE_PERMISSIONS[_role] | _extra)
del _role, _extra

# The safety net (issue 12, docs/visits.md, docs/alerts.md): communities pair, set visit rules and
# keep devices and the chain; grid workers visit and respond; offices read the rate and the times;
# a watcher or helper with an account (a volunteer, a neighbour) sees their own elders on the
# phone page (pairing.selectors narrows them to their pairings) and acknowledges their alerts.
_SAFETY_READ = {"pairing.view_pairing", "visits.view_visit", "alerts.view_alert", "alerts.view_device"}
_SAFETY_KEEP = _SAFETY_READ | {
    "pairing.change_pairing",
    "visits.add_visit",
    "visits.change_visitrule",
    "visits.export_visit",
    "alerts.add_alert",
    "alerts.respond_alert",
    "alerts.change_device",
    "alerts.change_escalationpolicy",
}
_WATCH = {"pairing.watch_pairing", "visits.add_visit", "alerts.respond_alert"}
for _role, _extra in (
    (Role.AGING_OFFICE, _SAFETY_READ | {"visits.export_visit"}),
    (Role.STREET, _SAFETY_READ | {"visits.export_visit", "visits.change_visitrule"}),
    (Role.COMMUNITY, _SAFETY_KEEP),
    (Role.GRID, _SAFETY_READ | {"visits.add_visit", "alerts.add_alert", "alerts.respond_alert", "pairing.change_pairing"}),
    (Role.VOLUNTEER, _WATCH),
    (Role.ELDER, _WATCH),
):
    ROLE_PERMISSIONS[_role] = frozenset(ROLE_PERMISSIONS[_role] | _extra)
del _role, _extra

# The time bank (issue 13, docs/timebank.md): communities run their bank (members, desk records,
# reversals); streets and offices read the figures; a member with an account (volunteer, elder or
# relative) uses their own account only (timebank.selectors narrows them to it and their proxies').
_BANK_READ = {"timebank.view_bank", "timebank.export_bank"}
_BANK_DESK = _BANK_READ | {
    "timebank.change_member",
    "timebank.record_transfer",
    "timebank.reverse_transfer",
    "timebank.change_bank",
}
for _role, _extra in (
    (Role.AGING_OFFICE, _BANK_READ | {"timebank.change_bank"}),
    (Role.STREET, _BANK_READ | {"timebank.change_bank"}),
    (Role.COMMUNITY, _BANK_DESK),
    (Role.VOLUNTEER, {"timebank.use_account"}),
    (Role.ELDER, {"timebank.use_account"}),
):
    ROLE_PERMISSIONS[_role] = frozenset(ROLE_PERMISSIONS[_role] | _extra)
del _role, _extra

# Day routes (issue 14, docs/routing.md): whoever dispatches plans the day — communities and
# streets for the stations they oversee, a provider's dispatcher for its own staff, grid workers
# for their grid's visits; offices read. A caregiver sees their own route on the phone page only.
for _role, _extra in (
    (Role.AGING_OFFICE, {"routing.view_dayplan"}),
    (Role.STREET, {"routing.view_dayplan", "routing.plan_dayplan"}),
    (Role.COMMUNITY, {"routing.view_dayplan", "routing.plan_dayplan"}),
    (Role.GRID, {"routing.view_dayplan", "routing.plan_dayplan"}),
    (Role.PROVIDER, {"routing.view_dayplan", "routing.plan_dayplan"}),
):
    ROLE_PERMISSIONS[_role] = frozenset(ROLE_PERMISSIONS[_role] | _extra)
del _role, _extra
