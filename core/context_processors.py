"""The navigation each page shows, by what the user may do."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def navigation(request):
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"nav": []}
    items = [("core:home", _("工作台"), "home", True)]
    items += [
        ("elders:list", _("老年人信息库"), "elders", user.may_code("elders.view_elder")),
        ("elders:duplicates", _("疑似重复"), "duplicates", user.may_code("elders.merge_elder")),
        ("assessments:list", _("能力评估"), "assessments", user.may_code("assessments.view_assessment")),
        ("assessments:due", _("待复评"), "assessments_due", user.may_code("assessments.view_assessment")),
        ("merchants:list", _("服务网点"), "merchants", user.may_code("merchants.view_merchant")),
        ("providers:organisation_list", _("服务机构"), "providers", user.may_code("providers.view_organisation")),
        ("providers:caregiver_list", _("服务人员"), "staff", user.may_code("providers.view_caregiver")),
        ("providers:volunteer_list", _("志愿者"), "volunteers", user.may_code("providers.view_volunteer")),
        ("needs:list", _("需求台账"), "needs", user.may_code("needs.view_need")),
        ("settlements:list", _("月度结算"), "settlements", user.may_code("settlements.view_statement")),
        ("catalogue:items", _("服务清单"), "catalogue", user.may_code("catalogue.view_serviceitem")),
        ("jobs:list", _("后台任务"), "jobs", user.may_code("jobs.view_job")),
        ("regions:list", _("区域管理"), "regions", user.may_code("regions.add_region")),
        ("accounts:user_list", _("用户管理"), "users", user.may_code("accounts.view_user")),
        ("accounts:roles", _("角色权限"), "roles", user.may_code("accounts.view_user")),
        ("audit:access_log", _("访问日志"), "audit", user.may_code("audit.view_accesslog")),
    ]
    return {"nav": [{"url": reverse(name), "label": label, "key": key} for name, label, key, ok in items if ok]}
