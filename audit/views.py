from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from audit.models import AccessLog
from audit.selectors import access_log_list


@login_required
def access_log(request):
    """Every full view and export of personal data in the auditor's subtree."""
    if not request.user.may_code("audit.view_accesslog"):
        raise PermissionDenied
    kind = request.GET.get("kind") or ""
    username = (request.GET.get("user") or "").strip()
    qs = access_log_list(user=request.user, kind=kind or None, username=username or None)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request, "audit/access_log.html", {"page": page, "kinds": AccessLog.Kind.choices, "kind": kind, "username": username}
    )
