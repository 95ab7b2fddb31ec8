"""Pages of pairing (结对帮扶, docs/pairing.md): the community's list with its filters, pairing
an elder and ending a pairing, the at-risk elders without a watcher, and the watcher's phone
page of their own elders (/pairing/mine/)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import NotPermitted, not_permitted_message, requires
from core.pagination import CappedPaginator
from core.request import client_address
from elders.selectors import elder_get
from pairing import selectors, services
from pairing.forms import EndForm, PairingForm
from pairing.models import Pairing, PartnerKind, Role
from pairing.panels import watcher_panels
from regions.selectors import region_get

PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _region_options(user):
    from needs.views import region_options

    return region_options(user, max_level=5)


def _form_errors(form, exc: ValidationError):
    for field, msgs in exc.message_dict.items():
        target = field if field in form.fields else ("account" if field == "user" else None)
        for msg in msgs:
            form.add_error(target, msg)


@login_required
@requires("view", Pairing)
def pairing_list(request):
    """Pairings of the user's subtree: in force by default; by role, partner, region."""
    params = request.GET
    region_id = _int(params.get("region"))
    region = region_get(user=request.user, region_id=region_id) if region_id else None  # 404 outside the scope
    role = params.get("role") if params.get("role") in Role.values else ""
    kind = params.get("kind") if params.get("kind") in PartnerKind.values else ""
    active = params.get("active") if params.get("active") in ("active", "ended", "all") else "active"
    filters = selectors.PairingFilter(region=region, role=role, partner_kind=kind, active=active)
    page = CappedPaginator(selectors.pairing_list(user=request.user, filters=filters), PAGE_SIZE).get_page(params.get("page"))
    today = timezone.localdate()
    context = {
        "page": page,
        "rows": [{"p": p, "active": selectors.is_active(p, today)} for p in page.object_list],
        "values": {"region": region_id or "", "role": role, "kind": kind, "active": active},
        "regions": _region_options(request.user),
        "roles": Role.choices,
        "kinds": PartnerKind.choices,
        "states": [("active", _("结对中")), ("ended", _("已结束")), ("all", _("全部"))],
        "can_change": request.user.may("change", Pairing),
        "figures": selectors.pairing_desk_figures(user=request.user),
    }
    return render(request, "pairing/pairing_list.html", context)


@login_required
@requires("view", Pairing)
def unwatched(request):
    """At-risk elders in residence without a watcher, with a button to pair each."""
    region_id = _int(request.GET.get("region"))
    region = region_get(user=request.user, region_id=region_id) if region_id else None
    today = timezone.localdate()
    qs = selectors.unwatched_at_risk(user=request.user, day=today, region=region)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"elder": e, "age": e.age_on(today), "why": selectors.at_risk_labels(e, today)} for e in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "values": {"region": region_id or ""},
        "regions": _region_options(request.user),
        "can_change": request.user.may("change", Pairing),
    }
    return render(request, "pairing/unwatched.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", Pairing)
def pairing_create(request, elder_id):
    """Pair a neighbour, relative, party member or volunteer with the elder."""
    elder = elder_get(user=request.user, elder_id=elder_id)
    volunteers = list(selectors.partner_volunteers(user=request.user, elder=elder))
    role = request.GET.get("role") if request.GET.get("role") in Role.values else Role.WATCHER
    form = PairingForm(request.POST or None, volunteers=volunteers, initial={"starts_on": timezone.localdate(), "role": role})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen = {v.pk: v for v in volunteers}
        account = None
        if data["account"]:
            account = selectors.partner_account_find(username=data["account"])
            if account is None:
                form.add_error("account", _("没有找到这个账号：请核对用户名，账号角色应为“老人/家属”或“志愿者”"))
        if data["volunteer"] is not None and data["volunteer"] not in chosen:
            form.add_error("volunteer", _("请从名单中选择志愿者"))
        if not form.errors:
            try:
                services.pairing_create(
                    by=request.user,
                    elder=elder,
                    role=data["role"],
                    partner_kind=data["partner_kind"],
                    partner_name=data["partner_name"],
                    phone=data["phone"],
                    user=account,
                    volunteer=chosen.get(data["volunteer"]),
                    starts_on=data["starts_on"],
                    address_note=data["address_note"],
                    notes=data["notes"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已为%(name)s建立结对") % {"name": elder.name})
                return redirect("elders:detail", elder.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "pairing/pairing_form.html", {"form": form, "elder": elder}, status=status)


@login_required
@requires("view", Pairing)
def pairing_detail(request, pairing_id):
    pairing = selectors.pairing_get(user=request.user, pairing_id=pairing_id)
    return render(request, "pairing/pairing_detail.html", _detail_context(request, pairing, EndForm()))


def _detail_context(request, pairing, end_form):
    return {
        "p": pairing,
        "active": selectors.is_active(pairing),
        "end_form": end_form,
        "can_change": request.user.may("change", Pairing) and pairing.ends_on is None,
        "can_history": request.user.may_code("audit.view_changerecord"),
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=pairing, whole=True)[:50], model=Pairing
        ),
    }


@login_required
@require_POST
@requires("change", Pairing)
def pairing_end(request, pairing_id):
    pairing = selectors.pairing_get(user=request.user, pairing_id=pairing_id, action="change")
    form = EndForm(request.POST)
    if form.is_valid():
        try:
            services.pairing_end(
                by=request.user, pairing=pairing, reason=form.cleaned_data["reason"], ends_on=form.cleaned_data["ends_on"]
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已结束结对：%(name)s") % {"name": pairing.partner_name})
            if request.POST.get("next") == "elder":
                return redirect("elders:detail", pairing.elder_id)
            return redirect("pairing:detail", pairing.pk)
    pairing.refresh_from_db()
    return render(request, "pairing/pairing_detail.html", _detail_context(request, pairing, form), status=422)


# --- the watcher's phone page ---------------------------------------------------------------------


def watcher_required(view):
    """login_required, then pairing.watch_pairing — not core.access.requires: a neighbour's
    account (老人/家属) has no region, and the page reads only the account's own pairings."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not selectors.may_watch(request.user):
            raise NotPermitted(not_permitted_message())
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _mine_context(request, revealed=None):
    pairings = list(selectors.watcher_pairings(user=request.user)[:50])
    elders = {}
    for p in pairings:
        elders.setdefault(p.elder_id, {"elder": p.elder, "roles": [], "pairing": p})["roles"].append(p.get_role_display())
    selectors.watcher_page_log(user=request.user, pairings=[e["pairing"] for e in elders.values()], ip=client_address(request))
    panels = watcher_panels(request.user, [e["elder"] for e in elders.values()])
    today = timezone.localdate()
    cards = [
        {
            **e,
            "age": e["elder"].age_on(today),
            "panels": panels.get(elder_id, []),
            "phone": revealed.get(elder_id) if revealed else None,
        }
        for elder_id, e in elders.items()
    ]
    return {"cards": cards, "can_board": request.user.may_code("alerts.view_alert")}


@watcher_required
def mine(request):
    """我结对的老人: each elder with their address, a call button, their open alerts and the
    visits due (panels from alerts and visits), and a link to record a visit."""
    return render(request, "pairing/mine.html", _mine_context(request))


@watcher_required
@require_POST
def mine_phone(request, pairing_id):
    """The elder's full number, to call them (logged); the page again with it shown."""
    pairing = selectors.watcher_pairing_get(user=request.user, pairing_id=pairing_id)
    phone = selectors.watcher_elder_phone(user=request.user, pairing=pairing, ip=client_address(request))
    return render(request, "pairing/mine.html", _mine_context(request, revealed={pairing.elder_id: phone}))
