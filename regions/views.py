"""Region administration: browse the subtree one level at a time, add and rename nodes."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from core.access import NoRegion, no_region_message, requires
from regions.models import Level, Region
from regions.selectors import region_ancestors, region_get, region_list
from regions.services import region_create, region_update


class RegionForm(forms.Form):
    name = forms.CharField(label=_l("名称"), max_length=64)
    code = forms.CharField(label=_l("区划代码（12位，可不填）"), max_length=12, required=False)

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        if code and (not code.isdigit() or len(code) != 12):
            raise forms.ValidationError(_("区划代码应为12位数字"))
        return code


@login_required
@requires("view", Region)
def region_browse(request):
    if request.user.region is None:  # an organisation's user (core/scoping.py, second axis): no tree to browse
        raise NoRegion(no_region_message())
    parent_id = request.GET.get("parent")
    parent = region_get(user=request.user, region_id=int(parent_id)) if parent_id and parent_id.isdigit() else request.user.region
    children = region_list(user=request.user).filter(parent=parent).annotate(n_children=Count("children")).order_by("code", "id")
    page = Paginator(children, 50).get_page(request.GET.get("page"))
    trail = [r for r in region_ancestors(parent) if request.user.region.contains(r)]
    child_level = Level(parent.level + 1) if parent.level < Level.GRID else None
    return render(
        request,
        "regions/region_list.html",
        {"parent": parent, "page": page, "trail": trail, "child_level": child_level, "form": RegionForm()},
    )


@login_required
@requires("add", Region)
def region_add(request, parent_id):
    parent = region_get(user=request.user, region_id=parent_id, action="add")
    form = RegionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            region_create(
                name=form.cleaned_data["name"],
                code=form.cleaned_data["code"],
                level=parent.level + 1,
                parent=parent,
                by=request.user,
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, _("已新建“%(n)s”") % {"n": form.cleaned_data["name"]})
    else:
        for field, errs in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for msg in errs:
                messages.error(request, f"{label}:{msg}" if label else msg)
    return redirect(f"/regions/?parent={parent.pk}")


@login_required
@requires("change", Region)
def region_edit(request, region_id):
    region = region_get(user=request.user, region_id=region_id, action="change")
    form = RegionForm(request.POST or None, initial={"name": region.name, "code": region.code})
    if request.method == "POST" and form.is_valid():
        try:
            region_update(region=region, name=form.cleaned_data["name"], code=form.cleaned_data["code"], by=request.user)
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error(field if field in form.fields else None, msg)
        else:
            messages.success(request, _("已保存"))
            return redirect(f"/regions/?parent={region.parent_id or region.pk}")
    return render(request, "regions/region_form.html", {"form": form, "region": region})
