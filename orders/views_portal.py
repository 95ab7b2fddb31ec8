"""The family portal's pages (/family/, docs/orders-quality.md): for a relative — often in their
fifties, ordering for a parent of eighty — or the elder themself, on a phone. Large type, one
action a screen: my elders → an elder's orders → follow one order / order a service / rate it.

Guarded by `portal_required` (signed in + orders.portal_order), not core.access.requires: a
relative's account has no region, which requires() refuses as an account not set up. Every
read goes through the family links (orders.family, orders.selectors.family_*): an elder or
an order the account is not linked to is a 404.
"""

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.pagination import CappedPaginator
from orders import family, quality
from orders.models import Status


def portal_required(view):
    """login_required, then the portal's own check (orders.portal_order)."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        family.portal_check(request.user)
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _card(order) -> dict:
    return {
        "order": order,
        "words": family.status_words(order),
        "when": family.when_text(order),
        "worker": family.worker_name(order),
        "can_rate": order.status == Status.COMPLETED,
    }


@portal_required
def home(request):
    """我的老人: one big card per linked elder, with the next visit."""
    links = list(family.portal_links(user=request.user)[:20])
    cards = []
    for link in links:
        upcoming = family.portal_orders(user=request.user, elder=link.elder, upcoming=True).first()
        to_rate = family.portal_orders(user=request.user, elder=link.elder).filter(status=Status.COMPLETED).count()
        cards.append({"link": link, "next": _card(upcoming) if upcoming else None, "to_rate": to_rate})
    return render(request, "orders/portal/home.html", {"cards": cards})


@portal_required
def elder(request, elder_id):
    """An elder's orders: what is coming (soonest first), then what was done."""
    person = family.portal_elder_get(user=request.user, elder_id=elder_id)
    upcoming = [_card(o) for o in family.portal_orders(user=request.user, elder=person, upcoming=True)[:20]]
    past = CappedPaginator(family.portal_orders(user=request.user, elder=person, upcoming=False), 10).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "orders/portal/elder.html",
        {
            "elder": person,
            "upcoming": upcoming,
            "past": [_card(o) for o in past.object_list],
            "page": past,
            # Issue 12: the elder's recent visits and alerts, from the apps above orders.
            "panels": family.portal_panels(user=request.user, elder=person),
        },
    )


@portal_required
def order(request, order_id):
    """Follow one order: its status in words, the steps, who comes when."""
    found = family.portal_order_get(user=request.user, order_id=order_id)
    return render(request, "orders/portal/order.html", {**_card(found), "steps": family.progress(found)})


@portal_required
def order_new(request, elder_id):
    """下单, step 1: choose the service (big buttons by category)."""
    person = family.portal_elder_get(user=request.user, elder_id=elder_id)
    groups: dict = {}
    for item in family.portal_items(user=request.user, elder=person):
        groups.setdefault(item.category.name, []).append(item)
    return render(request, "orders/portal/order_new.html", {"elder": person, "groups": list(groups.items())})


@portal_required
@require_http_methods(["GET", "POST"])
def order_when(request, elder_id, item_id):
    """下单, step 2: choose the day and time (one tap), a note, and confirm."""
    person = family.portal_elder_get(user=request.user, elder_id=elder_id)
    try:
        item = family.portal_item_get(user=request.user, item_id=item_id)
    except ValidationError:
        messages.error(request, _("这项服务不能在家属门户下单，请选择其他服务或联系社区"))
        return redirect("family:order_new", person.pk)
    price = family.portal_items(user=request.user, elder=person)
    price = next((i for i in price if i.pk == item.pk), None)
    slots = family.portal_slots()
    errors = {}
    chosen = request.POST.get("when", "")
    notes = request.POST.get("notes", "")
    if request.method == "POST":
        start = parse_datetime(chosen) if chosen else None
        if start is None:
            errors["when"] = [_("请选择上门时间")]
        else:
            try:
                created = family.portal_order_create(
                    by=request.user,
                    elder_id=person.pk,
                    item_id=item.pk,
                    scheduled_start=timezone.make_aware(start) if timezone.is_naive(start) else start,
                    notes=notes,
                    idempotency_key=request.POST.get("key") or None,
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("已下单，社区会尽快安排服务人员"))
                return redirect("family:order", created.pk)
    context = {
        "elder": person,
        "item": item,
        "price": price,
        "slots": slots,
        "chosen": chosen,
        "notes": notes,
        "errors": errors,
        "key": request.POST.get("key") or uuid.uuid4().hex,
    }
    return render(request, "orders/portal/order_when.html", context, status=422 if errors else 200)


@portal_required
@require_http_methods(["GET", "POST"])
def rate(request, order_id):
    """评价: five big buttons (1 很不满意 … 5 很满意) and a comment."""
    found = family.portal_order_get(user=request.user, order_id=order_id)
    errors = {}
    if request.method == "POST":
        try:
            rating = int(request.POST.get("rating", ""))
        except ValueError:
            rating = None
        try:
            quality.order_rate(by=request.user, order=found, rating=rating, comment=request.POST.get("comment", ""), via="portal")
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            if rating is not None and rating <= quality.LOW_RATING:
                messages.warning(
                    request,
                    _("谢谢您的评价。社区会在 %(n)d 个工作日内联系您了解情况") % {"n": settings.ORDERS_FOLLOW_UP_WORKING_DAYS},
                )
            else:
                messages.success(request, _("谢谢您的评价"))
            return redirect("family:order", found.pk)
        found.refresh_from_db()
    context = {
        **_card(found),
        "ratings": list(quality.RATING_WORDS.items()),
        "errors": errors,
        "comment": request.POST.get("comment", ""),
    }
    return render(request, "orders/portal/rate.html", context, status=422 if errors else 200)
