from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from elders.selectors import elder_overview


@login_required
def home(request):
    """The desk: the user's region at a glance and the day's shortcuts."""
    overview = elder_overview(user=request.user) if request.user.may_code("elders.view_elder") else None
    return render(request, "core/home.html", {"overview": overview})


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
