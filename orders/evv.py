"""Visit verification (EVV): check-in and check-out at the door, exceptions, stray check-ins,
the no-show sweep (issue 11, item 3; the rules in docs/orders-visits.md).

A verified visit records six things: the service (the order's item), the elder, the worker, the
place (position and its accuracy, and the distance to the elder's home), the start and the end.
Check-in and check-out move the order through `orders.services.order_move` after locking its
row (`_locked`), so a retry that arrives while the first request is still running waits for it
and then finds its idempotency key.

Outside the rules a visit gets a `VisitException` (one per order and code) and the code in
`order.flags`; a person resolves it. Verification, decided once the visit is checked out:

- any exception rejected by a person            → rejected (not payable);
- else a dispute still open (below)             → disputed (not payable until resolved);
- else any exception still open                 → pending (not payable until resolved);
- else (none, or all accepted)                  → verified.

Before check-out an order is pending whatever its exceptions.

Disputes. When the elder or a relative says a visit did not happen as recorded — on a call-back
(回访: "did you receive the service?" answered no) or at the desk — `order_dispute` opens an
exception of code `disputed` on the checked-out order: the visit becomes disputed, is not paid,
and the time coins it earned go back (the AFTER_VERIFY hooks), until a person resolves it in
the same queue as the other exceptions: accepted (the visit stands), rejected (not paid).

Which codes are exceptions (they keep the visit unpayable until a person resolves them) and
which are only flags (shown on the order and the supervision board):

- exceptions: late, no_show, outside_geofence, checkout_outside, low_accuracy, no_location,
  short, clock_skew;
- flags only: over_run (the price is fixed on the order, a longer visit costs no more) and
  delayed_sync (an offline record whose phone time was trusted: nothing to resolve).

Offline records. The phone's queue sends `device_at` (its clock when the worker tapped) and
`device_sent_at` (its clock when it sent), with `offline=true`. The server measures the
phone's clock against its own (`device_sent_at` − the time it received the request) and keeps
`device_at` as the visit time when that skew is within EVV_MAX_CLOCK_SKEW_MINUTES, the time is
not in the future and not older than EVV_OFFLINE_MAX_HOURS; otherwise the visit time is the
phone time corrected by the measured skew (or the time received, when the skew is unknown) and
a clock_skew exception asks a person to look.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Role
from audit.services import change_record
from core.access import check
from core.geo import haversine_m
from orders.models import ORDER_MACHINE, ExceptionCode, Order, Status, StrayCheckin, Verification, VisitException
from orders.services import AFTER_VERIFY, _locked, clean_text, idempotency_record, idempotent, order_move

# Codes that are only flags, never exceptions to resolve (see the module).
FLAG_ONLY = frozenset({ExceptionCode.OVER_RUN, ExceptionCode.DELAYED_SYNC})
NOTE_MAX = 200
OUTCOME_VALUE_MAX = 200


@dataclass(frozen=True)
class Rules:
    """The EVV settings in force (read on every call: tests and deployments change them)."""

    late_grace: datetime.timedelta
    no_show: datetime.timedelta
    early: datetime.timedelta
    geofence_m: int
    min_accuracy_m: int
    short_percent: int
    over_run_percent: int
    max_skew: datetime.timedelta
    offline_max: datetime.timedelta


def rules() -> Rules:
    minutes = datetime.timedelta(minutes=1)
    return Rules(
        late_grace=settings.EVV_LATE_GRACE_MINUTES * minutes,
        no_show=settings.EVV_NO_SHOW_MINUTES * minutes,
        early=settings.EVV_EARLY_MINUTES * minutes,
        geofence_m=int(settings.EVV_GEOFENCE_METRES),
        min_accuracy_m=int(settings.EVV_MIN_ACCURACY_METRES),
        short_percent=int(settings.EVV_SHORT_PERCENT),
        over_run_percent=int(settings.EVV_OVER_RUN_PERCENT),
        max_skew=settings.EVV_MAX_CLOCK_SKEW_MINUTES * minutes,
        offline_max=datetime.timedelta(hours=settings.EVV_OFFLINE_MAX_HOURS),
    )


def _local(at: datetime.datetime) -> str:
    return timezone.localtime(at).isoformat(timespec="seconds")


def _minutes(delta: datetime.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _aware(at):
    if at is not None and timezone.is_naive(at):
        return timezone.make_aware(at)
    return at


# --- the worker, the place, the time ---------------------------------------------------------------


def _check_worker(by, order: Order) -> None:
    """Only the worker the order was given to records its visit (the point of EVV)."""
    from orders.selectors import worker_of

    worker = worker_of(by)
    mine = worker is not None and (
        (by.role == Role.CAREGIVER and order.caregiver_id == worker.pk)
        or (by.role == Role.VOLUNTEER and order.volunteer_id == worker.pk)
    )
    if not mine:
        raise ValidationError({"action": _("只有接单的服务人员本人可以签到、签退，请用自己的账号操作")})


def _check_position(lat, lng, accuracy_m) -> None:
    errors = {}
    if (lat is None) != (lng is None):
        errors["lat"] = _("纬度和经度应同时提供，或同时留空（未获取定位）")
    if lat is not None and not -90 <= lat <= 90:
        errors["lat"] = _("纬度应在 -90 至 90 之间")
    if lng is not None and not -180 <= lng <= 180:
        errors["lng"] = _("经度应在 -180 至 180 之间")
    if accuracy_m is not None and not 0 <= accuracy_m <= 100_000:
        errors["accuracy_m"] = _("定位精度应为 0 至 100000 米")
    if errors:
        raise ValidationError(errors)


def _place(order: Order, lat, lng, accuracy_m, *, outside: str, r: Rules) -> tuple[int | None, list]:
    """The distance to the elder's home (whole metres, as recorded) and the problems of the place."""
    problems = []
    if lat is None:
        problems.append((ExceptionCode.NO_LOCATION, _("手机未提供定位")))
        return None, problems
    elder = order.elder
    distance = None
    if elder.home_lat is None or elder.home_lng is None:
        problems.append((ExceptionCode.NO_LOCATION, _("老人住址未标注坐标，无法核对服务地点")))
    else:
        distance = round(haversine_m(lat, lng, elder.home_lat, elder.home_lng))
        # The recorded, whole-metre distance decides: 200 m is inside a 200 m fence, 201 m is not.
        if distance > r.geofence_m:
            problems.append((outside, _("距老人家 %(d)d 米，超出 %(r)d 米范围") % {"d": distance, "r": r.geofence_m}))
    if accuracy_m is None:
        problems.append((ExceptionCode.LOW_ACCURACY, _("手机未报告定位精度")))
    elif accuracy_m > r.min_accuracy_m:
        problems.append(
            (ExceptionCode.LOW_ACCURACY, _("定位精度 %(a)d 米，要求不超过 %(m)d 米") % {"a": accuracy_m, "m": r.min_accuracy_m})
        )
    return distance, problems


def _visit_time(*, now, device_at, device_sent_at, offline: bool, r: Rules) -> tuple[datetime.datetime, list]:
    """When the visit event happened: the server's time online; offline, the phone's time when
    its clock can be trusted (see the module), else a corrected time and a clock_skew problem."""
    device_at, device_sent_at = _aware(device_at), _aware(device_sent_at)
    if not offline:
        return now, []
    if device_at is None:
        raise ValidationError({"device_at": _("离线补传的记录须附手机记录时的时间")})
    skew = (device_sent_at - now) if device_sent_at is not None else None
    in_future = device_at > now + r.max_skew
    too_old = device_at < now - r.offline_max
    if not in_future and not too_old and (skew is None or abs(skew) <= r.max_skew):
        return min(device_at, now), []
    if skew is not None:
        at = min(max(device_at - skew, now - r.offline_max), now)
        detail = _("手机时钟与服务器相差 %(m)d 分钟，已按差值校正为 %(at)s") % {
            "m": round(abs(skew.total_seconds()) / 60),
            "at": timezone.localtime(at).strftime("%m-%d %H:%M"),
        }
    else:
        at = now
        detail = _("手机时间 %(d)s 不可信（超前或超过离线补传期限），已按收到时间记录") % {
            "d": timezone.localtime(device_at).strftime("%m-%d %H:%M")
        }
    return at, [(ExceptionCode.CLOCK_SKEW, detail)]


# --- exceptions and verification ---------------------------------------------------------------------


def _flag(order: Order, code: str) -> None:
    flags = list(order.flags or [])
    if code not in flags:
        flags.append(str(code))
    order.flags = flags


def _exception_open(*, order: Order, code: str, detail: str, by) -> VisitException:
    """Open the order's exception of `code` (one per order and code): a repeat adds its detail;
    a repeat of one already resolved opens it again, for a person to look at the new fact."""
    found = VisitException.objects.select_for_update().filter(order=order, code=code).first()
    if found is None:
        exception = VisitException(order=order, code=code, detail=str(detail)[:200])
        exception.full_clean(exclude=["order", "resolved_by"])
        exception.save()
        change_record(
            obj=exception,
            action="create",
            changes={"code": [None, str(code)], "detail": [None, exception.detail]},
            by=by,
            region=order.region,
        )
        return exception
    before = {"detail": found.detail, "resolution": found.resolution}
    if detail and detail not in found.detail:
        found.detail = f"{found.detail}；{detail}"[:200]
    if found.resolution != VisitException.Resolution.OPEN:
        found.resolution = VisitException.Resolution.OPEN
        found.resolved_at = None
        found.resolved_by = None
    found.save(update_fields=["detail", "resolution", "resolved_at", "resolved_by"])
    change_record(
        obj=found,
        action="reopen" if before["resolution"] != found.resolution else "update",
        changes={k: [v, getattr(found, k)] for k, v in before.items() if v != getattr(found, k)},
        by=by,
        region=order.region,
    )
    return found


def verification_of(order: Order) -> str:
    """The verification the order's visit and exceptions give (see the module)."""
    if order.checkout_at is None:
        return Verification.PENDING
    found = set(VisitException.objects.filter(order=order).values_list("code", "resolution"))
    resolutions = {resolution for _code, resolution in found}
    if VisitException.Resolution.REJECTED in resolutions:
        return Verification.REJECTED
    if (ExceptionCode.DISPUTED, VisitException.Resolution.OPEN) in found:
        return Verification.DISPUTED
    if VisitException.Resolution.OPEN in resolutions:
        return Verification.PENDING
    return Verification.VERIFIED


def _problems_record(*, order: Order, problems: list, by) -> None:
    for code, detail in problems:
        _flag(order, code)
        if code not in FLAG_ONLY:
            _exception_open(order=order, code=code, detail=detail, by=by)


def _replayed(*, by, key, operation: str, order: Order):
    """The answer of an earlier request with the same key: the same order, unchanged."""
    earlier = idempotent(by=by, key=key, operation=operation)
    if earlier is not None and earlier.pk != order.pk:
        raise ValidationError({"idempotency_key": _("此幂等键已用于另一张工单，请换一个")})
    return earlier


# --- check-in, check-out -------------------------------------------------------------------------------


@transaction.atomic
def order_check_in(
    *,
    by,
    order: Order,
    lat: float | None,
    lng: float | None,
    accuracy_m: int | None,
    device_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    offline: bool = False,
    device_sent_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Order:
    """签到: the worker at the door records the start, the place and its accuracy. Late (past the
    grace), outside the geofence, a poor or missing position, an untrusted phone clock: each an
    exception. A retry with the same idempotency key returns the order as the first made it."""
    check(by, "serve", Order)
    order = _locked(order)
    if _replayed(by=by, key=idempotency_key, operation="check_in", order=order) is not None:
        return order
    ORDER_MACHINE.check(order, "check_in")
    _check_worker(by, order)
    _check_position(lat, lng, accuracy_m)
    r = rules()
    now = now or timezone.now()
    at, problems = _visit_time(now=now, device_at=device_at, device_sent_at=device_sent_at, offline=offline, r=r)
    if at < order.scheduled_start - r.early:
        raise ValidationError(
            {
                "action": _("还未到预约时间（%(start)s），最早可提前 %(m)d 分钟签到；如确实已上门，请登记临时签到")
                % {"start": timezone.localtime(order.scheduled_start).strftime("%m-%d %H:%M"), "m": _minutes(r.early)}
            }
        )
    late = at - order.scheduled_start
    if late > r.late_grace:
        problems.append(
            (
                ExceptionCode.LATE,
                _("比预约时间晚 %(m)d 分钟（允许 %(g)d 分钟）") % {"m": max(1, _minutes(late)), "g": _minutes(r.late_grace)},
            )
        )
    distance, place = _place(order, lat, lng, accuracy_m, outside=ExceptionCode.OUTSIDE_GEOFENCE, r=r)
    problems += place
    if offline:
        problems.append((ExceptionCode.DELAYED_SYNC, ""))
    flags_before = list(order.flags or [])
    order.checkin_at = at
    order.checkin_device_at = _aware(device_at)
    order.checkin_lat, order.checkin_lng, order.checkin_accuracy_m = lat, lng, accuracy_m
    order.checkin_distance_m = distance
    order.checkin_delayed = bool(offline)
    _problems_record(order=order, problems=problems, by=by)
    changes = {
        "checkin_at": [None, _local(at)],
        "checkin_distance_m": [None, distance],
        "checkin_accuracy_m": [None, accuracy_m],
        "checkin_delayed": [False, bool(offline)],
    }
    if order.flags != flags_before:
        changes["flags"] = [flags_before, order.flags]
    order_move(
        by=by,
        order=order,
        action="check_in",
        changes=changes,
        update_fields=[
            "checkin_at",
            "checkin_device_at",
            "checkin_lat",
            "checkin_lng",
            "checkin_accuracy_m",
            "checkin_distance_m",
            "checkin_delayed",
            "flags",
            "updated_at",
        ],
    )
    idempotency_record(by=by, key=idempotency_key, operation="check_in", order=order)
    return order


def outcomes_clean(item, outcomes) -> dict:
    """The outcomes the item asks for, each recorded (a tick or a short text), and nothing else;
    a refusal names the missing ones."""
    required = [str(o) for o in (item.outcomes or [])]
    outcomes = outcomes or {}
    if not isinstance(outcomes, dict):
        raise ValidationError({"outcomes": _("服务记录格式不正确，请刷新页面后重新填写")})
    unknown = [k for k in outcomes if k not in required]
    if unknown:
        raise ValidationError(
            {
                "outcomes": _("“%(names)s”不是“%(item)s”要求记录的内容，请刷新页面后重新填写")
                % {"names": "、".join(map(str, unknown)), "item": item.name}
            }
        )
    cleaned, missing = {}, []
    for name in required:
        value = outcomes.get(name)
        if isinstance(value, str):
            value = clean_text(value, "outcomes", name, max_length=OUTCOME_VALUE_MAX)
        if value is True or (isinstance(value, str) and value):
            cleaned[name] = value
        else:
            missing.append(name)
    if missing:
        raise ValidationError({"outcomes": _("签退前请先记录：%(names)s") % {"names": "、".join(missing)}})
    return cleaned


@transaction.atomic
def order_check_out(
    *,
    by,
    order: Order,
    lat: float | None,
    lng: float | None,
    accuracy_m: int | None,
    outcomes: dict,
    notes: str = "",
    device_at: datetime.datetime | None = None,
    idempotency_key: str | None = None,
    offline: bool = False,
    device_sent_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Order:
    """签退: the end, the place, the item's required outcomes and notes; short and over-running
    visits compared with the planned window; the verification decided (see the module)."""
    check(by, "serve", Order)
    order = _locked(order)
    if _replayed(by=by, key=idempotency_key, operation="check_out", order=order) is not None:
        return order
    ORDER_MACHINE.check(order, "check_out")
    _check_worker(by, order)
    _check_position(lat, lng, accuracy_m)
    cleaned = outcomes_clean(order.item, outcomes)
    notes = clean_text(notes, "notes", _("服务备注"), max_length=500)
    r = rules()
    now = now or timezone.now()
    at, problems = _visit_time(now=now, device_at=device_at, device_sent_at=device_sent_at, offline=offline, r=r)
    if at < order.checkin_at:
        problems.append(
            (
                ExceptionCode.CLOCK_SKEW,
                _("签退时间早于签到时间（%(t)s），已按签到时间记录") % {"t": timezone.localtime(at).strftime("%H:%M")},
            )
        )
        at = order.checkin_at
    distance, place = _place(order, lat, lng, accuracy_m, outside=ExceptionCode.CHECKOUT_OUTSIDE, r=r)
    problems += place
    planned = order.scheduled_end - order.scheduled_start
    served = at - order.checkin_at
    if planned.total_seconds() > 0:
        percent = served / planned * 100
        if percent < r.short_percent:
            problems.append(
                (
                    ExceptionCode.SHORT,
                    _("服务 %(s)d 分钟，计划 %(p)d 分钟，不足 %(pc)d%%")
                    % {"s": _minutes(served), "p": _minutes(planned), "pc": r.short_percent},
                )
            )
        elif percent > r.over_run_percent:
            problems.append((ExceptionCode.OVER_RUN, ""))
    if offline:
        problems.append((ExceptionCode.DELAYED_SYNC, ""))
    flags_before = list(order.flags or [])
    verification_before = order.verification
    order.checkout_at = at
    order.checkout_device_at = _aware(device_at)
    order.checkout_lat, order.checkout_lng, order.checkout_accuracy_m = lat, lng, accuracy_m
    order.checkout_distance_m = distance
    order.checkout_delayed = bool(offline)
    order.outcomes = cleaned
    order.worker_notes = notes
    _problems_record(order=order, problems=problems, by=by)
    order.verification = verification_of(order)
    changes = {
        "checkout_at": [None, _local(at)],
        "checkout_distance_m": [None, distance],
        "checkout_accuracy_m": [None, accuracy_m],
        "checkout_delayed": [False, bool(offline)],
        "outcomes": [{}, cleaned],
        "verification": [verification_before, order.verification],
    }
    if notes:
        changes["worker_notes"] = ["", notes]
    if order.flags != flags_before:
        changes["flags"] = [flags_before, order.flags]
    order_move(
        by=by,
        order=order,
        action="check_out",
        changes=changes,
        update_fields=[
            "checkout_at",
            "checkout_device_at",
            "checkout_lat",
            "checkout_lng",
            "checkout_accuracy_m",
            "checkout_distance_m",
            "checkout_delayed",
            "outcomes",
            "worker_notes",
            "flags",
            "verification",
            "updated_at",
        ],
    )
    idempotency_record(by=by, key=idempotency_key, operation="check_out", order=order)
    return order


# --- resolution by a person ------------------------------------------------------------------------------


def _verification_refresh(*, order: Order, by) -> None:
    before = order.verification
    after = verification_of(order)
    if after != before:
        order.verification = after
        order.save(update_fields=["verification", "updated_at"])
        change_record(obj=order, action="verify", changes={"verification": [before, after]}, by=by, region=order.region)
        for hook in AFTER_VERIFY:
            hook(order=order, by=by)


@transaction.atomic
def visit_exception_resolve(*, by, exception: VisitException, resolution: str, note: str) -> VisitException:
    """A person's decision on an exception: accepted (the visit stands, payable) or rejected (not
    paid), with a required note; the order's verification follows (see the module)."""
    check(by, "resolve", VisitException)
    exception = VisitException.objects.select_for_update().get(pk=exception.pk)
    if resolution not in (VisitException.Resolution.ACCEPTED, VisitException.Resolution.REJECTED):
        raise ValidationError({"resolution": _("请选择处理结果：认可或不认可")})
    if exception.resolution != VisitException.Resolution.OPEN:
        raise ValidationError(
            {"resolution": _("这条异常已处理（%(r)s），不能重复处理") % {"r": exception.get_resolution_display()}}
        )
    note = clean_text(note, "note", _("处理说明"), required=True, max_length=NOTE_MAX)
    order = _locked(exception.order)
    exception.resolution = resolution
    exception.resolution_note = note
    exception.resolved_at = timezone.now()
    exception.resolved_by = by
    exception.save(update_fields=["resolution", "resolution_note", "resolved_at", "resolved_by"])
    change_record(
        obj=exception,
        action="resolve",
        changes={"resolution": [VisitException.Resolution.OPEN, resolution]},
        by=by,
        region=order.region,
        note=note,
    )
    _verification_refresh(order=order, by=by)
    exception.order = order
    return exception


def dispute_open(*, by, order: Order, reason: str) -> VisitException:
    """Open (or reopen) the order's dispute; the caller has checked its own permission."""
    order = _locked(order)
    if order.checkout_at is None:
        raise ValidationError({"order": _("服务尚未签退，不能提出异议；如未上门，请在工单上处理")})
    reason = clean_text(reason, "reason", _("异议内容"), required=True, max_length=NOTE_MAX)
    exception = _exception_open(order=order, code=ExceptionCode.DISPUTED, detail=reason, by=by)
    _flag(order, ExceptionCode.DISPUTED)
    order.save(update_fields=["flags", "updated_at"])
    _verification_refresh(order=order, by=by)
    return exception


@transaction.atomic
def order_dispute(*, by, order: Order, reason: str) -> VisitException:
    """The elder or a relative disputes a checked-out visit (read through `by`'s scope): not
    payable and its coins taken back until a person resolves the dispute (see the module)."""
    check(by, "resolve", VisitException)
    return dispute_open(by=by, order=order, reason=reason)


# --- stray check-ins --------------------------------------------------------------------------------------


@transaction.atomic
def stray_checkin_record(
    *, by, lat, lng, accuracy_m, elder=None, note: str, device_at=None, now: datetime.datetime | None = None
) -> StrayCheckin:
    """A check-in that matches no scheduled visit of the caregiver (an unplanned call, a visit
    missing from the list): kept with its time and place for a community worker to resolve."""
    from orders.selectors import worker_of

    check(by, "serve", Order)
    worker = worker_of(by) if by.role == Role.CAREGIVER else None
    if worker is None:
        raise ValidationError({"action": _("只有服务人员可以登记临时签到，请用服务人员账号操作")})
    _check_position(lat, lng, accuracy_m)
    note = clean_text(note, "note", _("说明"), required=True, max_length=NOTE_MAX)
    stray = StrayCheckin(
        caregiver=worker,
        organisation=worker.organisation,
        region=elder.region if elder is not None else worker.organisation.region,
        elder=elder,
        at=now or timezone.now(),
        device_at=_aware(device_at),
        lat=lat,
        lng=lng,
        accuracy_m=accuracy_m,
        note=note,
    )
    stray.full_clean(exclude=["order", "resolved_by"])
    stray.save()
    change_record(
        obj=stray,
        action="create",
        changes={"at": [None, _local(stray.at)], "elder": [None, elder.pk if elder else None], "note": [None, note]},
        by=by,
        region=stray.region,
    )
    return stray


@transaction.atomic
def stray_checkin_resolve(
    *, by, stray: StrayCheckin, order: Order | None = None, dismiss: bool = False, note: str
) -> StrayCheckin:
    """A community worker links a stray check-in to the order it belongs to (read through their
    scope) or dismisses it, with a note. Linking records the evidence on the order's history; it
    does not check the order in (only the worker does that, at the door)."""
    check(by, "resolve", VisitException)
    stray = StrayCheckin.objects.select_for_update().get(pk=stray.pk)
    if stray.state != StrayCheckin.State.OPEN:
        raise ValidationError({"action": _("这条临时签到已处理（%(s)s），不能重复处理") % {"s": stray.get_state_display()}})
    if (order is None) == (not dismiss):
        raise ValidationError({"order": _("请选择要关联的工单，或选择驳回")})
    note = clean_text(note, "note", _("处理说明"), required=True, max_length=NOTE_MAX)
    state = StrayCheckin.State.DISMISSED if dismiss else StrayCheckin.State.MATCHED
    stray.state = state
    stray.order = order
    stray.resolved_at = timezone.now()
    stray.resolved_by = by
    stray.save(update_fields=["state", "order", "resolved_at", "resolved_by"])
    change_record(
        obj=stray,
        action="resolve",
        changes={"state": [StrayCheckin.State.OPEN, state], "order": [None, order.pk if order else None]},
        by=by,
        region=stray.region,
        note=note,
    )
    if order is not None:
        change_record(
            obj=order,
            action="stray_checkin",
            changes={"stray_checkin": [None, stray.pk], "stray_at": [None, _local(stray.at)]},
            by=by,
            region=order.region,
            note=note,
        )
    return stray


# --- the no-show sweep ----------------------------------------------------------------------------------------

SWEEP_BATCH = 2000


def no_show_sweep(*, now: datetime.datetime | None = None) -> int:
    """Accepted orders with no check-in past their start + EVV_NO_SHOW_MINUTES get a no_show
    exception and flag (set-based, in batches; run again, it finds nothing new). Returns how many."""
    now = now or timezone.now()
    cutoff = now - rules().no_show
    flagged = VisitException.objects.filter(order=OuterRef("pk"), code=ExceptionCode.NO_SHOW)
    total = 0
    while True:
        with transaction.atomic():
            batch = list(
                Order.objects.filter(status=Status.ACCEPTED, checkin_at__isnull=True, scheduled_start__lt=cutoff)
                .filter(~Exists(flagged))
                .select_related("region")
                .select_for_update(of=("self",))
                .order_by("scheduled_start", "id")[:SWEEP_BATCH]
            )
            if not batch:
                return total
            exceptions = [
                VisitException(
                    order=o,
                    code=ExceptionCode.NO_SHOW,
                    detail=_("预约 %(start)s 开始，超过 %(m)d 分钟仍未签到")
                    % {"start": timezone.localtime(o.scheduled_start).strftime("%m-%d %H:%M"), "m": _minutes(rules().no_show)},
                )
                for o in batch
            ]
            VisitException.objects.bulk_create(exceptions, ignore_conflicts=True)
            for o in batch:
                before = list(o.flags or [])
                _flag(o, ExceptionCode.NO_SHOW)
                change_record(obj=o, action="flag", changes={"flags": [before, o.flags]}, by=None, region=o.region)
            Order.objects.bulk_update(batch, ["flags"])
            total += len(batch)
