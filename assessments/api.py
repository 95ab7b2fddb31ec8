"""/api/assessments: ability assessments, the instruments (and publishing new cut-offs), the due
list and the report PDF."""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from assessments import selectors, services
from assessments.models import Assessment, Instrument, Reason
from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.request import client_address
from core.schemas import ErrorOut
from elders.selectors import elder_get
from jobs.api import JobStartedOut, job_started
from regions.models import Region

router = Router(tags=["assessments"])


class InstrumentOut(Schema):
    code: str
    version: int
    name: str
    definition: dict = Field(description="items, options and points, groups, levels (cut-offs) and adjustment rules")


class LevelRangeIn(Schema):
    code: str = Field(max_length=20, description="a level code of the instrument, e.g. mild")
    min: int = Field(ge=0, le=10_000, description="lowest total score of the level")
    max: int = Field(ge=0, le=10_000, description="highest total score of the level")


class PublishIn(Schema):
    levels: list[LevelRangeIn] = Field(min_length=1, max_length=20, description="every level once; 0..total, no gaps or overlaps")
    note: str = Field(max_length=255, description="版本说明 (required)")
    recompute: bool = Field(True, description="start the recompute job after publishing")
    base_version: int | None = Field(
        None, ge=1, le=2**31, description="the version you edited; refused (422) if another was published since"
    )


class LevelRangeOut(Schema):
    code: str
    name: str
    min: int
    max: int


class InstrumentVersionOut(Schema):
    code: str
    version: int
    name: str
    published_at: datetime.datetime | None
    note: str
    levels: list[LevelRangeOut]
    job: JobStartedOut | None = Field(description="the recompute job (when `recompute`): its id and URL")


class AdjustmentOut(Schema):
    code: str
    reason: str


class AssessmentOut(Schema):
    id: int
    elder: IdName
    region: IdName
    instrument: str
    instrument_version: int
    assessor: IdName
    assessed_on: datetime.date
    place: str
    reason: str
    reason_label: str
    status: str
    status_label: str
    answers: dict = Field(description="item code -> points of the chosen option")
    facts: dict = Field(description="adjustment facts: coma, dementia (bool), risk_events (count in 30 days)")
    score: int
    max_score: int
    group_scores: dict
    base_level: str
    base_level_label: str
    final_level: str
    final_level_label: str
    adjustments: list[AdjustmentOut]
    missing: list[str] = Field(description="codes of the items not answered yet")
    next_due: datetime.date | None
    is_latest: bool


class AssessmentListOut(Paginated[AssessmentOut]):
    """A page of assessments."""


class FilterIn(Schema):
    elder: int | None = Field(None, ge=1, le=2**62)
    status: Literal["", "draft", "completed"] = ""
    instrument: Literal["", "gbt42195", "barthel"] = ""
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its subtree")


class CreateIn(Schema):
    elder: int = Field(ge=1, le=2**62)
    instrument: Literal["gbt42195", "barthel"] = "gbt42195"
    assessed_on: datetime.date | None = None
    place: str = Field("", max_length=100)
    reason: Literal[tuple(Reason.values)] = Reason.FIRST


class AnswerIn(Schema):
    answers: dict[str, int | None] = Field({}, max_length=200, description="item code -> points; null clears")
    facts: dict[str, bool | int] = Field({}, max_length=20)
    assessed_on: datetime.date | None = None
    place: str | None = Field(None, max_length=100)
    reason: Literal[tuple(Reason.values)] | None = None


class DueOut(Schema):
    id: int
    elder: IdName
    region: IdName
    final_level: str
    final_level_label: str
    assessed_on: datetime.date
    next_due: datetime.date
    overdue: bool


class DueListOut(Paginated[DueOut]):
    """Latest assessments overdue or due soon."""


def out(a: Assessment) -> dict:
    from assessments.scoring import score

    r = score(a.instrument.definition, a.answers, a.facts)
    return {
        "id": a.pk,
        "elder": {"id": a.elder_id, "name": a.elder.name},
        "region": id_name(a.elder.region),
        "instrument": a.instrument.code,
        "instrument_version": a.instrument.version,
        "assessor": {"id": a.assessor_id, "name": a.assessor.full_name or a.assessor.username},
        "assessed_on": a.assessed_on,
        "place": a.place,
        "reason": a.reason,
        "reason_label": a.get_reason_display(),
        "status": a.status,
        "status_label": a.get_status_display(),
        "answers": a.answers,
        "facts": a.facts,
        "score": a.score,
        "max_score": r.max_score,
        "group_scores": a.group_scores,
        "base_level": a.base_level,
        "base_level_label": a.base_level_label,
        "final_level": a.final_level,
        "final_level_label": a.final_level_label,
        "adjustments": a.adjustments,
        "missing": r.missing,
        "next_due": a.next_due,
        "is_latest": a.is_latest,
    }


def _region(user, region_id):
    if region_id is None:
        return None
    from core.access import get_scoped_or_404

    return get_scoped_or_404(Region, user, region_id, "view")


@router.get("/instruments", response={200: list[InstrumentOut], 403: ErrorOut})
@requires("view", Assessment)
def instrument_list_api(request):
    return [
        {"code": i.code, "version": i.version, "name": i.name, "definition": i.definition} for i in selectors.instruments_in_use()
    ]


@router.post(
    "/instruments/{code}/versions",
    response={201: InstrumentVersionOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
@requires("publish", Instrument)
def instrument_publish_api(request, code: str, data: PublishIn):
    """Publish the next version of an instrument with other level cut-offs (permission
    assessments.publish_instrument); with `recompute` the recompute job starts after the commit.
    Errors name the level and bound to fix (`levels.mild.max`); nothing is published then."""
    from assessments.definition import level_ranges

    current = selectors.instrument_in_use(code)
    inst, job = services.instrument_publish_levels(
        by=request.user,
        code=current.code,
        levels=[lv.dict() for lv in data.levels],
        note=data.note,
        recompute=data.recompute,
        base_version=data.base_version,
    )
    body = {
        "code": inst.code,
        "version": inst.version,
        "name": inst.name,
        "published_at": inst.published_at,
        "note": inst.note,
        "levels": level_ranges(inst.definition),
        "job": job_started(request, job) if job is not None else None,
    }
    return Status(201, body)


@router.get("", response={200: AssessmentListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Assessment)
def assessment_list_api(request, filters: Query[FilterIn], paging: Query[PageIn]):
    qs = selectors.assessment_list(
        user=request.user,
        elder_id=filters.elder,
        status=filters.status,
        instrument=filters.instrument,
        region=_region(request.user, filters.region),
    )
    page = paginate(qs, paging)
    page["items"] = [out(a) for a in page["items"]]
    return page


@router.get("/due", response={200: DueListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Assessment)
def due_list_api(request, paging: Query[PageIn], region: int | None = Query(None, ge=1, le=2**62)):
    """Overdue and due within ASSESSMENT_DUE_AHEAD_DAYS (default 30), soonest first."""
    from django.utils import timezone

    today = timezone.localdate()
    page = paginate(selectors.due_list(user=request.user, region=_region(request.user, region)), paging)
    page["items"] = [
        {
            "id": a.pk,
            "elder": {"id": a.elder_id, "name": a.elder.name},
            "region": id_name(a.elder.region),
            "final_level": a.final_level,
            "final_level_label": a.final_level_label,
            "assessed_on": a.assessed_on,
            "next_due": a.next_due,
            "overdue": a.next_due < today,
        }
        for a in page["items"]
    ]
    return page


@router.post("", response={201: AssessmentOut, 404: ErrorOut, 422: ErrorOut})
@requires("add", Assessment)
def assessment_create_api(request, data: CreateIn):
    """A draft for an elder in your scope; you are its assessor."""
    elder = elder_get(user=request.user, elder_id=data.elder)
    a = services.assessment_create(
        by=request.user,
        elder=elder,
        instrument_code=data.instrument,
        assessed_on=data.assessed_on,
        place=data.place,
        reason=data.reason,
    )
    return Status(201, out(selectors.assessment_get(user=request.user, pk=a.pk)))


@router.get("/{int:assessment_id}", response={200: AssessmentOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", Assessment)
def assessment_get_api(request, assessment_id: int):
    return out(selectors.assessment_get(user=request.user, pk=assessment_id))


@router.patch("/{int:assessment_id}", response={200: AssessmentOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Assessment)
def assessment_answer_api(request, assessment_id: int, data: AnswerIn):
    """Save answers (item code -> points) and facts of a draft; the score comes back."""
    a = selectors.assessment_get(user=request.user, pk=assessment_id, action="change")
    header = {
        k: v for k, v in (("assessed_on", data.assessed_on), ("place", data.place), ("reason", data.reason)) if v is not None
    }
    services.assessment_answer(by=request.user, assessment=a, answers=data.answers, facts=data.facts, data=header)
    return out(selectors.assessment_get(user=request.user, pk=a.pk))


@router.post("/{int:assessment_id}/complete", response={200: AssessmentOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Assessment)
def assessment_complete_api(request, assessment_id: int):
    """Complete: refused (422, naming the missing items) until every item is answered."""
    a = selectors.assessment_get(user=request.user, pk=assessment_id, action="change")
    services.assessment_complete(by=request.user, assessment=a)
    return out(selectors.assessment_get(user=request.user, pk=a.pk))


@router.get("/{int:assessment_id}/report.pdf", response={200: None, 403: ErrorOut, 404: ErrorOut})
@requires("view", Assessment)
def assessment_report_api(request, assessment_id: int):
    """The report (附录C layout) as PDF; each download is in the access log."""
    from assessments.report import report_response

    a = selectors.assessment_get(user=request.user, pk=assessment_id)
    selectors.assessment_report_log(user=request.user, assessment=a, ip=client_address(request), via="api")
    return report_response(a)
