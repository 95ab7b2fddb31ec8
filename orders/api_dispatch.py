"""/api/orders: dispatch (派单) — the ranked candidates of an order with their reasons, the
organisations that serve it, the elder's preferences and caregivers' absences.

The dispatch itself is `POST /api/orders/{id}/dispatch` (orders/api.py), whose organisation,
caregiver and volunteer are looked up by the same rule as the candidates here
(orders/dispatch_targets.py). docs/orders-dispatch.md.
"""

import datetime
import math

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema, Status

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from orders import dispatch, dispatch_targets, selectors
from orders.models import Order
from providers.models import Caregiver

router = Router(tags=["orders"])

E = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
ID = Field(ge=1, le=2**62)


# --- candidates ----------------------------------------------------------------------------------


class ReasonOut(Schema):
    text: str = Field(description="the reason in words (Chinese)")
    points: int = Field(description="what it added to the score; 0 for a fact or a caution")
    kind: str = Field(description="plus (gave points), minus (a caution), info")


class CandidateOut(Schema):
    kind: str = Field(description="caregiver or volunteer: dispatch with that field")
    id: int
    name: str
    organisation: IdName | None
    score: int = Field(description="the sum of the reasons' points (settings.DISPATCH_WEIGHTS)")
    distance_m: int | None = Field(description="from the previous visit that day, else from home; null: no coordinates")
    week_orders: int = Field(description="orders this week (Monday–Sunday of the visit), not cancelled")
    is_current: bool = Field(description="the order is with this worker now")
    reasons: list[ReasonOut]


class CandidateListOut(Paginated[CandidateOut]):
    """A page of the ranking, best first; `count`: how many passed the hard criteria (skills,
    certificates, availability)."""


class CandidatePageIn(Schema):
    page: int = Field(1, ge=1, le=10**9, description="1 is the best; past the last, the last page")
    page_size: int = Field(20, ge=1, le=10**9, description=f"candidates per page, at most {dispatch.LIMIT_MAX}")


def candidate_out(c) -> dict:
    return {
        "kind": c.kind,
        "id": c.id,
        "name": c.name,
        "organisation": {"id": c.organisation_id, "name": c.organisation_name} if c.organisation_id else None,
        "score": c.score,
        "distance_m": c.distance_m,
        "week_orders": c.week_orders,
        "is_current": c.is_current,
        "reasons": [{"text": r.text, "points": r.points, "kind": r.kind} for r in c.reasons],
    }


@router.get("/{int:order_id}/candidates", response={200: CandidateListOut, **E})
@requires("dispatch", Order)
def order_candidates_api(request, order_id: int, paging: Query[CandidatePageIn]):
    """The caregivers (and for time-bank and free items the community's volunteers) who may
    serve the order, best first, each with its score and reasons in words; paged like every
    list (`count` is exact: everyone who passed is ranked)."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    size = min(paging.page_size, dispatch.LIMIT_MAX)
    ranking = dispatch.rank(user=request.user, order=order, limit=size, offset=(paging.page - 1) * size)
    pages = max(1, math.ceil(ranking.considered / size))
    if paging.page > pages:  # past the end: the last page, as every list
        ranking = dispatch.rank(user=request.user, order=order, limit=size, offset=(pages - 1) * size)
    return {
        "items": [candidate_out(c) for c in ranking.candidates],
        "count": ranking.considered,
        "count_is_exact": True,
        "page": min(paging.page, pages),
        "page_size": size,
        "pages": pages,
    }


class ServingOrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    region: IdName
    rating: str


class ServingOrganisationListOut(Paginated[ServingOrganisationOut]):
    """A page of the organisations that serve the order's elder."""


@router.get("/{int:order_id}/organisations", response={200: ServingOrganisationListOut, **E})
@requires("dispatch", Order)
def order_organisations_api(request, order_id: int, paging: Query[PageIn]):
    """The organisations the order may be sent to: active, registered over or under the elder's
    region or serving it (service area) — also those outside your own scope."""
    order = selectors.order_get(user=request.user, order_id=order_id, action="dispatch")
    qs = dispatch_targets.dispatch_organisations(user=request.user, order=order).select_related("region").order_by("name", "id")
    out = paginate(qs, paging)
    out["items"] = [
        {
            "id": o.pk,
            "name": o.name,
            "kind": o.kind,
            "kind_label": str(o.get_kind_display()),
            "region": id_name(o.region),
            "rating": o.rating,
        }
        for o in out["items"]
    ]
    return out


# --- the elder's preferences -----------------------------------------------------------------------


class PreferenceOut(Schema):
    elder: int
    caregiver_sex: str = Field(description="F, M, or empty (no preference)")
    languages: str = Field(description="languages and dialects, separated by 、")
    preferred_caregiver: IdName | None
    notes: str


class PreferenceIn(Schema):
    caregiver_sex: str = Field("", max_length=1, description="F, M, or empty")
    languages: str = Field("", max_length=200, description="e.g. 粤语、普通话")
    preferred_caregiver: int | None = Field(None, ge=1, le=2**62, description="a caregiver who serves the elder")
    notes: str = Field("", max_length=2000)


def preference_out(elder, pref) -> dict:
    return {
        "elder": elder.pk,
        "caregiver_sex": pref.caregiver_sex,
        "languages": pref.languages,
        "preferred_caregiver": id_name(pref.preferred_caregiver) if pref.preferred_caregiver_id else None,
        "notes": pref.notes,
    }


def _elder(request, elder_id: int):
    from elders.selectors import elder_get

    return elder_get(user=request.user, elder_id=elder_id)


@router.get("/preferences/{int:elder_id}", response={200: PreferenceOut, **E})
@requires("dispatch", Order)
def elder_preference_get_api(request, elder_id: int):
    """What the elder asked for in who serves them (empty when nothing is recorded)."""
    elder = _elder(request, elder_id)
    return preference_out(elder, dispatch.elder_preference_get(user=request.user, elder=elder))


@router.put("/preferences/{int:elder_id}", response={200: PreferenceOut, **E})
@requires("dispatch", Order)
def elder_preference_set_api(request, elder_id: int, data: PreferenceIn):
    """Record the elder's preferences: dispatch ranks by them."""
    elder = _elder(request, elder_id)
    preferred = None
    if data.preferred_caregiver:
        preferred = preferred_caregiver_get(user=request.user, elder=elder, caregiver_id=data.preferred_caregiver)
    pref = dispatch.elder_preference_set(
        by=request.user,
        elder=elder,
        caregiver_sex=data.caregiver_sex,
        languages=data.languages,
        preferred_caregiver=preferred,
        notes=data.notes,
    )
    return preference_out(elder, pref)


def preferred_caregiver_get(*, user, elder, caregiver_id):
    """A caregiver the elder may name: one of an organisation serving the elder (as dispatch)."""
    probe = Order(elder=elder, region=elder.region)
    try:
        return dispatch_targets.dispatch_caregiver_get(user=user, order=probe, caregiver_id=caregiver_id)
    except ValidationError as exc:
        raise ValidationError({"preferred_caregiver": exc.message_dict.get("caregiver", exc.messages)}) from None


# --- absences --------------------------------------------------------------------------------------


class AbsenceOut(Schema):
    id: int
    caregiver: IdName
    organisation: IdName
    starts_on: datetime.date
    ends_on: datetime.date
    reason: str
    reason_label: str
    note: str


class AbsenceListOut(Paginated[AbsenceOut]):
    """A page of absences, the soonest first."""


class AbsenceFilterIn(Schema):
    caregiver: int | None = Field(None, ge=1, le=2**62)
    day_from: datetime.date | None = Field(None, description="absences ending on or after this day (default today)")


class AbsenceIn(Schema):
    caregiver: int = ID
    starts_on: datetime.date
    ends_on: datetime.date | None = Field(None, description="default: the same day")
    reason: str = Field("leave", max_length=20, description="leave, sick, training, other")
    note: str = Field("", max_length=2000)


def absence_out(a) -> dict:
    return {
        "id": a.pk,
        "caregiver": id_name(a.caregiver),
        "organisation": id_name(a.caregiver.organisation),
        "starts_on": a.starts_on,
        "ends_on": a.ends_on,
        "reason": a.reason,
        "reason_label": str(a.get_reason_display()),
        "note": a.note,
    }


@router.get("/absences", response={200: AbsenceListOut, **E})
@requires("view", Caregiver)
def absence_list_api(request, filters: Query[AbsenceFilterIn], paging: Query[PageIn]):
    """Leave of the caregivers you keep (current and coming), the soonest first."""
    from providers.selectors import absence_list

    qs = absence_list(user=request.user, caregiver_id=filters.caregiver, day_from=filters.day_from)
    out = paginate(qs, paging)
    out["items"] = [absence_out(a) for a in out["items"]]
    return out


@router.post("/absences", response={201: AbsenceOut, **E})
@requires("change", Caregiver)
def absence_create_api(request, data: AbsenceIn):
    """Record a caregiver's leave: dispatch does not offer them over those days."""
    from providers.selectors import caregiver_get
    from providers.services import absence_create

    caregiver = caregiver_get(user=request.user, caregiver_id=data.caregiver, action="change")
    absence = absence_create(
        by=request.user,
        caregiver=caregiver,
        data={"starts_on": data.starts_on, "ends_on": data.ends_on, "reason": data.reason, "note": data.note},
    )
    return Status(201, absence_out(absence))


@router.delete("/absences/{int:absence_id}", response={204: None, **E})
@requires("change", Caregiver)
def absence_delete_api(request, absence_id: int):
    """Remove a recorded absence."""
    from providers.selectors import absence_get
    from providers.services import absence_delete

    absence = absence_get(user=request.user, absence_id=absence_id, action="change")
    absence_delete(by=request.user, absence=absence)
    return Status(204, None)
