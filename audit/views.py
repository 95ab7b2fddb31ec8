import datetime

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext as _

from audit.models import AccessLog
from audit.selectors import access_log_list, access_log_users
from audit.subjects import describe_logs
from core.access import requires


def _date(params, name, errors):
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("日期格式应为 2025-01-31")
        return None


@login_required
@requires("view", AccessLog)
def access_log(request):
    """Every full view and export of personal data in the auditor's subtree, in words; by
    type, user and date range."""
    params, errors = request.GET, {}
    kind = params.get("kind") or ""
    username = (params.get("user") or "").strip()
    by = (params.get("by") or "").strip()
    by_id = int(by) if by.isdigit() else None
    date_from, date_to = _date(params, "from", errors), _date(params, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = _("结束日期不能早于开始日期")
        date_to = None
    qs = access_log_list(
        user=request.user,
        kind=kind or None,
        username=username or None,
        by_id=by_id,
        date_from=date_from,
        date_to=date_to,
    )
    page = Paginator(qs, 50).get_page(params.get("page"))
    describe_logs(page.object_list, user=request.user)
    context = {
        "page": page,
        "kinds": AccessLog.Kind.choices,
        "kind": kind,
        "username": username,
        "by": by_id,
        "users": access_log_users(user=request.user),
        "date_from": params.get("from", ""),
        "date_to": params.get("to", ""),
        "errors": errors,
        "filtered": bool(kind or username or by_id or date_from or date_to),
    }
    return render(request, "audit/access_log.html", context)
