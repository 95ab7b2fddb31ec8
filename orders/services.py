"""Writes of orders: keyword-only, `by=`, atomic, full_clean, history through audit, status
moves only through ORDER_MACHINE. Pages, API and tasks call these and nothing else.

A move that two people may make at once (two caregivers accepting the order sent to their
organisation) locks the order row first (`_locked`: SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers), re-reads its status and only then checks the move: exactly one wins, the
other gets the table's refusal naming the state it found.

The EVV (check-in, check-out), dispatch ranking, plans, agreements, ratings and the family
portal live in their own modules beside this one (orders/evv.py, dispatch.py, plans.py …) and
move the status through `order_move` here.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from audit.services import change_record
from core.access import NotPermitted, check, not_permitted_message
from core.text import refuse_invisible_characters
from orders.models import ORDER_ACTIONS, ORDER_MACHINE, REASON_REQUIRED, IdempotencyKey, Order, Status

REASON_MAX = 200
# Hooks other apps register in their AppConfig.ready (lower apps never import higher ones):
# called inside the transaction of a move with (order, action, by). The settlements app writes
# an order's shares on "check_out" this way.
AFTER_MOVE: list = []


def after_move(hook):
    """Register `hook(order=…, action=…, by=…)`, called after every move in its transaction."""
    if hook not in AFTER_MOVE:
        AFTER_MOVE.append(hook)
    return hook


# Called inside order_create's transaction with (order, by) once the order is saved (the time bank
# holds a time-coin order's coins, and refuses the order when the elder has too few). A hook that
# raises ValidationError refuses the order. Orders a plan generates in bulk do not call it.
AFTER_CREATE: list = []
# Called with (order, by) when an order's verification changes outside a move (a person resolving
# an exception: orders.evv._verification_refresh), in that transaction.
AFTER_VERIFY: list = []


def after_create(hook):
    """Register `hook(order=…, by=…)`, called when order_create has saved an order."""
    if hook not in AFTER_CREATE:
        AFTER_CREATE.append(hook)
    return hook


def after_verify(hook):
    """Register `hook(order=…, by=…)`, called when a visit's verification changes after check-out."""
    if hook not in AFTER_VERIFY:
        AFTER_VERIFY.append(hook)
    return hook


def clean_text(value, field: str, label, *, required: bool = False, max_length: int = 500) -> str:
    """Free text as every order form takes it: trimmed, no invisible characters, a length limit."""
    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s") % {"label": label}})
    if len(value) > max_length:
        raise ValidationError({field: _("%(label)s最多 %(n)d 个字，请精简") % {"label": label, "n": max_length}})
    return value


def _locked(order: Order) -> Order:
    """The order's row, locked for this transaction and re-read (its status may have moved)."""
    return Order.objects.select_for_update().get(pk=order.pk)


def order_move(*, by, order: Order, action: str, reason: str = "", changes: dict | None = None, update_fields=(), at=None):
    """Move a locked order by `action` through ORDER_MACHINE and call the AFTER_MOVE hooks.
    Callers set the fields the move changes first and name them in `update_fields`."""
    if action in REASON_REQUIRED:
        reason = clean_text(reason, "reason", _("原因"), required=True, max_length=REASON_MAX)
    record = ORDER_MACHINE.move(order, action, by=by, reason=reason, changes=changes, update_fields=update_fields, at=at)
    for hook in AFTER_MOVE:
        hook(order=order, action=action, by=by)
    return record


# --- idempotency ---------------------------------------------------------------------------------


def idempotent(*, by, key: str | None, operation: str):
    """The order an earlier request with this key made, or None. A key is the client's (≤ 64
    printable characters); reusing it for another operation is refused."""
    if not key:
        return None
    key = key.strip()
    if not key or len(key) > 64 or not key.isprintable():
        raise ValidationError({"idempotency_key": _("幂等键应为 1 至 64 个可见字符")})
    found = IdempotencyKey.objects.filter(user=by, key=key).select_related("order").first()
    if found is None:
        return None
    if found.operation != operation:
        raise ValidationError({"idempotency_key": _("此幂等键已用于另一项操作，请换一个")})
    return found.order


def idempotency_record(*, by, key: str | None, operation: str, order: Order) -> None:
    """Keep the key with what it made, inside the caller's transaction: a concurrent retry with the
    same key fails on the unique constraint and rolls back rather than doubling anything."""
    if not key:
        return
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(user=by, key=key.strip(), operation=operation, order=order)
    except IntegrityError:
        raise ValidationError({"idempotency_key": _("同一请求正在处理或已处理，请刷新后查看结果")}) from None


# --- create ------------------------------------------------------------------------------------


def default_end(item, start: datetime.datetime, quantity: int = 1) -> datetime.datetime:
    """The window's end: the item's duration (an hour item: that many hours × quantity)."""
    from catalogue.models import Unit

    minutes = item.duration_minutes or 60
    if item.unit == Unit.HOUR:
        minutes = max(minutes, 60 * quantity) if quantity > 1 else minutes
    return start + datetime.timedelta(minutes=minutes)


def _may_order(by, item) -> None:
    if by.role == Role.ADMIN or not item.orderable_by:
        return
    if by.role not in item.orderable_by:
        raise ValidationError({"item": _("“%(item)s”不能由您的角色下单，请选择其他服务项目或联系社区") % {"item": item.name}})


@transaction.atomic
def order_create(
    *,
    by,
    elder,
    item,
    scheduled_start: datetime.datetime,
    scheduled_end: datetime.datetime | None = None,
    quantity: int = 1,
    payment_mode: str = "",
    source: str = "hotline",
    notes: str = "",
    need=None,
    plan=None,
    agreement=None,
    merchant=None,
    caller_name: str = "",
    caller_relation: str = "",
    idempotency_key: str | None = None,
    via_portal: bool = False,
) -> Order:
    """Create an order for `elder` (already read through the user's scope, or, `via_portal`,
    through the relative's family link). The price is the one in force at the elder's region on
    the day of the visit (catalogue.selectors.price_for), fixed on the order."""
    from catalogue.models import PaymentMode
    from catalogue.selectors import price_for

    if via_portal:
        if not by.may_code("orders.portal_order"):
            raise NotPermitted(not_permitted_message())
    else:
        check(by, "add", Order)
    earlier = idempotent(by=by, key=idempotency_key, operation="create")
    if earlier is not None:
        return earlier
    errors = {}
    if getattr(elder, "status", "active") != "active":
        errors["elder"] = _("该老人当前状态为“%(status)s”，不能下单") % {"status": elder.get_status_display()}
    if not item.is_active:
        errors["item"] = _("“%(item)s”已停用，请选择其他服务项目") % {"item": item.name}
    else:
        try:
            _may_order(by, item)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    modes = item.payment_modes or [PaymentMode.PAID]
    payment_mode = payment_mode or modes[0]
    if payment_mode not in modes:
        labels = "、".join(str(dict(PaymentMode.choices).get(m, m)) for m in modes)
        errors["payment_mode"] = _("“%(item)s”的付费方式只能是：%(modes)s") % {"item": item.name, "modes": labels}
    if not isinstance(quantity, int) or not 1 <= quantity <= 99:
        errors["quantity"] = _("数量应为 1 至 99 的整数")
    if scheduled_start is None:
        errors["scheduled_start"] = _("请填写预约开始时间")
    if errors:
        raise ValidationError(errors)
    if timezone.is_naive(scheduled_start):
        scheduled_start = timezone.make_aware(scheduled_start)
    end = scheduled_end or default_end(item, scheduled_start, quantity)
    if timezone.is_naive(end):
        end = timezone.make_aware(end)
    if end <= scheduled_start:
        raise ValidationError({"scheduled_end": _("预约结束时间应晚于开始时间")})
    if end - scheduled_start > datetime.timedelta(hours=24):
        raise ValidationError({"scheduled_end": _("一张工单的服务时段不能超过 24 小时，长期服务请制定周期计划")})
    on = timezone.localtime(scheduled_start).date()
    unit_price = 0 if payment_mode == PaymentMode.FREE else price_for(item, elder.region, on).price_fen
    order = Order(
        elder=elder,
        region_id=elder.region_id,
        item=item,
        quantity=quantity,
        payment_mode=payment_mode,
        unit_price_fen=unit_price,
        amount_fen=unit_price * quantity,
        source=source,
        scheduled_start=scheduled_start,
        scheduled_end=end,
        need=need,
        plan=plan,
        agreement=agreement,
        merchant=merchant,
        caller_name=clean_text(caller_name, "caller_name", _("来电人"), max_length=32),
        caller_relation=clean_text(caller_relation, "caller_relation", _("来电人关系"), max_length=16),
        notes=clean_text(notes, "notes", _("备注"), max_length=500),
        created_by=by,
    )
    order.full_clean(exclude=["created_by", "need", "plan", "agreement", "merchant", "organisation", "caregiver", "volunteer"])
    order.save()
    idempotency_record(by=by, key=idempotency_key, operation="create", order=order)
    for hook in AFTER_CREATE:
        hook(order=order, by=by)
    change_record(
        obj=order,
        action="create",
        changes={
            "item": [None, item.name],
            "source": [None, source],
            "scheduled_start": [None, timezone.localtime(scheduled_start).isoformat(timespec="minutes")],
            "payment_mode": [None, payment_mode],
            "amount_fen": [None, order.amount_fen],
        },
        by=by,
        region=order.region,
    )
    return order


# --- dispatch, accept, reject, reassign, cancel ------------------------------------------------------


def accept_minutes() -> int:
    return int(getattr(settings, "ORDERS_ACCEPT_MINUTES", 30))


def _check_worker(*, organisation, caregiver, volunteer, on: datetime.date):
    from providers.models import OrganisationStatus, StaffStatus, VolunteerStatus

    if caregiver is not None and volunteer is not None:
        raise ValidationError({"caregiver": _("服务人员和志愿者只能选择其中一位")})
    if caregiver is not None:
        if caregiver.status != StaffStatus.ACTIVE:
            raise ValidationError({"caregiver": _("%(name)s当前不在岗，请选择其他服务人员") % {"name": caregiver.name}})
        if organisation is not None and caregiver.organisation_id != organisation.pk:
            raise ValidationError(
                {"caregiver": _("%(name)s不属于%(org)s，请重新选择") % {"name": caregiver.name, "org": organisation.name}}
            )
        organisation = caregiver.organisation
    if volunteer is not None and volunteer.status != VolunteerStatus.APPROVED:
        raise ValidationError({"volunteer": _("志愿者%(name)s尚未通过审核，不能派单") % {"name": volunteer.name}})
    if organisation is not None and organisation.status != OrganisationStatus.ACTIVE:
        raise ValidationError({"organisation": _("%(org)s当前不在服务状态，请选择其他机构") % {"org": organisation.name}})
    if organisation is None and volunteer is None:
        raise ValidationError({"organisation": _("请选择服务机构、服务人员或志愿者")})
    return organisation


@transaction.atomic
def order_dispatch(*, by, order: Order, organisation=None, caregiver=None, volunteer=None, reason: str = "") -> Order:
    """派单: send a created order to an organisation (its dispatcher then assigns), a caregiver or
    a volunteer; from a dispatched one, the organisation's dispatcher assigns one of its staff
    (`assign`), or the station sends it elsewhere (`reassign`, with a reason)."""
    check(by, "dispatch", Order)
    order = _locked(order)
    if order.status == Status.CREATED:
        action = "dispatch"
    elif by.organisation_id and order.organisation_id == by.organisation_id and order.status == Status.DISPATCHED:
        action = "assign"  # the organisation's own dispatcher picks among its staff
        if caregiver is None or caregiver.organisation_id != by.organisation_id:
            raise ValidationError({"caregiver": _("请选择本机构的服务人员")})
        organisation = None
    else:
        action = "reassign"
    ORDER_MACHINE.check(order, action)  # a cancelled or delivered order: the table's refusal first
    if by.organisation_id and action != "assign":
        # A provider's user works inside its organisation only: they assign, never send elsewhere.
        raise ValidationError({"action": _("服务机构只能在本机构服务人员中指派，改派其他机构请联系社区")})
    organisation = _check_worker(
        organisation=organisation or (caregiver.organisation if caregiver else None),
        caregiver=caregiver,
        volunteer=volunteer,
        on=timezone.localtime(order.scheduled_start).date(),
    )
    before = {"organisation": order.organisation_id, "caregiver": order.caregiver_id, "volunteer": order.volunteer_id}
    now = timezone.now()
    order.organisation = organisation
    order.caregiver = caregiver
    order.volunteer = volunteer
    order.dispatched_at = now
    order.accept_by = now + datetime.timedelta(minutes=accept_minutes())
    order.accepted_at = None
    changes = {
        "organisation": [before["organisation"], organisation.pk if organisation else None],
        "caregiver": [before["caregiver"], caregiver.pk if caregiver else None],
        "volunteer": [before["volunteer"], volunteer.pk if volunteer else None],
    }
    order_move(
        by=by,
        order=order,
        action=action,
        reason=reason,
        changes=changes,
        update_fields=["organisation", "caregiver", "volunteer", "dispatched_at", "accept_by", "accepted_at", "updated_at"],
    )
    return order


@transaction.atomic
def order_accept(*, by, order: Order) -> Order:
    """接单: the caregiver or volunteer the order was sent to takes it; an order sent to an
    organisation with nobody named is taken by the first of its caregivers who accepts (the row
    lock makes it exactly one); the organisation's dispatcher may accept for the named worker."""
    from orders.selectors import worker_of

    check(by, "serve", Order)
    order = _locked(order)
    ORDER_MACHINE.check(order, "accept")  # the loser of a race hears the state it found
    worker = worker_of(by)
    update = ["accepted_at", "updated_at"]
    changes = {}
    if by.role == Role.CAREGIVER:
        if worker is None:
            raise NotPermitted(_("您的账号尚未关联服务人员档案，请联系所属机构"))
        if order.caregiver_id is None and order.volunteer_id is None and order.organisation_id == worker.organisation_id:
            order.caregiver = worker
            update.append("caregiver")
            changes["caregiver"] = [None, worker.pk]
        elif order.caregiver_id != worker.pk:
            raise ValidationError({"action": _("这张工单已派给其他服务人员，不能接单")})
    elif by.role == Role.VOLUNTEER:
        if worker is None or order.volunteer_id != worker.pk:
            raise ValidationError({"action": _("这张工单没有派给您，不能接单")})
    elif order.caregiver_id is None and order.volunteer_id is None:
        raise ValidationError({"caregiver": _("请先指派服务人员，再代为接单")})
    order.accepted_at = timezone.now()
    order_move(by=by, order=order, action="accept", changes=changes, update_fields=update)
    return order


@transaction.atomic
def order_reject(*, by, order: Order, reason: str) -> Order:
    """拒单: the worker or organisation declines; the order goes back to the station to be
    dispatched again (created), with the reason."""
    from orders.selectors import worker_of

    check(by, "serve", Order)
    order = _locked(order)
    ORDER_MACHINE.check(order, "reject")
    worker = worker_of(by)
    if by.role in (Role.CAREGIVER, Role.VOLUNTEER) and (worker is None or worker not in (order.caregiver, order.volunteer)):
        raise ValidationError({"action": _("这张工单没有派给您，不能拒单")})
    changes = {
        "organisation": [order.organisation_id, None],
        "caregiver": [order.caregiver_id, None],
        "volunteer": [order.volunteer_id, None],
    }
    order.organisation = order.caregiver = order.volunteer = None
    order.accepted_at = order.accept_by = order.dispatched_at = None
    order_move(
        by=by,
        order=order,
        action="reject",
        reason=reason,
        changes=changes,
        update_fields=["organisation", "caregiver", "volunteer", "accepted_at", "accept_by", "dispatched_at", "updated_at"],
    )
    return order


@transaction.atomic
def order_cancel(*, by, order: Order, reason: str) -> Order:
    """取消, with who (the change record's actor) and why (required)."""
    check(by, "cancel", Order)
    order = _locked(order)
    reason = clean_text(reason, "reason", _("取消原因"), required=True, max_length=REASON_MAX)
    order.cancel_reason = reason
    order_move(by=by, order=order, action="cancel", reason=reason, update_fields=["cancel_reason", "updated_at"])
    return order


def action_label(action: str) -> str:
    return str(ORDER_ACTIONS.get(action, action))


# --- settle, set-based ---------------------------------------------------------------------------


def orders_settle(*, by, orders, reason: str = "") -> int:
    """结算, set-based (the settlements app, when a month's payer statements are issued): every
    order of the queryset `orders` in a state from which ORDER_MACHINE allows "settle" moves to
    settled, in one UPDATE, with one history record each written by one INSERT … SELECT
    (StateMachine.move_many). Orders in other states are left. No AFTER_MOVE hook is called (none
    listens to "settle"; a hook that must would need a set-based form). Inside the caller's
    transaction. Returns how many moved."""
    now = timezone.now()
    return ORDER_MACHINE.move_many(orders, "settle", by=by, reason=reason, update={"settled_at": now, "updated_at": now})
