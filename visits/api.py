"""/api/visits: dues, visits, the visit rate, rules, campaigns and major events, with the same
rules as the pages (docs/visits.md, docs/api.md)."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from jobs.api import JobStartedOut, job_started
from regions.selectors import region_get
from visits import duties, selectors, services
from visits.checklist import flags
from visits.models import CampaignReason, DueSource, EventKind, MissedReason, Outcome, Period, Via, Visit, VisitRule
from visits.rules import criteria_label, rules_for_region

router = Router(tags=["visits"])

REGION = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")


class DueFilterIn(Schema):
    tab: Literal["due", "overdue"] = Field("due", description="due: open now and not past due; overdue: past due")
    region: int | None = REGION
    tier: str = Field("", max_length=20, description="a tier code of the rules (high, key, general …)")
    source: Literal[tuple(["", *DueSource.values])] = Field("", description="rule, event or campaign")


class DueOut(Schema):
    id: int
    elder: IdName
    region: IdName
    source: str
    source_label: str
    tier: str
    period: str
    opens_at: datetime.datetime
    due_at: datetime.datetime
    overdue: bool
    campaign: IdName | None
    event_id: int | None


class VisitDueListOut(Paginated[DueOut]):
    """A page of unmet dues, by due time."""


def _due(d, now) -> dict:
    return {
        "id": d.pk,
        "elder": id_name(d.elder),
        "region": id_name(d.region),
        "source": d.source,
        "source_label": str(d.get_source_display()),
        "tier": d.tier,
        "period": d.period,
        "opens_at": d.opens_at,
        "due_at": d.due_at,
        "overdue": d.due_at < now,
        "campaign": id_name(d.campaign),
        "event_id": d.event_id,
    }


@router.get("/dues", response={200: VisitDueListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def due_list_api(request, filters: Query[DueFilterIn], paging: Query[PageIn]):
    """Unmet dues of your subtree by due time: `tab=due` (open now) or `tab=overdue`."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    f = selectors.DueFilter(tab=filters.tab, region=region, tier=filters.tier, source=filters.source)
    now = timezone.now()
    out = paginate(selectors.due_list(user=request.user, filters=f, now=now), paging)
    out["items"] = [_due(d, now) for d in out["items"]]
    return out


class VisitFilterIn(Schema):
    region: int | None = REGION
    outcome: Literal[tuple(["", *Outcome.values])] = ""
    missed: bool | None = Field(None, description="true: only missed visits (空访); false: only contacts")
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM")


class VisitItemOut(Schema):
    id: int
    elder: IdName
    region: IdName
    visited_at: datetime.datetime
    via: str
    via_label: str
    missed: bool
    missed_reason: str
    outcome: str
    outcome_label: str
    visitor_name: str
    flags: list[str] = Field(description="checklist items that need attention, in words")


class CareVisitOut(VisitItemOut):
    checklist: dict
    notes: str
    referral: str
    need_id: int | None
    order_id: int | None
    alert_id: int | None
    pairing_id: int | None
    created_at: datetime.datetime


class VisitListOut(Paginated[VisitItemOut]):
    """A page of visits, newest first."""


class VisitIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope (a watcher: one of their paired elders)")
    visited_at: datetime.datetime | None = Field(None, description="default now; not in the future")
    via: Literal[tuple(Via.values)] = Via.HOME
    missed: bool = Field(False, description="a missed visit (空访): needs missed_reason, meets no due")
    missed_reason: Literal[tuple(["", *MissedReason.values])] = ""
    checklist: dict[str, str] = Field({}, description="item code -> option (docs/visits.md, The checklist)")
    outcome: Literal[tuple(Outcome.values)] = Outcome.NORMAL
    notes: str = Field("", max_length=2000)
    pairing: int | None = Field(None, ge=1, le=2**62, description="the pairing through which the visit was made")
    open_need: str = Field("", max_length=2000, description="a description: opens a need in the ledger (source visit)")
    need_kind: Literal["general", "special", "urgent"] = "general"
    order_item: int | None = Field(None, ge=1, le=2**62, description="a service item: creates an order (source visit)")
    raise_alert: str = Field("", max_length=12, description="an alert kind: raises an alert (an emergency outcome always does)")
    referral: str = Field("", max_length=2000)
    client_key: str = Field("", max_length=200, description="a phone's key for the visit: a replay returns the first")
    offline: bool = Field(
        False, description="recorded on the phone without network and sent later (with a client_key): shown as 离线补传"
    )


def _visit_item(v) -> dict:
    return {
        "id": v.pk,
        "elder": id_name(v.elder),
        "region": id_name(v.region),
        "visited_at": v.visited_at,
        "via": v.via,
        "via_label": str(v.get_via_display()),
        "missed": v.missed,
        "missed_reason": v.missed_reason,
        "outcome": v.outcome,
        "outcome_label": str(v.get_outcome_display()),
        "visitor_name": v.visitor_name,
        "flags": [f"{item.label}：{label}" for item, label in flags(v.checklist)],
    }


def _visit(v) -> dict:
    return {
        **_visit_item(v),
        "checklist": v.checklist,
        "notes": v.notes,
        "referral": v.referral,
        "need_id": v.need_id,
        "order_id": v.order_id,
        "alert_id": v.alert_id,
        "pairing_id": v.pairing_id,
        "created_at": v.created_at,
    }


def _month(value: str) -> datetime.date:
    if not value:
        return timezone.localdate().replace(day=1)
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValidationError({"month": _("月份格式应为 YYYY-MM，例如 2026-11")}) from None


@router.get("", response={200: VisitListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def visit_list_api(request, filters: Query[VisitFilterIn], paging: Query[PageIn]):
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    f = selectors.VisitFilter(
        region=region,
        outcome=filters.outcome,
        missed=filters.missed,
        month=_month(filters.month) if filters.month else None,
    )
    out = paginate(selectors.visit_list(user=request.user, filters=f), paging)
    out["items"] = [_visit_item(v) for v in out["items"]]
    return out


@router.post("/export", response={202: JobStartedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("export", Visit)
def visit_export_api(request, filters: VisitFilterIn):
    """Export the visit records of the user's scope, filtered as GET /api/visits, as an xlsx
    file made by a background job: the answer is 202 with the job's `url`; the file is at GET
    /api/jobs/{job_id}/download. It holds the elders' addresses (no numbers); every export is
    access-logged with its filters."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    f = selectors.VisitFilter(
        region=region,
        outcome=filters.outcome,
        missed=filters.missed,
        month=_month(filters.month) if filters.month else None,
    )
    return Status(202, job_started(request, services.visit_export_start(by=request.user, filters=f)))


@router.post("", response={201: CareVisitOut, 200: CareVisitOut, 422: ErrorOut})
@requires("add", Visit)
def visit_create_api(request, data: VisitIn):
    """Record a visit (or a missed one) with its checklist, outcome and follow-ups; it meets the
    elder's open dues. A replay with the same `client_key` answers 200 with the first visit."""
    elder = selectors.visit_elder_get(user=request.user, elder_id=data.elder)
    pairing = None
    if data.pairing is not None:
        pairing = next((p for p in selectors.pairings_of_elder(elder=elder, user=request.user) if p.pk == data.pairing), None)
        if pairing is None:
            raise ValidationError({"pairing": _("所选结对不是这位老人的有效结对")})
    order_item = None
    if data.order_item is not None:
        from catalogue.selectors import item_list

        order_item = item_list(user=request.user, active_only=True).filter(pk=data.order_item).first()
        if order_item is None:
            raise ValidationError({"order_item": _("服务项目不存在或已停用，请从服务清单中选择")})
    key = data.client_key.strip()
    replay = bool(key) and Visit.objects.filter(created_by=request.user, client_key=key).exists()
    visit = services.visit_record(
        by=request.user,
        elder=elder,
        visited_at=data.visited_at or timezone.now(),
        via=data.via,
        missed=data.missed,
        missed_reason=data.missed_reason,
        checklist=data.checklist,
        outcome=data.outcome,
        notes=data.notes,
        pairing=pairing,
        open_need=data.open_need,
        need_kind=data.need_kind,
        order_item=order_item,
        raise_alert=data.raise_alert,
        referral=data.referral,
        client_key=key,
        offline=data.offline,
    )
    body = _visit(selectors.visit_get(user=request.user, visit_id=visit.pk))
    return Status(200 if replay else 201, body)


@router.get("/{int:visit_id}", response={200: CareVisitOut, 403: ErrorOut})
@requires("view", Visit)
def visit_get_api(request, visit_id: int):
    return _visit(selectors.visit_get(user=request.user, visit_id=visit_id))


# --- the rate ----------------------------------------------------------------------------------


class RateIn(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM; default this month")
    level: int = Field(5, ge=4, le=6, description="4 street, 5 community, 6 grid")
    region: int | None = REGION


class RateRowOut(Schema):
    region: IdName
    due: int = Field(description="elders with a rule due due in the month")
    visited: int = Field(description="of them, those whose every such due was met by its due time")
    missed: int
    rate: float | None = Field(description="visited ÷ due (null when nobody was due)")


class RateOut(Schema):
    month: str
    level: int
    total: RateRowOut
    rows: list[RateRowOut]


def _rate_row(r) -> dict:
    return {"region": id_name(r.region), "due": r.due, "visited": r.visited, "missed": r.missed, "rate": r.rate}


@router.get("/rate", response={200: RateOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def rate_api(request, q: Query[RateIn]):
    """The month's visit rate of your subtree (or `region`) by street, community or grid."""
    month = _month(q.month)
    region = region_get(user=request.user, region_id=q.region) if q.region else None
    rows, total = selectors.visit_rate(user=request.user, month=month, level=q.level, region=region)
    return {"month": month.strftime("%Y-%m"), "level": q.level, "total": _rate_row(total), "rows": [_rate_row(r) for r in rows]}


class MissedIn(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description="YYYY-MM; default this month")
    region: int | None = REGION


class MissedOut(Schema):
    id: int
    name: str
    region: IdName


class MissedListOut(Paginated[MissedOut]):
    """A page of the elders due in the month and not visited as required, by name."""


@router.get("/rate/missed", response={200: MissedListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def rate_missed_api(request, q: Query[MissedIn], paging: Query[PageIn]):
    region = region_get(user=request.user, region_id=q.region) if q.region else None
    out = paginate(selectors.visit_rate_missed(user=request.user, month=_month(q.month), region=region), paging)
    out["items"] = [{"id": e.pk, "name": e.name, "region": id_name(e.region)} for e in out["items"]]
    return out


# --- rules -------------------------------------------------------------------------------------


class RuleIO(Schema):
    tier: str = Field(max_length=20)
    label: str = Field(max_length=40)
    priority: int | None = Field(None, ge=1, le=1000)
    period: Literal[tuple(Period.values)]
    event_hours: int | None = Field(None, ge=1, le=720)
    criteria: list[dict] = Field(max_length=20, description="clauses: min_age, categories, any_categories, conditions")


class RuleOut(RuleIO):
    criteria_label: list[str]


class RulesOut(Schema):
    region: IdName | None = Field(description="whose rules apply here (null: the platform's defaults)")
    rules: list[RuleOut]


class RulesIn(Schema):
    rules: list[RuleIO] = Field(max_length=10, description="the region's own rules; empty: follow the rules above again")


class RegionIn(Schema):
    region: int | None = REGION


def _rules(ruleset) -> dict:
    return {
        "region": id_name(ruleset.region),
        "rules": [
            {
                "tier": r.tier,
                "label": r.label,
                "priority": r.priority,
                "period": r.period,
                "event_hours": r.event_hours,
                "criteria": r.criteria,
                "criteria_label": criteria_label(r.criteria),
            }
            for r in ruleset.rules
        ],
    }


@router.get("/rules", response={200: RulesOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def rules_api(request, q: Query[RegionIn]):
    """The rules in force in `region` (default yours): its own, the nearest region's above, or the platform's."""
    region = region_get(user=request.user, region_id=q.region) if q.region else request.user.region
    return _rules(rules_for_region(region))


@router.put("/rules", response={200: RulesOut, 422: ErrorOut})
@requires("change", VisitRule)
def rules_set_api(request, q: Query[RegionIn], data: RulesIn):
    """Set `region`'s own rules (default yours); from the next period's dues."""
    region = region_get(user=request.user, region_id=q.region) if q.region else request.user.region
    services.rules_set(by=request.user, region=region, rules=[r.dict() for r in data.rules])
    return _rules(rules_for_region(region))


# --- campaigns and events ----------------------------------------------------------------------


class CampaignOut(Schema):
    id: int
    name: str
    region: IdName
    reason: str
    reason_label: str
    criteria: list[dict]
    starts_at: datetime.datetime
    due_at: datetime.datetime
    hours: int
    targets: int
    done: int
    on_time: int


class CampaignListOut(Paginated[CampaignOut]):
    """A page of campaigns, newest first."""


class CampaignIn(Schema):
    region: int = Field(ge=1, le=2**62, description="a region in your scope: the campaign covers its subtree")
    name: str = Field(max_length=200)
    reason: Literal[tuple(CampaignReason.values)] = CampaignReason.OTHER
    criteria: list[dict] = Field(max_length=20, description='clauses as for rules, e.g. [{"categories": ["lives_alone"]}]')
    hours: int = Field(48, ge=1, le=744)


def _campaign(c) -> dict:
    p = selectors.campaign_progress(c)
    return {
        "id": c.pk,
        "name": c.name,
        "region": id_name(c.region),
        "reason": c.reason,
        "reason_label": str(c.get_reason_display()),
        "criteria": c.criteria,
        "starts_at": c.starts_at,
        "due_at": c.due_at,
        "hours": c.hours,
        "targets": p["targets"],
        "done": p["done"],
        "on_time": p["on_time"],
    }


@router.get("/campaigns", response={200: CampaignListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Visit)
def campaign_list_api(request, paging: Query[PageIn]):
    out = paginate(selectors.campaign_list(user=request.user), paging)
    out["items"] = [_campaign(c) for c in out["items"]]
    return out


@router.post("/campaigns", response={201: CampaignOut, 422: ErrorOut})
@requires("change", VisitRule)
def campaign_create_api(request, data: CampaignIn):
    """Start a campaign now: every active elder of the region's subtree matching the criteria gets
    a due within `hours`."""
    region = region_get(user=request.user, region_id=data.region)
    campaign = duties.campaign_start(
        by=request.user, region=region, name=data.name, reason=data.reason, criteria=data.criteria, hours=data.hours
    )
    return Status(201, _campaign(campaign))


@router.get("/campaigns/{int:campaign_id}", response={200: CampaignOut, 403: ErrorOut})
@requires("view", Visit)
def campaign_get_api(request, campaign_id: int):
    return _campaign(selectors.campaign_get(user=request.user, campaign_id=campaign_id))


class EventIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    kind: Literal[tuple(EventKind.values)]
    happened_at: datetime.datetime
    description: str = Field("", max_length=2000)


class MajorEventOut(Schema):
    id: int
    elder: IdName
    kind: str
    kind_label: str
    happened_at: datetime.datetime
    visit_due_at: datetime.datetime | None = Field(
        description="when the elder must be visited by (null: their tier asks for none)"
    )


@router.post("/events", response={201: MajorEventOut, 422: ErrorOut})
@requires("change", VisitRule)
def event_create_api(request, data: EventIn):
    """Record a major event (a fall, a discharge …); an elder whose tier asks for it gets a due."""
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=data.elder)
    event = duties.major_event_record(
        by=request.user, elder=elder, kind=data.kind, happened_at=data.happened_at, description=data.description
    )
    due = event.dues.first()
    return Status(
        201,
        {
            "id": event.pk,
            "elder": id_name(elder),
            "kind": event.kind,
            "kind_label": str(event.get_kind_display()),
            "happened_at": event.happened_at,
            "visit_due_at": due.due_at if due else None,
        },
    )
