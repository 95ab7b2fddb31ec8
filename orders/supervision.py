"""Supervision (监督管理, issue 11 item 5; docs/orders-quality.md): the board of what needs
attention in a month, and a provider's monthly scorecard that feeds its star rating.

The board counts, among the orders of the user's scope scheduled in the chosen month:

- unaccepted: dispatched and still not accepted past `accept_by`, or accepted after it;
- late: flagged "late" by the visit check (EVV); missed: flagged "no_show";
- exceptions: with a visit exception still open (VisitException resolution open);
- low_rating: rated 2 or less;
- follow_ups_overdue: with a follow-up open past its deadline, or closed after it.

One GROUP BY over the month's orders that have any of these (by region, organisation and
worker together), then rolled up in Python three ways: by area (the next level below the
chosen region: a city's districts, a street's communities, a community's grids), by
organisation and by worker. Each count links to its list (`board_orders`).

The scorecard of an organisation for a month: delivered orders, on-time % (delivered on time
over delivered + missed), missed, exceptions, the average rating, the call-back pass rate and
complaints; a score 0–100 from the first three rates weighted by ORDERS_SCORECARD_WEIGHTS
(a rate with nothing to measure is left out and the others weigh the whole), and a suggested
star rating from ORDERS_SCORECARD_STARS. Arithmetic in exact fractions; the score and the
shown percentages round half up (the score to a whole number, percentages to 0.1 %).
"""

import datetime
from dataclasses import dataclass, field
from fractions import Fraction

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.access import NotPermitted, check, not_permitted_message
from core.scoping import Scope
from orders.models import DELIVERED, CallBack, FollowUp, Status, VisitException
from orders.quality import LOW_RATING, month_bounds, overdue_q
from orders.selectors import order_scope

METRICS = {
    "unaccepted": gettext_lazy("接单超时"),
    "late": gettext_lazy("迟到"),
    "missed": gettext_lazy("未上门"),
    "exceptions": gettext_lazy("异常待处理"),
    "low_rating": gettext_lazy("差评（≤2分）"),
    "follow_ups_overdue": gettext_lazy("整改逾期"),
}
METRIC_HELP = {
    "unaccepted": gettext_lazy("已派单但过了接单时限仍未接单，或超时后才接单"),
    "late": gettext_lazy("签到晚于预约时间加宽限"),
    "missed": gettext_lazy("过了未到时限仍未签到"),
    "exceptions": gettext_lazy("服务核验异常尚未有人处理"),
    "low_rating": gettext_lazy("老人或家属评价 1 至 2 分"),
    "follow_ups_overdue": gettext_lazy("整改跟进过了办结期限仍未办结，或逾期后才办结"),
}
ROWS_SHOWN = 50  # per breakdown table; the rest are summed in one line


def flag_q(code: str) -> Q:
    """Orders whose `flags` (a JSON list of codes) hold `code`: jsonb containment on PostgreSQL;
    elsewhere the quoted code in the list's text, after the cheap test that the list is not
    empty (most visits have no flag)."""
    if connection.vendor == "postgresql":
        return Q(flags__contains=[code])
    return ~Q(flags=[]) & Q(flags__icontains=f'"{code}"')


def parse_month(value, default: datetime.date | None = None) -> datetime.date:
    """ "2026-11" (or a date) → the first day of that month; refuses anything else."""
    if value in (None, ""):
        return (default or timezone.localdate()).replace(day=1)
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    try:
        year, month = (int(part) for part in str(value).strip().split("-")[:2])
        return datetime.date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationError({"month": _("月份格式应为 2026-11")}) from None


def metric_q(metric: str, *, now: datetime.datetime | None = None, today: datetime.date | None = None) -> Q:
    """The orders a metric counts, as a filter on orders."""
    now = now or timezone.now()
    today = today or timezone.localdate()
    if metric == "unaccepted":
        return Q(status=Status.DISPATCHED, accept_by__lt=now) | Q(accepted_at__gt=F("accept_by"))
    if metric == "late":
        return flag_q("late")
    if metric == "missed":
        return flag_q("no_show")
    if metric == "exceptions":
        return Q(pk__in=VisitException.objects.filter(resolution=VisitException.Resolution.OPEN).values("order_id"))
    if metric == "low_rating":
        return Q(rating__lte=LOW_RATING)
    if metric == "follow_ups_overdue":
        return Q(pk__in=FollowUp.objects.filter(overdue_q(today)).values("order_id"))
    raise ValidationError({"metric": _("没有这项监督指标，可选：%(m)s") % {"m": "、".join(METRICS)}})


def _month_orders(*, user, month: datetime.date, region=None, organisation_id: int | None = None):
    start, end = month_bounds(month)
    qs = order_scope(user, "view").filter(scheduled_start__gte=start, scheduled_start__lt=end)
    if region is not None:
        qs = qs.within(region)
    if organisation_id:
        qs = qs.filter(organisation_id=organisation_id)
    return qs


@dataclass
class Row:
    key: object  # a region id, organisation id, ("caregiver"|"volunteer", id); None for "none"
    label: str
    counts: dict = field(default_factory=lambda: dict.fromkeys(METRICS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Board:
    month: datetime.date
    region: object  # the node the areas are the children of (None: a user without region)
    orders: int  # orders scheduled in the month (cancelled included)
    totals: dict
    areas: list
    organisations: list
    workers: list
    more: dict  # {breakdown: rows not shown}


def _child_of(root_ids: list[str], path: str) -> int | None:
    ids = [p for p in path.strip("/").split("/") if p]
    if len(ids) <= len(root_ids):
        return int(ids[-1]) if ids else None
    return int(ids[len(root_ids)])


def _ranked(rows: dict, kind: str, more: dict) -> list:
    ordered = sorted(rows.values(), key=lambda r: (-r.total, r.label))
    more[kind] = max(0, len(ordered) - ROWS_SHOWN)
    return ordered[:ROWS_SHOWN]


def board(*, user, month: datetime.date, region=None, organisation_id: int | None = None, now=None) -> Board:
    """The supervision board of `month` for `user`'s scope (under `region`, a node already
    checked to be in it; of one organisation with `organisation_id`)."""
    from regions.selectors import region_list

    check(user, "view", FollowUp)
    now = now or timezone.now()
    today = timezone.localdate(now)
    base = _month_orders(user=user, month=month, region=region, organisation_id=organisation_id)
    qs = {m: metric_q(m, now=now, today=today) for m in METRICS}
    any_problem = Q()
    for q in qs.values():
        any_problem |= q
    fields = (
        "region_id", "region__path", "organisation_id", "organisation__name",
        "caregiver_id", "caregiver__name", "volunteer_id", "volunteer__name",
    )  # fmt: skip
    groups = (
        base.filter(any_problem)
        .values(*fields)
        .annotate(**{m: Count("pk", filter=q) for m, q in qs.items()})
        .order_by()
        .values_list(*fields, *METRICS)
    )
    root = region if region is not None else getattr(user, "region", None)
    root_ids = [p for p in root.path.strip("/").split("/") if p] if root is not None else []
    # Rolled up three ways in plain lists (a city's month has tens of thousands of groups).
    areas: dict = {}
    organisations: dict = {}
    workers: dict = {}
    labels: dict = {}
    child: dict = {}
    totals = [0] * len(METRICS)
    for region_id, path, org_id, org_name, cg_id, cg_name, vol_id, vol_name, *counts in groups:
        _bump(totals, counts)
        if root is not None:
            key = child.get(region_id)
            if key is None:
                key = child[region_id] = _child_of(root_ids, path)
            _bump(areas.setdefault(key, [0] * len(counts)), counts)
        _bump(organisations.setdefault(org_id, [0] * len(counts)), counts)
        labels.setdefault(("organisation", org_id), org_name)
        wkey = ("caregiver", cg_id) if cg_id else ("volunteer", vol_id) if vol_id else None
        _bump(workers.setdefault(wkey, [0] * len(counts)), counts)
        labels.setdefault(wkey, cg_name if cg_id else vol_name)
    totals = dict(zip(METRICS, totals, strict=True))
    areas = {k: Row(k, "", dict(zip(METRICS, v, strict=True))) for k, v in areas.items()}
    organisations = {
        k: Row(k, labels[("organisation", k)] or str(_("未派给机构")), dict(zip(METRICS, v, strict=True)))
        for k, v in organisations.items()
    }
    workers = {k: Row(k, _worker_label(k, labels.get(k)), dict(zip(METRICS, v, strict=True))) for k, v in workers.items()}
    if areas:
        may_read_regions = user.may_code("regions.view_region")
        names = (
            dict(region_list(user=user).filter(pk__in=[k for k in areas if k]).values_list("pk", "name"))
            if may_read_regions
            else {}
        )
        for key, row in areas.items():
            row.label = names.get(key) or f"#{key}"
    more: dict = {}
    return Board(
        month=month,
        region=root,
        orders=base.count(),
        totals=totals,
        areas=_ranked(areas, "areas", more),
        organisations=_ranked(organisations, "organisations", more),
        workers=_ranked(workers, "workers", more),
        more=more,
    )


def _bump(into: list, counts) -> None:
    for i, n in enumerate(counts):
        into[i] += n


def _worker_label(key, name) -> str:
    if key is None:
        return str(_("未指派服务人员"))
    if key[0] == "volunteer":
        return _("%(name)s（志愿者）") % {"name": name}
    return name


def board_orders(
    *,
    user,
    month: datetime.date,
    metric: str,
    region=None,
    organisation_id: int | None = None,
    caregiver_id: int | None = None,
    volunteer_id: int | None = None,
    unassigned: bool = False,
):
    """The orders behind one count of the board, latest window first."""
    check(user, "view", FollowUp)
    qs = _month_orders(user=user, month=month, region=region, organisation_id=organisation_id).filter(metric_q(metric))
    if caregiver_id:
        qs = qs.filter(caregiver_id=caregiver_id)
    elif volunteer_id:
        qs = qs.filter(volunteer_id=volunteer_id)
    elif unassigned:
        qs = qs.filter(caregiver__isnull=True, volunteer__isnull=True)
    return qs.select_related("elder", "region", "item", "organisation", "caregiver", "volunteer").order_by(
        "-scheduled_start", "-id"
    )


# --- the scorecard --------------------------------------------------------------------------------


STARS = ("5A", "4A", "3A", "2A")  # ORDERS_SCORECARD_STARS gives each one's least score; below the last: 1A


def round_half_up(value: Fraction) -> int:
    """The nearest whole number, halves up (values here are never negative)."""
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def percent_text(value: Fraction | None) -> str:
    """93.3 %: a fraction as a percentage with one decimal, halves up; "—" for nothing measured."""
    if value is None:
        return "—"
    tenths = round_half_up(value * 1000)
    return f"{tenths // 10}.{tenths % 10}%"


def decimal_text(value: Fraction | None) -> str:
    if value is None:
        return "—"
    tenths = round_half_up(value * 10)
    return f"{tenths // 10}.{tenths % 10}"


def star_for(score: int) -> str:
    for star, least in zip(STARS, settings.ORDERS_SCORECARD_STARS, strict=True):
        if score >= least:
            return star
    return "1A"


@dataclass
class Scorecard:
    organisation: object
    month: datetime.date
    orders: int = 0  # scheduled in the month, not cancelled
    delivered: int = 0
    late: int = 0  # delivered, but late (or after the no-show time)
    missed: int = 0  # flagged no-show and never delivered
    rated: int = 0
    rating_sum: int = 0
    low_rated: int = 0
    exceptions: int = 0
    exceptions_open: int = 0
    call_backs: int = 0  # reached and checked
    call_backs_passed: int = 0
    complaints: int = 0
    follow_ups_overdue: int = 0
    score: int | None = None
    suggestion: str = ""
    why_no_suggestion: str = ""

    @property
    def on_time(self) -> Fraction | None:
        measured = self.delivered + self.missed
        return Fraction(self.delivered - self.late, measured) if measured else None

    @property
    def average_rating(self) -> Fraction | None:
        return Fraction(self.rating_sum, self.rated) if self.rated else None

    @property
    def pass_rate(self) -> Fraction | None:
        return Fraction(self.call_backs_passed, self.call_backs) if self.call_backs else None

    def as_dict(self) -> dict:
        return {
            "organisation": {"id": self.organisation.pk, "name": self.organisation.name},
            "month": self.month.strftime("%Y-%m"),
            "orders": self.orders,
            "delivered": self.delivered,
            "late": self.late,
            "missed": self.missed,
            "on_time_percent": percent_text(self.on_time),
            "rated": self.rated,
            "average_rating": decimal_text(self.average_rating),
            "low_rated": self.low_rated,
            "exceptions": self.exceptions,
            "exceptions_open": self.exceptions_open,
            "call_backs": self.call_backs,
            "call_backs_passed": self.call_backs_passed,
            "call_back_pass_percent": percent_text(self.pass_rate),
            "complaints": self.complaints,
            "follow_ups_overdue": self.follow_ups_overdue,
            "score": self.score,
            "suggested_rating": self.suggestion,
            "why_no_suggestion": self.why_no_suggestion,
            "current_rating": self.organisation.rating,
        }


def score_of(card: Scorecard) -> int | None:
    """The weighted mean of on-time, rating ((average − 1) ÷ 4) and call-back pass rate, 0–100,
    over the rates that measured something; None when none did."""
    rating = (card.average_rating - 1) / 4 if card.average_rating is not None else None
    parts = [
        (w, r)
        for w, r in zip(settings.ORDERS_SCORECARD_WEIGHTS, (card.on_time, rating, card.pass_rate), strict=True)
        if r is not None and w
    ]
    weight = sum(w for w, _r in parts)
    if not weight:
        return None
    return round_half_up(sum(Fraction(w) * r for w, r in parts) * 100 / weight)


def scorecard(*, user, organisation, month: datetime.date) -> Scorecard:
    """`organisation`'s card for `month` (read through the user's scope: its orders there)."""
    check(user, "view", FollowUp)
    orders = _month_orders(user=user, month=month, organisation_id=organisation.pk)
    delivered = Q(status__in=DELIVERED)
    late, no_show = flag_q("late"), flag_q("no_show")
    figures = orders.aggregate(
        orders=Count("pk", filter=~Q(status=Status.CANCELLED)),
        delivered=Count("pk", filter=delivered),
        late=Count("pk", filter=delivered & (late | no_show)),
        missed=Count("pk", filter=no_show & ~delivered),
        rated=Count("pk", filter=Q(rating__isnull=False)),
        rating_sum=Sum("rating"),
        low_rated=Count("pk", filter=Q(rating__lte=LOW_RATING)),
    )
    exceptions = VisitException.objects.filter(order__in=orders).aggregate(
        exceptions=Count("pk"), exceptions_open=Count("pk", filter=Q(resolution=VisitException.Resolution.OPEN))
    )
    all_yes = Q(received=True, on_time=True, full_duration=True, same_worker=True)
    calls = CallBack.objects.filter(order__in=orders, reached=True).aggregate(
        call_backs=Count("pk"), call_backs_passed=Count("pk", filter=all_yes)
    )
    follow_ups = FollowUp.objects.filter(order__in=orders).aggregate(
        complaints=Count("pk", filter=Q(reason=FollowUp.Reason.COMPLAINT)),
        follow_ups_overdue=Count("pk", filter=overdue_q()),
    )
    card = Scorecard(
        organisation=organisation, month=month, **{k: v or 0 for k, v in {**figures, **exceptions, **calls, **follow_ups}.items()}
    )
    card.score = score_of(card)
    least = settings.ORDERS_SCORECARD_MIN_DELIVERED
    if card.delivered < least:
        card.why_no_suggestion = _("本月完成的服务不足 %(n)d 单，样本太少，暂不建议星级") % {"n": least}
    elif card.score is None:
        card.why_no_suggestion = _("本月没有可计算的指标")
    else:
        card.suggestion = star_for(card.score)
    return card


@transaction.atomic
def scorecard_apply(*, by, organisation, month: datetime.date):
    """Feed the suggestion of `month`'s scorecard into the organisation's star rating (评定日期
    today), through providers.services.organisation_update (its history records the change).
    For the government side overseeing the organisation (providers.change_organisation, the
    organisation in their region subtree): never the organisation's own users."""
    from providers.services import organisation_update

    if not by.may_code("providers.change_organisation") or organisation.region.path not in Scope.of(by).subtree:
        raise NotPermitted(not_permitted_message())
    card = scorecard(user=by, organisation=organisation, month=month)
    if not card.suggestion:
        raise ValidationError({"rating": card.why_no_suggestion})
    return organisation_update(
        by=by, organisation=organisation, data={"rating": card.suggestion, "rated_on": timezone.localdate()}
    ), card
