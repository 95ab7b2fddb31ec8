"""/api/providers: organisations, staff and certificates, teams and volunteers.

The same guards and rules as the pages: core.access.requires on every operation, reads through
providers.selectors (the region axis OR the user's organisation), writes through
providers.services (a ValidationError is a 422 naming the field). Numbers come out masked; the
full ones only from POST …/reveal, with a reason, logged.
"""

import datetime

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.request import client_address
from core.schemas import ErrorOut
from jobs.api import JobStartedOut, job_started
from providers import selectors, services
from providers.models import Caregiver, Organisation, Team, Volunteer

router = Router(tags=["providers"])

E = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _d(value):
    return value.isoformat() if value else None


# --- organisations -------------------------------------------------------------------------------


class OrganisationFilterIn(Schema):
    q: str = Field("", max_length=40, description="part of the name")
    kind: str = Field("", description="service_org, social_org, housekeeping, station, day_care, medical, other")
    status: str = Field("", description="active, suspended, ended; empty for all")


class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str
    region: IdName
    rating: str = Field(description="5A … 1A, or empty")
    rated_on: datetime.date | None
    contract_number: str
    contract_start: datetime.date | None
    contract_end: datetime.date | None
    service_area: list[IdName]
    contact_name: str
    contact_phone: str
    quota_amount: int = Field(description="in quota_unit (fen for money) per quota_period")
    quota_unit: str
    quota_period: str
    status: str
    status_label: str


class OrganisationListOut(Paginated[OrganisationOut]):
    """A page of organisations."""


class OrganisationIn(Schema):
    name: str | None = None
    kind: str | None = None
    region: int | None = Field(None, description="home region: a node in your scope")
    rating: str | None = None
    rated_on: datetime.date | None = None
    contract_number: str | None = None
    contract_start: datetime.date | None = None
    contract_end: datetime.date | None = None
    service_area: list[int] | None = Field(None, description="region ids in your scope")
    contact_name: str | None = None
    contact_phone: str | None = None
    quota_amount: int | None = Field(None, ge=0, le=10**9)
    quota_unit: str | None = Field(None, description="hours, fen, visits")
    quota_period: str | None = Field(None, description="month, year")
    status: str | None = None


def _org(o: Organisation) -> dict:
    return {
        **{f: getattr(o, f) for f in services.clean_organisation_fields()},
        "id": o.pk,
        "kind_label": o.get_kind_display(),
        "status_label": o.get_status_display(),
        "region": id_name(o.region),
        "service_area": [id_name(r) for r in o.service_area.order_by("path")],
    }


@router.get("/organisations", response={200: OrganisationListOut, **E})
@requires("view", Organisation)
def organisation_list_api(request, filters: Query[OrganisationFilterIn], paging: Query[PageIn]):
    """Organisations in your region subtree, or your own organisation (a provider's user)."""
    out = paginate(selectors.organisation_list(user=request.user, **filters.dict()), paging)
    out["items"] = [_org(o) for o in out["items"]]
    return out


@router.post("/organisations", response={201: OrganisationOut, **E})
@requires("add", Organisation)
def organisation_create_api(request, data: OrganisationIn):
    org = services.organisation_create(by=request.user, data=data.dict(exclude_unset=True))
    return Status(201, _org(org))


@router.get("/organisations/{int:organisation_id}", response={200: OrganisationOut, **E})
@requires("view", Organisation)
def organisation_get_api(request, organisation_id: int):
    return _org(selectors.organisation_get(user=request.user, organisation_id=organisation_id))


@router.patch("/organisations/{int:organisation_id}", response={200: OrganisationOut, **E})
@requires("change", Organisation)
def organisation_update_api(request, organisation_id: int, data: OrganisationIn):
    """Change the fields sent; an organisation's own user changes its contact only."""
    org = selectors.organisation_get(user=request.user, organisation_id=organisation_id, action="change")
    org = services.organisation_update(by=request.user, organisation=org, data=data.dict(exclude_unset=True))
    return _org(org)


# --- staff ---------------------------------------------------------------------------------------


class CaregiverFilterIn(Schema):
    organisation: int | None = None
    q: str = Field("", max_length=32, description="part of the name")
    kind: str = Field("", description="aide, carer, nanny, hourly, nurse")
    status: str = Field("active", description="active (default), left; empty for all")


class CertificateOut(Schema):
    id: int
    kind: IdName
    number: str = Field(description="masked: first and last two characters")
    issued_on: datetime.date | None
    expires_on: datetime.date | None


class CaregiverOut(Schema):
    id: int
    organisation: IdName
    kind: str
    kind_label: str
    name: str
    sex: str
    birth_date: datetime.date | None
    age: int | None
    id_number: str = Field(description="masked")
    phone: str = Field(description="masked")
    skills: list[IdName]
    home_lat: float | None = Field(description="WGS-84 degrees")
    home_lng: float | None
    work_start: datetime.time | None
    work_end: datetime.time | None
    work_days: list[int] = Field(description="ISO weekdays, 1 Monday … 7 Sunday; the others are days off")
    languages: str
    status: str
    status_label: str


class CaregiverListOut(Paginated[CaregiverOut]):
    """A page of staff."""


class CaregiverIn(Schema):
    organisation: int | None = Field(None, description="on create; a provider's user may leave it out (their own)")
    kind: str | None = None
    name: str | None = None
    sex: str | None = None
    birth_date: datetime.date | None = None
    id_number: str | None = None
    phone: str | None = None
    skills: list[int] | None = None
    home_lat: float | None = None
    home_lng: float | None = None
    work_start: datetime.time | None = None
    work_end: datetime.time | None = None
    work_days: list[int] | None = None
    languages: str | None = None


def _caregiver(c: Caregiver) -> dict:
    return {
        "id": c.pk,
        "organisation": id_name(c.organisation),
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "name": c.name,
        "sex": c.sex,
        "birth_date": c.birth_date,
        "age": c.age,
        "id_number": c.id_number_masked,
        "phone": c.phone_masked,
        "skills": [id_name(s) for s in c.skills.all()],
        "home_lat": c.home_lat,
        "home_lng": c.home_lng,
        "work_start": c.work_start,
        "work_end": c.work_end,
        "work_days": c.work_days or [],
        "languages": c.languages,
        "status": c.status,
        "status_label": c.get_status_display(),
    }


@router.get("/staff", response={200: CaregiverListOut, **E})
@requires("view", Caregiver)
def caregiver_list_api(request, filters: Query[CaregiverFilterIn], paging: Query[PageIn]):
    f = filters.dict()
    qs = selectors.caregiver_list(user=request.user, organisation_id=f.pop("organisation"), **f).prefetch_related("skills")
    out = paginate(qs, paging)
    out["items"] = [_caregiver(c) for c in out["items"]]
    return out


@router.post("/staff", response={201: CaregiverOut, **E})
@requires("add", Caregiver)
def caregiver_create_api(request, data: CaregiverIn):
    c = services.caregiver_create(by=request.user, data=data.dict(exclude_unset=True))
    return Status(201, _caregiver(c))


@router.get("/staff/{int:caregiver_id}", response={200: CaregiverOut, **E})
@requires("view", Caregiver)
def caregiver_get_api(request, caregiver_id: int):
    return _caregiver(selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id))


@router.patch("/staff/{int:caregiver_id}", response={200: CaregiverOut, **E})
@requires("change", Caregiver)
def caregiver_update_api(request, caregiver_id: int, data: CaregiverIn):
    c = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    payload = data.dict(exclude_unset=True)
    payload.pop("organisation", None)
    return _caregiver(services.caregiver_update(by=request.user, caregiver=c, data=payload))


class StatusIn(Schema):
    action: str = Field(description="leave (办理离职) or rejoin (重新入职)")
    reason: str = Field("", max_length=120)


@router.post("/staff/{int:caregiver_id}/status", response={200: CaregiverOut, **E})
@requires("change", Caregiver)
def caregiver_status_api(request, caregiver_id: int, data: StatusIn):
    c = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    return _caregiver(services.caregiver_change_status(by=request.user, caregiver=c, action=data.action, reason=data.reason))


class RevealIn(Schema):
    reason: str = Field("", description="why, in a few words (logged)")


class CaregiverRevealOut(Schema):
    id_number: str
    phone: str


@router.post("/staff/{int:caregiver_id}/reveal", response={200: CaregiverRevealOut, **E})
@requires("reveal", Caregiver)
def caregiver_reveal_api(request, caregiver_id: int, data: RevealIn = None):
    """Full ID number and phone; needs the reveal permission and a reason; logged."""
    c = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="reveal")
    return selectors.caregiver_reveal(
        user=request.user, caregiver=c, reason=data.reason if data else "", ip=client_address(request)
    )


# --- certificates --------------------------------------------------------------------------------


class CertificateIn(Schema):
    kind: int | None = Field(None, description="a catalogue certificate kind id")
    number: str | None = None
    issued_on: datetime.date | None = None
    expires_on: datetime.date | None = None


class ExpiringOut(CertificateOut):
    caregiver: IdName
    organisation: IdName


class ExpiringListOut(Paginated[ExpiringOut]):
    """Certificates expired or expiring within `days`, soonest first."""


def _cert(c) -> dict:
    return {"id": c.pk, "kind": id_name(c.kind), "number": c.number_masked, "issued_on": c.issued_on, "expires_on": c.expires_on}


class CertificateListOut(Paginated[CertificateOut]):
    """A caregiver's certificates, soonest expiry first."""


@router.get("/staff/{int:caregiver_id}/certificates", response={200: CertificateListOut, **E})
@requires("view", Caregiver)
def certificate_list_api(request, caregiver_id: int, paging: Query[PageIn]):
    c = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id)
    out = paginate(selectors.certificate_list(user=request.user, caregiver=c).order_by("expires_on", "id"), paging)
    out["items"] = [_cert(x) for x in out["items"]]
    return out


@router.post("/staff/{int:caregiver_id}/certificates", response={201: CertificateOut, **E})
@requires("change", Caregiver)
def certificate_create_api(request, caregiver_id: int, data: CertificateIn):
    c = selectors.caregiver_get(user=request.user, caregiver_id=caregiver_id, action="change")
    return Status(201, _cert(services.certificate_create(by=request.user, caregiver=c, data=data.dict(exclude_unset=True))))


@router.patch("/certificates/{int:certificate_id}", response={200: CertificateOut, **E})
@requires("change", Caregiver)
def certificate_update_api(request, certificate_id: int, data: CertificateIn):
    cert = selectors.certificate_get(user=request.user, certificate_id=certificate_id, action="change")
    return _cert(services.certificate_update(by=request.user, certificate=cert, data=data.dict(exclude_unset=True)))


@router.delete("/certificates/{int:certificate_id}", response={204: None, **E})
@requires("change", Caregiver)
def certificate_delete_api(request, certificate_id: int):
    cert = selectors.certificate_get(user=request.user, certificate_id=certificate_id, action="change")
    services.certificate_delete(by=request.user, certificate=cert)
    return Status(204, None)


class ExpiringIn(Schema):
    days: int | None = Field(None, ge=1, le=365, description="default CERTIFICATE_EXPIRY_DAYS (60)")
    organisation: int | None = None


@router.get("/certificates/expiring", response={200: ExpiringListOut, **E})
@requires("view", Caregiver)
def certificates_expiring_api(request, filters: Query[ExpiringIn], paging: Query[PageIn]):
    """Certificates of active staff in your scope, expired or expiring within `days`."""
    qs = selectors.certificates_expiring(user=request.user, days=filters.days, organisation_id=filters.organisation)
    out = paginate(qs, paging)
    out["items"] = [
        {**_cert(c), "caregiver": id_name(c.caregiver), "organisation": id_name(c.caregiver.organisation)} for c in out["items"]
    ]
    return out


# --- teams and volunteers ------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    region: IdName
    kind: str
    kind_label: str
    name: str
    leader: str


class TeamIn(Schema):
    region: int | None = Field(None, description="a community in your scope (on create)")
    kind: str | None = Field(None, description="party, youth, young_old, other")
    name: str | None = None
    leader: str | None = None


def _team(t) -> dict:
    return {
        "id": t.pk,
        "region": id_name(t.region),
        "kind": t.kind,
        "kind_label": t.get_kind_display(),
        "name": t.name,
        "leader": t.leader,
    }


class TeamListOut(Paginated[TeamOut]):
    """A page of volunteer teams."""


@router.get("/teams", response={200: TeamListOut, **E})
@requires("view", Team)
def team_list_api(request, paging: Query[PageIn]):
    out = paginate(selectors.team_choices(user=request.user), paging)
    out["items"] = [_team(t) for t in out["items"]]
    return out


@router.post("/teams", response={201: TeamOut, **E})
@requires("change", Team)
def team_create_api(request, data: TeamIn):
    return Status(201, _team(services.team_create(by=request.user, data=data.dict(exclude_unset=True))))


@router.patch("/teams/{int:team_id}", response={200: TeamOut, **E})
@requires("change", Team)
def team_update_api(request, team_id: int, data: TeamIn):
    team = selectors.team_get(user=request.user, team_id=team_id, action="change")
    payload = data.dict(exclude_unset=True)
    payload.pop("region", None)
    return _team(services.team_update(by=request.user, team=team, data=payload))


class VolunteerFilterIn(Schema):
    q: str = Field("", max_length=32)
    status: str = Field("", description="applied, approved, rejected; empty for all")
    team: int | None = None


class VolunteerOut(Schema):
    id: int
    region: IdName
    team: IdName | None
    name: str
    phone: str = Field(description="masked")
    birth_year: int | None
    age: int | None
    skills: list[IdName]
    available_days: list[int]
    available_from: datetime.time | None
    available_to: datetime.time | None
    status: str
    status_label: str
    status_reason: str


class VolunteerListOut(Paginated[VolunteerOut]):
    """A page of volunteers."""


class VolunteerIn(Schema):
    region: int | None = Field(None, description="a community in your scope (on create)")
    team: int | None = None
    name: str | None = None
    phone: str | None = None
    birth_year: int | None = None
    skills: list[int] | None = None
    available_days: list[int] | None = None
    available_from: datetime.time | None = None
    available_to: datetime.time | None = None


def _volunteer(v) -> dict:
    return {
        "id": v.pk,
        "region": id_name(v.region),
        "team": id_name(v.team),
        "name": v.name,
        "phone": v.phone_masked,
        "birth_year": v.birth_year,
        "age": v.age,
        "skills": [id_name(s) for s in v.skills.all()],
        "available_days": v.available_days or [],
        "available_from": v.available_from,
        "available_to": v.available_to,
        "status": v.status,
        "status_label": v.get_status_display(),
        "status_reason": v.status_reason,
    }


@router.get("/volunteers", response={200: VolunteerListOut, **E})
@requires("view", Volunteer)
def volunteer_list_api(request, filters: Query[VolunteerFilterIn], paging: Query[PageIn]):
    qs = selectors.volunteer_list(user=request.user, q=filters.q, status=filters.status, team_id=filters.team)
    out = paginate(qs.prefetch_related("skills"), paging)
    out["items"] = [_volunteer(v) for v in out["items"]]
    return out


@router.post("/volunteers", response={201: VolunteerOut, **E})
@requires("add", Volunteer)
def volunteer_create_api(request, data: VolunteerIn):
    """A registration: the volunteer waits for approval (status applied)."""
    return Status(201, _volunteer(services.volunteer_create(by=request.user, data=data.dict(exclude_unset=True))))


@router.get("/volunteers/{int:volunteer_id}", response={200: VolunteerOut, **E})
@requires("view", Volunteer)
def volunteer_get_api(request, volunteer_id: int):
    return _volunteer(selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id))


@router.patch("/volunteers/{int:volunteer_id}", response={200: VolunteerOut, **E})
@requires("change", Volunteer)
def volunteer_update_api(request, volunteer_id: int, data: VolunteerIn):
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="change")
    payload = data.dict(exclude_unset=True)
    payload.pop("region", None)
    return _volunteer(services.volunteer_update(by=request.user, volunteer=v, data=payload))


class VolunteerRevealOut(Schema):
    phone: str


@router.post("/volunteers/{int:volunteer_id}/reveal", response={200: VolunteerRevealOut, **E})
@requires("reveal", Volunteer)
def volunteer_reveal_api(request, volunteer_id: int, data: RevealIn = None):
    """The full phone; needs the reveal permission and a reason; logged."""
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="reveal")
    return selectors.volunteer_reveal(
        user=request.user, volunteer=v, reason=data.reason if data else "", ip=client_address(request)
    )


class DecideIn(Schema):
    action: str = Field(description="approve, reject (reason required) or reapply")
    reason: str = Field("", max_length=120)


@router.post("/volunteers/{int:volunteer_id}/decide", response={200: VolunteerOut, **E})
@requires("approve", Volunteer)
def volunteer_decide_api(request, volunteer_id: int, data: DecideIn):
    v = selectors.volunteer_get(user=request.user, volunteer_id=volunteer_id, action="approve")
    return _volunteer(services.volunteer_decide(by=request.user, volunteer=v, action=data.action, reason=data.reason))


# --- Excel ---------------------------------------------------------------------------------------


@router.post("/staff/import", response={202: JobStartedOut, **E})
@requires("import", Caregiver)
def caregiver_import_api(request, file: UploadedFile = File(...), dry_run: bool = Form(False), skip_invalid: bool = Form(False)):
    """Import staff from an Excel sheet (multipart `file`) as a background job; the rules and the
    error file are the elders' (docs/import-export.md)."""
    job = services.provider_import_start(
        by=request.user, what="caregiver", upload=file, dry_run=dry_run, skip_invalid=skip_invalid
    )
    return Status(202, job_started(request, job))


@router.post("/staff/export", response={202: JobStartedOut, **E})
@requires("export", Caregiver)
def caregiver_export_api(request):
    """Export your staff (numbers masked) as a background job; logged."""
    return Status(202, job_started(request, services.provider_export_start(by=request.user, what="caregiver")))


@router.post("/volunteers/import", response={202: JobStartedOut, **E})
@requires("import", Volunteer)
def volunteer_import_api(request, file: UploadedFile = File(...), dry_run: bool = Form(False), skip_invalid: bool = Form(False)):
    job = services.provider_import_start(
        by=request.user, what="volunteer", upload=file, dry_run=dry_run, skip_invalid=skip_invalid
    )
    return Status(202, job_started(request, job))


@router.post("/volunteers/export", response={202: JobStartedOut, **E})
@requires("export", Volunteer)
def volunteer_export_api(request):
    return Status(202, job_started(request, services.provider_export_start(by=request.user, what="volunteer")))
