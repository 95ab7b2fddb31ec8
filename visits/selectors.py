"""Reads of visits (docs/visits.md); each begins with the user's scope.

Dues, campaigns, events and rules have no permission of their own: reading them takes
`visits.view_visit`, within the user's region subtree (core.scoping.Scope). A watcher (守望员,
`pairing.watch_pairing` without `visits.view_visit`) reads only the dues and visits of the
elders of their active pairings."""

import datetime
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from core.access import check, get_scoped_or_404
from core.pagination import COUNT_CAP
from core.scoping import Scope
from visits.duties import local_midnight, period_next
from visits.models import Campaign, DueSource, MajorEvent, Period, Visit, VisitDue, VisitRule, dues_of_elder_q


def _is_watcher_only(user) -> bool:
    return not user.may("view", Visit) and user.may_code("pairing.watch_pairing")


def _paired_elders(user, today=None):
    from pairing.models import Pairing

    today = today or timezone.localdate()
    return (
        Pairing.objects.filter(user=user, starts_on__lte=today)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
        .values("elder_id")
    )


def _scoped(model, user):
    """`model`'s rows the user reads: their subtree (visits.view_visit), or a watcher's pairings."""
    if _is_watcher_only(user):
        if model is VisitDue:
            return model.objects.filter(dues_of_elder_q(elder_id__in=_paired_elders(user)))
        return model.objects.filter(elder_id__in=_paired_elders(user))
    check(user, "view", Visit)
    return model.objects.filter(Scope.of(user).q(model))


# --- dues --------------------------------------------------------------------------------------


@dataclass
class DueFilter:
    tab: str = "due"  # due: open now, not yet past due; overdue: past due; upcoming: not open yet
    region: object = None
    tier: str = ""
    source: str = ""


def due_list(*, user, filters: DueFilter | None = None, now=None):
    """Unmet dues of the user's scope by due time (the partial indexes visitdue_open_region and
    visitdue_open_due serve a grid's list and the city's alike)."""
    f = filters or DueFilter()
    now = now or timezone.now()
    qs = _scoped(VisitDue, user).filter(visited_at__isnull=True)
    if f.region is not None:
        qs = qs.within(f.region)
    if f.tier:
        qs = qs.filter(tier=f.tier)
    if f.source:
        qs = qs.filter(source=f.source)
    if f.tab == "overdue":
        qs = qs.filter(due_at__lt=now)
    else:
        qs = qs.filter(due_at__gte=now, opens_at__lte=now)
    return qs.select_related("elder", "region", "campaign", "event").order_by("due_at", "id")


def _capped(qs) -> int:
    return qs.order_by()[: COUNT_CAP + 1].count()


def due_figures(*, user, now=None) -> dict:
    """Due within 2 days and overdue counts (capped), for the desk and the list's head."""
    now = now or timezone.now()
    qs = _scoped(VisitDue, user).filter(visited_at__isnull=True)
    return {
        "soon": _capped(qs.filter(due_at__gte=now, due_at__lt=now + datetime.timedelta(days=2), opens_at__lte=now)),
        "overdue": _capped(qs.filter(due_at__lt=now)),
        "cap": COUNT_CAP,
    }


def dues_of_elder(*, user, elder):
    return (
        _scoped(VisitDue, user)
        .filter(dues_of_elder_q(elder=elder))
        .select_related("campaign", "event")
        .order_by("-due_at", "-id")
    )


# --- visits ------------------------------------------------------------------------------------


@dataclass
class VisitFilter:
    region: object = None
    outcome: str = ""
    missed: bool | None = None
    month: datetime.date | None = None


def visit_list(*, user, filters: VisitFilter | None = None):
    f = filters or VisitFilter()
    qs = _scoped(Visit, user)
    if f.region is not None:
        qs = qs.within(f.region)
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.missed is not None:
        qs = qs.filter(missed=f.missed)
    if f.month:
        qs = qs.filter(visited_at__gte=local_midnight(f.month), visited_at__lt=local_midnight(period_next(Period.MONTH, f.month)))
    return qs.select_related("elder", "region").order_by("-visited_at", "-id")


def visit_get(*, user, visit_id: int) -> Visit:
    qs = Visit.objects.select_related("elder", "region", "need", "order", "alert", "pairing")
    if _is_watcher_only(user):
        visit = qs.filter(pk=visit_id, elder_id__in=_paired_elders(user)).first()
        if visit is None:
            raise Http404
        return visit
    return get_scoped_or_404(qs, user, visit_id, "view")


def visits_of_elder(*, user, elder):
    return _scoped(Visit, user).filter(elder=elder).order_by("-visited_at", "-id")


def visit_elder_get(*, user, elder_id: int):
    """The elder a visit is recorded for: through the register's scope, or, for a watcher, one of
    their paired elders (404 otherwise)."""
    from elders.models import Elder
    from elders.selectors import elder_get

    if user.may_code("elders.view_elder"):
        return elder_get(user=user, elder_id=elder_id)
    elder = Elder.objects.select_related("region").filter(pk=elder_id, pk__in=_paired_elders(user)).first()
    if elder is None:
        raise Http404
    return elder


def pairings_of_elder(*, elder, user):
    from pairing.models import Pairing

    today = timezone.localdate()
    qs = Pairing.objects.filter(elder=elder).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    if _is_watcher_only(user):
        qs = qs.filter(user=user)
    return qs.order_by("role", "id")


# --- the visit rate ----------------------------------------------------------------------------


def month_window(month: datetime.date):
    first = month.replace(day=1)
    return local_midnight(first), local_midnight(period_next(Period.MONTH, first))


def _rate_dues(user, month, region=None):
    start, end = month_window(month)
    qs = _scoped(VisitDue, user).filter(source=DueSource.RULE, due_at__gte=start, due_at__lt=end)
    if region is not None:
        qs = qs.within(region)
    return qs


@dataclass
class RateRow:
    region: object
    due: int
    visited: int

    @property
    def missed(self) -> int:
        return self.due - self.visited

    @property
    def rate(self) -> float | None:
        return None if self.due == 0 else self.visited / self.due

    @property
    def percent(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


def rate_counts(*, user, month: datetime.date, region=None) -> dict[int, tuple[int, int]]:
    """{region_id: (elders due, elders visited as required)} for the month: set-based, one
    GROUP BY over the rule dues due in the month (index visitdue_rule_rate). An elder is due when
    a rule due of theirs is due in the month, visited when every such due was met by its due
    time (a weekly tier: every week's)."""
    from django.db.models import Case, IntegerField, Max, Value, When

    inner = (
        _rate_dues(user, month, region)
        .values("elder_id", "region_id")
        .annotate(
            late=Max(
                Case(
                    When(Q(visited_at__isnull=True) | Q(visited_at__gt=models_F("due_at")), then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
        )
        .order_by()
    )
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT s.region_id, COUNT(*), SUM(1 - s.late) FROM ({sql}) s GROUP BY s.region_id", params)
        return {rid: (int(due), int(ok or 0)) for rid, due, ok in cursor.fetchall()}


def models_F(name):
    from django.db.models import F

    return F(name)


def visit_rate(*, user, month: datetime.date, level: int, region=None) -> tuple[list[RateRow], RateRow]:
    """The month's visit rate of the user's scope (or `region` in it) by region at `level`
    (grid 6, community 5, street 4): rows by region path, and the total."""
    from regions.models import Region

    counts = rate_counts(user=user, month=month, region=region)
    top = region or user.region
    paths = dict(Region.objects.filter(pk__in=list(counts)).values_list("pk", "path"))
    ancestor_ids = {int(p) for path in paths.values() for p in path.strip("/").split("/") if p}
    nodes = {r.pk: r for r in Region.objects.filter(pk__in=ancestor_ids).only("pk", "name", "level", "path", "parent_id")}
    sums: dict[int, list[int]] = {}
    for rid, (due, ok) in counts.items():
        chain = [nodes[int(p)] for p in paths[rid].strip("/").split("/") if p and int(p) in nodes]
        fitting = [n for n in chain if n.level <= level and n.level >= top.level]
        key = fitting[-1].pk if fitting else top.pk
        acc = sums.setdefault(key, [0, 0])
        acc[0] += due
        acc[1] += ok
    if top.pk not in nodes:
        nodes[top.pk] = top
    rows = [RateRow(nodes[k], d, v) for k, (d, v) in sums.items()]
    rows.sort(key=lambda r: r.region.path)
    total = RateRow(top, sum(r.due for r in rows), sum(r.visited for r in rows))
    return rows, total


def visit_rate_missed(*, user, month: datetime.date, region=None):
    """The elders due in the month who were not visited as required (drill-down), by name."""
    from elders.models import Elder

    late = _rate_dues(user, month, region).filter(Q(visited_at__isnull=True) | Q(visited_at__gt=models_F("due_at")))
    return Elder.objects.filter(pk__in=late.values("elder_id")).select_related("region").order_by("name_pinyin", "id")


# --- rules, campaigns, events ------------------------------------------------------------------


def rule_region_list(*, user):
    """Regions of the user's scope that have rules of their own."""
    from regions.models import Region

    check(user, "view", Visit)
    ids = VisitRule.objects.filter(Scope.of(user).q(VisitRule), region__isnull=False).values("region_id")
    return Region.objects.filter(pk__in=ids).order_by("path")


def campaign_list(*, user):
    return _scoped(Campaign, user).select_related("region").order_by("-starts_at", "-id")


def campaign_get(*, user, campaign_id: int) -> Campaign:
    campaign = _scoped(Campaign, user).select_related("region").filter(pk=campaign_id).first()
    if campaign is None:
        raise Http404
    return campaign


def campaign_progress(campaign: Campaign) -> dict:
    dues = VisitDue.objects.filter(campaign=campaign)
    done = dues.filter(visited_at__isnull=False).count()
    on_time = dues.filter(visited_at__lte=campaign.due_at).count()
    return {"targets": campaign.target_count, "done": done, "on_time": on_time, "open": campaign.target_count - done}


def event_list(*, user):
    return _scoped(MajorEvent, user).select_related("elder", "region").order_by("-happened_at", "-id")


def desk_figures(*, user, now=None) -> dict | None:
    if not user.may("view", Visit) and not user.may_code("pairing.watch_pairing"):
        return None
    if not _is_watcher_only(user) and Scope.of(user).is_empty:
        return None  # an account without a region: the desk says so elsewhere
    figures = due_figures(user=user, now=now)
    # The rate on the desk for a street and below; a district's or city's is on /visits/rate/.
    if user.may("view", Visit) and user.region is not None and user.region.level >= 4:
        today = timezone.localdate(now) if now else timezone.localdate()
        _rows, total = visit_rate(user=user, month=today.replace(day=1), level=user.region.level)
        figures["rate"] = total.percent
        figures["month"] = today.replace(day=1)
    return figures


def campaign_open_dues(*, user, campaign):
    return _scoped(VisitDue, user).filter(campaign=campaign, visited_at__isnull=True)


def reminder_grid_workers():
    """Active grid workers with a region: each hears of their subtree's dues (visits.tasks)."""
    from accounts.models import User

    return User.objects.filter(is_active=True, role="grid", region__isnull=False).select_related("region").order_by("pk")


def reminder_watchers(today) -> list[tuple[int, object]]:
    """(user id, their paired elders' ids as a subquery) of every watcher with an account."""
    from pairing.models import Pairing

    active = Pairing.objects.filter(user__isnull=False, user__is_active=True, starts_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    user_ids = sorted(set(active.values_list("user_id", flat=True)))
    return [(uid, active.filter(user_id=uid).values("elder_id")) for uid in user_ids]
