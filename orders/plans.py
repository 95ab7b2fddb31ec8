"""Recurring plans (周期服务计划): RFC 5545 rules with China's working days, and the generator
that turns them into orders ahead of time (docs/orders-plans.md).

A plan says which days (an RFC 5545 RRULE over dates, dateutil.rrule), how China's calendar
bends them (`OrderPlan.Calendar`: every day of the rule; working days only, make-up working
Saturdays included; or the rule without statutory holidays — chinese-calendar), at what time,
for how long, and who serves. `order_plans_generate` creates each active plan's orders up to
ORDERS_PLAN_DAYS_AHEAD days ahead, daily (jobs/schedule.py): set-based (rows and their history
by COPY, in batches of plans), idempotent (the unique constraint (plan, scheduled_start) and a
read of what exists), and dispatches the new orders when the plan says so.

chinese-calendar only knows the years it was released with (up to 2026 for 1.11): for a later
year a "working days" plan falls back to Monday–Friday and a "skip holidays" plan skips nothing,
and the pages say so (`calendar_known_until`). Nothing crashes on an unknown year.
"""

import datetime
import importlib.util
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import change_record, change_records_from_rows
from core.access import check, get_scoped_or_404
from orders.models import Order, OrderPlan, Status
from orders.services import clean_text, order_cancel, order_dispatch

log = logging.getLogger(__name__)

Calendar = OrderPlan.Calendar

# Rule limits: at most daily (a plan is one visit a day at its time), a bounded COUNT and UNTIL.
COUNT_MAX = 1000
YEARS_MAX = 3  # UNTIL and the plan's end at most this many years after its start
INTERVAL_MAX = 366
DURATION_MIN, DURATION_MAX = 10, 720
PREVIEW_COUNT = 10
BATCH = 500  # plans per transaction of the generator

FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
TOO_OFTEN = {"SECONDLY", "MINUTELY", "HOURLY"}
KEYS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
TIME_KEYS = {"BYHOUR", "BYMINUTE", "BYSECOND"}
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_UNTIL = re.compile(r"^(\d{8})(T\d{6}Z?)?$")
MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def fallback_note(year: int) -> str:
    """Stated once for pages, API and docs: what a plan does in a year chinese-calendar does not know."""
    return _(
        "%(year)d 年及以后的法定节假日和调休安排尚未收录：“仅法定工作日”暂按周一至周五安排，"
        "“跳过法定节假日”暂不跳过任何日期。国家公布安排并升级日历数据后自动按新安排生成。"
    ) % {"year": year}


def days_ahead() -> int:
    return int(getattr(settings, "ORDERS_PLAN_DAYS_AHEAD", 14))


# --- China's calendar ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def calendar_known_until() -> int:
    """The last year chinese-calendar holds holidays and make-up working days for."""
    try:
        from chinese_calendar import constants

        return max(day.year for day in constants.holidays)
    except Exception:  # an unexpected layout of a future release: say nothing is known
        return 0


def _calendar_detail(day: datetime.date) -> tuple[bool, bool, bool] | None:
    """(is a working day, is a statutory holiday, is a make-up working day) from chinese-calendar,
    or None for a year it does not know."""
    if day.year > calendar_known_until():
        return None
    import chinese_calendar

    try:
        working = chinese_calendar.is_workday(day)
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return working, bool(on_holiday and name), bool(working and day.weekday() >= 5)


def calendar_keeps(calendar: str, day: datetime.date) -> bool:
    """Whether a date the rule gives is served under `calendar`."""
    if calendar == Calendar.ALL_DAYS:
        return True
    detail = _calendar_detail(day)
    if calendar == Calendar.WORKING_DAYS:
        return detail[0] if detail is not None else day.weekday() < 5
    if calendar == Calendar.SKIP_HOLIDAYS:
        return not detail[1] if detail is not None else True
    return True


def day_note(day: datetime.date) -> str:
    """What the calendar says of a date, for the preview: 调休上班 or 法定节假日 or ''."""
    detail = _calendar_detail(day)
    if detail is None:
        return ""
    if detail[2]:
        return str(_("调休上班日"))
    if detail[1]:
        return str(_("法定节假日"))
    return ""


# --- the rule -----------------------------------------------------------------------------------


def _rule_error(message) -> ValidationError:
    return ValidationError({"rrule": message})


def _check_byday(value: str, freq: str) -> None:
    for part in value.split(","):
        match = _BYDAY.match(part)
        if not match:
            raise _rule_error(_("重复规则的 BYDAY 只能是 MO、TU、WE、TH、FR、SA、SU（可带序号，如 1MO、-1FR），请修改"))
        if match.group(1) and freq not in ("MONTHLY", "YEARLY"):
            raise _rule_error(_("BYDAY 带序号（如 1MO）只能用于按月或按年的规则"))


def _ints(key: str, value: str, lo: int, hi: int, *, signed: bool = False) -> list[int]:
    try:
        numbers = [int(v) for v in value.split(",")]
    except ValueError:
        raise _rule_error(_("重复规则的 %(key)s 应为整数，多个用逗号分隔") % {"key": key}) from None
    for n in numbers:
        if not (lo <= abs(n) <= hi) or (n < 0 and not signed):
            raise _rule_error(_("重复规则的 %(key)s 超出范围（%(lo)d 至 %(hi)d），请修改") % {"key": key, "lo": lo, "hi": hi})
    return numbers


@dataclass(frozen=True)
class Rule:
    """A checked rule: its text as stored (normalised) and its dateutil rrule from the start."""

    text: str
    starts_on: datetime.date
    until: datetime.date | None
    count: int | None

    @property
    def rrule(self):
        return _parse(self.text, self.starts_on)


@lru_cache(maxsize=2048)
def _parse(text: str, starts_on: datetime.date):
    from dateutil import rrule

    return rrule.rrulestr(text, dtstart=datetime.datetime.combine(starts_on, datetime.time.min))


def parse_rule(text: str, starts_on: datetime.date) -> Rule:
    """Check an RFC 5545 RRULE for a plan starting on `starts_on` and return it normalised.

    Refused, with a Chinese message on `rrule`: what is not an RRULE, more than daily (and time
    parts: the plan's time is its own field), COUNT above COUNT_MAX, UNTIL more than YEARS_MAX
    years after the start or before it, and a few rules that can never happen (31 February, a
    daily rule stepping by weeks onto another weekday)."""
    raw = " ".join(str(text or "").split()).upper()
    if raw.startswith("RRULE:"):
        raw = raw[len("RRULE:") :].strip()
    if not raw:
        raise _rule_error(_("请填写重复规则，例如每周五：FREQ=WEEKLY;BYDAY=FR"))
    if len(raw) > 200:
        raise _rule_error(_("重复规则最多 200 个字符，请精简"))
    parts: dict[str, str] = {}
    for chunk in raw.strip(";").split(";"):
        key, sep, value = chunk.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise _rule_error(_("重复规则格式不正确：应为“键=值”并用分号分隔，例如 FREQ=WEEKLY;BYDAY=FR"))
        if key in TIME_KEYS:
            raise _rule_error(_("重复规则不能含 BYHOUR、BYMINUTE、BYSECOND：上门时间请填写在“上门时间”中"))
        if key in ("DTSTART", "RDATE", "EXDATE"):
            raise _rule_error(_("重复规则不能含 %(key)s：开始日期请填写在“开始日期”中") % {"key": key})
        if key not in KEYS:
            raise _rule_error(
                _("重复规则不支持 %(key)s，可用：FREQ、INTERVAL、COUNT、UNTIL、BYDAY、BYMONTHDAY、BYMONTH、BYSETPOS")
                % {"key": key}
            )
        if key in parts:
            raise _rule_error(_("重复规则中 %(key)s 出现了两次，请只保留一个") % {"key": key})
        parts[key] = value
    freq = parts.get("FREQ", "")
    if not freq:
        raise _rule_error(_("重复规则缺少 FREQ，例如每天 FREQ=DAILY、每周 FREQ=WEEKLY"))
    if freq in TOO_OFTEN:
        raise _rule_error(_("周期计划最多每天一次：FREQ 请用 DAILY、WEEKLY、MONTHLY 或 YEARLY"))
    if freq not in FREQS:
        raise _rule_error(_("FREQ 只能是 DAILY、WEEKLY、MONTHLY 或 YEARLY"))
    if "COUNT" in parts and "UNTIL" in parts:
        raise _rule_error(_("COUNT 和 UNTIL 只能选一个（RFC 5545），请删去其中一个"))
    interval = _ints("INTERVAL", parts["INTERVAL"], 1, INTERVAL_MAX)[0] if "INTERVAL" in parts else 1
    count = None
    if "COUNT" in parts:
        count = _ints("COUNT", parts["COUNT"], 1, COUNT_MAX)[0]
    limit = _years_after(starts_on, YEARS_MAX)
    until = None
    if "UNTIL" in parts:
        match = _UNTIL.match(parts["UNTIL"])
        try:
            until = datetime.datetime.strptime(match.group(1), "%Y%m%d").date() if match else None
        except ValueError:
            until = None
        if until is None:
            raise _rule_error(_("UNTIL 应为日期，例如 UNTIL=20261231"))
        if until < starts_on:
            raise _rule_error(_("UNTIL 不能早于开始日期"))
        if until > limit:
            raise _rule_error(
                _("UNTIL 最晚为开始后 %(n)d 年（%(day)s），更长的计划请到期后续订") % {"n": YEARS_MAX, "day": limit}
            )
        parts["UNTIL"] = until.strftime("%Y%m%d") + "T235959"
    months = _ints("BYMONTH", parts["BYMONTH"], 1, 12) if "BYMONTH" in parts else list(range(1, 13))
    if "BYMONTHDAY" in parts:
        monthdays = _ints("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True)
        if not any(abs(d) <= MONTH_DAYS[m] for d in monthdays for m in months):
            raise _rule_error(_("这条规则的日期不存在（例如 2 月 30 日），不会产生任何服务，请修改"))
    if "BYDAY" in parts:
        _check_byday(parts["BYDAY"], freq)
    if "BYSETPOS" in parts:
        _ints("BYSETPOS", parts["BYSETPOS"], 1, 366, signed=True)
    if "WKST" in parts and parts["WKST"] not in WEEKDAYS:
        raise _rule_error(_("WKST 只能是 MO 至 SU"))
    if freq == "DAILY" and interval % 7 == 0 and "BYDAY" in parts:
        days = {_BYDAY.match(p).group(2) for p in parts["BYDAY"].split(",")}
        if WEEKDAYS[starts_on.weekday()] not in days:
            raise _rule_error(
                _("每隔 %(n)d 天总落在开始日期的星期几上，与 BYDAY 不符，不会产生任何服务，请修改") % {"n": interval}
            )
    order = ["FREQ", "INTERVAL", "COUNT", "UNTIL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST"]
    normalised = ";".join(f"{k}={parts[k]}" for k in order if k in parts)
    try:
        _parse(normalised, starts_on)
    except (ValueError, TypeError) as exc:
        raise _rule_error(_("重复规则无法识别（%(error)s），请对照示例修改") % {"error": str(exc)[:80]}) from None
    return Rule(text=normalised, starts_on=starts_on, until=until, count=count)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def plan_dates(*, rule: Rule, calendar: str, first: datetime.date, last: datetime.date, ends_on=None) -> list[datetime.date]:
    """The dates from `first` to `last` (both included) a plan serves: the rule's, through the
    calendar, not after the plan's end."""
    if ends_on is not None:
        last = min(last, ends_on)
    first = max(first, rule.starts_on)
    if last < first:
        return []
    start = datetime.datetime.combine(first, datetime.time.min)
    end = datetime.datetime.combine(last, datetime.time.min)
    return [dt.date() for dt in rule.rrule.between(start, end, inc=True) if calendar_keeps(calendar, dt.date())]


def next_dates(
    *, rule: Rule, calendar: str, after: datetime.date, count: int = PREVIEW_COUNT, ends_on=None
) -> list[datetime.date]:
    """The next `count` served dates on or after `after`, looking at most YEARS_MAX years ahead."""
    last = _years_after(max(after, rule.starts_on), YEARS_MAX)
    if ends_on is not None:
        last = min(last, ends_on)
    found = []
    start = datetime.datetime.combine(max(after, rule.starts_on), datetime.time.min)
    for dt in rule.rrule.xafter(start, inc=True) if hasattr(rule.rrule, "xafter") else rule.rrule:
        day = dt.date()
        if day > last or len(found) >= count:
            break
        if day >= after and calendar_keeps(calendar, day):
            found.append(day)
    return found


@dataclass
class Preview:
    """The next dates of a rule, for the pages and the API."""

    dates: list = field(default_factory=list)  # [{"date", "weekday", "note"}]
    known_until: int = 0
    falls_back: bool = False  # some date is in a year chinese-calendar does not know
    fallback_note: str = ""


WEEKDAY_LABELS = [
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
]


def preview(*, rule: Rule, calendar: str, after: datetime.date | None = None, count: int = PREVIEW_COUNT, ends_on=None):
    after = after or timezone.localdate()
    days = next_dates(rule=rule, calendar=calendar, after=after, count=count, ends_on=ends_on)
    known = calendar_known_until()
    out = Preview(known_until=known)
    out.dates = [{"date": d, "weekday": str(WEEKDAY_LABELS[d.weekday()]), "note": day_note(d)} for d in days]
    # The fallback matters when the calendar is used and the plan runs into an unknown year.
    reaches = (days[-1] if days else after).year > known or (ends_on is None or ends_on.year > known)
    if calendar != Calendar.ALL_DAYS and reaches:
        out.falls_back = True
        out.fallback_note = fallback_note(known + 1)
    return out


def plan_rule(plan: OrderPlan) -> Rule:
    """The stored plan's rule (checked when it was saved)."""
    return parse_rule(plan.rrule, plan.starts_on)


def plan_preview(plan: OrderPlan, *, after: datetime.date | None = None, count: int = PREVIEW_COUNT) -> Preview:
    return preview(rule=plan_rule(plan), calendar=plan.calendar, after=after, count=count, ends_on=plan.ends_on)


# --- reads ----------------------------------------------------------------------------------------


def plan_list(*, user, elder=None, state: str = "", region=None):
    """Plans of the user's scope (an organisation: those it serves), active ones first."""
    check(user, "view", OrderPlan)
    qs = OrderPlan.objects.restrict(user, "view")
    if region is not None:
        qs = qs.within(region)
    if elder is not None:
        qs = qs.filter(elder=elder)
    today = timezone.localdate()
    running = Q(is_active=True) & (Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if state == "active":
        qs = qs.filter(running)
    elif state == "ended":
        qs = qs.exclude(running)
    return qs.select_related("elder", "region", "item", "organisation", "caregiver").order_by("-is_active", "-id")


def plan_get(*, user, plan_id: int, action: str = "view") -> OrderPlan:
    """One plan: 403 when the role cannot, 404 outside the scope."""
    qs = OrderPlan.objects.select_related("elder", "region", "item", "organisation", "caregiver", "agreement", "created_by")
    return get_scoped_or_404(qs, user, plan_id, action)


def plan_is_running(plan: OrderPlan, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return plan.is_active and (plan.ends_on is None or plan.ends_on >= today)


def plan_orders(*, user, plan: OrderPlan):
    """The plan's orders the user may see, the nearest first."""
    from orders.selectors import order_scope

    return (
        order_scope(user, "view")
        .filter(plan=plan)
        .select_related("item", "organisation", "caregiver", "volunteer")
        .order_by("scheduled_start", "id")
    )


# --- writes ---------------------------------------------------------------------------------------

SCHEDULE_FIELDS = ("rrule", "calendar", "starts_on", "ends_on", "start_time", "duration_minutes")


def _payment_mode(item, mode: str) -> str:
    from catalogue.selectors import payment_mode_choices

    modes = item.payment_modes or ["paid"]
    mode = mode or modes[0]
    if mode not in modes:
        labels = dict(payment_mode_choices())
        shown = "、".join(labels.get(m, m) for m in modes)
        raise ValidationError({"payment_mode": _("“%(item)s”的付费方式只能是：%(modes)s") % {"item": item.name, "modes": shown}})
    return mode


def _mode_label(mode: str) -> str:
    from catalogue.selectors import payment_mode_choices

    return dict(payment_mode_choices()).get(mode, mode)


def _clean(*, elder, item, data: dict) -> dict:
    """A plan's fields checked together; every error names its field."""
    errors = {}
    out = dict(data)
    if getattr(elder, "status", "active") != "active":
        errors["elder"] = _("该老人当前状态为“%(status)s”，不能制定周期计划") % {"status": elder.get_status_display()}
    if not item.is_active:
        errors["item"] = _("“%(item)s”已停用，请选择其他服务项目") % {"item": item.name}
    try:
        out["payment_mode"] = _payment_mode(item, data.get("payment_mode") or "")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    starts_on = data.get("starts_on")
    if starts_on is None:
        errors["starts_on"] = _("请填写开始日期")
    ends_on = data.get("ends_on")
    if starts_on and ends_on:
        if ends_on < starts_on:
            errors["ends_on"] = _("结束日期不能早于开始日期")
        elif ends_on > _years_after(starts_on, YEARS_MAX):
            errors["ends_on"] = _("周期计划最长 %(n)d 年，请缩短或到期后续订") % {"n": YEARS_MAX}
    if data.get("start_time") is None:
        errors["start_time"] = _("请填写上门时间，例如 11:00")
    minutes = data.get("duration_minutes")
    if not isinstance(minutes, int) or not DURATION_MIN <= minutes <= DURATION_MAX:
        errors["duration_minutes"] = _("服务时长应为 %(lo)d 至 %(hi)d 分钟") % {"lo": DURATION_MIN, "hi": DURATION_MAX}
    quantity = data.get("quantity", 1)
    if not isinstance(quantity, int) or not 1 <= quantity <= 99:
        errors["quantity"] = _("数量应为 1 至 99 的整数")
    if data.get("calendar") not in Calendar.values:
        errors["calendar"] = _("请选择节假日安排")
    organisation, caregiver = data.get("organisation"), data.get("caregiver")
    if caregiver is not None:
        if caregiver.status != "active":
            errors["caregiver"] = _("%(name)s当前不在岗，请选择其他服务人员") % {"name": caregiver.name}
        elif organisation is not None and caregiver.organisation_id != organisation.pk:
            errors["caregiver"] = _("%(name)s不属于%(org)s，请重新选择") % {"name": caregiver.name, "org": organisation.name}
        elif organisation is None:
            out["organisation"] = caregiver.organisation
    if organisation is not None and organisation.status != "active":
        errors["organisation"] = _("%(org)s当前不在服务状态，请选择其他机构") % {"org": organisation.name}
    agreement = data.get("agreement")
    if agreement is not None and agreement.elder_id != elder.pk:
        errors["agreement"] = _("该服务协议不是这位老人的，请重新选择")
    try:
        out["notes"] = clean_text(data.get("notes", ""), "notes", _("备注"), max_length=200)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if starts_on and "rrule" not in errors:
        try:
            rule = parse_rule(data.get("rrule", ""), starts_on)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            out["rrule"] = rule.text
            if not errors and not next_dates(rule=rule, calendar=data["calendar"], after=starts_on, count=1, ends_on=ends_on):
                errors["rrule"] = _("按这条规则和节假日安排，计划期内没有任何一天需要服务，请修改规则、节假日安排或日期")
    if errors:
        raise ValidationError(errors)
    return out


def _snapshot(plan: OrderPlan) -> dict:
    return {
        "item": plan.item.name,
        "rrule": plan.rrule,
        "calendar": plan.calendar,
        "starts_on": plan.starts_on.isoformat() if plan.starts_on else None,
        "ends_on": plan.ends_on.isoformat() if plan.ends_on else None,
        "start_time": plan.start_time.strftime("%H:%M") if plan.start_time else None,
        "duration_minutes": plan.duration_minutes,
        "quantity": plan.quantity,
        "payment_mode": _mode_label(plan.payment_mode),
        "organisation": plan.organisation_id,
        "caregiver": plan.caregiver_id,
        "auto_dispatch": plan.auto_dispatch,
        "agreement": plan.agreement_id,
        "is_active": plan.is_active,
        "notes": plan.notes,
    }


PLAN_FIELDS = (
    "rrule",
    "calendar",
    "starts_on",
    "ends_on",
    "start_time",
    "duration_minutes",
    "quantity",
    "payment_mode",
    "organisation",
    "caregiver",
    "auto_dispatch",
    "agreement",
    "notes",
)


@transaction.atomic
def order_plan_create(*, by, elder, item, data: dict, generate: bool = True) -> OrderPlan:
    """制定周期计划 for an elder of the user's scope; its orders up to ORDERS_PLAN_DAYS_AHEAD
    days ahead are created at once (and dispatched when the plan says so)."""
    check(by, "change", OrderPlan)
    data = {"calendar": Calendar.ALL_DAYS, "quantity": 1, "auto_dispatch": True, **data}
    clean = _clean(elder=elder, item=item, data=data)
    plan = OrderPlan(elder=elder, region_id=elder.region_id, item=item, created_by=by)
    for name in PLAN_FIELDS:
        if name in clean:
            setattr(plan, name, clean[name])
    plan.full_clean(exclude=["created_by", "organisation", "caregiver", "agreement", "region", "elder", "item"])
    plan.save()
    change_record(
        obj=plan, action="create", changes={k: [None, v] for k, v in _snapshot(plan).items()}, by=by, region=elder.region
    )
    if generate:
        order_plans_generate(by=by, plans=[plan])
        plan.refresh_from_db()
    return plan


def _cancellable(plan: OrderPlan, after: datetime.datetime):
    return Order.objects.filter(
        plan=plan, scheduled_start__gt=after, status__in=(Status.CREATED, Status.DISPATCHED, Status.ACCEPTED)
    ).order_by("scheduled_start", "id")


@transaction.atomic
def order_plan_update(*, by, plan: OrderPlan, data: dict) -> OrderPlan:
    """修改周期计划. A change of the schedule cancels the plan's future open orders that the new
    schedule no longer has (reason: 周期计划已修改) and creates the ones it adds; other changes
    (who serves, notes) apply to the orders created from now on."""
    check(by, "change", OrderPlan)
    plan = OrderPlan.objects.select_for_update().get(pk=plan.pk)
    if not plan_is_running(plan):
        raise ValidationError({"plan": _("该计划已结束，不能修改；如需继续服务请新建计划")})
    before = _snapshot(plan)
    current = {name: getattr(plan, name) for name in PLAN_FIELDS}
    clean = _clean(elder=plan.elder, item=plan.item, data={**current, **data})
    for name in PLAN_FIELDS:
        setattr(plan, name, clean[name])
    plan.full_clean(exclude=["created_by", "organisation", "caregiver", "agreement", "region", "elder", "item"])
    after = _snapshot(plan)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return plan
    schedule_changed = any(k in changes for k in SCHEDULE_FIELDS)
    if schedule_changed:
        plan.generated_until = None
    plan.save()
    change_record(obj=plan, action="update", changes=changes, by=by, region=plan.region)
    if schedule_changed:
        rule = plan_rule(plan)
        for order in _cancellable(plan, timezone.now()):
            day = timezone.localtime(order.scheduled_start).date()
            served = plan_dates(rule=rule, calendar=plan.calendar, first=day, last=day, ends_on=plan.ends_on)
            start = _at(day, plan.start_time)
            if served and order.scheduled_start == start and order.scheduled_end == start + _duration(plan):
                continue  # the new schedule has it too: kept as it is
            order_cancel(by=by, order=order, reason=_("周期计划已修改"))
        order_plans_generate(by=by, plans=[plan])
        plan.refresh_from_db()
    return plan


@transaction.atomic
def order_plan_end(*, by, plan: OrderPlan, reason: str, ends_on: datetime.date | None = None) -> OrderPlan:
    """结束周期计划 on `ends_on` (today by default): no order after that day; the plan's open
    orders after it are cancelled with the reason."""
    check(by, "change", OrderPlan)
    plan = OrderPlan.objects.select_for_update().get(pk=plan.pk)
    reason = clean_text(reason, "reason", _("结束原因"), required=True, max_length=150)
    today = timezone.localdate()
    ends_on = ends_on or today
    if not plan_is_running(plan, today):
        raise ValidationError({"plan": _("该计划已经结束")})
    if ends_on < today:
        raise ValidationError({"ends_on": _("结束日期不能早于今天（%(today)s）") % {"today": today}})
    if plan.ends_on is not None and ends_on > plan.ends_on:
        raise ValidationError({"ends_on": _("计划本就于 %(day)s 结束，提前结束请选择更早的日期") % {"day": plan.ends_on}})
    before = {"ends_on": plan.ends_on.isoformat() if plan.ends_on else None, "is_active": plan.is_active}
    plan.ends_on = ends_on
    plan.is_active = ends_on > today
    plan.save(update_fields=["ends_on", "is_active"])
    change_record(
        obj=plan,
        action="end",
        changes={"ends_on": [before["ends_on"], plan.ends_on.isoformat()], "is_active": [before["is_active"], plan.is_active]},
        by=by,
        region=plan.region,
        note=reason,
    )
    last_moment = _at(ends_on + datetime.timedelta(days=1), datetime.time.min) - datetime.timedelta(microseconds=1)
    for order in _cancellable(plan, last_moment):
        order_cancel(by=by, order=order, reason=_("周期计划结束：%(reason)s") % {"reason": reason})
    return plan


# --- the generator ----------------------------------------------------------------------------------


def _at(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


def _duration(plan: OrderPlan) -> datetime.timedelta:
    return datetime.timedelta(minutes=plan.duration_minutes)


@dataclass
class Generated:
    """What one run of the generator did."""

    plans: int = 0
    created: int = 0
    dispatched: int = 0
    not_dispatched: int = 0
    order_ids: list = field(default_factory=list)

    def __str__(self):
        return f"plans={self.plans} created={self.created} dispatched={self.dispatched} not_dispatched={self.not_dispatched}"


class _PriceBook:
    """Prices per (region, day), read once for every item of a batch (catalogue.selectors.prices_for)."""

    def __init__(self, items):
        self.items = {i.pk: i for i in items}
        self.cache: dict[tuple, dict] = {}

    def price(self, plan: OrderPlan, day: datetime.date) -> int:
        if plan.payment_mode == "free":
            return 0
        line = _agreement_price(plan)
        if line is not None:
            return line
        from catalogue.selectors import prices_for

        key = (plan.region_id, day)
        if key not in self.cache:
            self.cache[key] = prices_for(self.items.values(), plan.region, day)
        return self.cache[key][plan.item_id].price_fen


def _agreement_price(plan: OrderPlan) -> int | None:
    """A signed agreement's unit price for the plan's item, when the plan names one."""
    agreement = plan.agreement
    if agreement is None or agreement.status != "signed":
        return None
    for line in agreement.lines or []:
        if line.get("item") == plan.item_id and isinstance(line.get("unit_price_fen"), int):
            return line["unit_price_fen"]
    return None


def order_plans_generate(
    *, until: datetime.date | None = None, by=None, plans=None, today: datetime.date | None = None
) -> Generated:
    """Create the orders of every active plan (or of `plans`) up to `until` (default: today +
    ORDERS_PLAN_DAYS_AHEAD), from today or the day after what was generated before; then
    dispatch the new orders of plans that auto-dispatch. Idempotent: an occurrence that has its
    order is skipped (and the constraint (plan, scheduled_start) backs it). `by`: the user who
    asked (a new plan's author), or None for the daily run (the history says 周期计划自动生成).
    `today`: the first day that may get an order (the local date; tests pass another)."""
    today = today or timezone.localdate()
    until = until or today + datetime.timedelta(days=days_ahead())
    qs = OrderPlan.objects.filter(is_active=True, elder__status="active", starts_on__lte=until).filter(
        Q(generated_until__isnull=True) | Q(generated_until__lt=until)
    )
    qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if plans is not None:
        qs = qs.filter(pk__in=[p.pk for p in plans])
    ids = list(qs.order_by("id").values_list("pk", flat=True))
    result = Generated()
    ranking = _auto_dispatcher() is not None
    for start in range(0, len(ids), BATCH):
        _generate_batch(ids[start : start + BATCH], today=today, until=until, by=by, result=result, ranking=ranking)
    _dispatch_new(result, by=by)
    if by is None:
        log.info("order_plans_generate until %s: %s", until, result)
    return result


def order_plans_generate_daily() -> str:
    """The scheduled run (jobs/schedule.py): every plan, ORDERS_PLAN_DAYS_AHEAD days ahead."""
    return str(order_plans_generate())


@transaction.atomic
def _generate_batch(ids: list[int], *, today, until, by, result: Generated, ranking: bool) -> None:
    from core.bulk import defaults_for, insert_rows, reserve_ids

    plans = list(
        OrderPlan.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .select_related("item", "elder__region", "agreement")
        .order_by("id")
    )
    wanted: list[tuple[OrderPlan, datetime.datetime]] = []
    for plan in plans:
        # A plan follows its elder: an elder who moved to another community gets the orders (and
        # the prices) of where they live now, as order_create gives them.
        plan.region = plan.elder.region
        first = max(plan.starts_on, today)
        if plan.generated_until is not None:
            first = max(first, plan.generated_until + datetime.timedelta(days=1))
        days = plan_dates(rule=plan_rule(plan), calendar=plan.calendar, first=first, last=until, ends_on=plan.ends_on)
        wanted.extend((plan, _at(day, plan.start_time)) for day in days)
    existing = set()
    if wanted:
        existing = set(
            Order.objects.filter(plan__in=plans, scheduled_start__gte=min(s for _p, s in wanted)).values_list(
                "plan_id", "scheduled_start"
            )
        )
    fresh = [(plan, start) for plan, start in wanted if (plan.pk, start) not in existing]
    now = timezone.now()
    prices = _PriceBook({p.item for p in plans})
    template = defaults_for(Order)
    rows, history = [], []
    for (plan, start), pk in zip(fresh, reserve_ids(Order, len(fresh)), strict=True):
        day = timezone.localtime(start).date()
        unit = prices.price(plan, day)
        rows.append(
            {
                **template,
                "id": pk,
                "elder_id": plan.elder_id,
                "region_id": plan.region_id,
                "item_id": plan.item_id,
                "quantity": plan.quantity,
                "payment_mode": plan.payment_mode,
                "unit_price_fen": unit,
                "amount_fen": unit * plan.quantity,
                "source": "plan",
                "status": Status.CREATED,
                "scheduled_start": start,
                "scheduled_end": start + _duration(plan),
                "plan_id": plan.pk,
                "agreement_id": plan.agreement_id,
                "notes": plan.notes,
                "created_by_id": getattr(by, "pk", None),
                "created_at": now,
                "updated_at": now,
            }
        )
        history.append(
            {
                "object_id": pk,
                "region_id": plan.region_id,
                "changes": {
                    "item": [None, plan.item.name],
                    "source": [None, "plan"],
                    "scheduled_start": [None, timezone.localtime(start).isoformat(timespec="minutes")],
                    "payment_mode": [None, plan.payment_mode],
                    "amount_fen": [None, unit * plan.quantity],
                    "plan": [None, plan.pk],
                },
            }
        )
    insert_rows(Order, rows)
    change_records_from_rows(model=Order, rows=history, by=by, action="create", note=str(_("周期计划自动生成")), at=now)
    for plan in plans:
        plan.generated_until = until if plan.ends_on is None else min(until, max(plan.ends_on, today))
    OrderPlan.objects.bulk_update(plans, ["generated_until", "region"])
    result.plans += len(plans)
    result.created += len(rows)
    by_plan = {p.pk: p for p in plans}
    result.order_ids.extend(row["id"] for row in rows if _dispatches(by_plan[row["plan_id"]], ranking=ranking))


def _auto_dispatcher():
    """orders.dispatch.auto_dispatch(*, by, order) when the dispatch module provides it, else None."""
    if importlib.util.find_spec("orders.dispatch") is None:
        return None
    from importlib import import_module

    return getattr(import_module("orders.dispatch"), "auto_dispatch", None)


def _dispatches(plan: OrderPlan, *, ranking: bool) -> bool:
    """A plan's new orders are dispatched when it says so and the ranking can choose (auto_dispatch
    exists) or it names who serves."""
    return plan.auto_dispatch and (ranking or plan.caregiver_id is not None or plan.organisation_id is not None)


def _dispatch_new(result: Generated, *, by) -> None:
    """Dispatch the new orders of auto-dispatching plans, each in its own transaction (one that
    fails stays 待派单 for the station): through orders.dispatch.auto_dispatch when it exists,
    else to the plan's fixed caregiver or organisation (orders.services.order_dispatch). The
    actor is `by`, or for the daily run the plan's author, who must still be allowed to dispatch."""
    if not result.order_ids:
        return
    auto = _auto_dispatcher()
    orders = Order.objects.filter(pk__in=result.order_ids).select_related(
        "plan", "plan__organisation", "plan__caregiver", "plan__created_by", "elder", "item", "region"
    )
    for order in orders.order_by("scheduled_start", "id").iterator(chunk_size=500):
        plan = order.plan
        actor = by or plan.created_by
        if actor is None or not actor.is_active or not actor.may("dispatch", Order):
            result.not_dispatched += 1
            continue
        try:
            with transaction.atomic():
                if auto is not None:
                    auto(by=actor, order=order)
                else:
                    order_dispatch(by=actor, order=order, organisation=plan.organisation, caregiver=plan.caregiver)
        except (ValidationError, PermissionDenied) as exc:
            result.not_dispatched += 1
            log.info("plan %s: order %s left to dispatch by hand: %s", plan.pk, order.pk, exc)
        else:
            result.dispatched += 1
    result.order_ids = []
