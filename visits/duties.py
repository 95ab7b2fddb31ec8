"""Who must be visited by when (docs/visits.md, "Dues"): periods, the set-based writer of the
rule dues of the whole city, major events and campaigns.

Periods are in Asia/Shanghai: a week runs Monday to Sunday, then the calendar month, quarter
and year. A period's due opens at its first day 00:00 and is due at its last day
23:59:59.999999. `dues_build` writes, for every period starting in [start, end] (or overlapping it), one
`VisitDue` per active elder whose tier (on the period's first day) has that period — one
INSERT … SELECT per (rule set, period), the tier a CASE over the compiled criteria, duplicates
skipped by the unique constraint (elder, opens_at) — then `dues_match` marks the dues met by
visits already recorded (one UPDATE).
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.scoping import Subtree
from visits.models import Campaign, DueSource, EventKind, MajorEvent, Period, Visit, VisitDue, VisitRule, dues_of_elder_q
from visits.rules import criteria_clean, criteria_q, rule_sets, tier_of

log = logging.getLogger(__name__)
TICK = datetime.timedelta(microseconds=1)


# --- periods -----------------------------------------------------------------------------------


def period_start(kind: str, day: datetime.date) -> datetime.date:
    if kind == Period.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if kind == Period.MONTH:
        return day.replace(day=1)
    if kind == Period.QUARTER:
        return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return datetime.date(day.year, 1, 1)


def period_next(kind: str, start: datetime.date) -> datetime.date:
    """The first day of the period after the one starting on `start`."""
    if kind == Period.WEEK:
        return start + datetime.timedelta(days=7)
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[kind]
    m = start.month - 1 + months
    return datetime.date(start.year + m // 12, m % 12 + 1, 1)


def local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def period_window(kind: str, start: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """(opens_at, due_at) of the period starting on `start`."""
    return local_midnight(start), local_midnight(period_next(kind, start)) - TICK


def periods_overlapping(kind: str, start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """First days of the `kind` periods that overlap [start, end]."""
    out, day = [], period_start(kind, start)
    while day <= end:
        out.append(day)
        day = period_next(kind, day)
    return out


# --- set-based writing -------------------------------------------------------------------------


def _ts() -> str:
    return "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"


def _dt(value):
    return connection.ops.adapt_datetimefield_value(value)


def _insert_dues(select_qs, *, source: str, period: str, opens_at, due_at, campaign_id=None, event_id=None) -> int:
    """INSERT INTO visitdue … SELECT from `select_qs` (values: id, region_id, tier) ON CONFLICT
    DO NOTHING; returns how many rows were written."""
    inner, params = select_qs.query.sql_with_params()
    table = VisitDue._meta.db_table
    sql = (
        f"INSERT INTO {table} (elder_id, region_id, source, tier, period, opens_at, due_at, campaign_id, event_id) "
        f"SELECT s.id, s.region_id, %s, s.vtier, %s, {_ts()}, {_ts()}, %s, %s FROM ({inner}) s WHERE true "
        "ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(source), str(period), _dt(opens_at), _dt(due_at), campaign_id, event_id, *params])
        return max(cursor.rowcount, 0)


def _elders_of_ruleset(ruleset, others) -> Q:
    """Active elders the rule set governs: its subtree, minus the subtrees of deeper rule sets."""
    q = Q(status="active")
    if ruleset.region is not None:
        q &= Subtree(ruleset.region.path).q("region__path")
    for other in others:
        if other.region is None or other is ruleset:
            continue
        if ruleset.region is None or (
            other.region.path.startswith(ruleset.region.path) and other.region.path != ruleset.region.path
        ):
            q &= ~Subtree(other.region.path).q("region__path")
    return q


def _tier_case(ruleset, day: datetime.date, kind: str):
    """The elder's tier on `day` if its period is `kind`, else NULL (first matching rule wins:
    an elder of a weekly tier gets no monthly due even if a monthly tier's criteria hold)."""
    whens = [When(q, then=Value(rule.tier if rule.period == kind else None)) for rule, q in ruleset.tier_whens(day)]
    return Case(*whens, default=Value(None), output_field=CharField())


def _columns(ruleset, start, end, overlapping) -> list[tuple[str, datetime.date]]:
    kinds = list(dict.fromkeys(rule.period for rule in ruleset.rules))
    return [(kind, first) for kind in kinds for first in periods_overlapping(kind, start, end) if overlapping or first >= start]


def _build_ruleset(ruleset, sets, start, end, overlapping=False) -> int:
    from elders.models import Elder

    columns = _columns(ruleset, start, end, overlapping)
    if not columns:
        return 0
    base = Elder.objects.filter(_elders_of_ruleset(ruleset, sets)).order_by()
    if connection.vendor != "postgresql":  # one INSERT … SELECT per period
        written = 0
        for kind, first in columns:
            opens_at, due_at = period_window(kind, first)
            qs = base.annotate(vtier=_tier_case(ruleset, first, kind)).filter(vtier__isnull=False)
            written += _insert_dues(
                qs.values_list("id", "region_id", "vtier"), source=DueSource.RULE, period=kind, opens_at=opens_at, due_at=due_at
            )
        return written
    # PostgreSQL: one scan of the register computes every period's tier (a column each), and a
    # LATERAL VALUES turns each row into its dues.
    names = [f"t{i}" for i in range(len(columns))]
    qs = base.annotate(**{n: _tier_case(ruleset, first, kind) for n, (kind, first) in zip(names, columns, strict=True)})
    inner, params = qs.values_list("id", "region_id", *names).query.sql_with_params()
    rows, row_params = [], []
    for n, (kind, first) in zip(names, columns, strict=True):
        rows.append(f"(s.{n}, %s, {_ts()}, {_ts()})")
        opens_at, due_at = period_window(kind, first)
        row_params += [str(kind), _dt(opens_at), _dt(due_at)]
    table = VisitDue._meta.db_table
    sql = (
        f"INSERT INTO {table} (elder_id, region_id, source, tier, period, opens_at, due_at) "
        f"SELECT s.id, s.region_id, %s, x.tier, x.period, x.opens_at, x.due_at FROM ({inner}) s "
        f"CROSS JOIN LATERAL (VALUES {', '.join(rows)}) x(tier, period, opens_at, due_at) "
        "WHERE x.tier IS NOT NULL ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(DueSource.RULE), *params, *row_params])
        return max(cursor.rowcount, 0)


def dues_build(*, start: datetime.date, end: datetime.date, overlapping: bool = False, now=None) -> int:
    """Write the rule dues of every period starting in [start, end] (`overlapping`: every period
    overlapping it, so also the current week, month and quarter begun before `start`) for every
    active elder of the city (set-based, see the module); drop the open dues of elders no longer
    active; mark the new dues met by visits already recorded. Idempotent. Returns the rows written."""
    written = 0
    sets = rule_sets()
    with transaction.atomic():
        for ruleset in sets:
            written += _build_ruleset(ruleset, sets, start, end, overlapping)
        dues_drop_inactive()
        first = min([period_start(k, start) for k in Period.values] if overlapping else [start])
        dues_match(since=local_midnight(first))
    log.info("visit dues built %s..%s: %d written", start, end, written)
    return written


def dues_drop_inactive() -> int:
    """Delete the unmet dues of elders who died, moved out or entered an institution."""
    from elders.models import Elder

    # The few elders no longer active, then their dues by the (elder, due_at) index.
    gone = Elder.objects.exclude(status="active").values("pk")
    return VisitDue.objects.filter(dues_of_elder_q(elder_id__in=gone), visited_at__isnull=True)._raw_delete(VisitDue.objects.db)


def dues_match(*, since=None, elder_ids=None) -> int:
    """Mark open dues (opening from `since`) met by the first non-missed visit of their elder at
    or after their opening: one UPDATE. Returns how many were marked."""
    visits = Visit.objects.filter(elder_id=OuterRef("elder_id"), missed=False, visited_at__gte=OuterRef("opens_at")).order_by(
        "visited_at", "id"
    )
    qs = VisitDue.objects.filter(Exists(visits), visited_at__isnull=True)
    if since is not None:
        # Driven by the visits since then (few at a period's start): their elders first, hashed.
        recent = Visit.objects.filter(missed=False, visited_at__gte=since).values("elder_id")
        qs = qs.filter(opens_at__gte=since, elder_id__in=recent)
    if elder_ids is not None:
        qs = qs.filter(dues_of_elder_q(elder_id__in=elder_ids))
    return qs.update(visit_id=Subquery(visits.values("id")[:1]), visited_at=Subquery(visits.values("visited_at")[:1]))


def dues_build_daily(*, now=None) -> int:
    """The periodic task: the current and next periods' dues (a week ahead covers the next week;
    on the last days of a month, quarter or year it covers the next one)."""
    today = timezone.localdate(now) if now else timezone.localdate()
    return dues_build(start=today, end=today + datetime.timedelta(days=7), overlapping=True, now=now)


# --- major events ------------------------------------------------------------------------------


@transaction.atomic
def major_event_record(*, by, elder, kind: str, happened_at, description: str = "", alert=None, now=None) -> MajorEvent:
    """Record a major event of `elder` (read through the user's scope; `by` None: the system,
    e.g. an alert resolved as sent to hospital). If the elder's tier asks for a visit within
    hours of one, a due (source event) is written: due at happened_at + the tier's hours."""
    from core.text import refuse_invisible_characters

    if by is not None:
        check(by, "change", VisitRule)
    now = now or timezone.now()
    errors = {}
    if kind not in EventKind.values:
        errors["kind"] = _("事件类型无效，请从列表中选择")
    if happened_at is None:
        errors["happened_at"] = _("请填写发生时间")
    elif happened_at > now + datetime.timedelta(minutes=5):
        errors["happened_at"] = _("发生时间不能晚于现在")
    description = (description or "").strip()
    try:
        refuse_invisible_characters(description)
    except ValidationError as exc:
        errors["description"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    event = MajorEvent(
        elder=elder,
        region_id=elder.region_id,
        kind=kind,
        happened_at=happened_at,
        description=description,
        alert=alert,
        created_by=by,
    )
    event.full_clean(exclude=["created_by", "alert"])
    event.save()
    rule = tier_of(elder, timezone.localdate(happened_at))
    if rule is not None and rule.event_hours and elder.status == "active":
        VisitDue.objects.create(
            elder=elder,
            region_id=elder.region_id,
            source=DueSource.EVENT,
            tier=rule.tier,
            opens_at=happened_at,
            due_at=happened_at + datetime.timedelta(hours=rule.event_hours),
            event=event,
        )
        dues_match(elder_ids=[elder.pk], since=happened_at)
    change_record(
        obj=event,
        action="create",
        changes={
            "kind": [None, kind],
            "happened_at": [None, timezone.localtime(happened_at).strftime("%Y-%m-%d %H:%M")],
            "description": [None, description],
        },
        by=by,
        region=elder.region,
    )
    return event


# --- campaigns ---------------------------------------------------------------------------------


@transaction.atomic
def campaign_start(*, by, region, name: str, reason: str, criteria, starts_at=None, hours: int = 48, now=None) -> Campaign:
    """Start a campaign over `region`'s subtree (a region in the user's scope): every active
    elder there matching `criteria` (visits.rules clauses) on the start day gets a due (source
    campaign) from starts_at to starts_at + hours. Set-based; target_count is how many."""
    from elders.models import Elder

    check(by, "change", VisitRule)
    now = now or timezone.now()
    starts_at = starts_at or now
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("请填写名称")
    elif len(name) > 60:
        errors["name"] = _("名称最多 60 个字")
    try:
        criteria = criteria_clean(criteria)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not isinstance(hours, int) or not 1 <= hours <= 24 * 31:
        errors["hours"] = _("完成时限应为 1 到 744 小时")
    if errors:
        raise ValidationError(errors)
    campaign = Campaign(
        region=region,
        name=name,
        reason=reason,
        criteria=criteria,
        starts_at=starts_at,
        hours=hours,
        due_at=starts_at + datetime.timedelta(hours=hours),
        created_by=by,
    )
    campaign.full_clean(exclude=["created_by"])
    campaign.save()
    qs = (
        Elder.objects.filter(Q(status="active") & Subtree(region.path).q("region__path"))
        .filter(criteria_q(criteria, timezone.localdate(starts_at)))
        .annotate(vtier=Value("", output_field=CharField()))
        .order_by()
        .values_list("id", "region_id", "vtier")
    )
    campaign.target_count = _insert_dues(
        qs, source=DueSource.CAMPAIGN, period="", opens_at=starts_at, due_at=campaign.due_at, campaign_id=campaign.pk
    )
    campaign.save(update_fields=["target_count"])
    change_record(
        obj=campaign,
        action="create",
        changes={
            "name": [None, name],
            "criteria": [None, criteria],
            "hours": [None, hours],
            "targets": [None, campaign.target_count],
        },
        by=by,
        region=region,
    )
    return campaign
