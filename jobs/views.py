"""A user's background jobs: the list, one job's progress (polled by htmx), its output file."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import requires
from jobs.models import Job
from jobs.selectors import job_get, job_list, job_waiting_for_worker
from jobs.services import job_can_rerun, job_rerun


@login_required
@requires("view", Job)
def job_list_view(request):
    if not request.user.may_code("jobs.view_job"):
        raise PermissionDenied
    page = Paginator(job_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "jobs/job_list.html", {"page": page, "jobs": page.object_list})


@login_required
def job_detail(request, job_id):
    job = job_get(user=request.user, job_id=job_id)
    result = job.result or {}
    context = {
        "job": job,
        "result": result,
        "errors": (result.get("errors") or [])[:200],
        "can_rerun": job_can_rerun(job),
        "waiting_for_worker": job_waiting_for_worker(job=job),
    }
    if request.headers.get("HX-Request") == "true":
        return render(request, "jobs/job_detail.html#progress", context)
    return render(request, "jobs/job_detail.html", context)


@login_required
def job_download(request, job_id):
    """The output (an error report or an export) — only for the user who started the job."""
    job = job_get(user=request.user, job_id=job_id)
    if job.output_expired:
        messages.info(request, _("文件已过期删除（含个人信息的文件只保留一段时间）"))
        return redirect("jobs:detail", job_id=job.pk)
    if not job.output_file:
        raise Http404
    return FileResponse(job.output_file.open("rb"), as_attachment=True, filename=job.output_name or "download.xlsx")


@login_required
@require_POST
def job_rerun_view(request, job_id):
    """Run a failed job again on the same file (its worker died, or the file was fixed meanwhile)."""
    job = job_get(user=request.user, job_id=job_id)
    try:
        again = job_rerun(job=job, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("jobs:detail", job_id=job.pk)
    return redirect("jobs:detail", job_id=again.pk)
