"""Pages of partner merchants: list, detail, create and edit, the plain map, coverage, the
circle panel of the elder page, Excel import and export."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.geo import circle_radius_m, circle_settings
from core.pagination import CappedPaginator
from elders.selectors import elder_get
from elders.services import ElderChanged, elder_update
from merchants import selectors, services
from merchants.forms import MerchantForm
from merchants.hours import WEEKDAYS, day_text, is_open
from merchants.models import AgreementStatus, Kind, Merchant
from regions.selectors import regions_in_tree_order

PAGE_SIZE = 20
KIND_COLOURS = {
    "clinic": "#d64545",
    "pharmacy": "#e07b39",
    "canteen": "#c9a227",
    "supermarket": "#2f9e44",
    "barber": "#7048e8",
    "appliance": "#1c7ed6",
    "locksmith": "#5c5f66",
    "housekeeping": "#d6336c",
    "station": "#0b7285",
    "other": "#868e96",
}


COMMUNITY = 5  # regions.models.Level.COMMUNITY


def _regions(user):
    """Streets and communities in the user's subtree, as the tree reads."""
    return regions_in_tree_order(selectors.merchant_regions(user=user)[:500])


def _coverage_regions(user):
    """The coverage page's choices, indented under their parents."""
    regions = regions_in_tree_order(selectors.coverage_regions(user=user)[:500])
    top = min((r.level for r in regions), default=0)
    for r in regions:
        r.label = "\u3000" * (r.level - top) + r.name
    return regions


def _form_errors(form, exc: ValidationError):
    for field, msgs in exc.message_dict.items():
        target = {"discount_tenths": "discount", "opening_hours": "hours_0"}.get(field, field)
        for msg in msgs:
            form.add_error(target if target in form.fields else None, msg)


@login_required
@requires("view", Merchant)
def merchant_list(request):
    filters = selectors.parse_filters(request.GET)
    qs = selectors.merchant_list(user=request.user, filters=filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.localtime()
    rows = [{"m": m, "open": is_open(m.opening_hours, now)} for m in page.object_list]
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "kinds": Kind.choices,
        "statuses": AgreementStatus.choices,
        "regions": _regions(request.user),
        "query": params.urlencode(),
        "can_change": request.user.may("change", Merchant),
        "can_import": request.user.may("import", Merchant),
        "can_export": request.user.may("export", Merchant),
    }
    return render(request, "merchants/merchant_list.html", context)


@login_required
@requires("view", Merchant)
def merchant_detail(request, merchant_id):
    merchant = selectors.merchant_get(user=request.user, merchant_id=merchant_id)
    now = timezone.localtime()
    hours = [(label, day_text(merchant.opening_hours, i)) for i, label in enumerate(WEEKDAYS)]
    context = {
        "m": merchant,
        "items": merchant.items.all(),
        "hours": hours,
        "hours_known": bool(merchant.opening_hours),
        "open_now": is_open(merchant.opening_hours, now),
        "today": now.weekday(),
        "can_change": request.user.may("change", Merchant),
        "can_history": request.user.may_code("audit.view_changerecord"),
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=merchant)[:30], model=Merchant
        ),
    }
    return render(request, "merchants/merchant_detail.html", context)


def _items():
    return selectors.service_items()


@login_required
@requires("change", Merchant)
def merchant_create(request):
    regions = _regions(request.user)
    initial = {"region": request.user.region_id, "status": AgreementStatus.ACTIVE}
    form = MerchantForm(request.POST or None, regions=regions, items=_items(), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            merchant = services.merchant_create(by=request.user, data=form.to_data())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记 %(name)s") % {"name": merchant.name})
            return redirect("merchants:detail", merchant_id=merchant.pk)
    return render(request, "merchants/merchant_form.html", {"form": form, "m": None})


@login_required
@requires("change", Merchant)
def merchant_edit(request, merchant_id):
    merchant = selectors.merchant_get(user=request.user, merchant_id=merchant_id, action="change")
    regions = _regions(request.user)
    form = MerchantForm(request.POST or None, regions=regions, items=_items(), initial=MerchantForm.initial_for(merchant))
    if request.method == "POST" and form.is_valid():
        try:
            services.merchant_update(
                by=request.user, merchant=merchant, data=form.to_data(), version=form.cleaned_data.get("version")
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except services.MerchantChanged as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已保存 %(name)s") % {"name": merchant.name})
            return redirect("merchants:detail", merchant_id=merchant.pk)
    return render(request, "merchants/merchant_form.html", {"form": form, "m": merchant})


# --- the circle panel of the elder page ----------------------------------------------------------


@login_required
@requires("view", Merchant)
def elder_circle(request, elder_id):
    """The elder page's panel (loaded by htmx): the elder is read through the elders' scope."""
    elder = elder_get(user=request.user, elder_id=elder_id)
    entries = selectors.circle_for(elder)
    minutes, detour, speed = circle_settings()
    by_kind = {}
    for e in entries or []:
        by_kind.setdefault(e.kind, e)
    missing = [label for code, label in Kind.choices if code not in by_kind and code != "other"]
    context = {
        "elder": elder,
        "entries": entries,
        "missing": missing,
        "minutes": int(minutes),
        "detour": f"{detour:g}",
        "speed": f"{speed:g}",
        "radius": round(circle_radius_m()),
        "can_change_elder": request.user.may_code("elders.change_elder"),
    }
    return render(request, "merchants/_circle_panel.html", context)


# --- coverage ------------------------------------------------------------------------------------


def _chosen_region(request, regions):
    """The region asked for (?region=), in scope; else the user's own (or the first choice)."""
    by_id = {r.pk: r for r in regions}
    try:
        chosen = by_id.get(int(request.GET.get("region") or 0))
    except (TypeError, ValueError):
        chosen = None
    if chosen is None:
        chosen = by_id.get(request.user.region_id) or next((r for r in regions if r.level == COMMUNITY), None)
        chosen = chosen or (regions[0] if regions else None)
    return chosen


@login_required
@requires("view", Merchant)
def coverage(request):
    regions = _coverage_regions(request.user)
    region = _chosen_region(request, regions)
    result, error, too_many = None, "", False
    if region is not None:
        try:
            result = selectors.coverage_for(user=request.user, region=region)
        except selectors.TooManyElders as exc:
            error, too_many = exc.messages[0], True
    rows = []
    if result:
        for k in result.kinds:
            rows.append({"k": k, "pct": round(k.share * 100), "bar": round(k.share * 200), "colour": KIND_COLOURS[k.kind]})
    context = {"regions": regions, "region": region, "result": result, "rows": rows, "error": error, "too_many": too_many}
    return render(request, "merchants/coverage.html", context)


@login_required
@require_POST
@requires("view", Merchant)
def coverage_job(request):
    """The coverage of a region too big for a request (a district, the city), as a background
    job; its page (jobs:detail) shows the progress and the table."""
    from django.http import Http404

    from jobs.services import job_create, job_enqueue
    from merchants.jobs import MERCHANT_COVERAGE

    try:
        region = selectors.coverage_regions(user=request.user).get(pk=int(request.POST.get("region", "")))
    except (ValueError, TypeError, selectors.Region.DoesNotExist):
        raise Http404 from None
    job = job_create(by=request.user, kind=MERCHANT_COVERAGE, params={"region": region.pk}, input_name=region.name)
    job_enqueue(job)
    return redirect("jobs:detail", job_id=job.pk)


# --- the plain map -------------------------------------------------------------------------------

MAP_W, MAP_H = 1000, 700


def _project(box, lat, lng):
    """(lat, lng) -> SVG (x, y) in a MAP_W × MAP_H view, north up, the box's aspect kept
    (an equirectangular view scaled by cos(latitude): true shapes at a community's size)."""
    import math

    min_lat, max_lat, min_lng, max_lng = box
    k = math.cos(math.radians((min_lat + max_lat) / 2))
    width_m, height_m = (max_lng - min_lng) * k, (max_lat - min_lat)
    scale = min(MAP_W / width_m, MAP_H / height_m)
    ox = (MAP_W - width_m * scale) / 2
    oy = (MAP_H - height_m * scale) / 2
    return round(ox + (lng - min_lng) * k * scale, 1), round(MAP_H - oy - (lat - min_lat) * scale, 1)


@login_required
@requires("view", Merchant)
def merchant_map(request):
    regions = _regions(request.user)
    region = _chosen_region(request, regions)
    points = selectors.map_points(user=request.user, region=region) if region else {"elders": [], "merchants": [], "box": None}
    box = points["box"]
    elders, merchants = [], []
    if box:
        for pk, lat, lng in points["elders"]:
            x, y = _project(box, lat, lng)
            elders.append({"pk": pk, "x": x, "y": y})
        for pk, name, kind, lat, lng in points["merchants"]:
            x, y = _project(box, lat, lng)
            merchants.append({"pk": pk, "name": name, "kind": kind, "x": x, "y": y, "colour": KIND_COLOURS[kind]})
    # What a click may set: a merchant (change permission) or an elder's home (elders' change).
    targets = []
    if request.user.may("change", Merchant) and region:
        targets += [
            ("merchant", m.pk, m.name)
            for m in Merchant.objects.restrict(request.user, "change").within(region).order_by("name", "id")[:300]
        ]
    context = {
        "regions": regions,
        "region": region,
        "box": box,
        "w": MAP_W,
        "h": MAP_H,
        "elders": elders,
        "merchants": merchants,
        "legend": [(code, label, KIND_COLOURS[code]) for code, label in Kind.choices],
        "targets": targets,
        "preset": request.GET.get("set", ""),
        "can_set_elder": request.user.may_code("elders.change_elder"),
        "elder_preset": request.GET.get("elder", ""),
    }
    return render(request, "merchants/map.html", context)


@login_required
@require_POST
@requires("view", Merchant)
def map_locate(request):
    """A click on the plain map: set a merchant's location (merchants.change_merchant) or an
    elder's home (elders.change_elder), each through its own service. JSON for the map's
    script; the page also works as a plain form post (redirect back)."""
    what, pk = request.POST.get("what", ""), request.POST.get("id", "")
    if not what and ":" in request.POST.get("target", ""):  # the form without JavaScript
        what, _sep, pk = request.POST["target"].partition(":")
    try:
        pk = int(pk)
    except ValueError:
        return _locate_answer(request, 400, _("请先选择要定位的网点或老人"))
    lat, lng = request.POST.get("lat", ""), request.POST.get("lng", "")
    try:
        if what == "merchant":
            merchant = selectors.merchant_get(user=request.user, merchant_id=pk, action="change")
            services.merchant_set_point(by=request.user, merchant=merchant, lat=lat, lng=lng)
            name = merchant.name
        elif what == "elder":
            if not request.user.may_code("elders.change_elder"):
                raise PermissionDenied(_("您没有修改老年人档案的权限"))
            elder = elder_get(user=request.user, elder_id=pk, action="change")
            elder_update(by=request.user, elder=elder, data={"home_lat": lat, "home_lng": lng})
            name = elder.name
        else:
            return _locate_answer(request, 400, _("请先选择要定位的网点或老人"))
    except ElderChanged:
        return _locate_answer(request, 409, _("档案刚被他人修改，请刷新后再试"))
    except ValidationError as exc:
        return _locate_answer(request, 400, "；".join(exc.messages))
    return _locate_answer(request, 200, _("已设置%(n)s的位置") % {"n": name})


def _locate_answer(request, status: int, message: str):
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"detail": message}, status=status)
    (messages.success if status == 200 else messages.error)(request, message)
    return redirect(request.POST.get("next") or "merchants:map") if _safe_next(request) else redirect("merchants:map")


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next") or ""
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=False)


# --- Excel ---------------------------------------------------------------------------------------


@login_required
@requires("import", Merchant)
def import_template(request):
    from merchants.excel import template_workbook

    response = HttpResponse(template_workbook(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = "attachment; filename*=UTF-8''merchants-template.xlsx"
    return response


@login_required
@require_http_methods(["GET", "POST"])
@requires("import", Merchant)
def import_start(request):
    """Upload a sheet: the request stores it and starts a background job (merchants.tasks),
    whose page shows the progress, the report, the error file and the confirm button. The
    form is the elders' (the file's suffix, size and first bytes checked, nothing read)."""
    from elders.views_excel import ImportForm
    from jobs.selectors import job_list
    from merchants.jobs import MERCHANT_IMPORT

    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.merchant_import_start(
            by=request.user,
            upload=form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            skip_invalid=form.cleaned_data["skip_invalid"],
        )
        return redirect("jobs:detail", job_id=job.pk)
    recent = job_list(user=request.user, kind=MERCHANT_IMPORT)[:10]
    return render(request, "merchants/import.html", {"form": form, "recent": recent})


@login_required
@require_POST
@requires("import", Merchant)
def import_confirm(request, job_id):
    """After a dry run: import the same file for real (all rows, or only the good ones)."""
    from jobs.selectors import job_get

    dry = job_get(user=request.user, job_id=job_id)
    try:
        job = services.merchant_import_confirm(
            by=request.user, dry_run_job=dry, skip_invalid=request.POST.get("skip_invalid") == "1"
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("merchants:import")
    return redirect("jobs:detail", job_id=job.pk)


@login_required
@require_POST
@requires("export", Merchant)
def export(request):
    from merchants.excel import export_merchants

    filters = selectors.parse_filters(request.POST)
    qs = selectors.merchant_list(user=request.user, filters=filters)
    import io

    buffer = io.BytesIO()
    export_merchants(qs, buffer)
    response = HttpResponse(buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    stamp = datetime.date.today().isoformat()
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''merchants-{stamp}.xlsx"
    return response
