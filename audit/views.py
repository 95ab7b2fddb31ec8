from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from audit.models import AccessLog
from audit.selectors import access_log_list
from core.access import requires

FIELD_LABELS = {
    "id_number": _("身份证号"),
    "phone": _("电话"),
    "contacts": _("联系人电话"),
    "name": _("姓名"),
    "address": _("地址"),
}


@login_required
@requires("view", AccessLog)
def access_log(request):
    """Every full view and export of personal data in the auditor's subtree."""
    kind = request.GET.get("kind") or ""
    username = (request.GET.get("user") or "").strip()
    qs = access_log_list(user=request.user, kind=kind or None, username=username or None)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for log in page.object_list:
        log.field_labels = [FIELD_LABELS.get(f, f) for f in log.fields.split(",") if f]
    return render(
        request, "audit/access_log.html", {"page": page, "kinds": AccessLog.Kind.choices, "kind": kind, "username": username}
    )
