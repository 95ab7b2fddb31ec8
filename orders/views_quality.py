"""Pages of evaluation and supervision (评单, 回访, 监督管理) and of the family links
(docs/orders-quality.md): thin views over orders.quality, orders.supervision and orders.family."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import change_records_for, history_rows
from core.access import NotPermitted, not_permitted_message, requires
from core.pagination import CappedPaginator
from orders import family, quality, selectors, supervision
from orders.forms_quality import CallBackForm, CloseForm, ComplaintForm, EndForm, FamilyLinkForm
from orders.models import ExceptionCode, FamilyLink, FollowUp

PAGE_SIZE = 30


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


def _month(request):
    """The chosen month (?month=2026-11), this month when absent or malformed."""
    try:
        return supervision.parse_month(request.GET.get("month"))
    except ValidationError:
        return supervision.parse_month(None)


def _region(request):
    from regions.selectors import region_get

    region_id = _int(request.GET.get("region"))
    return region_get(user=request.user, region_id=region_id) if region_id else None


def _form_errors(form, exc: ValidationError):
    for field, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


# --- the supervision board -------------------------------------------------------------------------


@login_required
@requires("view", FollowUp)
def supervision_board(request):
    """监督看板: a month's problems by area, organisation and worker; each count opens its list."""
    from providers.selectors import organisation_choices

    month = _month(request)
    region = _region(request)
    organisation_id = _int(request.GET.get("organisation"))
    board = supervision.board(user=request.user, month=month, region=region, organisation_id=organisation_id)
    organisations = (
        list(organisation_choices(user=request.user).values_list("pk", "name")[:300])
        if request.user.may_code("providers.view_organisation")
        else []
    )
    parent = None
    if region is not None and request.user.region_id and region.pk != request.user.region_id and region.parent_id:
        parent = region.parent_id
    base = {"month": month.strftime("%Y-%m"), "region": region.pk if region else "", "organisation": organisation_id or ""}
    may_scorecard = request.user.may_code("providers.view_organisation")

    def drill(metric, **extra):
        params = {k: v for k, v in {**base, **extra, "metric": metric}.items() if v not in ("", None)}
        return reverse("orders:supervision_orders") + "?" + urlencode(params)

    def table(kind, title, rows):
        out = []
        for row in rows:
            if kind == "areas":
                extra = {"region": row.key} if row.key else {}
                href = (
                    reverse("orders:supervision") + "?" + urlencode({**{k: v for k, v in base.items() if v}, **extra})
                    if row.key and (region is None or row.key != region.pk)
                    else ""
                )
            elif kind == "organisations":
                extra = {"organisation": row.key} if row.key else None
                href = (
                    reverse("orders:scorecard", args=[row.key]) + f"?month={base['month']}" if row.key and may_scorecard else ""
                )
            else:
                extra = {row.key[0]: row.key[1]} if row.key else {"unassigned": "1"}
                href = ""
            cells = [
                (row.counts[m], drill(m, **extra) if extra is not None and row.counts[m] else "", label)
                for m, label in supervision.METRICS.items()
            ]
            out.append({"label": row.label, "href": href, "cells": cells, "total": row.total})
        return {"kind": kind, "title": title, "rows": out, "more": board.more.get(kind, 0)}

    context = {
        "board": board,
        "metrics": list(supervision.METRICS.items()),
        "figures": [
            (m, label, supervision.METRIC_HELP[m], board.totals[m], drill(m)) for m, label in supervision.METRICS.items()
        ],
        "month_value": month.strftime("%Y-%m"),
        "region": region,
        "parent": parent,
        "organisations": organisations,
        "organisation_id": organisation_id,
        "tables": [
            table("areas", _("按区域"), board.areas),
            table("organisations", _("按服务机构"), board.organisations),
            table("workers", _("按服务人员"), board.workers),
        ],
    }
    return render(request, "orders/quality/supervision.html", context)


METRIC_PARAMS = ("region", "organisation", "caregiver", "volunteer", "unassigned", "month", "metric")


@login_required
@requires("view", FollowUp)
def supervision_orders(request):
    """The orders behind one count of the board."""
    metric = request.GET.get("metric", "")
    if metric not in supervision.METRICS:
        metric = "late"
    month = _month(request)
    region = _region(request)
    qs = supervision.board_orders(
        user=request.user,
        month=month,
        metric=metric,
        region=region,
        organisation_id=_int(request.GET.get("organisation")),
        caregiver_id=_int(request.GET.get("caregiver")),
        volunteer_id=_int(request.GET.get("volunteer")),
        unassigned=request.GET.get("unassigned") == "1",
    )
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    flag_labels = dict(ExceptionCode.choices)
    rows = [
        {
            "order": o,
            "worker": family.worker_name(o),
            "when": family.when_text(o),
            "flags": [flag_labels.get(f, f) for f in o.flags or []],
        }
        for o in page.object_list
    ]
    back = request.GET.copy()
    for key in ("metric", "caregiver", "volunteer", "unassigned", "page"):
        back.pop(key, None)
    context = {
        "page": page,
        "rows": rows,
        "metric": metric,
        "metric_label": supervision.METRICS[metric],
        "metric_help": supervision.METRIC_HELP[metric],
        "month_value": month.strftime("%Y-%m"),
        "region": region,
        "back": reverse("orders:supervision") + ("?" + back.urlencode() if back else ""),
    }
    return render(request, "orders/quality/supervision_orders.html", context)


# --- scorecards -----------------------------------------------------------------------------------


@login_required
@requires("view", FollowUp)
def scorecard(request, organisation_id):
    """A provider's monthly scorecard, and for the government side the button that applies the
    suggested star rating."""
    from providers.selectors import organisation_get

    organisation = organisation_get(user=request.user, organisation_id=organisation_id)
    month = _month(request)
    card = supervision.scorecard(user=request.user, organisation=organisation, month=month)
    return render(request, "orders/quality/scorecard.html", _scorecard_context(request, organisation, month, card))


def _scorecard_context(request, organisation, month, card):
    from core.scoping import Scope

    may_apply = (
        request.user.may_code("providers.change_organisation") and organisation.region.path in Scope.of(request.user).subtree
    )
    previous = (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return {
        "organisation": organisation,
        "card": card,
        "month": month,
        "month_value": month.strftime("%Y-%m"),
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m") if following <= timezone.localdate() else "",
        "may_apply": may_apply,
        "on_time": supervision.percent_text(card.on_time),
        "average": supervision.decimal_text(card.average_rating),
        "pass_rate": supervision.percent_text(card.pass_rate),
        "weights": dict(zip(("on_time", "rating", "call_back"), settings.ORDERS_SCORECARD_WEIGHTS, strict=True)),
        "stars": list(zip(supervision.STARS, settings.ORDERS_SCORECARD_STARS, strict=True)),
        "least": settings.ORDERS_SCORECARD_MIN_DELIVERED,
    }


@login_required
@require_POST
@requires("view", FollowUp)
def scorecard_apply(request, organisation_id):
    """Apply the suggested star rating to the organisation (with its history)."""
    from providers.selectors import organisation_get

    if not request.user.may_code("providers.change_organisation"):
        raise NotPermitted(not_permitted_message())
    organisation = organisation_get(user=request.user, organisation_id=organisation_id, action="change")
    try:
        month = supervision.parse_month(request.POST.get("month"))
        updated, card = supervision.scorecard_apply(by=request.user, organisation=organisation, month=month)
    except ValidationError as exc:
        messages.error(request, "；".join(m for msgs in exc.message_dict.values() for m in msgs))
    else:
        messages.success(
            request,
            _("已将%(org)s的星级评定更新为 %(star)s（依据 %(month)s 服务评分 %(score)d 分）")
            % {"org": updated.name, "star": updated.rating, "month": month.strftime("%Y-%m"), "score": card.score},
        )
    url = reverse("orders:scorecard", args=[organisation.pk])
    return redirect(f"{url}?month={request.POST.get('month', '')}" if request.POST.get("month") else url)


# --- call-backs -----------------------------------------------------------------------------------


@login_required
@requires("view", FollowUp)
def call_back_list(request):
    """回访: what is still to call (oldest sampled first), or what was found."""
    state = request.GET.get("state", "todo")
    if state not in ("todo", "pending", "unreached", "passed", "failed", "all"):
        state = "todo"
    qs = quality.call_back_list(user=request.user, state="" if state == "all" else state, region=_region(request))
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "cb": cb,
            "state": quality.call_back_state(cb),
            "when": family.when_text(cb.order),
            "worker": family.worker_name(cb.order),
        }
        for cb in page.object_list
    ]
    states = [("todo", _("待回访")), ("failed", _("未通过")), ("passed", _("已通过")), ("all", _("全部"))]
    return render(
        request,
        "orders/quality/call_back_list.html",
        {"page": page, "rows": rows, "state": state, "states": states, "labels": quality.CALL_BACK_STATES},
    )


@login_required
@require_http_methods(["GET", "POST"])
@requires("view", FollowUp)
def call_back_record(request, call_back_id):
    """One call: the checks, one question a line, and the rating on the elder's behalf."""
    cb = quality.call_back_get(user=request.user, call_back_id=call_back_id)
    may_rate = request.user.may_code("orders.rate_order") and cb.order.status == "completed"
    form = CallBackForm(request.POST or None, may_rate=may_rate)
    if request.method == "POST":
        if not request.user.may("change", FollowUp):
            raise NotPermitted(not_permitted_message())
        cb = quality.call_back_get(user=request.user, call_back_id=call_back_id, action="change")
        if form.is_valid():
            try:
                quality.call_back_record(by=request.user, call_back=cb, **form.answers())
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                cb.refresh_from_db()
                if cb.reached and not cb.passed:
                    messages.warning(request, _("回访未通过，已生成整改跟进，请按期办结"))
                elif cb.reached:
                    messages.success(request, _("已记录回访：通过"))
                else:
                    messages.info(request, _("已记录：未联系上，稍后请再次回访"))
                return redirect("orders:call_back_list")
    context = {
        "cb": cb,
        "state": quality.call_back_state(cb),
        "state_label": quality.CALL_BACK_STATES[quality.call_back_state(cb)],
        "when": family.when_text(cb.order),
        "worker": family.worker_name(cb.order),
        "form": form,
        "may_record": request.user.may("change", FollowUp) and not cb.reached,
        "may_elder": request.user.may_code("elders.reveal_elder"),
        "checks": [form[name] for name in quality.CHECKS],
        "answers": [
            (label, {True: _("是"), False: _("否")}.get(getattr(cb, name), "—"))
            for name, label in (("reached", _("已联系上")), *quality.CHECK_LABELS.items())
        ],
    }
    return render(request, "orders/quality/call_back_form.html", context, status=422 if form.errors else 200)


# --- follow-ups -----------------------------------------------------------------------------------


@login_required
@requires("view", FollowUp)
def follow_up_list(request):
    """整改跟进, the nearest deadline first; overdue ones marked."""
    state = request.GET.get("state", "open")
    if state not in ("open", "closed", "all"):
        state = "open"
    reason = request.GET.get("reason", "")
    overdue = request.GET.get("overdue") == "1"
    qs = quality.follow_up_list(
        user=request.user, state="" if state == "all" else state, reason=reason, overdue=overdue, region=_region(request)
    )
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [{"f": f, "overdue": quality.is_overdue(f, today)} for f in page.object_list]
    context = {
        "page": page,
        "rows": rows,
        "values": {"state": state, "reason": reason, "overdue": overdue},
        "states": [("open", _("待跟进")), ("closed", _("已办结")), ("all", _("全部"))],
        "reasons": FollowUp.Reason.choices,
    }
    return render(request, "orders/quality/follow_up_list.html", context)


@login_required
@requires("view", FollowUp)
def follow_up_detail(request, follow_up_id):
    follow_up = quality.follow_up_get(user=request.user, follow_up_id=follow_up_id)
    return render(request, "orders/quality/follow_up_detail.html", _follow_up_context(request, follow_up, CloseForm()))


def _follow_up_context(request, follow_up, form):
    return {
        "f": follow_up,
        "overdue": quality.is_overdue(follow_up),
        "when": family.when_text(follow_up.order),
        "worker": family.worker_name(follow_up.order),
        "form": form,
        "may_close": request.user.may("change", FollowUp) and follow_up.state == FollowUp.State.OPEN,
        "history": history_rows(
            user=request.user, records=change_records_for(user=request.user, obj=follow_up, whole=True)[:20], model=FollowUp
        )
        if request.user.may_code("audit.view_changerecord")
        else [],
    }


@login_required
@require_POST
@requires("change", FollowUp)
def follow_up_close(request, follow_up_id):
    follow_up = quality.follow_up_get(user=request.user, follow_up_id=follow_up_id, action="change")
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            quality.follow_up_close(by=request.user, follow_up=follow_up, outcome=form.cleaned_data["outcome"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已办结"))
            return redirect("orders:follow_up_detail", follow_up.pk)
    follow_up.refresh_from_db()
    return render(request, "orders/quality/follow_up_detail.html", _follow_up_context(request, follow_up, form), status=422)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", FollowUp)
def follow_up_create(request, order_id):
    """登记投诉 about one order (linked from the order's page)."""
    order = selectors.order_get(user=request.user, order_id=order_id)
    form = ComplaintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            follow_up = quality.follow_up_create(by=request.user, order=order, note=form.cleaned_data["note"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已登记投诉，办结期限 %(due)s") % {"due": follow_up.due_on.isoformat()})
            return redirect("orders:follow_up_detail", follow_up.pk)
    context = {"order": order, "form": form, "when": family.when_text(order), "worker": family.worker_name(order)}
    return render(request, "orders/quality/follow_up_form.html", context, status=422 if form.errors else 200)


# --- family links ---------------------------------------------------------------------------------


@login_required
@requires("view", FamilyLink)
def family_link_list(request):
    """Relatives' accounts linked to elders of the subtree (一个老人 with ?elder=)."""
    from elders.selectors import elder_get

    elder_id = _int(request.GET.get("elder"))
    elder = elder_get(user=request.user, elder_id=elder_id) if elder_id else None
    q = (request.GET.get("q") or "").strip()[:64]
    found, throttled = _elder_search(request, q) if q and elder is None else ([], "")
    active = request.GET.get("active", "yes")
    links = family.family_link_list(user=request.user, elder=elder, active={"yes": True, "no": False}.get(active))
    page = CappedPaginator(links, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "elder": elder,
        "link_state": active,  # not "active": the nav's include reads that name
        "may_change": request.user.may("change", FamilyLink),
        "q": q,
        "found": found,
        "throttled": throttled,
    }
    return render(request, "orders/quality/family_link_list.html", context)


def _elder_search(request, q):
    """Elders of the subtree matching `q` (a name or its initials), at most ten, for the worker to
    pick whom to link: the register's own search, throttled. Never by a whole ID or phone number
    (this search is a GET: the number would sit in the address and the server's logs)."""
    from audit.services import SearchThrottled
    from elders.selectors import ElderFilter, elder_list, elder_search_guard, holds_personal_number

    if not request.user.may_code("elders.view_elder"):
        return [], ""
    if holds_personal_number(q):
        return [], _("请用姓名或拼音首字母查找，不要输入身份证号或电话")
    try:
        elder_search_guard(user=request.user, q=q)
    except SearchThrottled as exc:
        return [], exc.message
    return list(elder_list(user=request.user, filters=ElderFilter(q=q))[:10]), ""


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", FamilyLink)
def family_link_create(request, elder_id):
    """Link a relative's account to an elder, with the elder's consent recorded."""
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=elder_id)
    form = FamilyLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        account = family.family_account_find(username=data["account"])
        try:
            family.family_link_create(
                by=request.user,
                user=account,
                elder=elder,
                relation=data["relation"],
                consent_on=data["consent_on"],
                consent_note=data["consent_note"],
            )
        except ValidationError as exc:
            errors = exc.message_dict
            if "user" in errors:
                errors["account"] = errors.pop("user")
            _form_errors(form, ValidationError(errors))
        else:
            messages.success(request, _("已关联家属账号 %(u)s") % {"u": account.username})
            return redirect(f"{reverse('orders:family_link_list')}?elder={elder.pk}")
    links = family.family_link_list(user=request.user, elder=elder)[:20]
    return render(
        request,
        "orders/quality/family_link_form.html",
        {"elder": elder, "form": form, "links": links},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
@requires("change", FamilyLink)
def family_link_end(request, link_id):
    link = family.family_link_get(user=request.user, link_id=link_id, action="change")
    form = EndForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        family.family_link_end(by=request.user, link=link, reason=reason)
    except ValidationError as exc:
        messages.error(request, "；".join(m for msgs in exc.message_dict.values() for m in msgs))
    else:
        messages.success(request, _("已解除 %(u)s 与 %(e)s 的关联") % {"u": link.user.username, "e": link.elder.name})
    return redirect(f"{reverse('orders:family_link_list')}?elder={link.elder_id}")
