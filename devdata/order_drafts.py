"""Draft orders in memory with what the order services would write beside them, then write
them in bulk (devdata/demo_orders.py builds the demo's year with these).

A Drafter schedules visits in its workers' hours without clashes (`_slot`), drafts an order
created by a call, a visit, the desk, a relative on the portal or a plan's generator, moves it
along the loop (dispatch, accept, check-in and check-out at the door, rating, cancel) with the
actor and time of each move, and `write`s everything: the orders (bulk_create), their history
(a "create" record and one "status" record per move, replayed through ORDER_MACHINE: a move the
table does not hold fails the seeding), exceptions, follow-ups and call-backs.
"""

import dataclasses
import datetime
import math
import random

from django.utils import timezone

from audit.models import ChangeRecord
from core.geo import METRES_PER_DEGREE_LAT, haversine_m
from orders.models import ORDER_MACHINE, CallBack, FollowUp, Order, OrderPlan, Source, Status, Verification, VisitException

GEOFENCE_M = 200  # issue 11: "for example 200 m around the elder's home"

SOURCES = [(Source.HOTLINE, 40), (Source.VISIT, 20), (Source.ELDER, 12), (Source.DESK, 18), (Source.RELATIVE, 10)]
CALLERS = [("本人", 50), ("女儿", 20), ("儿子", 20), ("老伴", 10)]
CANCEL_REASONS = ["老人住院，本次服务取消", "家属已自行安排", "老人外出探亲", "老人身体不适，改日再约"]
COMMENTS = {
    5: ["服务很周到，谢谢！", "准时上门，态度很好", "老人很满意", "很耐心，下次还找她", "干活利索，很放心"],
    4: ["挺好的", "服务不错，就是来得稍早了点", "总体满意", "可以，价格也合适"],
    3: ["一般", "时间有点短"],
}
WORKER_NOTES = ["老人精神状态良好", "已提醒按时服药", "老人血压偏高，已告知家属", "家中燃气已检查", "老人情绪稳定"]
LATE_REASONS = [
    ("路上堵车，已提前电话告知老人", "认可：已提前告知老人，服务时长足够"),
    ("上一户服务超时", "认可：已调整排班，不再连续紧排"),
    ("电动车没电，换乘公交", "认可：服务完整，提醒提前出发"),
    ("找不到单元门，老人电话未接通", "认可：已在档案补充楼栋单元信息"),
]


@dataclasses.dataclass
class Worker:
    """Who serves an order, and who pressed its buttons: the worker's phone account, else the
    organisation's dispatcher, else the community worker recording for them."""

    caregiver: object = None
    volunteer: object = None
    organisation: object = None
    acting: object = None
    days: tuple = (1, 2, 3, 4, 5)  # ISO weekdays
    hours: tuple = (8 * 60, 17 * 60 + 30)  # a visit starts after the first, ends by the second

    @property
    def key(self):
        return ("c", self.caregiver.pk) if self.caregiver else ("v", self.volunteer.pk)


@dataclasses.dataclass
class Draft:
    """An order not yet written, with what the services would have written beside it."""

    order: Order
    desk: object  # the community worker who takes the calls, dispatches and resolves
    created_at: datetime.datetime
    updated_at: datetime.datetime
    events: list  # (action, at, by, changes, note): "create" or an action of ORDER_MACHINE
    exceptions: list = dataclasses.field(default_factory=list)  # dicts of VisitException fields
    follow_up: dict | None = None
    call_back: dict | None = None


class Drafter:
    """Drafts orders (with their history) in memory, then writes them all at once."""

    def __init__(self, *, today, now, users, family):
        from catalogue.selectors import item_list

        self.rng = random.Random(20261102)
        self.today, self.now, self.users, self.family = today, now, users, family
        self.items = {i.code: i for i in item_list(user=users["admin"])}
        self.drafts: list[Draft] = []
        self.busy: dict = {}  # (worker key, date) -> [(start minute, end minute)]
        self.prices: dict = {}

    # --- scheduling ----------------------------------------------------------------------------

    def _slot(self, worker, item, quantity, window, minute=None) -> datetime.datetime | None:
        """A start in the worker's hours, on one of their days `window` (days ago, lo…hi),
        clashing with none of their other visits; None when no such slot is found."""
        from orders.services import default_end

        rng = self.rng
        lo, hi = window
        for _ in range(60):
            day = self.today - datetime.timedelta(days=rng.randint(lo, hi))
            if lo != hi and day.isoweekday() not in worker.days:
                continue
            probe = local_at(day, 0)
            length = int((default_end(item, probe, quantity) - probe).total_seconds() // 60)
            first, last = worker.hours[0], worker.hours[1] - length
            if last < first:  # longer than the hours a volunteer registered: a day-time visit
                first, last = 8 * 60 + 30, 17 * 60 + 30 - length
            at = minute if minute is not None else first + 10 * rng.randint(0, (last - first) // 10)
            if self._free(worker, day, at, at + length):
                self._book(worker, day, at, at + length)
                return local_at(day, at)
            if minute is not None and lo == hi:
                return None
        return None

    def _free(self, worker, day, start, end) -> bool:
        return all(end <= a or start >= b for a, b in self.busy.get((worker.key, day), ()))

    def _book(self, worker, day, start, end) -> None:
        self.busy.setdefault((worker.key, day), []).append((start - 15, end + 15))  # travel time

    def _price(self, item, elder, mode, day) -> int:
        """The price in force at the elder's region (catalogue.selectors.prices_for), read per
        region and month: the demo's price lists change only on the first of a month."""
        from catalogue.selectors import prices_for

        if mode in ("free", "time_coin"):
            return 0
        key = (elder.region_id, day.year, day.month)
        if key not in self.prices:
            self.prices[key] = prices_for(self.items.values(), elder.region, day.replace(day=1))
        return self.prices[key][item.pk].price_fen

    # --- one order ----------------------------------------------------------------------------

    def _order(self, place, elder, item, mode, quantity, start, *, source=None, plan=None, agreement=None) -> Draft:
        """A draft order, created: by the community worker (a call, a visit, the desk), a
        linked relative on the portal, or a plan's generator a week ahead."""
        from orders.services import default_end

        rng = self.rng
        source = source or (Source.PLAN if plan else _pick(rng, SOURCES))
        price = self._price(item, elder, mode, timezone.localtime(start).date())
        order = Order(
            elder=elder,
            region_id=elder.region_id,
            item=item,
            quantity=quantity,
            payment_mode=mode,
            unit_price_fen=price,
            amount_fen=price * quantity,
            source=source,
            status=Status.CREATED,
            scheduled_start=start,
            scheduled_end=default_end(item, start, quantity),
            plan=plan,
            agreement=agreement,
            verification=Verification.PENDING,
        )
        by = place.desk
        if plan is not None:
            created, by = local_at(timezone.localtime(start).date() - datetime.timedelta(days=7), 2 * 60), None
        else:  # taken in office hours, at least 90 minutes before the visit
            latest = min(start - datetime.timedelta(minutes=90), self.now)
            created = daytime(latest - datetime.timedelta(minutes=rng.randint(60, 3 * 24 * 60)), 8 * 60, 18 * 60)
            if created > latest:
                created = local_at(timezone.localtime(latest).date() - datetime.timedelta(days=1), 16 * 60 + rng.randint(0, 90))
            created += datetime.timedelta(seconds=rng.randint(0, 59))
            if source in (Source.HOTLINE, Source.RELATIVE):
                relation = "女儿" if source == Source.RELATIVE else _pick(rng, CALLERS)
                order.caller_relation = relation
                order.caller_name = (
                    elder.name if relation == "本人" else elder.name[0] + ("女士" if relation == "女儿" else "先生")
                )
            if source == Source.RELATIVE and elder.pk in self.family:  # ordered on the family portal
                by = self.family[elder.pk]
                order.caller_name = order.caller_relation = ""
        order.created_by = by
        changes = {
            "item": [None, item.name],
            "source": [None, str(source)],
            "scheduled_start": [None, timezone.localtime(start).isoformat(timespec="minutes")],
            "payment_mode": [None, mode],
            "amount_fen": [None, order.amount_fen],
        }
        draft = Draft(order=order, desk=place.desk, created_at=created, updated_at=created, events=[])
        draft.events.append(("create", created, by, changes, "周期计划生成" if plan is not None else ""))
        self.drafts.append(draft)
        return draft

    def _created(self, draft, at):
        """Move the creation of a draft to `at` (its first event too)."""
        draft.created_at = at
        _action, _at, by, changes, note = draft.events[0]
        draft.events[0] = ("create", at, by, changes, note)

    def _move(self, draft, action, at, by, changes=None, note=""):
        draft.events.append((action, at, by, changes or {}, note))
        draft.updated_at = max(draft.updated_at, at)

    def _dispatch(self, draft, worker, *, organisation_only=False, overdue=False, waiting=False):
        """派单: by the community worker some minutes after the call, or by the plan at once.
        `waiting`: sent minutes ago, to be accepted; `overdue`: sent yesterday afternoon and
        still not accepted, past its deadline (the supervision board)."""
        order = draft.order
        if order.plan is not None:
            at, by, note = draft.created_at + datetime.timedelta(seconds=1), None, "周期计划自动派单"
        else:
            at = draft.created_at + datetime.timedelta(minutes=self.rng.randint(5, 90))
            at = max(min(at, order.scheduled_start - datetime.timedelta(minutes=30), self.now), draft.created_at)
            by, note = draft.desk, ""
        if waiting:
            at = max(self.now - datetime.timedelta(minutes=self.rng.randint(1, 10)), draft.created_at)
        if overdue:
            at = local_at(self.today - datetime.timedelta(days=1), 15 * 60 + 20)
            self._created(draft, min(draft.created_at, at - datetime.timedelta(minutes=40)))
        order.organisation = worker.organisation
        order.caregiver = None if organisation_only else worker.caregiver
        order.volunteer = None if organisation_only else worker.volunteer
        order.dispatched_at = at
        order.accept_by = at + datetime.timedelta(minutes=30)
        order.status = Status.DISPATCHED
        changes = {
            "organisation": [None, _pk(order.organisation)],
            "caregiver": [None, _pk(order.caregiver)],
            "volunteer": [None, _pk(order.volunteer)],
        }
        self._move(draft, "dispatch", at, by, changes, note)

    def _accept(self, draft, worker):
        """接单 minutes after the dispatch; a plan's night-time dispatch the next morning."""
        order = draft.order
        at = order.dispatched_at + datetime.timedelta(minutes=self.rng.randint(2, 20), seconds=self.rng.randint(0, 59))
        order.accepted_at = min(daytime(at, 7 * 60 + 30, 21 * 60), self.now)
        order.status = Status.ACCEPTED
        self._move(draft, "accept", order.accepted_at, worker.acting)

    def _visit(self, draft, worker, special=None):
        """Check-in and check-out at the door (EVV): the six things a verified visit records,
        near the home unless `special` says otherwise; its flags and exceptions."""
        rng, order = self.rng, draft.order
        home = (order.elder.home_lat, order.elder.home_lng)
        late = rng.randint(17, 28) if special in ("late", "late_open") else 0
        device_in = order.scheduled_start + datetime.timedelta(minutes=late or rng.randint(-5, 8), seconds=rng.randint(0, 59))
        length = (order.scheduled_end - order.scheduled_start) * rng.uniform(0.95, 1.15)
        out = device_in + length
        received_in = device_in
        if special == "delayed":  # made offline in a basement, sent when the phone found the network
            received_in = device_in + datetime.timedelta(minutes=38)
            out = max(out, received_in + datetime.timedelta(minutes=5))
            order.checkin_device_at, order.checkin_delayed = device_in, True
        lat, lng = point_near(rng, home, 430 if special == "outside" else rng.uniform(3, 60))
        order.checkin_at, order.checkin_lat, order.checkin_lng = received_in, lat, lng
        order.checkin_accuracy_m = rng.randint(5, 30)
        order.checkin_distance_m = round(haversine_m(home[0], home[1], lat, lng))
        lat, lng = point_near(rng, home, rng.uniform(3, 60))
        order.checkout_at, order.checkout_lat, order.checkout_lng = out, lat, lng
        order.checkout_accuracy_m = rng.randint(5, 30)
        order.checkout_distance_m = round(haversine_m(home[0], home[1], lat, lng))
        order.outcomes = {outcome: "是" for outcome in order.item.outcomes}
        order.worker_notes = rng.choice(WORKER_NOTES) if rng.random() < 0.25 else ""
        resolved_at = out + datetime.timedelta(days=1, hours=rng.randint(0, 5))
        if special in ("late", "late_open"):
            reason, resolution = rng.choice(LATE_REASONS)
            order.flags = ["late"]
            draft.exceptions.append(
                _exception(
                    "late",
                    f"签到晚于预约 {late} 分钟：{reason}",
                    received_in,
                    None if special == "late_open" else (resolution, resolved_at, draft.desk),
                )
            )
        elif special == "outside":
            order.flags = ["outside_geofence"]
            detail = f"签到位置距老人家 {order.checkin_distance_m} 米，超出 {GEOFENCE_M} 米范围"
            draft.exceptions.append(_exception("outside_geofence", detail, received_in, None))
        elif special == "delayed":
            order.flags = ["delayed_sync"]
            detail = f"离线签到：手机时间 {timezone.localtime(device_in):%H:%M}，{timezone.localtime(received_in):%H:%M} 补传"
            accepted = ("认可：地下室无信号，手机时间和位置与预约一致", resolved_at, draft.desk)
            draft.exceptions.append(_exception("delayed_sync", detail, received_in, accepted))
        open_exception = any(e["resolution"] == VisitException.Resolution.OPEN for e in draft.exceptions)
        order.verification = Verification.PENDING if open_exception else Verification.VERIFIED
        order.status = Status.COMPLETED
        self._move(draft, "check_in", received_in, worker.acting, {}, "离线补传" if special == "delayed" else "")
        self._move(draft, "check_out", out, worker.acting)

    def _rate(self, draft, score, comment, at):
        """评单: a linked relative on the portal, else the community worker on a call-back."""
        order = draft.order
        relative = self.family.get(order.elder_id)
        at = self._rating_time(order, at)
        order.rating, order.rating_comment, order.rated_at = score, comment, at
        order.rated_by, order.rated_via = (relative, "portal") if relative else (draft.desk, "callback")
        order.status = Status.EVALUATED
        self._move(draft, "rate", at, order.rated_by, {"rating": [None, score]})

    def _rating_time(self, order, at):
        """A relative rates in the day or the evening; the community calls back in office hours."""
        if order.elder_id in self.family:
            return daytime(at, 8 * 60, 21 * 60)
        return daytime(at, 9 * 60, 17 * 60 + 30)

    # --- orders by their end state ---------------------------------------------------------------

    def delivered(
        self, place, elder, item, mode, quantity, worker, start, *, special=None, plan=None, agreement=None, rated=0.55
    ):
        rng = self.rng
        draft = self._order(place, elder, item, mode, quantity, start, plan=plan, agreement=agreement)
        self._dispatch(draft, worker)
        self._accept(draft, worker)
        self._visit(draft, worker, special)
        out = draft.order.checkout_at
        if special == "low_closed":
            at = out + datetime.timedelta(hours=3)
            self._rate(draft, 2, "饭菜太咸，老人吃不惯", at)
            draft.follow_up = {
                "reason": FollowUp.Reason.LOW_RATING,
                "due_on": timezone.localtime(at).date() + datetime.timedelta(days=7),
                "state": FollowUp.State.CLOSED,
                "note": "家属反映饭菜太咸",
                "outcome": "已与康乃馨家政沟通，改为少盐清淡；回访家属表示满意",
                "responsible": draft.desk,
                "created_at": at,
                "closed_at": at + datetime.timedelta(days=3),
                "closed_by": draft.desk,
            }
        elif special == "low_open":
            at = out + datetime.timedelta(hours=5)
            self._rate(draft, 1, "服务时不太耐心，老人有些不高兴", at)
            draft.follow_up = {
                "reason": FollowUp.Reason.LOW_RATING,
                "due_on": timezone.localtime(at).date() + datetime.timedelta(days=7),
                "note": "老人反映服务人员不耐心，待与服务站核实",
                "responsible": draft.desk,
                "created_at": at,
            }
        elif rng.random() < rated:
            at = out + datetime.timedelta(minutes=rng.randint(60, 72 * 60))
            if self._rating_time(draft.order, at) < self.now:
                score = rng.choices([5, 4, 3], [62, 32, 6])[0]
                self._rate(draft, score, rng.choice(COMMENTS[score]) if rng.random() < 0.7 else "", at)
        if mode == "government":  # the call-back a government-purchased service gets (回访)
            draft.call_back = {
                "sampled_at": out + datetime.timedelta(days=1),
                "called_at": out + datetime.timedelta(days=2, hours=2),
                "called_by": draft.desk,
                "reached": True,
                "received": True,
                "on_time": True,
                "full_duration": True,
                "same_worker": True,
                "note": "家属确认按时上门、服务时长足够、是同一位服务人员",
            }
        return draft

    def cancelled(self, place, elder, item, worker, start):
        draft = self._order(place, elder, item, "free", 1, start)
        stage = self.rng.choice(["created", "dispatched", "accepted"])
        if stage != "created":
            self._dispatch(draft, worker)
        if stage == "accepted":
            self._accept(draft, worker)
        reason = self.rng.choice(CANCEL_REASONS)
        at = max(draft.updated_at + datetime.timedelta(minutes=30), start - datetime.timedelta(hours=3))
        draft.order.cancel_reason = reason
        draft.order.status = Status.CANCELLED
        self._move(draft, "cancel", min(at, start), draft.desk, {}, reason)

    def no_show(self, place, elder, item, worker, start):
        """Accepted, and nobody came: 30 minutes past the start the visit was flagged missed."""
        draft = self._order(place, elder, item, "free", 1, start, source=Source.HOTLINE)
        self._dispatch(draft, worker)
        self._accept(draft, worker)
        draft.order.flags = ["no_show"]
        at = start + datetime.timedelta(minutes=30)
        draft.exceptions.append(_exception("no_show", "预约开始 30 分钟后仍未签到，老人来电询问", at, None))
        draft.updated_at = at

    def upcoming(self, place, elder, item, mode, quantity, worker, start, status, **options):
        """An order still to be served: created, dispatched or accepted."""
        source, plan, agreement = options.get("source"), options.get("plan"), options.get("agreement")
        draft = self._order(place, elder, item, mode, quantity, start, source=source, plan=plan, agreement=agreement)
        if status in (Status.DISPATCHED, Status.ACCEPTED):
            self._dispatch(
                draft,
                worker,
                organisation_only=options.get("organisation_only", False),
                overdue=options.get("overdue", False),
                waiting=status == Status.DISPATCHED and plan is None,
            )
        if status == Status.ACCEPTED:
            self._accept(draft, worker)
        return draft

    # --- writing ----------------------------------------------------------------------------------

    def write(self) -> int:
        """Every draft in bulk: the orders, their history (each move replayed through
        ORDER_MACHINE), exceptions, follow-ups and call-backs. The creation times are the
        drafts' own: bulk_create stamps auto_now_add fields with the present, _stamp sets them
        after."""
        drafts = self.drafts
        if not drafts:
            return 0
        orders = [d.order for d in drafts]
        Order.objects.bulk_create(orders, batch_size=500)
        _stamp(Order, [(d.order.pk, d.created_at, d.updated_at) for d in drafts], "created_at", "updated_at")

        records, times = [], []
        for d in drafts:
            state = Status.CREATED
            for action, at, by, changes, note in d.events:
                if action != "create":
                    after = ORDER_MACHINE.target(state, action)
                    if after is None:
                        raise ValueError(f"demo order {d.order.pk}: {action} from {state} is not in ORDER_MACHINE")
                    changes = {"status": [str(state), str(after)], **changes}
                    state = after
                records.append(
                    ChangeRecord(
                        model="orders.order",
                        object_id=d.order.pk,
                        action="create" if action == "create" else ORDER_MACHINE.record_action,
                        changes=changes,
                        note=note,
                        by=by,
                        region_id=d.order.region_id,
                    )
                )
                times.append(at)
            if state != d.order.status:
                raise ValueError(f"demo order {d.order.pk}: its history ends in {state}, the order is {d.order.status}")
        _write_stamped(ChangeRecord, records, "at", times)

        rows, times = [], []
        for d in drafts:
            for e in d.exceptions:
                times.append(e.pop("opened_at"))
                rows.append(VisitException(order=d.order, **e))
        _write_stamped(VisitException, rows, "opened_at", times)
        rows, times = [], []
        for d in drafts:
            if d.follow_up:
                times.append(d.follow_up.pop("created_at"))
                rows.append(FollowUp(order=d.order, **d.follow_up))
        _write_stamped(FollowUp, rows, "created_at", times)
        rows, times = [], []
        for d in drafts:
            if d.call_back:
                times.append(d.call_back.pop("sampled_at"))
                rows.append(CallBack(order=d.order, **d.call_back))
        _write_stamped(CallBack, rows, "sampled_at", times)
        return len(drafts)


def _write_stamped(model, rows, field, times) -> None:
    """bulk_create, then the auto_now_add `field` set to each row's own time."""
    if not rows:
        return
    model.objects.bulk_create(rows, batch_size=1000)
    _stamp(model, [(row.pk, at) for row, at in zip(rows, times, strict=True)], field)


def _stamp(model, pairs, *fields) -> None:
    """Set `fields` of rows by primary key: pairs of (pk, value, …) in the fields' order. One
    statement run for every row (executemany): bulk_update's CASE over a thousand keys took
    seconds here. Values go through each field's own conversion for the database."""
    from django.db import connection

    columns = [model._meta.get_field(name) for name in fields]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(f"{connection.ops.quote_name(c.column)} = %s" for c in columns),
        connection.ops.quote_name(model._meta.pk.column),
    )
    params = [
        [c.get_db_prep_save(value, connection) for c, value in zip(columns, values, strict=True)] + [pk] for pk, *values in pairs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _exception(code, detail, opened_at, resolved) -> dict:
    """A VisitException's fields: open, or resolved as (note, when, by) — accepted."""
    out = {"code": code, "detail": detail[:200], "opened_at": opened_at, "resolution": VisitException.Resolution.OPEN}
    if resolved is not None:
        note, at, by = resolved
        out.update(resolution=VisitException.Resolution.ACCEPTED, resolution_note=note, resolved_at=at, resolved_by=by)
    return out


# --- plans' days --------------------------------------------------------------------------------


def plan_days(rule: str, calendar: str, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The days of an RFC 5545 rule from `first` to `last`, bent by China's calendar
    (chinese-calendar): WORKING_DAYS keeps the legal working days, make-up Saturdays (调休)
    included; SKIP_HOLIDAYS drops public holidays. Years the library does not know yet fall
    back to Monday–Friday and no holidays."""
    import chinese_calendar
    from dateutil.rrule import rrulestr

    start = datetime.datetime.combine(first, datetime.time())
    days = [
        d.date() for d in rrulestr(rule, dtstart=start).between(start, datetime.datetime.combine(last, datetime.time()), inc=True)
    ]

    def keep(day):
        try:
            if calendar == OrderPlan.Calendar.WORKING_DAYS:
                return chinese_calendar.is_workday(day)
            if calendar == OrderPlan.Calendar.SKIP_HOLIDAYS:
                is_holiday, name = chinese_calendar.get_holiday_detail(day)
                return not (is_holiday and name)
        except NotImplementedError:
            return calendar != OrderPlan.Calendar.WORKING_DAYS or day.weekday() < 5
        return True

    return [d for d in days if keep(d)]


# --- small helpers -----------------------------------------------------------------------------


def local_at(day: datetime.date, minute: int) -> datetime.datetime:
    """`minute` of `day`, local time (Asia/Shanghai), aware."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60)))


def daytime(at: datetime.datetime, first: int, last: int) -> datetime.datetime:
    """`at` moved into the hours first…last (minutes of the local day): a night's time to the
    next morning, keeping its minutes past the hour."""
    local = timezone.localtime(at)
    minute = local.hour * 60 + local.minute
    if first <= minute <= last:
        return at
    day = local.date() + datetime.timedelta(days=1 if minute > last else 0)
    return local_at(day, first + minute % 60) + datetime.timedelta(seconds=local.second)


def point_near(rng, home, metres: float) -> tuple[float, float]:
    """A point `metres` from `home` in a random direction (WGS-84, 7 decimals as phones give)."""
    bearing = rng.uniform(0, 2 * math.pi)
    lat = home[0] + metres * math.cos(bearing) / METRES_PER_DEGREE_LAT
    lng = home[1] + metres * math.sin(bearing) / (METRES_PER_DEGREE_LAT * math.cos(math.radians(home[0])))
    return round(lat, 7), round(lng, 7)


def _pick(rng, weighted):
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _pk(obj):
    return obj.pk if obj is not None else None


def named(elders, name):
    return next((e for e in elders if e.name == name), None)


def age_on(elder, today) -> float:
    return (today - elder.birth_date).days / 365.25


def minutes_of(t: datetime.time | None, default: int) -> int:
    return default if t is None else t.hour * 60 + t.minute
