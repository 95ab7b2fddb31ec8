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
        # The safety net (issue 12, docs/pairing.md): pairings, the at-risk elders without a watcher,
        # and the watcher's own phone page.
        ("pairing:list", _("结对帮扶"), "volunteers", user.may_code("pairing.view_pairing")),
        ("pairing:unwatched", _("无守望员老人"), "alert", user.may_code("pairing.view_pairing")),
        ("pairing:mine", _("我结对的老人"), "phone", user.may_code("pairing.watch_pairing")),
        ("orders:order_list", _("服务工单"), "orders", user.may_code("orders.view_order")),
        ("orders:board", _("派单台"), "dispatch", user.may_code("orders.dispatch_order")),
        ("routing:list", _("日路线"), "dispatch", user.may_code("routing.view_dayplan")),
        ("settlements:list", _("月度结算"), "settlements", user.may_code("settlements.view_statement")),
        # Emergency alerts (docs/alerts.md): the live board for staff, the responder's list for watchers and relatives.
        ("alerts:board", _("紧急呼叫"), "alert", user.may_code("alerts.view_alert")),
        ("alerts:devices", _("呼叫设备"), "phone", user.may_code("alerts.view_device")),
        ("alerts:mine", _("待我响应"), "alert", user.may_code("alerts.respond_alert") and not user.may_code("alerts.view_alert")),
        ("catalogue:items", _("服务清单"), "catalogue", user.may_code("catalogue.view_serviceitem")),
        ("jobs:list", _("后台任务"), "jobs", user.may_code("jobs.view_job")),
        ("regions:list", _("区域管理"), "regions", user.may_code("regions.add_region")),
        ("accounts:user_list", _("用户管理"), "users", user.may_code("accounts.view_user")),
        ("accounts:roles", _("角色权限"), "roles", user.may_code("accounts.view_user")),
        ("audit:access_log", _("访问日志"), "audit", user.may_code("audit.view_accesslog")),
        # Evaluation and supervision (docs/orders-quality.md); the keys name existing icons.
        ("orders:supervision", _("监督看板"), "audit", user.may_code("orders.view_followup")),
        ("orders:call_back_list", _("服务回访"), "phone", user.may_code("orders.change_followup")),
        ("orders:follow_up_list", _("整改跟进"), "check", user.may_code("orders.view_followup")),
        ("orders:family_link_list", _("家属关联"), "users", user.may_code("orders.change_familylink")),
        ("family:home", _("家属服务"), "home", user.role == "elder" and user.may_code("orders.portal_order")),
        # The caregiver's phone and the community's EVV queues (docs/orders-visits.md).
        (
            "orders:visit_my_day",
            _("今日上门"),
            "phone",
            user.may_code("orders.serve_order") and user.role in ("caregiver", "volunteer"),
        ),
        # The time bank (docs/timebank.md): the community's members, desk and figures; a member's coins.
        ("timebank:member_list", _("时间银行"), "users", user.may_code("timebank.view_bank")),
        ("timebank:desk", _("时间币窗口"), "check", user.may_code("timebank.record_transfer")),
        ("timebank:figures", _("时间银行数据"), "audit", user.may_code("timebank.view_bank")),
        ("timebank:me", _("我的时间币"), "home", user.may_code("timebank.use_account") and user.role in ("volunteer", "elder")),
        ("orders:visit_exceptions", _("核验异常"), "alert", user.may_code("orders.view_visitexception")),
        ("orders:visit_stray_checkins", _("未匹配签到"), "merge", user.may_code("orders.view_visitexception")),
        # Care visits (探访关爱, docs/visits.md): the due list, a visitor's own list, the rate.
        ("visits:due", _("应访名单"), "check", user.may_code("visits.view_visit")),
        ("visits:mine", _("我的探访"), "phone", user.may_code("visits.add_visit") and not user.may_code("visits.view_visit")),
        ("visits:rate", _("探访率"), "status", user.may_code("visits.view_visit")),
    ]
    return {"nav": [{"url": reverse(name), "label": label, "key": key} for name, label, key, ok in items if ok]}
