"""Pages of the providers app: organisations, staff and certificates, teams and volunteers.

Every page is guarded by core.access.requires and reads through providers.selectors, so a
provider's user (User.organisation) reaches only their own organisation's rows and a region's
user only their subtree's; an object outside is a 404."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.selectors import change_records_for, history_rows
from core.access import requires
from core.pagination import CappedPaginator
from core.request import client_address
from providers import selectors, services
from providers.forms import CaregiverForm, CertificateForm, OrganisationForm, TeamForm, VolunteerForm
from providers.models import (
    STAFF_STATUS,
    VOLUNTEER_STATUS,
    Caregiver,
    CaregiverKind,
    Organisation,
    OrganisationKind,
    StaffStatus,
    Team,
    Volunteer,
    VolunteerStatus,
)
from regions.selectors import region_list, regions_in_tree_order

PAGE_SIZE = 30
MULTI = ("skills", "work_days", "available_days", "service_area")


def _data(request, *, keep_blank_numbers: bool = True) -> dict:
    """The POST as the services read it: lists for the multi-valued fields. On an edit page a
    blank ID number or phone means "keep the stored one" (the page never shows it)."""
    data = {}
    for key in request.POST:
        if key == "csrfmiddlewaretoken":
            continue
        data[key] = request.POST.getlist(key) if key in MULTI else request.POST.get(key)
    for key in MULTI:
        if key not in data and f"{key}_present" in request.POST:
            data[key] = []
    if not keep_blank_numbers:
        for key in ("id_number", "phone"):
            if not (data.get(key) or "").strip():
                data.pop(key, None)
    return data


def _page(request, qs):
    return CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _history(user, obj, model):
    if not user.may_code("audit.view_changerecord"):
        return None
    return history_rows(user=user, records=change_records_for(user=user, obj=obj, whole=True)[:50], model=model)


def _own_org(user):
    return getattr(user, "organisation_id", None)


# --- organisations -------------------------------------------------------------------------------


@login_required
@requires("view", Organisation)
def organisation_list(request):
    q = (request.GET.get("q") or "").strip()
    kind = request.GET.get("kind") or ""
    kind = kind if kind in OrganisationKind.values else ""
    qs = selectors.organisation_list(user=request.user, q=q, kind=kind)
    return render(
        request,
        "providers/organisation_list.html",
        {"page": _page(request, qs), "q": q, "kind": kind, "kinds": OrganisationKind.choices},
    )


def _org_regions(user):
    return regions_in_tree_order(region_list(user=user))


@login_required
@requires("add", Organisation)
def organisation_create(request):
    regions = _org_regions(request.user)
    form = OrganisationForm(request.POST or None, regions=regions, initial={"region": request.user.region_id})
    if request.method == "POST":
        try:
            org = services.organisation_create(by=request.user, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("服务机构已登记"))
            return redirect("providers:organisation_detail", org.pk)
    return render(request, "providers/organisation_form.html", {"form": form, "org": None})


@login_required
@requires("view", Organisation)
def organisation_detail(request, organisation_id):
    org = selectors.organisation_get(user=request.user, organisation_id=organisation_id)
    staff = selectors.caregiver_list(user=request.user, organisation_id=org.pk)
    by_kind = {k: 0 for k in CaregiverKind.values}
    for kind in staff.values_list("kind", flat=True):
        by_kind[kind] += 1
    context = {
        "org": org,
        "service_area": org.service_area.order_by("path"),
        "staff_by_kind": [(label, by_kind[code]) for code, label in CaregiverKind.choices if by_kind[code]],
        "staff_total": sum(by_kind.values()),
        "expiring": selectors.certificates_expiring(user=request.user, organisation_id=org.pk)[:10]
        if request.user.may("view", Caregiver)
        else [],
        "today": timezone.localdate(),
        "can_change": request.user.may("change", Organisation),
        "history": _history(request.user, org, Organisation),
    }
    return render(request, "providers/organisation_detail.html", context)


@login_required
@requires("change", Organisation)
def organisation_edit(request, organisation_id):
    org = selectors.organisation_get(user=request.user, organisation_id=organisation_id, action="change")
    own = services._acts_for_own_organisation(request.user, org)
    initial = {f: getattr(org, f) for f in services.clean_organisation_fields()} | {
        "region": org.region_id,
        "service_area": list(org.service_area.values_list("pk", flat=True)),
    }
    form = OrganisationForm(request.POST or None, regions=[] if own else _org_regions(request.user), own=own, initial=initial)
    if request.method == "POST":
        data = _data(request)
        if not own and "service_area" not in data:
            data["service_area"] = []
        try:
            services.organisation_update(by=request.user, organisation=org, data=data)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("providers:organisation_detail", org.pk)
    return render(request, "providers/organisation_form.html", {"form": form, "org": org})


# --- staff ---------------------------------------------------------------------------------------


@login_required
@requires("view", Caregiver)
def caregiver_list(request):
    q = (request.GET.get("q") or "").strip()
    kind = request.GET.get("kind") or ""
    kind = kind if kind in CaregiverKind.values else ""
    status = request.GET.get("status", StaffStatus.ACTIVE)
    status = status if status in StaffStatus.values else ""
    org_id = request.GET.get("organisation") or ""
    org_id = int(org_id) if org_id.isdigit() else None
    qs = selectors.caregiver_list(user=request.user, organisation_id=org_id, q=q, kind=kind, status=status)
    context = {
        "page": _page(request, qs),
        "q": q,
        "kind": kind,
        "status": status,
        "organisation_id": org_id,
        "kinds": CaregiverKind.choices,
        "statuses": StaffStatus.choices,
        "organisations": selectors.organisation_choices(user=request.user) if not _own_org(request.user) else [],
        "can_add": request.user.may("add", Caregiver),
        "can_import": request.user.may("import", Caregiver),
        "can_export": request.user.may("export", Caregiver),
    }
    return render(request, "providers/caregiver_list.html", context)


@login_required
@requires("add", Caregiver)
def caregiver_create(request):
    orgs = selectors.organisation_choices(user=request.user)
    initial = {"organisation": request.GET.get("organisation") or _own_org(request.user), "work_days": [1, 2, 3, 4, 5]}
    form = CaregiverForm(request.POST or None, organisations=orgs, skills=selectors.skill_choices(), initial=initial)
    if request.method == "POST":
        try:
            caregiver = services.caregiver_create(by=request.user, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("服务人员已登记"))
            return redirect("providers:caregiver_detail", caregiver.pk)
    return render(request, "providers/caregiver_form.html", {"form": form, "caregiver": None})


@login_required
@requires("view", Caregiver)
def caregiver_detail(request, caregiver_id):
    caregiver = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id)
    return render(request, "providers/caregiver_detail.html", _caregiver_context(request, caregiver))


def _caregiver_context(request, caregiver, **extra):
    user = request.user
    return {
        "caregiver": caregiver,
        "skills": caregiver.skills.order_by("code"),
        "certificates": selectors.certificate_list(user=user, caregiver=caregiver),
        "today": timezone.localdate(),
        "soon": timezone.localdate() + datetime.timedelta(days=selectors.expiry_window()),
        "can_change": user.may("change", Caregiver),
        "can_reveal": user.may("reveal", Caregiver),
        "status_actions": [(a, STAFF_STATUS.actions[a]) for a in STAFF_STATUS.actions_from(caregiver.status)],
        "history": _history(user, caregiver, Caregiver),
        **extra,
    }


@login_required
@requires("change", Caregiver)
def caregiver_edit(request, caregiver_id):
    caregiver = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    initial = {f: getattr(caregiver, f) for f in services.CAREGIVER_FIELDS} | {
        "skills": list(caregiver.skills.values_list("pk", flat=True))
    }
    form = CaregiverForm(request.POST or None, skills=selectors.skill_choices(), editing=True, initial=initial)
    if request.method == "POST":
        data = _data(request, keep_blank_numbers=False)
        data.setdefault("skills", [])
        data.setdefault("work_days", [])
        try:
            services.caregiver_update(by=request.user, caregiver=caregiver, data=data)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("providers:caregiver_detail", caregiver.pk)
    return render(request, "providers/caregiver_form.html", {"form": form, "caregiver": caregiver})


@login_required
@require_POST
@requires("change", Caregiver)
def caregiver_status(request, caregiver_id):
    caregiver = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    try:
        services.caregiver_change_status(
            by=request.user, caregiver=caregiver, action=request.POST.get("action", ""), reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("状态已更新"))
    return redirect("providers:caregiver_detail", caregiver.pk)


@login_required
@require_POST
@requires("reveal", Caregiver)
def caregiver_reveal(request, caregiver_id):
    """Full numbers, swapped in by htmx; the selector logs the view with its reason."""
    caregiver = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="reveal")
    reason = request.POST.get("reason", "")
    try:
        values = selectors.caregiver_reveal(user=request.user, caregiver=caregiver, reason=reason, ip=client_address(request))
    except ValidationError as exc:
        context = {"caregiver": caregiver, "can_reveal": True, "reason": reason}
        context["reason_error"] = exc.message_dict.get("reason", exc.messages)[0]
        return render(request, "providers/caregiver_detail.html#numbers", context, status=422)
    return render(
        request, "providers/caregiver_detail.html#numbers", {"caregiver": caregiver, "revealed": values, "can_reveal": True}
    )


# --- certificates --------------------------------------------------------------------------------


@login_required
@requires("change", Caregiver)
def certificate_create(request, caregiver_id):
    caregiver = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    form = CertificateForm(request.POST or None, kinds=selectors.certificate_kind_choices())
    if request.method == "POST":
        try:
            services.certificate_create(by=request.user, caregiver=caregiver, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("证书已添加"))
            return redirect("providers:caregiver_detail", caregiver.pk)
    return render(request, "providers/certificate_form.html", {"form": form, "caregiver": caregiver, "certificate": None})


@login_required
@requires("change", Caregiver)
def certificate_edit(request, certificate_id):
    cert = selectors.certificate_get(user=request.user, certificate_id=certificate_id, action="change")
    initial = {"kind": cert.kind_id, "number": cert.number, "issued_on": cert.issued_on, "expires_on": cert.expires_on}
    form = CertificateForm(request.POST or None, kinds=selectors.certificate_kind_choices(), initial=initial)
    if request.method == "POST":
        try:
            services.certificate_update(by=request.user, certificate=cert, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("证书已保存"))
            return redirect("providers:caregiver_detail", cert.caregiver_id)
    context = {"form": form, "caregiver": cert.caregiver, "certificate": cert}
    return render(request, "providers/certificate_form.html", context)


@login_required
@require_POST
@requires("change", Caregiver)
def certificate_delete(request, certificate_id):
    cert = selectors.certificate_get(user=request.user, certificate_id=certificate_id, action="change")
    services.certificate_delete(by=request.user, certificate=cert)
    messages.success(request, _("证书已删除"))
    return redirect("providers:caregiver_detail", cert.caregiver_id)


@login_required
@requires("view", Caregiver)
def certificates_expiring(request):
    try:
        days = selectors.expiry_window(request.GET.get("days"))
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        days = selectors.expiry_window()
    qs = selectors.certificates_expiring(user=request.user, days=days)
    context = {"page": _page(request, qs), "days": days, "today": timezone.localdate()}
    return render(request, "providers/certificates_expiring.html", context)


# --- teams ---------------------------------------------------------------------------------------


@login_required
@requires("view", Team)
def team_list(request):
    teams = selectors.team_list(user=request.user)
    return render(
        request,
        "providers/team_list.html",
        {"page": _page(request, teams), "can_change": request.user.may("change", Team)},
    )


@login_required
@requires("change", Team)
def team_create(request):
    communities = selectors.community_choices(user=request.user)
    form = TeamForm(request.POST or None, regions=communities)
    if request.method == "POST":
        try:
            services.team_create(by=request.user, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("志愿服务队已建立"))
            return redirect("providers:team_list")
    return render(request, "providers/team_form.html", {"form": form, "team": None})


@login_required
@requires("change", Team)
def team_edit(request, team_id):
    team = selectors.team_get(user=request.user, team_id=team_id, action="change")
    form = TeamForm(request.POST or None, editing=True, initial={"kind": team.kind, "name": team.name, "leader": team.leader})
    if request.method == "POST":
        try:
            services.team_update(by=request.user, team=team, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("providers:team_list")
    return render(request, "providers/team_form.html", {"form": form, "team": team})


# --- volunteers ----------------------------------------------------------------------------------


@login_required
@requires("view", Volunteer)
def volunteer_list(request):
    q = (request.GET.get("q") or "").strip()
    status = request.GET.get("status") or ""
    status = status if status in VolunteerStatus.values else ""
    team = request.GET.get("team") or ""
    team_id = int(team) if team.isdigit() else None
    qs = selectors.volunteer_list(user=request.user, q=q, status=status, team_id=team_id)
    context = {
        "page": _page(request, qs),
        "q": q,
        "status": status,
        "team_id": team_id,
        "statuses": VolunteerStatus.choices,
        "teams": selectors.team_list(user=request.user),
        "can_add": request.user.may("add", Volunteer),
        "can_import": request.user.may("import", Volunteer),
        "can_export": request.user.may("export", Volunteer),
    }
    return render(request, "providers/volunteer_list.html", context)


def _teams(user):
    return selectors.team_choices(user=user)


@login_required
@requires("add", Volunteer)
def volunteer_create(request):
    communities = selectors.community_choices(user=request.user)
    form = VolunteerForm(request.POST or None, regions=communities, teams=_teams(request.user), skills=selectors.skill_choices())
    if request.method == "POST":
        try:
            v = services.volunteer_create(by=request.user, data=_data(request))
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("志愿者已登记，等待审核"))
            return redirect("providers:volunteer_detail", v.pk)
    return render(request, "providers/volunteer_form.html", {"form": form, "volunteer": None})


@login_required
@requires("view", Volunteer)
def volunteer_detail(request, volunteer_id):
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id)
    context = {
        "volunteer": v,
        "skills": v.skills.order_by("code"),
        "can_change": request.user.may("change", Volunteer),
        "can_reveal": request.user.may("reveal", Volunteer),
        "decisions": [(a, VOLUNTEER_STATUS.actions[a]) for a in VOLUNTEER_STATUS.actions_from(v.status)]
        if request.user.may("approve", Volunteer)
        else [],
        "history": _history(request.user, v, Volunteer),
    }
    return render(request, "providers/volunteer_detail.html", context)


@login_required
@requires("change", Volunteer)
def volunteer_edit(request, volunteer_id):
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="change")
    initial = {f: getattr(v, f) for f in services.VOLUNTEER_FIELDS} | {
        "team": v.team_id,
        "skills": list(v.skills.values_list("pk", flat=True)),
    }
    teams = _teams(request.user).filter(region=v.region)
    form = VolunteerForm(request.POST or None, teams=teams, skills=selectors.skill_choices(), editing=True, initial=initial)
    if request.method == "POST":
        data = _data(request, keep_blank_numbers=False)
        data.setdefault("skills", [])
        data.setdefault("available_days", [])
        try:
            services.volunteer_update(by=request.user, volunteer=v, data=data)
        except ValidationError as exc:
            form.set_errors(exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("providers:volunteer_detail", v.pk)
    return render(request, "providers/volunteer_form.html", {"form": form, "volunteer": v})


@login_required
@require_POST
@requires("approve", Volunteer)
def volunteer_decide(request, volunteer_id):
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="approve")
    try:
        services.volunteer_decide(
            by=request.user, volunteer=v, action=request.POST.get("action", ""), reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
    else:
        messages.success(request, _("审核结果已保存"))
    return redirect("providers:volunteer_detail", v.pk)


@login_required
@require_POST
@requires("reveal", Volunteer)
def volunteer_reveal(request, volunteer_id):
    """The full phone, swapped in by htmx; the selector logs the view with its reason."""
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="reveal")
    reason = request.POST.get("reason", "")
    try:
        values = selectors.volunteer_reveal(user=request.user, volunteer=v, reason=reason, ip=client_address(request))
    except ValidationError as exc:
        context = {"volunteer": v, "can_reveal": True, "reason": reason}
        context["reason_error"] = exc.message_dict.get("reason", exc.messages)[0]
        return render(request, "providers/volunteer_detail.html#phone", context, status=422)
    return render(request, "providers/volunteer_detail.html#phone", {"volunteer": v, "revealed": values, "can_reveal": True})
