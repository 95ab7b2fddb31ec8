"""Evaluation (评单) and call-backs (回访): ratings, follow-ups and the sampled call-backs
(issue 11, item 5; docs/orders-quality.md).

- `order_rate`: the elder or a relative rates a delivered order 1–5 with a comment — on the
  family portal, through the relative's active family link (`via="portal"`), or entered by a
  worker during a call-back (`via="callback"`, permission orders.rate_order). The order moves
  completed → evaluated through `order_move` (row locked first). A rating of 2 or less opens a
  follow-up (reason low_rating) due ORDERS_FOLLOW_UP_WORKING_DAYS working days later.
- `call_backs_draw` (daily, jobs/schedule.py): ORDERS_CALLBACK_PERCENT of the delivered
  government-purchased orders, decided per order by a keyed hash of its id (the same order is
  always in or out of the sample: reproducible, and a provider cannot tell in advance which
  visits will be called), plus every order rated 2 or less, become `CallBack` rows.
- `call_back_record`: the worker's call — reached? received? on time? the agreed duration? the
  same worker? — optionally with the rating on the elder's behalf; a failed check opens a
  follow-up (reason callback).
- `follow_up_close`: the outcome of a follow-up; `follow_up_create`: a complaint taken by a
  worker.

Call-backs have no permission of their own: they share the follow-ups' (orders.view_followup,
orders.change_followup: 回访、办结整改跟进), and their scope is the region axis only (a provider
does not see which of its visits are called back).
"""

import datetime
import hashlib
import hmac

import chinese_calendar
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import change_record
from core.access import NotPermitted, check, not_permitted_message
from core.scoping import Scope, Subtree, region_q
from orders.evv import NOTE_MAX, dispute_open
from orders.models import DELIVERED, ORDER_MACHINE, CallBack, FollowUp, Order, Status
from orders.selectors import family_orders
from orders.services import _locked, clean_text, order_move

VIA = ("portal", "callback")
LOW_RATING = 2  # a rating of this or less opens a follow-up and is always called back
RATING_WORDS = {
    1: gettext_lazy("很不满意"),
    2: gettext_lazy("不满意"),
    3: gettext_lazy("一般"),
    4: gettext_lazy("满意"),
    5: gettext_lazy("很满意"),
}
CHECKS = ("received", "on_time", "full_duration", "same_worker")
CHECK_LABELS = {
    "received": gettext_lazy("确认接受了服务"),
    "on_time": gettext_lazy("按时上门"),
    "full_duration": gettext_lazy("服务时长足够"),
    "same_worker": gettext_lazy("是约定的服务人员"),
}
COMMENT_MAX = 300


# --- working days ---------------------------------------------------------------------------------


def is_working_day(day: datetime.date) -> bool:
    """China's working days (chinese-calendar: holidays off, make-up Saturdays on); for a year the
    calendar does not know yet, Monday to Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def working_days_after(day: datetime.date, n: int) -> datetime.date:
    """The n-th working day after `day`."""
    counted = 0
    while counted < n:
        day += datetime.timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def follow_up_due_on(today: datetime.date | None = None) -> datetime.date:
    return working_days_after(today or timezone.localdate(), settings.ORDERS_FOLLOW_UP_WORKING_DAYS)


# --- follow-ups -----------------------------------------------------------------------------------


def _follow_up_open(*, by, order: Order, reason: str, note: str = "") -> FollowUp:
    """Open a follow-up of `order` for `reason`, or return the one already open for it."""
    existing = FollowUp.objects.filter(order=order, reason=reason, state=FollowUp.State.OPEN).first()
    if existing is not None:
        return existing
    follow_up = FollowUp(order=order, reason=reason, due_on=follow_up_due_on(), note=(note or "")[:300])
    follow_up.full_clean(exclude=["responsible", "closed_by"])
    follow_up.save()
    change_record(
        obj=follow_up,
        action="create",
        changes={"reason": [None, reason], "due_on": [None, follow_up.due_on.isoformat()], "note": [None, follow_up.note]},
        by=by,
        region=order.region,
    )
    return follow_up


@transaction.atomic
def follow_up_create(*, by, order: Order, note: str, reason: str = FollowUp.Reason.COMPLAINT) -> FollowUp:
    """A complaint (投诉) a worker takes about an order (already read through their scope):
    a follow-up with the usual deadline. Low ratings and failed call-backs open theirs by
    themselves."""
    check(by, "change", FollowUp)
    if reason != FollowUp.Reason.COMPLAINT:
        raise ValidationError({"reason": _("只能登记投诉；低分评价和回访问题由系统自动生成整改跟进")})
    note = clean_text(note, "note", _("投诉内容"), required=True, max_length=300)
    if FollowUp.objects.filter(order=order, reason=reason, state=FollowUp.State.OPEN).exists():
        raise ValidationError({"note": _("这张工单已有一条待跟进的投诉，请在原跟进中补充情况")})
    return _follow_up_open(by=by, order=order, reason=reason, note=note)


@transaction.atomic
def follow_up_close(*, by, follow_up: FollowUp, outcome: str) -> FollowUp:
    """办结: what was done about it (required)."""
    check(by, "change", FollowUp)
    follow_up = FollowUp.objects.select_for_update().select_related("order__region").get(pk=follow_up.pk)
    if follow_up.state != FollowUp.State.OPEN:
        raise ValidationError({"state": _("这条整改跟进已办结，不能重复办结")})
    outcome = clean_text(outcome, "outcome", _("办结情况"), required=True, max_length=300)
    follow_up.state = FollowUp.State.CLOSED
    follow_up.outcome = outcome
    follow_up.closed_at = timezone.now()
    follow_up.closed_by = by
    follow_up.save(update_fields=["state", "outcome", "closed_at", "closed_by"])
    change_record(
        obj=follow_up,
        action="close",
        changes={"state": [FollowUp.State.OPEN, FollowUp.State.CLOSED], "outcome": ["", outcome]},
        by=by,
        region=follow_up.order.region,
    )
    return follow_up


def is_overdue(follow_up: FollowUp, today: datetime.date | None = None) -> bool:
    """Open past its deadline, or closed after it."""
    today = today or timezone.localdate()
    if follow_up.state == FollowUp.State.OPEN:
        return follow_up.due_on < today
    return follow_up.closed_at is not None and timezone.localdate(follow_up.closed_at) > follow_up.due_on


def overdue_q(today: datetime.date | None = None, prefix: str = "") -> Q:
    """is_overdue as a filter (`prefix`: the path to the follow-up, e.g. "follow_ups__")."""
    today = today or timezone.localdate()
    return Q(**{f"{prefix}state": FollowUp.State.OPEN, f"{prefix}due_on__lt": today}) | Q(
        **{f"{prefix}state": FollowUp.State.CLOSED, f"{prefix}closed_at__date__gt": F(f"{prefix}due_on")}
    )


# --- ratings --------------------------------------------------------------------------------------


def clean_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("满意度应为 1 至 5 的整数，请选择一项")})
    return rating


def may_rate_via_portal(user, order: Order) -> bool:
    """Whether `user` rates `order` as a relative: an active family link to its elder."""
    return family_orders(user=user).filter(pk=order.pk).exists()


@transaction.atomic
def order_rate(*, by, order: Order, rating: int, comment: str = "", via: str) -> Order:
    """评单: rate a delivered (completed, not yet rated) order 1–5 with a comment. `via`
    "portal": a relative through their active link to the order's elder (anyone else: 404);
    "callback": a worker with orders.rate_order, for an order read through their scope. A
    rating of 2 or less opens a follow-up (low_rating) with its deadline."""
    if via not in VIA:
        raise ValidationError({"via": _("评价方式只能是家属门户或回访代录")})
    if via == "portal":
        if not getattr(by, "is_authenticated", False) or not by.may_code("orders.portal_order"):
            raise NotPermitted(not_permitted_message())
        if not may_rate_via_portal(by, order):
            raise Http404
    else:
        check(by, "rate", Order)
    order = _locked(order)
    if order.status == Status.EVALUATED:
        raise ValidationError(
            {"action": _("这张工单已评价（%(n)d 分），不能重复评价；如有新情况请登记投诉") % {"n": order.rating or 0}}
        )
    if order.status != Status.COMPLETED:
        raise ValidationError(
            {"action": _("服务完成后才能评价，这张工单当前为“%(state)s”") % {"state": order.get_status_display()}}
        )
    ORDER_MACHINE.check(order, "rate")
    rating = clean_rating(rating)
    comment = clean_text(comment, "comment", _("评价"), max_length=COMMENT_MAX)
    order.rating = rating
    order.rating_comment = comment
    order.rated_at = timezone.now()
    order.rated_by = by
    order.rated_via = via
    order_move(
        by=by,
        order=order,
        action="rate",
        changes={"rating": [None, rating], "rating_comment": ["", comment], "rated_via": ["", via]},
        update_fields=["rating", "rating_comment", "rated_at", "rated_by", "rated_via", "updated_at"],
    )
    if rating <= LOW_RATING:
        words = _("评价 %(n)d 分（%(words)s）") % {"n": rating, "words": RATING_WORDS[rating]}
        _follow_up_open(by=by, order=order, reason=FollowUp.Reason.LOW_RATING, note=f"{words}：{comment}" if comment else words)
    return order


# --- call-backs -----------------------------------------------------------------------------------


def in_callback_sample(order_id: int, percent: int | None = None) -> bool:
    """Whether an order is in the call-back sample: an HMAC of its id under the deployment's
    SECRET_KEY, as a number 0–9999, below `percent` × 100. The same order always draws the same
    (the sample can be drawn again and checked), and without the key nobody can tell which
    visits will be called. Changing SECRET_KEY changes the sample of orders not drawn yet."""
    percent = settings.ORDERS_CALLBACK_PERCENT if percent is None else percent
    digest = hmac.new(settings.SECRET_KEY.encode(), f"orders.callback:{order_id}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 < percent * 100


def call_backs_draw(*, now: datetime.datetime | None = None, lookback_days: int | None = None, percent: int | None = None) -> int:
    """Daily (jobs/schedule.py): the call-backs of the orders checked out or rated in the last
    `lookback_days` (ORDERS_CALLBACK_LOOKBACK_DAYS; runs overlap, so a missed day is caught up)
    — government-purchased deliveries in the sample, and every rating of 2 or less. An order
    already called back is left alone (one call-back per order). Returns how many were added."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=lookback_days or settings.ORDERS_CALLBACK_LOOKBACK_DAYS)
    drawn = ~Exists(CallBack.objects.filter(order_id=OuterRef("pk")))
    government = (
        Order.objects.filter(drawn, status__in=DELIVERED, payment_mode="government", checkout_at__gte=since, checkout_at__lte=now)
        .values_list("pk", flat=True)
        .iterator(chunk_size=5000)
    )
    wanted = {pk for pk in government if in_callback_sample(pk, percent)}
    wanted |= set(
        Order.objects.filter(drawn, rating__lte=LOW_RATING, rated_at__gte=since, rated_at__lte=now).values_list("pk", flat=True)
    )
    created = CallBack.objects.bulk_create(
        [CallBack(order_id=pk) for pk in sorted(wanted)], ignore_conflicts=True, batch_size=2000
    )
    return len(created)


def _clean_answers(*, reached, answers: dict) -> dict:
    errors = {}
    if not isinstance(reached, bool):
        errors["reached"] = _("请选择是否联系上老人")
    elif reached:
        for name in CHECKS:
            if not isinstance(answers.get(name), bool):
                errors[name] = _("请选择“%(label)s”是或否") % {"label": CHECK_LABELS[name]}
    if errors:
        raise ValidationError(errors)
    return {name: (answers[name] if reached else None) for name in CHECKS}


@transaction.atomic
def call_back_record(
    *,
    by,
    call_back: CallBack,
    reached: bool,
    received: bool | None = None,
    on_time: bool | None = None,
    full_duration: bool | None = None,
    same_worker: bool | None = None,
    note: str = "",
    rating: int | None = None,
    comment: str = "",
) -> CallBack:
    """Record a call (the call-back read through the caller's scope). Not reached: the attempt
    is kept and the call-back stays to be called again. Reached: the four checks are required;
    any "no" opens a follow-up (reason callback), and "not received" disputes the visit
    (orders.evv.order_dispute: not paid until a person resolves it). With `rating`, the worker enters the elder's
    rating on their behalf (orders.rate_order; the order must be completed, not yet rated)."""
    check(by, "change", FollowUp)
    call_back = CallBack.objects.select_for_update().select_related("order__region").get(pk=call_back.pk)
    if call_back.reached:
        raise ValidationError({"reached": _("这次回访已经记录，不能重复填写")})
    answers = _clean_answers(
        reached=reached,
        answers={"received": received, "on_time": on_time, "full_duration": full_duration, "same_worker": same_worker},
    )
    note = clean_text(note, "note", _("回访记录"), max_length=300)
    if rating is not None:
        if not by.may_code("orders.rate_order"):
            raise NotPermitted(not_permitted_message())
        if not reached:
            raise ValidationError({"rating": _("没有联系上老人，不能代录评价")})
    before = {name: getattr(call_back, name) for name in ("reached", *CHECKS)}
    call_back.reached = reached
    for name, value in answers.items():
        setattr(call_back, name, value)
    call_back.note = note
    call_back.called_at = timezone.now()
    call_back.called_by = by
    call_back.save(update_fields=["reached", *CHECKS, "note", "called_at", "called_by"])
    after = {name: getattr(call_back, name) for name in ("reached", *CHECKS)}
    change_record(
        obj=call_back,
        action="record",
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]} | ({"note": ["", note]} if note else {}),
        by=by,
        region=call_back.order.region,
    )
    if rating is not None:
        order_rate(by=by, order=call_back.order, rating=rating, comment=comment, via="callback")
    if reached and not call_back.passed:
        failed = "、".join(str(CHECK_LABELS[name]) for name in CHECKS if answers[name] is False)
        words = _("回访未通过：%(failed)s") % {"failed": failed}
        _follow_up_open(by=by, order=call_back.order, reason=FollowUp.Reason.CALLBACK, note=f"{words}。{note}" if note else words)
        if answers["received"] is False:
            # The elder says the service never came: the visit is disputed (not paid, its coins
            # back) until a person resolves it in the exceptions queue (orders.evv).
            # The call-back keeps the whole note (300); the dispute's reason takes what fits (NOTE_MAX).
            reason = _("回访时老人表示没有接受服务") + (f"：{note}" if note else "")
            if len(reason) > NOTE_MAX:
                reason = reason[: NOTE_MAX - 1] + "…"
            dispute_open(by=by, order=call_back.order, reason=reason)
    return call_back


# --- reads ----------------------------------------------------------------------------------------


def call_back_scope(user, action: str = "view"):
    """Call-backs `user` may `action`: the follow-ups' permission, the region axis of the scope
    (restrict()'s rule; CallBack has no permission codes of its own)."""
    if not getattr(user, "is_authenticated", False) or not user.may(action, FollowUp):
        return CallBack.objects.none()
    scope = Scope.of(user)
    if scope.is_empty:
        return CallBack.objects.none()
    return CallBack.objects.filter(scope.q(CallBack))


CALL_BACK_STATES = {
    "pending": gettext_lazy("待回访"),
    "unreached": gettext_lazy("未联系上"),
    "passed": gettext_lazy("回访通过"),
    "failed": gettext_lazy("回访未通过"),
}


def call_back_state(call_back: CallBack) -> str:
    if call_back.reached is None:
        return "pending"
    if call_back.reached is False:
        return "unreached"
    return "passed" if call_back.passed else "failed"


def _state_q(state: str) -> Q:
    all_yes = Q(received=True, on_time=True, full_duration=True, same_worker=True)
    return {
        "todo": Q(reached__isnull=True) | Q(reached=False),
        "pending": Q(reached__isnull=True),
        "unreached": Q(reached=False),
        "passed": Q(reached=True) & all_yes,
        "failed": Q(reached=True) & ~all_yes,
    }.get(state, Q())


def call_back_list(*, user, state: str = "todo", region=None, month: datetime.date | None = None):
    """Call-backs of the user's subtree: `state` todo (default: not yet reached), pending,
    unreached, passed, failed or "" for all; `region` a node already checked to be in scope;
    `month` the month of the visit. The oldest sampled first for what is still to do."""
    qs = call_back_scope(user, "view").filter(_state_q(state))
    if region is not None:
        qs = qs.filter(region_q(CallBack.SCOPE_PATH, Subtree(region.path)))
    if month is not None:
        start, end = month_bounds(month)
        qs = qs.filter(order__scheduled_start__gte=start, order__scheduled_start__lt=end)
    order = ("sampled_at", "id") if state in ("todo", "pending", "unreached") else ("-sampled_at", "-id")
    return qs.select_related(
        "order__elder", "order__item", "order__region", "order__caregiver", "order__volunteer", "order__organisation"
    ).order_by(*order)


def call_back_get(*, user, call_back_id: int, action: str = "view") -> CallBack:
    check(user, action, FollowUp)
    found = (
        call_back_scope(user, action)
        .select_related(
            "order__elder",
            "order__item",
            "order__region",
            "order__caregiver",
            "order__volunteer",
            "order__organisation",
            "called_by",
        )
        .filter(pk=call_back_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def follow_up_list(*, user, state: str = "open", reason: str = "", overdue: bool = False, region=None):
    """Follow-ups of the user's subtree (a provider: of the orders sent to it), by deadline."""
    qs = FollowUp.objects.restrict(user, "view")
    if state in FollowUp.State.values:
        qs = qs.filter(state=state)
    if reason in FollowUp.Reason.values:
        qs = qs.filter(reason=reason)
    if overdue:
        qs = qs.filter(overdue_q())
    if region is not None:
        qs = qs.within(region)
    return qs.select_related(
        "order__elder", "order__item", "order__region", "order__organisation", "responsible", "closed_by"
    ).order_by("due_on", "id")


def follow_up_get(*, user, follow_up_id: int, action: str = "view") -> FollowUp:
    check(user, action, FollowUp)
    found = (
        FollowUp.objects.restrict(user, action)
        .select_related(
            "order__elder", "order__item", "order__region", "order__organisation", "order__caregiver", "responsible", "closed_by"
        )
        .filter(pk=follow_up_id)
        .first()
    )
    if found is None:
        raise Http404
    return found


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware start of `month`'s first day and of the next month's (Asia/Shanghai)."""
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(following, datetime.time.min, tzinfo=tz),
    )
