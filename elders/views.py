"""Pages of the elder registry: list and search, detail, create and edit, status, reveal, merge."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from audit.services import SearchThrottled
from core.access import requires
from core.idnumbers import parse_id_number
from core.pagination import CappedPaginator
from core.request import client_address
from elders import selectors, services
from elders.categories import categories_of, enabled_categories
from elders.forms import ElderForm, ReceiveForm, StatusForm
from elders.models import STATUS_ACTIONS, STATUS_MACHINE, Elder, EmergencyContact, Sex, Status, age_on
from regions.models import Level
from regions.selectors import region_choices_for_elders, region_default_for_elders, region_list, regions_in_tree_order

PAGE_SIZE = 20


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# The list's parameters that may travel in a URL (bookmarks, the address bar, server logs):
# every filter, and the search text unless it holds a personal number.
_LIST_PARAMS = ("q", "region", "category", "age_min", "age_max", "status", "sex", "unplaced", "page")


def _list_url_params(request, params, q: str):
    """The list's parameters for URLs: the filters, `q` only when it holds no number."""
    shown = QueryDict(mutable=True)
    for key in _LIST_PARAMS:
        values = [v for v in params.getlist(key) if v not in ("", None)]
        if key == "q" and (not q or selectors.holds_personal_number(q)):
            continue
        if values:
            shown.setlist(key, values)
    return shown


@login_required
@require_http_methods(["GET", "POST"])
@requires("view", Elder)
def elder_list(request):
    """The list with live search. The search box sends by POST (htmx), so an ID or phone
    number typed in it never appears in a URL, the browser history or a server log; a GET
    carrying such a number is not searched (issue 8)."""
    params = request.POST if request.method == "POST" else request.GET
    filters, errors = selectors.parse_filter_lenient(params)
    if request.method == "GET" and selectors.holds_personal_number(filters.q):
        errors["q"] = [_("身份证号、电话等号码请在搜索框中输入，不要放在网址里")]
        filters.q = ""
    try:
        selectors.elder_search_guard(user=request.user, q=filters.q)
    except SearchThrottled as exc:
        return _search_throttled(request, exc)
    qs = selectors.elder_list(user=request.user, filters=filters)
    page = CappedPaginator(qs, PAGE_SIZE, filter_first=bool(filters.q)).get_page(params.get("page"))
    today = timezone.localdate()
    unplaced = selectors.elders_unplaced_ids(elders=page.object_list)
    rows = [
        {"elder": e, "age": e.age_on(today), "categories": categories_of(e, today), "unplaced": e.pk in unplaced}
        for e in page.object_list
    ]
    selectors.elder_search_log(
        user=request.user, q=filters.q, found=[r["elder"] for r in rows], via="web", ip=client_address(request)
    )
    regions = regions_in_tree_order(
        region_list(user=request.user).filter(level__gte=request.user.region.level).order_by("level", "path")[:500]
    )
    top = request.user.region.level
    # What the user typed, shown back as typed even when a value was refused.
    values = {
        "q": params.get("q", "") if "q" not in errors else "",
        "region": params.get("region", ""),
        "categories": params.getlist("category"),
        "age_min": params.get("age_min", ""),
        "age_max": params.get("age_max", ""),
        "status": params.get("status") or Status.ACTIVE,
        "sex": params.get("sex", ""),
        "unplaced": filters.unplaced,
    }
    n_filters = sum(bool(values[k]) for k in ("region", "categories", "age_min", "age_max", "sex", "unplaced")) + (
        values["status"] != Status.ACTIVE
    )
    url_params = _list_url_params(request, params, filters.q)
    # Nothing in residence: say how many match among those moved out, deceased or in an institution.
    inactive = None
    if not rows and filters.status == Status.ACTIVE and (filters.q or n_filters):
        inactive = selectors.elder_inactive_matches(user=request.user, filters=filters)
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "values": values,
        "n_filters": n_filters,
        "filter_errors": errors,
        # pagination links carry these (never a number typed in the search box)
        "url_params": url_params,
        "categories": enabled_categories(),
        "statuses": [("all", _("全部状态"))] + list(Status.choices),
        "sexes": list(Sex.choices),
        "regions": [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions],
        "can_add": request.user.may("add", Elder),
        "can_import": request.user.may("import", Elder),
        "can_export": request.user.may("export", Elder),
        "can_reveal": request.user.may("reveal", Elder),
        "can_receive": selectors.elder_receive_may(request.user),
        "can_place": request.user.may("change", Elder) and request.user.region.level <= Level.COMMUNITY,
        "inactive": inactive,
    }
    if _htmx(request) and params.get("partial"):
        response = render(request, "elders/elder_list.html#results", context)
        # The address bar gets the filters (and a search without numbers), never the
        # htmx-only "partial" flag or a number.
        url_params.pop("page", None)
        response["HX-Push-Url"] = request.path + ("?" + url_params.urlencode() if url_params else "")
        return response
    return render(request, "elders/elder_list.html", context)


def _search_throttled(request, exc):
    """429 with the message where the results go (htmx) or on the list page."""
    context = {"throttled": exc.message}
    template = "elders/elder_list.html#throttled" if _htmx(request) else "elders/elder_throttled.html"
    response = render(request, template, context, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@login_required
@requires("view", Elder)
def elder_detail(request, elder_id):
    elder = selectors.elder_get(user=request.user, elder_id=elder_id)
    today = timezone.localdate()
    context = {
        "elder": elder,
        "age": elder.age_on(today),
        "categories": categories_of(elder, today),
        "contacts": elder.contacts.all(),
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=elder, whole=True)[:50], model=Elder
        ),
        "status_changes": elder.status_changes.select_related("by")[:20],
        "duplicates": selectors.elder_likely_duplicates(user=request.user, elder=elder)[:5],
        "can_change": request.user.may("change", Elder),
        "can_status": request.user.may("status", Elder) and bool(STATUS_MACHINE.actions_from(elder.status)),
        "can_reveal": request.user.may("reveal", Elder),
        "can_merge": request.user.may("merge", Elder),
        "can_history": request.user.may_code("audit.view_changerecord"),
        # the 15-minute circle panel (merchants app, loaded by htmx into the page)
        "can_circle": request.user.may_code("merchants.view_merchant"),
    }
    return render(request, "elders/elder_detail.html", context)


def _region_choices(user) -> list:
    """Where the user may register an elder, as the tree reads (第一网格 before 第十网格)."""
    return regions_in_tree_order(region_choices_for_elders(user=user))


def _form_errors(form, exc: ValidationError):
    for field, msgs in exc.message_dict.items():
        target = field if field in form.fields else ("contact1_name" if field == "contacts" else None)
        for msg in msgs:
            form.add_error(target, msg)


@login_required
@requires("add", Elder)
def elder_create(request):
    regions = _region_choices(request.user)
    default = region_default_for_elders(user=request.user, choices=regions)
    initial = {"region": default.pk} if default else {}
    form = ElderForm(request.POST or None, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            elder = services.elder_create(by=request.user, data=form.to_data())
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记 %(name)s") % {"name": elder.name})
            return redirect("elders:detail", elder_id=elder.pk)
    return render(request, "elders/elder_form.html", {"form": form, "elder": None})


def _edit_initial(elder, contacts) -> dict:
    """The edit form's values for `elder` as stored (numbers masked), with its version."""
    initial = {f: getattr(elder, f) for f in services.PLAIN_FIELDS}
    initial.update(
        region=elder.region_id,
        id_number=elder.id_number_masked,
        phone=elder.phone_masked,
        birth_date=elder.birth_date.isoformat(),
        version=elder.version,
    )
    for i, c in enumerate(contacts[:2], start=1):
        initial.update({f"contact{i}_name": c.name, f"contact{i}_relation": c.relation, f"contact{i}_phone": c.phone_masked})
    return initial


def _as_typed(value) -> str:
    """A stored value (a change record's before/after) as the form would send it back."""
    if value is None or value is False:
        return ""
    if value is True:
        return "on"
    return str(value)


def _typed_contacts(post) -> list[str]:
    """The form's contact rows in the shape the history keeps them ("name relation phone")."""
    relations = dict(EmergencyContact.Relation.choices)
    rows = []
    for i in (1, 2):
        name, phone = post.get(f"contact{i}_name", "").strip(), post.get(f"contact{i}_phone", "").strip()
        if name or phone:
            relation = post.get(f"contact{i}_relation", "")
            rows.append(f"{name} {relations.get(relation, relation)} {phone}")
    return rows


def _stale_form(request, exc, regions):
    """The edit form after a refused stale save (issue 8: lost updates).

    The message says who changed what, and when. Fields changed meanwhile that this user left
    as they found them now show the stored value; a field both changed keeps what this user
    typed and says what is stored. The version becomes the current one: saving again is then
    a choice made knowing what changed."""
    elder = exc.elder
    contacts = list(elder.contacts.all())
    current = _edit_initial(elder, contacts)
    started = {}
    for record in exc.records:
        for name, pair in record.changes.items():
            if isinstance(pair, list | tuple) and len(pair) == 2:
                started.setdefault(name, pair[0])
    data = request.POST.copy()
    clashes = {}
    for name, before in started.items():
        if name == "contacts":
            if _typed_contacts(data) == list(before or [])[:2]:
                for key in (f"contact{i}_{f}" for i in (1, 2) for f in ("name", "relation", "phone")):
                    data[key] = _as_typed(current.get(key))
            else:
                clashes["contact1_name"] = "；".join(services._contacts_snapshot(elder)) or "—"
            continue
        if name not in current:
            continue  # status, merge notes: in the message only
        if data.get(name, "") == _as_typed(before):
            data[name] = _as_typed(current[name])
        elif data.get(name, "") != _as_typed(current[name]):
            clashes[name] = _as_typed(current[name]) or "—"
    data["version"] = str(elder.version)
    form = ElderForm(data, regions=regions, initial=current)
    form.is_valid()
    form.add_error(None, exc.messages[0])
    for name, stored in clashes.items():
        form.add_error(name, _("此项已被他人改为“%(v)s”，与您填写的不同；请确认后再保存") % {"v": stored})
    return form


@login_required
@requires("change", Elder)
def elder_edit(request, elder_id):
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="change")
    regions = _region_choices(request.user)
    contacts = list(elder.contacts.all())
    form = ElderForm(request.POST or None, regions=regions, initial=_edit_initial(elder, contacts))
    form.fields["version"].required = True
    if request.method == "POST" and form.is_valid() and form.cleaned_data["version"] != elder.version:
        # Stale before anything else is looked at: the numbers and contacts shown then are not
        # those stored now. The service checks again under the row lock.
        stale = services.ElderChanged(
            elder=elder, records=services.changes_since(elder=elder, version=form.cleaned_data["version"])
        )
        form = _stale_form(request, stale, regions)
    elif request.method == "POST" and form.is_valid():
        data = form.to_data()
        try:
            services.elder_update_as_shown(by=request.user, elder=elder, data=data, version=form.cleaned_data["version"])
        except services.ElderChanged as exc:
            form = _stale_form(request, exc, regions)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存 %(name)s 的档案") % {"name": elder.name})
            return redirect("elders:detail", elder_id=elder.pk)
    elif request.method == "POST" and "version" in form.errors:
        form.add_error(None, form.errors["version"][0])
    return render(request, "elders/elder_form.html", {"form": form, "elder": elder})


@login_required
@requires("status", Elder)
def elder_status(request, elder_id):
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="status")
    actions = STATUS_MACHINE.actions_from(elder.status)
    regions = _region_choices(request.user)
    form = StatusForm(request.POST or None, actions=actions, regions=regions, initial={"effective_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.elder_change_status(
                by=request.user,
                elder=elder,
                action=form.cleaned_data["action"],
                effective_on=form.cleaned_data["effective_on"],
                reason=form.cleaned_data["reason"],
                region_id=form.cleaned_data.get("region"),
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("状态已变更为：%(a)s") % {"a": STATUS_ACTIONS[form.cleaned_data["action"]]})
            return redirect("elders:detail", elder_id=elder.pk)
    return render(request, "elders/elder_status.html", {"form": form, "elder": elder})


@login_required
@require_POST
@requires("reveal", Elder)
def elder_reveal(request, elder_id):
    """Full numbers, swapped in by htmx; the selector logs the view."""
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="reveal")
    contacts = list(elder.contacts.all())
    reason = request.POST.get("reason", "")
    try:
        values = selectors.elder_reveal(
            user=request.user,
            elder=elder,
            reason=reason,
            fields=("id_number", "phone", "contacts"),
            ip=client_address(request),
        )
    except ValidationError as exc:
        context = {"elder": elder, "contacts": contacts, "can_reveal": True, "reason": reason}
        context["reason_error"] = exc.message_dict.get("reason", exc.messages)[0]
        return render(request, "elders/elder_detail.html#numbers", context, status=422)
    phones = {c["id"]: c["phone"] for c in values["contacts"]}
    for contact in contacts:
        contact.revealed_phone = phones.get(contact.pk, "")
    return render(
        request,
        "elders/elder_detail.html#numbers",
        {"elder": elder, "revealed": values, "contacts": contacts, "can_reveal": True},
    )


@login_required
@require_POST
def id_number_check(request):
    """htmx: as the ID number is typed, say what is wrong or fill sex and birth date.
    POST, so the number stays out of URLs and server logs."""
    raw = request.POST.get("id_number", "")
    context = {"raw": raw}
    if raw.strip() and "*" not in raw:
        try:
            info = parse_id_number(raw)
            today = timezone.localdate()
            age = age_on(info.birth_date, today)
            context.update(info=info, age=age, too_young=age < settings.REGISTRY_MIN_AGE, min_age=settings.REGISTRY_MIN_AGE)
        except ValidationError as exc:
            context["error"] = exc.messages[0]
    return render(request, "elders/elder_form.html#id-check", context)


@login_required
@requires("merge", Elder)
def elder_duplicates(request):
    groups = selectors.elder_duplicate_groups(user=request.user)
    return render(request, "elders/elder_duplicates.html", {"groups": groups})


@login_required
@require_POST
@requires("merge", Elder)
def elder_merge(request):
    try:
        keep = selectors.elder_get(user=request.user, elder_id=int(request.POST.get("keep", 0)), action="merge")
        other = selectors.elder_get(user=request.user, elder_id=int(request.POST.get("other", 0)), action="merge")
    except ValueError:
        return HttpResponse(status=400)
    try:
        services.elder_merge(by=request.user, keep=keep, other=other)
    except ValidationError as exc:
        for msg in exc.messages:
            messages.error(request, msg)
        return redirect("elders:duplicates")
    messages.success(request, _("已合并到 %(name)s（#%(id)d）") % {"name": keep.name, "id": keep.pk})
    return redirect("elders:detail", elder_id=keep.pk)


@login_required
@require_http_methods(["GET", "POST"])
def elder_receive(request):
    """接收迁入: find by ID number someone who moved out of any community, see only their
    name, masked number and moved-out date, and receive them into a community or grid of
    one's own (services.elder_receive). By POST: the number stays out of URLs."""
    selectors.elder_receive_check(request.user)
    regions = _region_choices(request.user)
    default = region_default_for_elders(user=request.user, choices=regions)
    initial = {"region": default.pk if default else None, "effective_on": timezone.localdate()}
    form = ReceiveForm(request.POST or None, regions=regions, initial=initial)
    confirm_form = form  # after a refused confirmation: what was chosen, with what to fix
    found, refusal = None, None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        confirming = request.POST.get("step") == "confirm"
        if not confirming:
            # Found by the number: the confirmation starts from the defaults.
            confirm_form = ReceiveForm(regions=regions, initial={**initial, "id_number": data["id_number"]})
        try:
            if confirming:
                elder = services.elder_receive(
                    by=request.user,
                    id_number=data["id_number"],
                    region_id=data["region"],
                    effective_on=data["effective_on"],
                    reason=data["reason"],
                )
                messages.success(
                    request, _("已接收 %(name)s 迁入 %(region)s") % {"name": elder.name, "region": elder.region.name}
                )
                return redirect("elders:detail", elder_id=elder.pk)
        except ValidationError as exc:
            _form_errors(form, exc)
        try:
            found = selectors.elder_receivable(user=request.user, id_number=data["id_number"], ip=client_address(request))
        except ValidationError as exc:
            if "id_number" not in form.errors:
                _form_errors(form, exc)
        else:
            if found.state != "receivable":
                refusal = services.receive_refusal(found)
    return render(
        request,
        "elders/elder_receive.html",
        {"form": form, "confirm_form": confirm_form, "found": found, "refusal": refusal},
    )
