"""Pages for Excel in and out: the template, the upload, the export of a filtered list."""

import io

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from core.access import requires
from elders.exporter import export_job_params, write_template
from elders.jobs import ELDER_EXPORT, ELDER_IMPORT
from elders.models import Elder
from elders.selectors import parse_filter_lenient
from elders.tasks import elder_export_task, elder_import_task
from elders.workbook_guard import file_kind, not_a_workbook_message
from jobs.models import Job
from jobs.selectors import job_get, job_list
from jobs.services import job_create, job_enqueue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")


class ImportForm(forms.Form):
    file = forms.FileField(label=_l("Excel 文件"))
    dry_run = forms.BooleanField(label=_l("先试导入（只检查，不写入）"), required=False, initial=True)
    skip_invalid = forms.BooleanField(label=_l("跳过有错误的行，只导入正确的行"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("请上传 Excel 文件（.xlsx 或 .xls）"))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("文件太大（%(n)d MB），上限 %(m)d MB；请分成几个文件导入")
                % {"n": upload.size // 1048576, "m": settings.IMPORT_MAX_BYTES // 1048576}
            )
        # only the first bytes: reading the workbook is the background job's (never this process's)
        head = upload.read(8)
        upload.seek(0)
        if not file_kind(head):
            raise forms.ValidationError(not_a_workbook_message())
        return upload


@login_required
@requires("import", Elder)
def import_template(request):
    buffer = io.BytesIO()
    write_template(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E8%80%81%E5%B9%B4%E4%BA%BA%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@login_required
@requires("import", Elder)
def import_start(request):
    """Upload a sheet; the import runs as a background job the user watches."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = job_create(
            by=request.user,
            kind=ELDER_IMPORT,
            params={"dry_run": form.cleaned_data["dry_run"], "skip_invalid": form.cleaned_data["skip_invalid"], "via": "web"},
            upload=upload,
            input_name=upload.name,
        )
        job_enqueue(job, elder_import_task)
        return redirect("jobs:detail", job_id=job.pk)
    recent = job_list(user=request.user, kind=ELDER_IMPORT)[:10]
    return render(request, "elders/elder_import.html", {"form": form, "recent": recent})


@login_required
@require_POST
@requires("import", Elder)
def import_confirm(request, job_id):
    """After a dry run: import the same file for real (all rows, or only the good ones)."""
    dry = job_get(user=request.user, job_id=job_id)
    if dry.kind != ELDER_IMPORT or not dry.input_file:
        messages.error(request, _("原文件已不在，请重新上传"))
        return redirect("elders:import")
    job = Job.objects.create(
        kind=ELDER_IMPORT,
        by=request.user,
        region=request.user.region,
        params={"dry_run": False, "skip_invalid": request.POST.get("skip_invalid") == "1", "via": "web"},
        input_name=dry.input_name,
        input_file=dry.input_file.name,
    )
    job_enqueue(job, elder_import_task)
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@require_POST
@requires("export", Elder)
def export_start(request):
    """Export the list as it is on screen (the filter form's current values, sent by htmx with
    the button), as a background job. POST only, with the CSRF token."""
    filters, errors = parse_filter_lenient(request.POST)
    if errors:
        # The list showed every elder in residence for a refused value; the export must not
        # quietly hold something else than the user meant.
        messages.error(request, _("筛选条件有误，未导出：请先改正标红的筛选条件"))
        return _to(request, reverse("elders:list"))
    reveal = request.POST.get("reveal") == "1" and request.user.may("reveal", Elder)
    job = job_create(by=request.user, kind=ELDER_EXPORT, params=export_job_params(filters, reveal=reveal))
    job_enqueue(job, elder_export_task)
    return _to(request, reverse("jobs:detail", args=[job.pk]))


def _to(request, url):
    """A redirect; to htmx (which posts the export form), one it follows with a page load."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
