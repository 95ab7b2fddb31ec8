from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from core.desk import desk_panels


@login_required
def home(request):
    """The desk: the user's region at a glance and the day's shortcuts."""
    return render(request, "core/home.html", desk_panels(request.user))


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
