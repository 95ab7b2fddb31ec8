"""/api/merchants: partner merchants, the 15-minute circle of an elder, coverage of a region."""

import datetime
from typing import Literal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.geo import circle_radius_m, circle_settings
from core.schemas import ErrorOut
from elders.selectors import elder_get
from jobs.api import JobStartedOut, job_started
from merchants import selectors, services
from merchants.hours import is_open
from merchants.models import AgreementStatus, Kind, Merchant

router = Router(tags=["merchants"])


class MerchantFilterIn(Schema):
    q: str = Field("", max_length=40, description="a fragment of the name or address")
    kind: Literal[tuple(["", *Kind.values])] = ""
    status: Literal[tuple(["", *AgreementStatus.values])] = ""
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")


class MerchantItemOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    region: IdName
    address: str
    lat: float | None = Field(description="WGS-84 degrees")
    lng: float | None = Field(description="WGS-84 degrees")
    status: str
    status_label: str
    discount_percent: float | None = Field(description="5.0–10.0, or null for no discount")
    open_now: bool | None = Field(description="null when no opening hours are recorded")


class MerchantOut(MerchantItemOut):
    phone: str
    contact_name: str
    agreement_no: str
    signed_on: datetime.date | None
    period_start: datetime.date | None
    period_end: datetime.date | None
    service_items: list[IdName] = Field(description="the catalogue service items offered")
    goods: str
    opening_hours: dict = Field(description='{"0": [["08:00", "20:00"]], …}: Monday "0" … Sunday "6"')
    notes: str
    version: int = Field(description="send it back with PATCH: a change saved by someone else since is refused (409)")


class MerchantIn(Schema):
    """Every field optional in the schema; the rules say what is missing, in Chinese."""

    region: int | None = None
    name: str | None = None
    kind: str | None = None
    address: str | None = None
    lat: float | str | None = Field(None, description="WGS-84 degrees (not GCJ-02 from Chinese map apps); both or neither")
    lng: float | str | None = None
    phone: str | None = None
    contact_name: str | None = None
    agreement_no: str | None = None
    signed_on: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    status: str | None = None
    discount: float | str | None = Field(None, description="percent, 5–10 (000's agreements); null or '' for none")
    service_items: list[int] | None = Field(None, max_length=200, description="catalogue service item ids")
    goods: str | None = None
    opening_hours: dict[str, list[list[str]]] | list[str] | None = Field(
        None, description='{"0": [["08:00","20:00"]], …} or seven texts "08:00-20:00" Monday first'
    )
    notes: str | None = None


class MerchantPatchIn(MerchantIn):
    version: int = Field(ge=1, description="the `version` of the record the change was made on")


class CircleEntryOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    address: str
    distance_m: int
    walking_minutes: float
    discount_percent: float | None
    open_now: bool | None


class CircleOut(Schema):
    elder: IdName
    located: bool = Field(description="false: the elder's home has no coordinates, `merchants` is empty")
    minutes: float
    detour_factor: float
    walk_metres_per_minute: float
    radius_m: int = Field(description="the straight-line radius the rule gives")
    merchants: list[CircleEntryOut]


class KindCoverageOut(Schema):
    kind: str
    label: str
    covered: int
    share: float
    merchants: int
    low: bool


class CoverageIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a street or community in your scope")


class CoverageOut(Schema):
    region: IdName
    elders: int
    located: int
    unlocated: int
    uncovered: int
    kinds: list[KindCoverageOut]


def _payload(raw: dict, *, partial: bool = False) -> dict:
    """The API's names to the rules' (service_items -> items); unset fields left out."""
    if not partial:
        raw = {k: v for k, v in raw.items() if v is not None or k in ("region", "name", "kind")}
    if "service_items" in raw:
        raw["items"] = raw.pop("service_items") or []
    return raw


def _pct(tenths):
    return None if tenths is None else tenths / 10


def _item(m: Merchant, now) -> dict:
    return {
        "id": m.pk,
        "name": m.name,
        "kind": m.kind,
        "kind_label": m.get_kind_display(),
        "region": id_name(m.region),
        "address": m.address,
        "lat": m.lat,
        "lng": m.lng,
        "status": m.status,
        "status_label": m.get_status_display(),
        "discount_percent": _pct(m.discount_tenths),
        "open_now": is_open(m.opening_hours, now),
    }


def _detail(m: Merchant) -> dict:
    from django.utils import timezone

    out = _item(m, timezone.localtime())
    out.update(
        {
            f: getattr(m, f)
            for f in (
                "phone",
                "contact_name",
                "agreement_no",
                "signed_on",
                "period_start",
                "period_end",
                "goods",
                "notes",
                "version",
            )
        }
    )
    out["opening_hours"] = m.opening_hours or {}
    out["service_items"] = [id_name(i) for i in m.items.all()]
    return out


@router.get("", response={200: Paginated[MerchantItemOut], 403: ErrorOut})
@requires("view", Merchant)
def merchant_list_api(request, filters: Query[MerchantFilterIn], paging: Query[PageIn]):
    """The merchants in your scope, by name; filters as on the page."""
    from django.utils import timezone

    f = selectors.MerchantFilters(q=filters.q.strip(), kind=filters.kind, status=filters.status, region=filters.region)
    out = paginate(selectors.merchant_list(user=request.user, filters=f), paging)
    now = timezone.localtime()
    out["items"] = [_item(m, now) for m in out["items"]]
    return out


@router.post("", response={201: MerchantOut})
@requires("change", Merchant)
def merchant_create_api(request, data: MerchantIn):
    payload = _payload(data.dict())
    merchant = services.merchant_create(by=request.user, data=payload)
    return Status(201, _detail(selectors.merchant_get(user=request.user, merchant_id=merchant.pk)))


@router.post("/import", response={202: JobStartedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("import", Merchant)
def merchant_import_api(request, file: UploadedFile = File(...), dry_run: bool = Form(False), skip_invalid: bool = Form(False)):
    """Import merchants from an Excel sheet (multipart `file`, the template's columns) as a
    background job: 202 with the job to follow (GET /api/jobs/{job_id}); its result is the
    report, its download the bad rows with an 错误原因 column. `dry_run` checks without writing;
    without `skip_invalid` one bad row writes nothing. 422 for a file that is no workbook
    or too large (judged by its size and first bytes; the rest is read by the job)."""
    job = services.merchant_import_start(by=request.user, upload=file, dry_run=dry_run, skip_invalid=skip_invalid, via="api")
    return Status(202, job_started(request, job))


@router.get("/coverage", response={200: CoverageOut, 403: ErrorOut})
@requires("view", Merchant)
def coverage_api(request, filters: Query[CoverageIn]):
    """Of the elders in residence under `region` (default: your own street or community): how
    many have each kind of service within the 15-minute circle, those with none, those without
    coordinates (docs/merchants.md). 422 above COVERAGE_MAX_ELDERS elders: ask for a lower region."""
    from django.shortcuts import get_object_or_404

    regions = selectors.coverage_regions(user=request.user)
    if filters.region is not None:
        node = get_object_or_404(regions, pk=filters.region)
    else:
        node = regions.filter(pk=request.user.region_id).first() or regions.filter(level=5).first()
        if node is None:
            from django.http import Http404

            raise Http404
    result = selectors.coverage_for(user=request.user, region=node)
    return {
        "region": id_name(node),
        "elders": result.elders,
        "located": result.located,
        "unlocated": result.unlocated_count,
        "uncovered": result.uncovered_count,
        "kinds": [k.__dict__ for k in result.kinds],
    }


@router.get("/circle/{int:elder_id}", response={200: CircleOut, 403: ErrorOut})
@requires("view", Merchant)
def circle_api(request, elder_id: int):
    """The merchants and service points within a 15-minute walk of the elder's home, nearest
    first (rule: distance × CIRCLE_DETOUR_FACTOR ÷ ELDER_WALK_METRES_PER_MINUTE ≤ CIRCLE_MINUTES)."""
    person = elder_get(user=request.user, elder_id=elder_id)
    entries = selectors.circle_for(person)
    minutes, detour, speed = circle_settings()
    return {
        "elder": id_name(person),
        "located": entries is not None,
        "minutes": minutes,
        "detour_factor": detour,
        "walk_metres_per_minute": speed,
        "radius_m": round(circle_radius_m()),
        "merchants": [
            {
                "id": e.id,
                "name": e.name,
                "kind": e.kind,
                "kind_label": e.kind_label,
                "address": e.address,
                "distance_m": round(e.distance_m),
                "walking_minutes": round(e.minutes, 1),
                "discount_percent": _pct(e.discount_tenths),
                "open_now": e.open_now,
            }
            for e in entries or []
        ],
    }


@router.get("/{int:merchant_id}", response={200: MerchantOut, 403: ErrorOut})
@requires("view", Merchant)
def merchant_get_api(request, merchant_id: int):
    return _detail(selectors.merchant_get(user=request.user, merchant_id=merchant_id))


@router.patch("/{int:merchant_id}", response={200: MerchantOut, 409: ErrorOut})
@requires("change", Merchant)
def merchant_update_api(request, merchant_id: int, data: MerchantPatchIn):
    """Change the fields sent; a stale `version` is refused (409)."""
    merchant = selectors.merchant_get(user=request.user, merchant_id=merchant_id, action="change")
    payload = _payload(data.dict(exclude_unset=True), partial=True)
    payload.pop("version", None)
    try:
        services.merchant_update(by=request.user, merchant=merchant, data=payload, version=data.version)
    except services.MerchantChanged as exc:
        return Status(409, {"detail": str(exc), "errors": [{"field": "version", "message": str(exc)}]})
    return _detail(selectors.merchant_get(user=request.user, merchant_id=merchant.pk))
