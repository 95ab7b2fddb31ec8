"""The family portal (家属门户, issue 11 items 5 and 7; docs/orders-quality.md): relatives'
accounts linked to elders, and what a relative does through the link.

A community worker links a relative's account (role 老人/家属, usually without a region) to an
elder of their subtree, recording the elder's consent (`family_link_create`), and ends the link
when asked (`family_link_end`): from that moment the relative sees nothing of the elder.
The relative reads only through `orders.selectors.family_elders` / `family_orders` and orders
through `portal_order_create` (orders.services.order_create with via_portal=True).
"""

import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role
from audit.services import change_record
from catalogue.selectors import prices_for
from core.access import NotPermitted, check, not_permitted_message
from core.scoping import in_scope
from orders.models import OPEN, FamilyLink, Order, Source, Status
from orders.selectors import family_elders, family_items, family_orders
from orders.services import clean_text, order_create


def day_format() -> str:
    """A day as the portal writes it (a date format: English gives "M j")."""
    return _("n月j日")


# How far ahead a relative may book, and how soon (the station needs time to dispatch).
BOOK_AHEAD_DAYS = 30
BOOK_NOTICE = datetime.timedelta(hours=2)
# The times a relative picks from on the phone (one tap): morning and afternoon.
SLOTS = ((datetime.time(9, 0), gettext_lazy("上午 9 点")), (datetime.time(14, 0), gettext_lazy("下午 2 点")))
# A relative pays for what they order themselves (or it is free); government purchase and
# subsidy quotas are ordered by the community, time coins by the time bank.
PORTAL_PAYMENT_MODES = ("paid", "free", "low_cost")


# --- links ----------------------------------------------------------------------------------------


def family_account_find(*, username: str):
    """The relative's account by its exact user name (role 老人/家属), or None. Exact only: a
    worker confirms the account the relative tells them, never browses accounts."""
    username = (username or "").strip()
    if not username or len(username) > 150:
        return None
    return get_user_model().objects.filter(username__iexact=username, role=Role.ELDER, is_active=True).first()


@transaction.atomic
def family_link_create(*, by, user, elder, relation: str, consent_on: datetime.date, consent_note: str) -> FamilyLink:
    """Link `user` (a 老人/家属 account) to `elder` (read through `by`'s scope), with the elder's
    consent: the day it was given and how (a signed form and its file number, a recorded call)."""
    check(by, "change", FamilyLink)
    if not in_scope(by, elder.region.path):
        raise Http404
    errors = {}
    if user is None or getattr(user, "role", None) != Role.ELDER or not user.is_active:
        errors["user"] = _("请填写家属已开通的账号（角色为“老人/家属”）；还没有账号的，请联系管理员开通")
    if relation not in FamilyLink.Relation.values:
        errors["relation"] = _("请选择与老人的关系")
    if not isinstance(consent_on, datetime.date):
        errors["consent_on"] = _("请填写老人同意的日期")
    elif consent_on > timezone.localdate():
        errors["consent_on"] = _("老人同意的日期不能晚于今天")
    try:
        consent_note = clean_text(consent_note, "consent_note", _("同意方式"), required=True, max_length=120)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not errors and FamilyLink.objects.filter(user=user, elder=elder, ended_at__isnull=True).exists():
        errors["user"] = _("这个账号已关联这位老人，无需重复关联")
    if getattr(elder, "status", "active") != "active" and "user" not in errors:
        errors["elder"] = _("该老人当前状态为“%(status)s”，不能关联家属") % {"status": elder.get_status_display()}
    if errors:
        raise ValidationError(errors)
    link = FamilyLink(user=user, elder=elder, relation=relation, consent_on=consent_on, consent_note=consent_note, linked_by=by)
    link.full_clean(exclude=["linked_by"])
    link.save()
    change_record(
        obj=link,
        action="create",
        changes={
            "user": [None, user.username],
            "elder": [None, elder.pk],
            "relation": [None, relation],
            "consent_on": [None, consent_on.isoformat()],
            "consent_note": [None, consent_note],
        },
        by=by,
        region=elder.region,
    )
    return link


@transaction.atomic
def family_link_end(*, by, link: FamilyLink, reason: str = "") -> FamilyLink:
    """End a link (the elder withdrew consent, the relative moved away): the relative's portal
    no longer shows the elder or their orders."""
    check(by, "change", FamilyLink)
    link = FamilyLink.objects.select_for_update().select_related("elder__region").get(pk=link.pk)
    if link.ended_at is not None:
        raise ValidationError({"link": _("这个关联已经解除")})
    reason = clean_text(reason, "reason", _("解除原因"), max_length=200)
    link.ended_at = timezone.now()
    link.save(update_fields=["ended_at"])
    change_record(
        obj=link,
        action="end",
        changes={"ended_at": [None, timezone.localtime(link.ended_at).isoformat(timespec="minutes")]},
        by=by,
        region=link.elder.region,
        note=reason,
    )
    return link


def family_link_list(*, user, elder=None, active: bool | None = True):
    """Family links of the user's subtree (by the elder's region), the newest first."""
    qs = FamilyLink.objects.restrict(user, "view")
    if elder is not None:
        qs = qs.filter(elder=elder)
    if active is True:
        qs = qs.filter(ended_at__isnull=True)
    elif active is False:
        qs = qs.filter(ended_at__isnull=False)
    return qs.select_related("user", "elder", "elder__region", "linked_by").order_by("-created_at", "-id")


def family_link_get(*, user, link_id: int, action: str = "view") -> FamilyLink:
    check(user, action, FamilyLink)
    found = FamilyLink.objects.restrict(user, action).select_related("user", "elder", "elder__region").filter(pk=link_id).first()
    if found is None:
        raise Http404
    return found


# --- the portal -----------------------------------------------------------------------------------


def portal_check(user) -> None:
    """The portal's guard, instead of core.access.requires: a relative's account has no region
    (requires would refuse it as an account not set up), so the portal asks only for
    orders.portal_order and reads nothing but what the family links reach."""
    if not getattr(user, "is_authenticated", False) or not user.may_code("orders.portal_order"):
        raise NotPermitted(not_permitted_message())


def portal_elder_get(*, user, elder_id: int):
    """One elder the relative is linked to; anyone else's elder: 404."""
    elder = family_elders(user=user).select_related("region").filter(pk=elder_id).first()
    if elder is None:
        raise Http404
    return elder


def family_desk_panel(user) -> dict | None:
    """The desk's pointer to the portal, for a 老人/家属 account: how many elders it follows."""
    if getattr(user, "role", None) != Role.ELDER or not user.may_code("orders.portal_order"):
        return None
    return {"elders": family_elders(user=user).count()}


def portal_links(*, user):
    """The account's own links in force, with their elders (the portal's home page)."""
    if not getattr(user, "is_authenticated", False) or not user.may_code("orders.portal_order"):
        return FamilyLink.objects.none()
    return (
        FamilyLink.objects.filter(user=user, ended_at__isnull=True, elder__in=family_elders(user=user))
        .select_related("elder", "elder__region")
        .order_by("elder__name", "id")
    )


def portal_link(*, user, elder) -> FamilyLink | None:
    return FamilyLink.objects.filter(user=user, elder=elder, ended_at__isnull=True).first()


def portal_orders(*, user, elder=None, upcoming: bool | None = None):
    """The linked elders' orders: `upcoming` True — still to be served, the soonest first (what a
    relative follows); False — the rest (done, cancelled), the latest first; None — all, the
    latest first."""
    qs = family_orders(user=user).select_related("elder")
    if elder is not None:
        qs = qs.filter(elder=elder)
    if upcoming is True:
        return qs.filter(status__in=OPEN).order_by("scheduled_start", "id")
    if upcoming is False:
        qs = qs.exclude(status__in=OPEN)
    return qs.order_by("-scheduled_start", "-id")


def portal_order_get(*, user, order_id: int) -> Order:
    order = family_orders(user=user).select_related("elder", "item").filter(pk=order_id).first()
    if order is None:
        raise Http404
    return order


def portal_payment_mode(item) -> str:
    """The payment mode of an order a relative places: the first of PORTAL_PAYMENT_MODES the item
    allows, or "" when it has none (then it is not orderable on the portal)."""
    modes = item.payment_modes or ["paid"]
    return next((m for m in PORTAL_PAYMENT_MODES if m in modes), "")


def portal_item_queryset(*, user):
    """The items a relative may order (family_items) that a relative can pay for or get free."""
    modes = Q()
    for mode in PORTAL_PAYMENT_MODES:
        modes |= Q(payment_modes__icontains=f'"{mode}"')  # a JSON list of codes
    return family_items(user=user).filter(modes | Q(payment_modes=[]))


def portal_priced(items, elder) -> list:
    """`items` with `portal_mode` and `portal_price_fen` (the price at the elder's region today)."""
    items = list(items)
    if not items:
        return []
    prices = prices_for(items, elder.region)
    for item in items:
        item.portal_mode = portal_payment_mode(item)
        item.portal_price_fen = 0 if item.portal_mode == "free" else prices[item.pk].price_fen
    return items


def portal_items(*, user, elder) -> list:
    """The items a relative may order for `elder`, each with its price there today (fen)."""
    return portal_priced(portal_item_queryset(user=user), elder)


def portal_item_get(*, user, item_id: int):
    item = portal_item_queryset(user=user).filter(pk=item_id).first()
    if item is None or not portal_payment_mode(item):
        raise ValidationError({"item": _("这项服务不能在家属门户下单，请选择其他服务或联系社区")})
    return item


def portal_slots(now: datetime.datetime | None = None, days: int = 7) -> list[dict]:
    """The next `days` days' morning and afternoon times a relative can still book (one tap each)."""
    now = timezone.localtime(now or timezone.now())
    near = {0: _("今天"), 1: _("明天"), 2: _("后天")}
    slots = []
    for offset in range(days + 1):
        day = now.date() + datetime.timedelta(days=offset)
        day_label = f"{near[offset]} " if offset in near else ""
        day_label += f"{date_format(day, day_format())} {_weekday(day)}"
        for time, label in SLOTS:
            at = timezone.make_aware(datetime.datetime.combine(day, time))
            if at >= now + BOOK_NOTICE:
                slots.append(
                    {"at": at, "day": day, "day_label": day_label, "label": label, "value": at.strftime("%Y-%m-%dT%H:%M")}
                )
    return [s for s in slots if s["day"] <= now.date() + datetime.timedelta(days=days)]


@transaction.atomic
def portal_order_create(
    *, by, elder_id: int, item_id: int, scheduled_start: datetime.datetime, notes: str = "", idempotency_key=None
) -> Order:
    """A relative orders a service for a linked elder from the catalogue (items orderable by 老人/家属),
    through order_create with via_portal=True; the source says who asked (the elder themself
    when the link is 本人, else a relative)."""
    elder = portal_elder_get(user=by, elder_id=elder_id)
    item = portal_item_get(user=by, item_id=item_id)
    if timezone.is_naive(scheduled_start):
        scheduled_start = timezone.make_aware(scheduled_start)
    now = timezone.now()
    if scheduled_start < now + BOOK_NOTICE:
        raise ValidationError({"scheduled_start": _("请预约两小时以后的时间，急事请直接拨打社区电话")})
    if scheduled_start > now + datetime.timedelta(days=BOOK_AHEAD_DAYS + 1):
        raise ValidationError({"scheduled_start": _("最多预约 %(n)d 天以内的服务") % {"n": BOOK_AHEAD_DAYS}})
    link = portal_link(user=by, elder=elder)
    is_self = link is not None and link.relation == FamilyLink.Relation.SELF
    return order_create(
        by=by,
        elder=elder,
        item=item,
        scheduled_start=scheduled_start,
        payment_mode=portal_payment_mode(item),
        source=Source.ELDER if is_self else Source.RELATIVE,
        notes=notes,
        caller_name=(by.full_name or by.username)[:32],
        caller_relation=str(link.get_relation_display())[:16] if link else "",
        idempotency_key=idempotency_key,
        via_portal=True,
    )


# --- panels from the apps above orders ----------------------------------------------------------
# The portal's elder page also shows the elder's recent visits (visits.portal) and alerts
# (alerts.portal): those apps sit above orders (core/tests/test_layers.py), so they register here
# in their AppConfig.ready. A panel is `fn(user, elder) -> dict | None`, called only with an
# elder already read through the account's family links (portal_elder_get):
#   {"title": str, "rows": [{"when": str, "text": str, "status": str, "tone": str}], "empty": str}
PORTAL_PANELS: dict = {}


def register_portal_panel(name: str, fn) -> None:
    """Show `fn(user, elder)` on the family portal's elder page as `name`."""
    PORTAL_PANELS[name] = fn


def portal_panels(*, user, elder) -> list[dict]:
    """The registered panels for a linked elder, in registration order (a panel answering None
    is left out)."""
    portal_elder_get(user=user, elder_id=elder.pk)  # the link again: never a panel of someone else's elder
    out = []
    for name, fn in PORTAL_PANELS.items():
        panel = fn(user, elder)
        if panel is not None:
            out.append({"name": name, **panel})
    return out


# --- the order in words ---------------------------------------------------------------------------


def when_text(order: Order) -> str:
    start = timezone.localtime(order.scheduled_start)
    end = timezone.localtime(order.scheduled_end)
    return f"{date_format(start, day_format())} {_weekday(start)} {start:%H:%M}–{end:%H:%M}"


def _weekday(at) -> str:
    return str((_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日"))[at.weekday()])


def worker_name(order: Order) -> str:
    worker = order.caregiver or order.volunteer
    return worker.name if worker is not None else ""


def status_words(order: Order) -> str:
    """Where the order is, in a sentence a relative understands."""
    who = worker_name(order)
    if order.status == Status.CREATED:
        return _("已收到，社区正在安排服务人员")
    if order.status == Status.DISPATCHED:
        return _("已安排给%(who)s，等待确认") % {"who": who or (order.organisation.name if order.organisation else _("服务机构"))}
    if order.status == Status.ACCEPTED:
        return _("%(who)s已接单，将按时上门") % {"who": who or _("服务人员")}
    if order.status == Status.IN_SERVICE:
        return _("%(who)s已上门，正在服务") % {"who": who or _("服务人员")}
    if order.status == Status.COMPLETED:
        return _("服务已完成，请为这次服务打分")
    if order.status == Status.EVALUATED:
        return _("服务已完成，您评了 %(n)d 分，谢谢") % {"n": order.rating or 0}
    if order.status == Status.SETTLED:
        return _("服务已完成")
    if order.status == Status.CANCELLED:
        return _("已取消：%(why)s") % {"why": order.cancel_reason or _("未说明原因")}
    return order.get_status_display()


STEPS = (
    (Status.CREATED, gettext_lazy("已下单")),
    (Status.ACCEPTED, gettext_lazy("已接单")),
    (Status.IN_SERVICE, gettext_lazy("已上门")),
    (Status.COMPLETED, gettext_lazy("已完成")),
)
_REACHED = {
    Status.CREATED: 0,
    Status.DISPATCHED: 0,
    Status.ACCEPTED: 1,
    Status.IN_SERVICE: 2,
    Status.COMPLETED: 3,
    Status.EVALUATED: 3,
    Status.SETTLED: 3,
}


def progress(order: Order) -> list[dict]:
    """The four steps a relative follows (下单 → 接单 → 上门 → 完成), which are done; none for a
    cancelled order."""
    if order.status == Status.CANCELLED:
        return []
    reached = _REACHED.get(order.status, 0)
    return [{"label": label, "done": i <= reached, "current": i == reached} for i, (_s, label) in enumerate(STEPS)]
