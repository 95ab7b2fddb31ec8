"""/api/orders/plans and /api/orders/agreements: recurring plans (with the next dates of each)
and service agreements (sign, end, the PDF), with the same rules as the pages (orders.plans,
orders.agreements)."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.request import client_address
from core.schemas import ErrorOut
from orders import agreements, plans
from orders.models import Agreement, OrderPlan

router = Router(tags=["orders"])

ID = Field(ge=1, le=2**62)


def _named(obj):
    return None if obj is None else id_name(obj)


# --- plans --------------------------------------------------------------------------------------------


class PlanFilterIn(Schema):
    elder: int | None = Field(None, ge=1, le=2**62)
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    state: Literal["", "active", "ended"] = Field("", description="active: still running; ended: ended or stopped")


class PlanOut(Schema):
    id: int
    elder: IdName
    region: IdName
    item: IdName
    rrule: str = Field(description="RFC 5545 RRULE over dates (FREQ at most DAILY)")
    calendar: str
    calendar_label: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    start_time: datetime.time
    duration_minutes: int
    quantity: int
    payment_mode: str
    organisation: IdName | None
    caregiver: IdName | None
    auto_dispatch: bool
    agreement: int | None
    is_running: bool
    generated_until: datetime.date | None
    notes: str


class PlanListOut(Paginated[PlanOut]):
    """A page of recurring plans, running ones first."""


class PlanIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    item: int = Field(ge=1, le=2**62)
    rrule: str = Field(
        max_length=400, description="e.g. FREQ=DAILY (with calendar=working_days: every working day), FREQ=WEEKLY;BYDAY=FR"
    )
    calendar: Literal[tuple(OrderPlan.Calendar.values)] = OrderPlan.Calendar.ALL_DAYS
    starts_on: datetime.date
    ends_on: datetime.date | None = None
    start_time: datetime.time
    duration_minutes: int = Field(ge=1, le=10000)
    quantity: int = Field(1, ge=1, le=99)
    payment_mode: str = Field("", max_length=12)
    organisation: int | None = Field(None, ge=1, le=2**62)
    caregiver: int | None = Field(None, ge=1, le=2**62)
    auto_dispatch: bool = True
    agreement: int | None = Field(None, ge=1, le=2**62)
    notes: str = Field("", max_length=400)


class PlanPatchIn(Schema):
    rrule: str | None = Field(None, max_length=400)
    calendar: Literal[tuple(OrderPlan.Calendar.values)] | None = None
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None
    start_time: datetime.time | None = None
    duration_minutes: int | None = Field(None, ge=1, le=10000)
    quantity: int | None = Field(None, ge=1, le=99)
    payment_mode: str | None = Field(None, max_length=12)
    organisation: int | None = Field(None, ge=1, le=2**62)
    caregiver: int | None = Field(None, ge=1, le=2**62)
    auto_dispatch: bool | None = None
    agreement: int | None = Field(None, ge=1, le=2**62)
    notes: str | None = Field(None, max_length=400)


class PlanEndIn(Schema):
    reason: str = Field(max_length=2000)
    ends_on: datetime.date | None = Field(None, description="the last day served (default today)")


class PreviewDateOut(Schema):
    date: datetime.date
    weekday: str
    note: str = Field(description="调休上班日 (a make-up working day) or 法定节假日, else empty")


class PreviewOut(Schema):
    dates: list[PreviewDateOut]
    calendar_known_until: int = Field(description="the last year chinese-calendar knows holidays for")
    falls_back: bool = Field(description="some dates are in a year the calendar does not know (Mon–Fri as working days)")
    fallback_note: str


def plan_out(plan, today=None) -> dict:
    return {
        "id": plan.pk,
        "elder": id_name(plan.elder),
        "region": id_name(plan.region),
        "item": id_name(plan.item),
        "rrule": plan.rrule,
        "calendar": plan.calendar,
        "calendar_label": str(plan.get_calendar_display()),
        "starts_on": plan.starts_on,
        "ends_on": plan.ends_on,
        "start_time": plan.start_time,
        "duration_minutes": plan.duration_minutes,
        "quantity": plan.quantity,
        "payment_mode": plan.payment_mode,
        "organisation": _named(plan.organisation),
        "caregiver": _named(plan.caregiver),
        "auto_dispatch": plan.auto_dispatch,
        "agreement": plan.agreement_id,
        "is_running": plans.plan_is_running(plan, today),
        "generated_until": plan.generated_until,
        "notes": plan.notes,
    }


def _people(user, data) -> dict:
    """Organisation, caregiver and agreement ids read through the user's scope (404 elsewhere)."""
    from providers.selectors import caregiver_get, organisation_get

    out = {}
    if "organisation" in data:
        out["organisation"] = organisation_get(user=user, organisation_id=data["organisation"]) if data["organisation"] else None
    if "caregiver" in data:
        out["caregiver"] = caregiver_get(user=user, caregiver_id=data["caregiver"]) if data["caregiver"] else None
    if "agreement" in data:
        out["agreement"] = agreements.agreement_get(user=user, agreement_id=data["agreement"]) if data["agreement"] else None
    return out


@router.get("/plans", response={200: PlanListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", OrderPlan)
def plan_list_api(request, filters: Query[PlanFilterIn], paging: Query[PageIn]):
    """Recurring plans of your subtree (an organisation: those it serves)."""
    from elders.selectors import elder_get
    from regions.selectors import region_get

    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    elder = elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    out = paginate(plans.plan_list(user=request.user, elder=elder, state=filters.state, region=region), paging)
    out["items"] = [plan_out(p) for p in out["items"]]
    return out


@router.post("/plans", response={201: PlanOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", OrderPlan)
def plan_create_api(request, data: PlanIn):
    """制定周期计划: its orders up to ORDERS_PLAN_DAYS_AHEAD days ahead are created at once
    (and dispatched when `auto_dispatch`)."""
    from catalogue.selectors import item_get
    from elders.selectors import elder_get

    user = request.user
    elder = elder_get(user=user, elder_id=data.elder)
    item = item_get(user=user, item_id=data.item) if user.may_code("catalogue.view_serviceitem") else None
    if item is None:
        raise ValidationError({"item": _("服务项目不存在，请从服务清单中选择")})
    values = data.dict(exclude={"elder", "item"})
    values.update(_people(user, values))
    plan = plans.order_plan_create(by=user, elder=elder, item=item, data=values)
    return Status(201, plan_out(plans.plan_get(user=user, plan_id=plan.pk)))


@router.get("/plans/{int:plan_id}", response={200: PlanOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", OrderPlan)
def plan_get_api(request, plan_id: int):
    return plan_out(plans.plan_get(user=request.user, plan_id=plan_id))


@router.patch("/plans/{int:plan_id}", response={200: PlanOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", OrderPlan)
def plan_update_api(request, plan_id: int, data: PlanPatchIn):
    """修改周期计划: only the fields sent change. A new schedule cancels the future open orders it
    no longer has and creates its own."""
    user = request.user
    plan = plans.plan_get(user=user, plan_id=plan_id, action="change")
    values = data.dict(exclude_unset=True)
    values.update(_people(user, values))
    plans.order_plan_update(by=user, plan=plan, data=values)
    return plan_out(plans.plan_get(user=user, plan_id=plan.pk))


@router.post("/plans/{int:plan_id}/end", response={200: PlanOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", OrderPlan)
def plan_end_api(request, plan_id: int, data: PlanEndIn):
    """结束周期计划 after `ends_on` (today), with the reason; its later open orders are cancelled."""
    plan = plans.plan_get(user=request.user, plan_id=plan_id, action="change")
    plans.order_plan_end(by=request.user, plan=plan, reason=data.reason, ends_on=data.ends_on)
    return plan_out(plans.plan_get(user=request.user, plan_id=plan.pk))


class PreviewIn(Schema):
    count: int = Field(10, ge=1, le=60, description="how many dates")
    after: datetime.date | None = Field(None, description="from this day (default today)")


@router.get("/plans/{int:plan_id}/preview", response={200: PreviewOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", OrderPlan)
def plan_preview_api(request, plan_id: int, query: Query[PreviewIn]):
    """The plan's next served dates, with the make-up working days and holidays marked, and
    whether a year beyond chinese-calendar's data falls back to Monday–Friday."""
    plan = plans.plan_get(user=request.user, plan_id=plan_id)
    p = plans.plan_preview(plan, after=query.after, count=query.count)
    return {
        "dates": p.dates,
        "calendar_known_until": p.known_until,
        "falls_back": p.falls_back,
        "fallback_note": p.fallback_note,
    }


# --- agreements -----------------------------------------------------------------------------------------


class PayerOut(Schema):
    kind: str = Field(description="elder, government, subsidy, free")
    label: str
    share: str


class LineOut(Schema):
    item: int
    name: str
    unit: str
    unit_label: str
    unit_price_fen: int
    quantity: int
    frequency: str
    frequency_label: str
    payer: str
    payer_label: str
    amount_fen: int = Field(description="unit price × quantity, per period (fen)")
    payers: list[PayerOut]


class AgreementOut(Schema):
    id: int
    number: str
    elder: IdName
    region: IdName
    organisation: IdName | None
    status: str
    status_label: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    lines: list[LineOut]
    total_fen: int
    elder_signatory: str
    signed_on: datetime.date | None
    terms: str
    actions: list[str] = Field(description="the moves the status allows now (sign, end)")


class AgreementListOut(Paginated[AgreementOut]):
    """A page of agreements, the latest first."""


class AgreementFilterIn(Schema):
    elder: int | None = Field(None, ge=1, le=2**62)
    region: int | None = Field(None, ge=1, le=2**62)
    status: Literal[tuple(["", *Agreement.Status.values])] = ""


class LineIn(Schema):
    item: int = Field(ge=1, le=2**62)
    quantity: int = Field(ge=1, le=999)
    frequency: Literal[tuple(agreements.FREQUENCIES)] = "month"
    payer: Literal[tuple(agreements.PAYERS)] = Field("elder", description="elder, government, subsidy (the elder's quota), free")


class AgreementIn(Schema):
    elder: int = Field(ge=1, le=2**62)
    organisation: int | None = Field(None, ge=1, le=2**62)
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    lines: list[LineIn] = Field(max_length=agreements.LINES_MAX)
    terms: str = Field("", max_length=4000, description="empty: the standard terms")


class SignIn(Schema):
    signatory: str = Field(max_length=200, description="the elder or their agent who signed")
    signed_on: datetime.date | None = None


class EndIn(Schema):
    reason: str = Field(max_length=2000)


def agreement_out(a) -> dict:
    return {
        "id": a.pk,
        "number": a.number,
        "elder": id_name(a.elder),
        "region": id_name(a.region),
        "organisation": _named(a.organisation),
        "status": a.status,
        "status_label": str(a.get_status_display()),
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "lines": a.lines,
        "total_fen": agreements.lines_total_fen(a.lines),
        "elder_signatory": a.elder_signatory,
        "signed_on": a.signed_on,
        "terms": a.terms,
        "actions": agreements.AGREEMENT_MACHINE.actions_from(a.status),
    }


@router.get("/agreements", response={200: AgreementListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Agreement)
def agreement_list_api(request, filters: Query[AgreementFilterIn], paging: Query[PageIn]):
    from elders.selectors import elder_get
    from regions.selectors import region_get

    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    elder = elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    out = paginate(agreements.agreement_list(user=request.user, elder=elder, status=filters.status, region=region), paging)
    out["items"] = [agreement_out(a) for a in out["items"]]
    return out


@router.post("/agreements", response={201: AgreementOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Agreement)
def agreement_create_api(request, data: AgreementIn):
    """草拟 an agreement: lines priced at the elder's region on `valid_from`, who pays each."""
    from catalogue.selectors import item_list
    from elders.selectors import elder_get
    from providers.selectors import organisation_get

    user = request.user
    elder = elder_get(user=user, elder_id=data.elder)
    organisation = organisation_get(user=user, organisation_id=data.organisation) if data.organisation else None
    known = {i.pk: i for i in item_list(user=user).filter(pk__in=[line.item for line in data.lines])}
    unknown = [line.item for line in data.lines if line.item not in known]
    if unknown:
        shown = "、".join(str(i) for i in unknown)
        raise ValidationError({"lines": _("服务项目不存在：%(ids)s，请从服务清单中选择") % {"ids": shown}})
    agreement = agreements.agreement_create(
        by=user,
        elder=elder,
        lines=[agreements.LineIn(known[line.item], line.quantity, line.frequency, line.payer) for line in data.lines],
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        organisation=organisation,
        terms=data.terms,
    )
    return Status(201, agreement_out(agreements.agreement_get(user=user, agreement_id=agreement.pk)))


@router.get("/agreements/{int:agreement_id}", response={200: AgreementOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", Agreement)
def agreement_get_api(request, agreement_id: int):
    return agreement_out(agreements.agreement_get(user=request.user, agreement_id=agreement_id))


@router.post("/agreements/{int:agreement_id}/sign", response={200: AgreementOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Agreement)
def agreement_sign_api(request, agreement_id: int, data: SignIn):
    """签订: lines and prices fixed from now on."""
    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id, action="change")
    agreements.agreement_sign(by=request.user, agreement=agreement, signatory=data.signatory, signed_on=data.signed_on)
    return agreement_out(agreements.agreement_get(user=request.user, agreement_id=agreement.pk))


@router.post("/agreements/{int:agreement_id}/end", response={200: AgreementOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Agreement)
def agreement_end_api(request, agreement_id: int, data: EndIn):
    """终止 (a draft: 作废), with the reason; the running plans that name it end today."""
    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id, action="change")
    agreements.agreement_end(by=request.user, agreement=agreement, reason=data.reason)
    return agreement_out(agreements.agreement_get(user=request.user, agreement_id=agreement.pk))


@router.get("/agreements/{int:agreement_id}/pdf", response={200: None, 403: ErrorOut, 404: ErrorOut})
@requires("view", Agreement)
def agreement_pdf_api(request, agreement_id: int):
    """The printable agreement (PDF); each download is in the access log."""
    from orders.agreement_pdf import agreement_response

    agreement = agreements.agreement_get(user=request.user, agreement_id=agreement_id)
    agreements.agreement_pdf_log(user=request.user, agreement=agreement, ip=client_address(request), via="api")
    return agreement_response(agreement)
