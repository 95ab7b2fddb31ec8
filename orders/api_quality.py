"""Evaluation and supervision under /api/orders (docs/orders-quality.md, docs/api.md):

- `POST /api/orders/{id}/rate` — one route for both who rate: a relative whose active family
  link reaches the order's elder rates it as the family portal does (via "portal"); otherwise a
  worker with orders.rate_order rates an order of their scope, as entered during a call-back
  (via "callback"). Anyone else: 404 for a relative's account, 403 for a role without either.
- call-backs (`/api/orders/call-backs`), follow-ups (`/api/orders/follow-ups`), the supervision
  board (`/api/orders/supervision`), the providers' scorecards (`/api/orders/scorecards/{id}`)
  and family links (`/api/orders/family-links`).
"""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from core.access import NotPermitted, not_permitted_message, requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from orders import family, quality, selectors, supervision
from orders.models import FamilyLink, FollowUp

router = Router(tags=["orders"])

ID = Field(ge=1, le=2**62)
MONTH = Field(None, pattern=r"^\d{4}-\d{2}$", description="the month, 2026-11 (default: this month)")


def _named(obj):
    return None if obj is None else id_name(obj)


def _month(value):
    return supervision.parse_month(value)


def _region(request, region_id):
    from regions.selectors import region_get

    return region_get(user=request.user, region_id=region_id) if region_id else None


# --- ratings ----------------------------------------------------------------------------------------


class RateIn(Schema):
    rating: int = Field(ge=1, le=5, description="1 很不满意 … 5 很满意")
    comment: str = Field("", max_length=2000)


class RatedOut(Schema):
    id: int
    status: str
    status_label: str
    rating: int
    rating_comment: str
    rated_at: datetime.datetime
    rated_via: str = Field(description="portal (a relative on the family portal) or callback (entered by a worker)")
    follow_up: int | None = Field(description="the follow-up a rating of 2 or less opened")


@router.post("/{int:order_id}/rate", response={200: RatedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def order_rate_api(request, order_id: int, data: RateIn):
    """评单: rate a delivered order 1–5. A relative linked to the order's elder rates it as on
    the family portal; a worker with orders.rate_order (a call-back) rates an order of their
    scope. A rating of 2 or less opens a follow-up (its id in `follow_up`)."""
    user = request.user
    order = None
    if user.may_code("orders.portal_order"):
        order = selectors.family_orders(user=user).filter(pk=order_id).first()
    if order is not None:
        via = "portal"
    elif user.may_code("orders.rate_order"):
        order = selectors.order_get(user=user, order_id=order_id, action="rate")
        via = "callback"
    elif user.may_code("orders.portal_order"):
        raise Http404
    else:
        raise NotPermitted(not_permitted_message())
    quality.order_rate(by=user, order=order, rating=data.rating, comment=data.comment, via=via)
    order = selectors.order_after_move(order_id=order.pk)
    follow_up = order.follow_ups.filter(reason=FollowUp.Reason.LOW_RATING, state=FollowUp.State.OPEN).first()
    return {
        "id": order.pk,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "rating": order.rating,
        "rating_comment": order.rating_comment,
        "rated_at": order.rated_at,
        "rated_via": order.rated_via,
        "follow_up": follow_up.pk if follow_up else None,
    }


# --- call-backs ---------------------------------------------------------------------------------------


class OrderBriefOut(Schema):
    id: int
    elder: IdName
    region: IdName
    item: IdName
    scheduled_start: datetime.datetime
    status: str
    status_label: str
    payment_mode: str
    organisation: IdName | None
    worker: str = Field(description="the caregiver's or volunteer's name, or empty")
    rating: int | None


def order_brief(order) -> dict:
    return {
        "id": order.pk,
        "elder": id_name(order.elder),
        "region": id_name(order.region),
        "item": id_name(order.item),
        "scheduled_start": order.scheduled_start,
        "status": order.status,
        "status_label": str(order.get_status_display()),
        "payment_mode": order.payment_mode,
        "organisation": _named(order.organisation),
        "worker": family.worker_name(order),
        "rating": order.rating,
    }


class CallBackOut(Schema):
    id: int
    order: OrderBriefOut
    state: Literal[tuple(quality.CALL_BACK_STATES)]
    state_label: str
    sampled_at: datetime.datetime
    called_at: datetime.datetime | None
    called_by: str | None
    reached: bool | None
    received: bool | None
    on_time: bool | None
    full_duration: bool | None
    same_worker: bool | None
    note: str


class CallBackListOut(Paginated[CallBackOut]):
    """A page of call-backs: what is still to call first (oldest sampled first)."""


class CallBackFilterIn(Schema):
    state: Literal["todo", "pending", "unreached", "passed", "failed", ""] = Field(
        "todo", description="todo (not yet reached: pending and unreached), one state, or empty for all"
    )
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its subtree")
    month: str | None = MONTH


def call_back_out(cb) -> dict:
    state = quality.call_back_state(cb)
    return {
        "id": cb.pk,
        "order": order_brief(cb.order),
        "state": state,
        "state_label": str(quality.CALL_BACK_STATES[state]),
        "sampled_at": cb.sampled_at,
        "called_at": cb.called_at,
        "called_by": (cb.called_by.full_name or cb.called_by.username) if cb.called_by_id else None,
        "reached": cb.reached,
        "received": cb.received,
        "on_time": cb.on_time,
        "full_duration": cb.full_duration,
        "same_worker": cb.same_worker,
        "note": cb.note,
    }


class CallBackIn(Schema):
    reached: bool = Field(description="the elder (or family) was reached; false keeps the call-back to call again")
    received: bool | None = Field(None, description="required when reached: the service was received")
    on_time: bool | None = Field(None, description="required when reached: the worker came on time")
    full_duration: bool | None = Field(None, description="required when reached: the agreed duration was served")
    same_worker: bool | None = Field(None, description="required when reached: the agreed worker came")
    note: str = Field("", max_length=2000)
    rating: int | None = Field(None, ge=1, le=5, description="the elder's rating, entered on their behalf (orders.rate_order)")
    comment: str = Field("", max_length=2000)


@router.get("/call-backs", response={200: CallBackListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def call_back_list_api(request, filters: Query[CallBackFilterIn], paging: Query[PageIn]):
    """回访: the sampled call-backs of your subtree."""
    month = _month(filters.month) if filters.month else None
    qs = quality.call_back_list(user=request.user, state=filters.state, region=_region(request, filters.region), month=month)
    out = paginate(qs.select_related("called_by"), paging)
    out["items"] = [call_back_out(cb) for cb in out["items"]]
    return out


@router.get("/call-backs/{int:call_back_id}", response={200: CallBackOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", FollowUp)
def call_back_get_api(request, call_back_id: int):
    return call_back_out(quality.call_back_get(user=request.user, call_back_id=call_back_id))


@router.post("/call-backs/{int:call_back_id}/record", response={200: CallBackOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", FollowUp)
def call_back_record_api(request, call_back_id: int, data: CallBackIn):
    """Record the call: reached, then the four checks (any "no" opens a follow-up), and
    optionally the elder's rating entered on their behalf."""
    cb = quality.call_back_get(user=request.user, call_back_id=call_back_id, action="change")
    quality.call_back_record(
        by=request.user,
        call_back=cb,
        reached=data.reached,
        received=data.received,
        on_time=data.on_time,
        full_duration=data.full_duration,
        same_worker=data.same_worker,
        note=data.note,
        rating=data.rating,
        comment=data.comment,
    )
    return call_back_out(quality.call_back_get(user=request.user, call_back_id=call_back_id))


# --- follow-ups ---------------------------------------------------------------------------------------


class FollowUpOut(Schema):
    id: int
    order: OrderBriefOut
    reason: str
    reason_label: str
    state: str
    state_label: str
    due_on: datetime.date
    overdue: bool
    note: str
    outcome: str
    responsible: str | None
    created_at: datetime.datetime
    closed_at: datetime.datetime | None
    closed_by: str | None


class FollowUpListOut(Paginated[FollowUpOut]):
    """A page of follow-ups, the nearest deadline first."""


class FollowUpFilterIn(Schema):
    state: Literal["open", "closed", ""] = Field("open", description="open (default), closed, or empty for all")
    reason: Literal[tuple(["", *FollowUp.Reason.values])] = ""
    overdue: bool = Field(False, description="only those open past their deadline or closed after it")
    region: int | None = Field(None, ge=1, le=2**62)


class FollowUpIn(Schema):
    order: int = Field(ge=1, le=2**62, description="an order of your subtree")
    note: str = Field(max_length=2000, description="what the complaint is")


class CloseIn(Schema):
    outcome: str = Field(max_length=2000, description="what was done (required)")


def _who(user):
    return None if user is None else (user.full_name or user.username)


def follow_up_out(f) -> dict:
    return {
        "id": f.pk,
        "order": order_brief(f.order),
        "reason": f.reason,
        "reason_label": str(f.get_reason_display()),
        "state": f.state,
        "state_label": str(f.get_state_display()),
        "due_on": f.due_on,
        "overdue": quality.is_overdue(f),
        "note": f.note,
        "outcome": f.outcome,
        "responsible": _who(f.responsible),
        "created_at": f.created_at,
        "closed_at": f.closed_at,
        "closed_by": _who(f.closed_by),
    }


@router.get("/follow-ups", response={200: FollowUpListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def follow_up_list_api(request, filters: Query[FollowUpFilterIn], paging: Query[PageIn]):
    """整改跟进 of your subtree (a provider: of the orders sent to it)."""
    qs = quality.follow_up_list(
        user=request.user,
        state=filters.state,
        reason=filters.reason,
        overdue=filters.overdue,
        region=_region(request, filters.region),
    )
    out = paginate(qs, paging)
    out["items"] = [follow_up_out(f) for f in out["items"]]
    return out


@router.post("/follow-ups", response={201: FollowUpOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", FollowUp)
def follow_up_create_api(request, data: FollowUpIn):
    """A complaint (投诉) about an order: a follow-up with the usual deadline."""
    order = selectors.order_get(user=request.user, order_id=data.order)
    follow_up = quality.follow_up_create(by=request.user, order=order, note=data.note)
    return Status(201, follow_up_out(quality.follow_up_get(user=request.user, follow_up_id=follow_up.pk)))


@router.get("/follow-ups/{int:follow_up_id}", response={200: FollowUpOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", FollowUp)
def follow_up_get_api(request, follow_up_id: int):
    return follow_up_out(quality.follow_up_get(user=request.user, follow_up_id=follow_up_id))


@router.post("/follow-ups/{int:follow_up_id}/close", response={200: FollowUpOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", FollowUp)
def follow_up_close_api(request, follow_up_id: int, data: CloseIn):
    """办结, with what was done."""
    follow_up = quality.follow_up_get(user=request.user, follow_up_id=follow_up_id, action="change")
    quality.follow_up_close(by=request.user, follow_up=follow_up, outcome=data.outcome)
    return follow_up_out(quality.follow_up_get(user=request.user, follow_up_id=follow_up_id))


# --- the supervision board --------------------------------------------------------------------------------


class BoardFilterIn(Schema):
    month: str | None = MONTH
    region: int | None = Field(
        None, ge=1, le=2**62, description="a region in your scope (default yours): the areas are its children"
    )
    organisation: int | None = Field(None, ge=1, le=2**62, description="only the orders sent to this organisation")


class CountsOut(Schema):
    unaccepted: int
    late: int
    missed: int
    exceptions: int
    low_rating: int
    follow_ups_overdue: int


class BoardRowOut(Schema):
    id: int | None = Field(description="the region, organisation or worker; null: none (not dispatched, not assigned)")
    kind: str = Field(description="region, organisation, caregiver or volunteer")
    name: str
    counts: CountsOut
    total: int


class BoardOut(Schema):
    month: str
    region: IdName | None
    orders: int = Field(description="orders scheduled in the month (in your scope)")
    totals: CountsOut
    areas: list[BoardRowOut] = Field(description="by the regions one level below `region`, most problems first (at most 50)")
    organisations: list[BoardRowOut]
    workers: list[BoardRowOut]
    more: dict = Field(description="how many rows of each breakdown are beyond the 50 shown")


def _rows(rows, kind) -> list[dict]:
    out = []
    for r in rows:
        if kind == "worker":
            row_kind, row_id = r.key if r.key else ("caregiver", None)
        else:
            row_kind, row_id = kind, r.key
        out.append({"id": row_id, "kind": row_kind, "name": r.label, "counts": r.counts, "total": r.total})
    return out


@router.get("/supervision", response={200: BoardOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def supervision_api(request, filters: Query[BoardFilterIn]):
    """监督看板: a month's counts — unaccepted past the deadline, late, missed, exceptions open,
    rated 2 or less, follow-ups overdue — by area, organisation and worker."""
    board = supervision.board(
        user=request.user,
        month=_month(filters.month),
        region=_region(request, filters.region),
        organisation_id=filters.organisation,
    )
    return {
        "month": board.month.strftime("%Y-%m"),
        "region": _named(board.region),
        "orders": board.orders,
        "totals": board.totals,
        "areas": _rows(board.areas, "region"),
        "organisations": _rows(board.organisations, "organisation"),
        "workers": _rows(board.workers, "worker"),
        "more": board.more,
    }


class BoardOrdersIn(BoardFilterIn):
    metric: Literal[tuple(supervision.METRICS)] = Field("late", description="which count (default late)")
    caregiver: int | None = Field(None, ge=1, le=2**62)
    volunteer: int | None = Field(None, ge=1, le=2**62)
    unassigned: bool = Field(False, description="only orders with no caregiver or volunteer")


class BoardOrderListOut(Paginated[OrderBriefOut]):
    """A page of the orders behind one count, latest window first."""


@router.get("/supervision/orders", response={200: BoardOrderListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def supervision_orders_api(request, filters: Query[BoardOrdersIn], paging: Query[PageIn]):
    """The orders behind one count of the board (the drill-down)."""
    qs = supervision.board_orders(
        user=request.user,
        month=_month(filters.month),
        metric=filters.metric,
        region=_region(request, filters.region),
        organisation_id=filters.organisation,
        caregiver_id=filters.caregiver,
        volunteer_id=filters.volunteer,
        unassigned=filters.unassigned,
    )
    out = paginate(qs, paging)
    out["items"] = [order_brief(o) for o in out["items"]]
    return out


# --- scorecards ---------------------------------------------------------------------------------------


class ScorecardIn(Schema):
    month: str | None = MONTH


class ScorecardOut(Schema):
    organisation: IdName
    month: str
    orders: int = Field(description="scheduled in the month, not cancelled")
    delivered: int
    late: int = Field(description="delivered late")
    missed: int = Field(description="flagged no-show and never delivered")
    on_time_percent: str = Field(description="(delivered − late) ÷ (delivered + missed), one decimal, halves up; — when nothing")
    rated: int
    average_rating: str
    low_rated: int
    exceptions: int
    exceptions_open: int
    call_backs: int = Field(description="call-backs that reached the elder")
    call_backs_passed: int
    call_back_pass_percent: str
    complaints: int
    follow_ups_overdue: int
    score: int | None = Field(description="0–100, the weighted on-time, rating and call-back rates")
    suggested_rating: str = Field(description="5A … 1A, or empty when the month is too small to judge")
    why_no_suggestion: str
    current_rating: str


def _organisation(request, organisation_id, action="view"):
    from providers.selectors import organisation_get

    return organisation_get(user=request.user, organisation_id=organisation_id, action=action)


@router.get("/scorecards/{int:organisation_id}", response={200: ScorecardOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def scorecard_api(request, organisation_id: int, filters: Query[ScorecardIn]):
    """A provider's monthly scorecard and its suggested star rating."""
    organisation = _organisation(request, organisation_id)
    return supervision.scorecard(user=request.user, organisation=organisation, month=_month(filters.month)).as_dict()


@router.post("/scorecards/{int:organisation_id}/apply", response={200: ScorecardOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FollowUp)
def scorecard_apply_api(request, organisation_id: int, data: ScorecardIn):
    """Feed the month's suggested star rating into the organisation's rating (providers.change_organisation,
    the government side only), recorded in its history."""
    if not request.user.may_code("providers.change_organisation"):
        raise NotPermitted(not_permitted_message())
    organisation = _organisation(request, organisation_id, action="change")
    month = _month(data.month)
    updated, _card = supervision.scorecard_apply(by=request.user, organisation=organisation, month=month)
    return supervision.scorecard(user=request.user, organisation=updated, month=month).as_dict()


# --- family links -------------------------------------------------------------------------------------


class FamilyLinkOut(Schema):
    id: int
    account: str = Field(description="the relative's user name")
    account_name: str
    elder: IdName
    relation: str
    relation_label: str
    consent_on: datetime.date
    consent_note: str
    linked_by: str | None
    created_at: datetime.datetime
    ended_at: datetime.datetime | None


class FamilyLinkListOut(Paginated[FamilyLinkOut]):
    """A page of family links, the newest first."""


class FamilyLinkFilterIn(Schema):
    elder: int | None = Field(None, ge=1, le=2**62)
    active: Literal["yes", "no", "all"] = Field("yes", description="yes (default): links in force; no: ended; all")


class FamilyLinkIn(Schema):
    account: str = Field(max_length=150, description="the relative's user name (an account of role elder)")
    elder: int = Field(ge=1, le=2**62, description="an elder of your subtree")
    relation: Literal[tuple(FamilyLink.Relation.values)] = FamilyLink.Relation.CHILD
    consent_on: datetime.date = Field(description="the day the elder consented")
    consent_note: str = Field(max_length=2000, description="how: a signed form and its file number, a recorded call …")


class EndIn(Schema):
    reason: str = Field("", max_length=2000)


def family_link_out(link) -> dict:
    return {
        "id": link.pk,
        "account": link.user.username,
        "account_name": link.user.full_name,
        "elder": id_name(link.elder),
        "relation": link.relation,
        "relation_label": str(link.get_relation_display()),
        "consent_on": link.consent_on,
        "consent_note": link.consent_note,
        "linked_by": _who(link.linked_by),
        "created_at": link.created_at,
        "ended_at": link.ended_at,
    }


@router.get("/family-links", response={200: FamilyLinkListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", FamilyLink)
def family_link_list_api(request, filters: Query[FamilyLinkFilterIn], paging: Query[PageIn]):
    """Relatives' accounts linked to elders of your subtree."""
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    active = {"yes": True, "no": False, "all": None}[filters.active]
    out = paginate(family.family_link_list(user=request.user, elder=elder, active=active), paging)
    out["items"] = [family_link_out(link) for link in out["items"]]
    return out


@router.post("/family-links", response={201: FamilyLinkOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", FamilyLink)
def family_link_create_api(request, data: FamilyLinkIn):
    """Link a relative's account to an elder of your subtree, with the elder's consent."""
    from elders.selectors import elder_get

    elder = elder_get(user=request.user, elder_id=data.elder)
    account = family.family_account_find(username=data.account)
    if account is None:
        raise ValidationError({"account": _("没有找到这个家属账号（角色为“老人/家属”），请核对用户名，或联系管理员开通")})
    link = family.family_link_create(
        by=request.user,
        user=account,
        elder=elder,
        relation=data.relation,
        consent_on=data.consent_on,
        consent_note=data.consent_note,
    )
    return Status(201, family_link_out(family.family_link_get(user=request.user, link_id=link.pk)))


@router.post("/family-links/{int:link_id}/end", response={200: FamilyLinkOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", FamilyLink)
def family_link_end_api(request, link_id: int, data: EndIn):
    """End a link: the relative no longer sees the elder on the portal."""
    link = family.family_link_get(user=request.user, link_id=link_id, action="change")
    family.family_link_end(by=request.user, link=link, reason=data.reason)
    return family_link_out(family.family_link_get(user=request.user, link_id=link_id))
