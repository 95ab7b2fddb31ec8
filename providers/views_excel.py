"""Pages for Excel in and out of staff and volunteers: the template, the upload (a dry run
first, then confirm), the export. The work runs as background jobs (providers.tasks)."""

import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from core.access import requires
from jobs.selectors import job_get, job_list
from providers.exporter import write_template
from providers.jobs import CAREGIVER_IMPORT, VOLUNTEER_IMPORT
from providers.models import Caregiver, Volunteer
from providers.services import provider_export_start, provider_import_confirm, provider_import_start

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED_SUFFIXES = (".xlsx", ".xls", ".xlsm", ".ods")
# 服务人员导入模板.xlsx / 志愿者导入模板.xlsx, percent-encoded for Content-Disposition
TEMPLATE_NAMES = {
    "caregiver": "%E6%9C%8D%E5%8A%A1%E4%BA%BA%E5%91%98%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
    "volunteer": "%E5%BF%97%E6%84%BF%E8%80%85%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
}


class ImportForm(forms.Form):
    file = forms.FileField(label=_l("Excel 文件"))
    dry_run = forms.BooleanField(label=_l("先试导入（只检查，不写入）"), required=False, initial=True)
    skip_invalid = forms.BooleanField(label=_l("跳过有错误的行，只导入正确的行"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("请上传 Excel 文件（.xlsx 或 .xls）"))
        return upload


def _template(what):
    buffer = io.BytesIO()
    write_template(buffer, what)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{TEMPLATE_NAMES[what]}"
    return response


def _import(request, what):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = provider_import_start(
                by=request.user,
                what=what,
                upload=form.cleaned_data["file"],
                dry_run=form.cleaned_data["dry_run"],
                skip_invalid=form.cleaned_data["skip_invalid"],
            )
        except ValidationError as exc:
            form.add_error("file", exc.messages[0])
        else:
            return redirect("jobs:detail", job_id=job.pk)
    kind = CAREGIVER_IMPORT if what == "caregiver" else VOLUNTEER_IMPORT
    recent = job_list(user=request.user, kind=kind)[:10]
    return render(request, "providers/import.html", {"form": form, "recent": recent, "what": what})


def _confirm(request, job_id, what):
    dry = job_get(user=request.user, job_id=job_id)
    try:
        if dry.params.get("what") != what:
            raise ValidationError(_("原文件已不在，请重新上传"))
        job = provider_import_confirm(by=request.user, dry_run_job=dry, skip_invalid=request.POST.get("skip_invalid") == "1")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(f"providers:{what}_import")
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@requires("import", Caregiver)
def caregiver_template(request):
    return _template("caregiver")


@login_required
@requires("import", Caregiver)
def caregiver_import(request):
    return _import(request, "caregiver")


@login_required
@require_POST
@requires("import", Caregiver)
def caregiver_import_confirm(request, job_id):
    return _confirm(request, job_id, "caregiver")


@login_required
@require_POST
@requires("export", Caregiver)
def caregiver_export(request):
    job = provider_export_start(by=request.user, what="caregiver")
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@requires("import", Volunteer)
def volunteer_template(request):
    return _template("volunteer")


@login_required
@requires("import", Volunteer)
def volunteer_import(request):
    return _import(request, "volunteer")


@login_required
@require_POST
@requires("import", Volunteer)
def volunteer_import_confirm(request, job_id):
    return _confirm(request, job_id, "volunteer")


@login_required
@require_POST
@requires("export", Volunteer)
def volunteer_export(request):
    job = provider_export_start(by=request.user, what="volunteer")
    return redirect("jobs:detail", job_id=job.pk)
