"""Pages for Excel in and out: the template, the upload, the export of a filtered list."""

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
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
from elders.services import elder_import_confirm, elder_import_start, import_upload_refusal
from elders.tasks import elder_export_task
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
        if message := import_upload_refusal(upload):
            raise forms.ValidationError(message)
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
        job = elder_import_start(
            by=request.user,
            upload=form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            skip_invalid=form.cleaned_data["skip_invalid"],
        )
        return redirect("jobs:detail", job_id=job.pk)
    recent = job_list(user=request.user, kind=ELDER_IMPORT)[:10]
    return render(request, "elders/elder_import.html", {"form": form, "recent": recent})


@login_required
@require_POST
@requires("import", Elder)
def import_confirm(request, job_id):
    """After a dry run: import the same file for real (all rows, or only the good ones)."""
    dry = job_get(user=request.user, job_id=job_id)
    try:
        job = elder_import_confirm(by=request.user, dry_run_job=dry, skip_invalid=request.POST.get("skip_invalid") == "1")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("elders:import")
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
