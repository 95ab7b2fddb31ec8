"""/api/elders: the register through the API, with the same filters and rules as the pages."""

import datetime
from typing import Annotated, Literal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BeforeValidator, field_validator

from audit.selectors import change_records_for, changes_shown
from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.request import client_address
from core.schemas import ErrorOut
from elders import selectors, services
from elders.categories import CATEGORIES, categories_of, category_by_code, enabled_categories
from elders.models import STATUS_ACTIONS, Elder
from elders.models import Status as ElderStatus
from elders.validation import MAX_CONTACTS
from jobs.api import JobStartedOut, job_started

router = Router(tags=["elders"])


def _blank_is_none(value):
    return None if value == "" else value


def _optional_int(lo: int, hi: int):
    """An integer in [lo, hi]; an empty parameter (region=) means no filter, as on the page."""
    return Annotated[Annotated[int, Field(ge=lo, le=hi)] | None, BeforeValidator(_blank_is_none)]


class ElderFilterIn(Schema):
    """The list's filters, the same names as the page's; elders.selectors.parse_filter applies them."""

    q: str = Field(
        "",
        description="name, pinyin or initials, ID number (whole or birth date YYYYMMDD), "
        "phone (whole or last four), address fragment; first 64 characters",
    )
    region: _optional_int(1, 2**62) = Field(None, description="a region in your scope: its whole subtree")
    category: list[str] = Field(
        [],
        max_length=len(CATEGORIES),
        description="category code; repeat (or comma-separate) for AND: " + ", ".join(c.code for c in CATEGORIES),
    )
    age_min: _optional_int(0, 150) = None
    age_max: _optional_int(0, 150) = None
    status: Literal[tuple([*ElderStatus.values, "all", ""])] = Field(
        ElderStatus.ACTIVE, description="default active (在册); all for every status"
    )
    sex: Literal["", "M", "F"] = ""
    unplaced: bool = Field(
        False, description="only elders registered to a community that has grids, not to a grid (to be placed)"
    )

    @field_validator("category")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        # Checked here too (parse_filter says the same) so one answer names every bad parameter.
        from django.utils.translation import gettext as _

        known = category_by_code()
        unknown = [c for raw in value for c in raw.split(",") if c and c not in known]
        if unknown:
            raise ValueError(_("未知的类别：%(c)s") % {"c": "、".join(unknown)})
        return value


class ElderCategoryOut(Schema):
    code: str
    label: str


class ElderItemOut(Schema):
    id: int
    name: str
    id_number: str = Field(description="masked: 17 asterisks and the check character, e.g. *****************X")
    phone: str = Field(description="masked, e.g. 138****5678")
    sex: str
    sex_label: str
    age: int
    region: IdName = Field(description="the community or grid: its id (what `region` takes on input) and name")
    address: str
    status: str
    status_label: str
    categories: list[ElderCategoryOut]


class ElderListOut(Paginated[ElderItemOut]):
    """A page of elders (core.api_kit)."""


class ContactOut(Schema):
    id: int
    name: str
    relation: str
    relation_label: str
    phone: str


class ContactIn(Schema):
    name: str = ""
    relation: str = "child"
    phone: str = ""


class ElderOut(ElderItemOut):
    birth_date: datetime.date | None = Field(
        None, description="null for users without the reveal permission (they get `age`; issue 8)"
    )
    hukou: str
    hukou_label: str
    living_arrangement: str
    living_arrangement_label: str
    marital_status: str
    marital_status_label: str
    children_count: int
    children_away: bool
    income_level: str
    income_level_label: str
    pension_type: str
    pension_type_label: str
    is_dibao: bool
    is_tekun: bool
    disability_grade: str
    disability_grade_label: str
    ability_level: str
    ability_level_label: str
    chronic_illnesses: str
    is_party_member: bool
    is_retired_cadre: bool
    is_veteran_family: bool
    is_model_worker: bool
    is_family_planning_special: bool
    interests: str
    home_lat: float | None = Field(None, description="home latitude, WGS-84 degrees (not GCJ-02)")
    home_lng: float | None = Field(None, description="home longitude, WGS-84 degrees (not GCJ-02)")
    care_preference: str
    care_preference_label: str
    family_situation: str
    notes: str
    status_changed_on: datetime.date | None
    contacts: list[ContactOut]
    version: int = Field(description="send it back with PATCH: a change saved by someone else since is refused (409)")


class ElderIn(Schema):
    """Every field optional in the schema; the registry's own rules say what is missing, in Chinese."""

    region: int | None = None
    name: str | None = None
    id_number: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    phone: str | None = None
    address: str | None = None
    hukou: str | None = None
    living_arrangement: str | None = None
    marital_status: str | None = None
    children_count: int | None = None
    children_away: bool | None = None
    income_level: str | None = None
    pension_type: str | None = None
    is_dibao: bool | None = None
    is_tekun: bool | None = None
    disability_grade: str | None = None
    ability_level: str | None = None
    chronic_illnesses: str | None = None
    is_party_member: bool | None = None
    is_retired_cadre: bool | None = None
    is_veteran_family: bool | None = None
    is_model_worker: bool | None = None
    is_family_planning_special: bool | None = None
    interests: str | None = None
    home_lat: float | str | None = Field(None, description="WGS-84 degrees; send both or neither")
    home_lng: float | str | None = Field(None, description="WGS-84 degrees; send both or neither")
    care_preference: str | None = None
    family_situation: str | None = None
    notes: str | None = None
    contacts: list[ContactIn] | None = Field(None, max_length=MAX_CONTACTS)


class ElderPatchIn(ElderIn):
    """The fields to change, and the version they were read at (ElderOut.version)."""

    version: int = Field(ge=1, description="the `version` of the record the change was made on (from GET)")


class ConflictOut(ErrorOut):
    """A stale edit: `detail` says who changed what, and when, since the version sent; `errors`
    holds `version`, then one entry per field changed meanwhile."""

    version: int = Field(description="the current version: GET the record, re-apply the change, send again")


class StatusIn(Schema):
    action: str = Field(description="move_in, move_out, decease, enter_institution, return_home")
    effective_on: datetime.date
    reason: str = ""
    region: int | None = None


class RevealOut(Schema):
    id_number: str
    phone: str
    contacts: list[dict]


class ChangeOut(Schema):
    at: datetime.datetime
    action: str
    by: str
    changes: dict
    note: str


def _item(elder) -> dict:
    return {
        "id": elder.pk,
        "name": elder.name,
        "id_number": elder.id_number_masked,
        "phone": elder.phone_masked,
        "sex": elder.sex,
        "sex_label": elder.get_sex_display(),
        "age": elder.age,
        "region": id_name(elder.region),
        "address": elder.address,
        "status": elder.status,
        "status_label": elder.get_status_display(),
        "categories": [{"code": c.code, "label": str(c.label)} for c in categories_of(elder)],
    }


# ElderOut's choices, each with its label beside the code (core.api_kit)
CHOICE_FIELDS = (
    "hukou",
    "living_arrangement",
    "marital_status",
    "income_level",
    "pension_type",
    "disability_grade",
    "ability_level",
    "care_preference",
)


def _detail(elder, user) -> dict:
    data = _item(elder)
    for field in ElderOut.model_fields:
        if field not in data and hasattr(elder, field):
            data[field] = getattr(elder, field)
    if not user.may("reveal", elder):
        data["birth_date"] = None
    for field in CHOICE_FIELDS:
        data[f"{field}_label"] = getattr(elder, f"get_{field}_display")()
    data["contacts"] = [
        {"id": c.pk, "name": c.name, "relation": c.relation, "relation_label": c.get_relation_display(), "phone": c.phone_masked}
        for c in elder.contacts.all()
    ]
    return data


def _payload(data: ElderIn, *, partial: bool) -> dict:
    raw = data.dict(exclude_unset=partial)
    if not partial:
        raw = {k: v for k, v in raw.items() if v is not None or k in ("region", "name")}
    if raw.get("contacts") is not None:
        raw["contacts"] = [dict(c) for c in raw["contacts"]]
    elif "contacts" in raw:
        raw.pop("contacts")
    return raw


@router.get("/categories", response=list[ElderCategoryOut])
def category_list(request):
    return [{"code": c.code, "label": str(c.label)} for c in enabled_categories()]


@router.get("", response={200: ElderListOut, 422: ErrorOut, 429: ErrorOut})
@requires("view", Elder)
def elder_list_api(
    request,
    filters: Query[ElderFilterIn],
    paging: Query[PageIn],
):
    """Filters as on the page: q, region, category (repeat for AND), age_min, age_max, status, sex.
    Past 10,000 matches the count is a lower bound (count_is_exact false) unless exact_count=true,
    which costs a full count (hundreds of ms over a city). A `q` holding an ID, phone or other
    number of seven digits or more is refused (422): send it by POST /api/elders/search, so it
    stays out of URLs and logs. Searches are limited per user (429)."""
    filters = selectors.parse_filter(filters.dict())
    _refuse_number_in_url(filters.q)
    return _search(request, filters, paging)


class ElderSearchIn(ElderFilterIn, PageIn):
    """The list's filters as a JSON body, so a searched number never travels in a URL."""


@router.post("/search", response={200: ElderListOut, 422: ErrorOut, 429: ErrorOut})
@requires("view", Elder)
def elder_search_api(request, data: ElderSearchIn):
    """The list of GET /api/elders with its filters in the body: use it to search by a whole ID or
    phone number. Searches are limited per user (429); one by a whole number is logged in the
    access log (who, when, which elders — not the number)."""
    params = data.dict(exclude={"page", "page_size", "exact_count"})
    filters = selectors.parse_filter({k: v for k, v in params.items() if v not in (None, "", [])})
    return _search(request, filters, PageIn(page=data.page, page_size=data.page_size, exact_count=data.exact_count))


def _refuse_number_in_url(q: str) -> None:
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if selectors.holds_personal_number(q):
        raise ValidationError(
            {"q": _("搜索内容含有身份证号、电话等号码，不能放在网址中：请改用 POST /api/elders/search，把条件放在请求体里")}
        )


def _search(request, filters, paging: PageIn) -> dict:
    selectors.elder_search_guard(user=request.user, q=filters.q)
    out = paginate(selectors.elder_list(user=request.user, filters=filters), paging, filter_first=bool(filters.q))
    found = out["items"]
    selectors.elder_search_log(user=request.user, q=filters.q, found=found, via="api", ip=client_address(request))
    out["items"] = [_item(e) for e in found]
    return out


@router.post("", response={201: ElderOut})
@requires("add", Elder)
def elder_create_api(request, data: ElderIn):
    elder = services.elder_create(by=request.user, data=_payload(data, partial=False))
    return Status(201, _detail(elder, request.user))


@router.get("/{int:elder_id}", response=ElderOut)
@requires("view", Elder)
def elder_get_api(request, elder_id: int):
    return _detail(selectors.elder_get(user=request.user, elder_id=elder_id), request.user)


@router.patch("/{int:elder_id}", response={200: ElderOut, 409: ConflictOut})
@requires("change", Elder)
def elder_update_api(request, elder_id: int, data: ElderPatchIn):
    """Change the fields sent. `version` (required) is the record's version as read: if someone
    saved the record since, nothing is written and the answer is 409 saying who changed which
    fields, and when."""
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="change")
    payload = _payload(data, partial=True)
    payload.pop("version", None)
    try:
        elder = services.elder_update(by=request.user, elder=elder, data=payload, version=data.version)
    except services.ElderChanged as exc:
        errors = exc.field_errors()
        return Status(409, {"detail": exc.messages[0], "errors": errors, "version": exc.elder.version})
    return _detail(selectors.elder_get(user=request.user, elder_id=elder.pk), request.user)


@router.post("/{int:elder_id}/status", response=ElderOut)
@requires("status", Elder)
def elder_status_api(request, elder_id: int, data: StatusIn):
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if data.action not in STATUS_ACTIONS:
        raise ValidationError({"action": _("操作无效，可选：%(a)s") % {"a": ", ".join(STATUS_ACTIONS)}})
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="status")
    elder = services.elder_change_status(
        by=request.user,
        elder=elder,
        action=data.action,
        effective_on=data.effective_on,
        reason=data.reason,
        region_id=data.region,
    )
    return _detail(selectors.elder_get(user=request.user, elder_id=elder.pk, action="status"), request.user)


class RevealIn(Schema):
    reason: str = Field(
        "",
        max_length=200,
        description=f"why the full numbers are needed, e.g. 电话回访 (required, at most {selectors.REVEAL_REASON_MAX} "
        "characters); kept in the access log",
    )


@router.post("/{int:elder_id}/reveal", response={200: RevealOut, 422: ErrorOut})
@requires("reveal", Elder)
def elder_reveal_api(request, elder_id: int, data: RevealIn = None):
    """Full ID number and phones; needs the reveal permission and a reason, and is logged
    with the reason. Phones as dialled: `tel:` them."""
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="reveal")
    return selectors.elder_reveal(
        user=request.user,
        elder=elder,
        reason=data.reason if data else "",
        fields=("id_number", "phone", "contacts"),
        ip=client_address(request),
    )


class ReceiveCheckIn(Schema):
    id_number: str = Field(max_length=32, description="the ID number of the person to receive (in the body, never a URL)")


class ReceiveCheckOut(Schema):
    state: Literal["receivable", "registered_here", "elsewhere", "none"] = Field(
        description="receivable: moved out, may be received; registered_here: in your subtree and not moved out; "
        "elsewhere: registered in another subtree and not moved out; none: not registered"
    )
    message: str
    name: str | None = Field(None, description="only when receivable")
    id_number_masked: str | None = Field(None, description="only when receivable")
    moved_out_on: datetime.date | None = Field(None, description="only when receivable")
    elder_id: int | None = Field(None, description="only when registered_here")


class ReceiveIn(ReceiveCheckIn):
    region: int = Field(description="the community or grid of your subtree that receives them")
    effective_on: datetime.date = Field(description="the date of the move in; not before the move out, not after today")
    reason: str = Field("", max_length=200)


@router.post("/receive/check", response={200: ReceiveCheckOut, 403: ErrorOut, 422: ErrorOut})
def elder_receive_check_api(request, data: ReceiveCheckIn):
    """接收迁入, step one: what an ID number finds. A moved-out record anywhere shows its name,
    masked number and moved-out date only; a record in another subtree that has not moved out
    shows nothing. Needs the add and status permissions; logged like a search by a whole number."""
    found = selectors.elder_receivable(user=request.user, id_number=data.id_number, ip=client_address(request))
    out = {"state": found.state, **(found.preview or {})}
    out["message"] = "" if found.state == "receivable" else services.receive_refusal(found)
    if found.state == "registered_here":
        out["elder_id"] = found.elder.pk
    return out


@router.post("/receive", response={200: ElderOut, 403: ErrorOut, 422: ErrorOut})
def elder_receive_api(request, data: ReceiveIn):
    """接收迁入: receive into your community or grid an elder who moved out of any community.
    The record and its history go on; region changes, status back to active (move_in), the
    move recorded with where from. Refused (422, field id_number) unless the record is moved out."""
    elder = services.elder_receive(
        by=request.user,
        id_number=data.id_number,
        region_id=data.region,
        effective_on=data.effective_on,
        reason=data.reason,
    )
    return _detail(selectors.elder_get(user=request.user, elder_id=elder.pk), request.user)


class ChangeListOut(Paginated[ChangeOut]):
    """A page of an elder's history, newest first (core.api_kit)."""


@router.get("/{int:elder_id}/history", response=ChangeListOut)
@requires("view", Elder)
def elder_history_api(request, elder_id: int, paging: Query[PageIn]):
    """Changes, newest first, numbers masked; for a user without the reveal permission a birth
    date reads "已修改" (they get age, not the birth date)."""
    elder = selectors.elder_get(user=request.user, elder_id=elder_id)
    out = paginate(change_records_for(user=request.user, obj=elder, whole=True), paging)
    out["items"] = [
        {
            "at": r.at,
            "action": r.action,
            "by": str(r.by) if r.by else "",
            "changes": changes_shown(user=request.user, model=Elder, changes=r.changes),
            "note": r.note,
        }
        for r in out["items"]
    ]
    return out


# --- Excel in and out -------------------------------------------------------------------------


@router.post("/import", response={202: JobStartedOut, 403: ErrorOut, 422: ErrorOut})
@requires("import", Elder)
def elder_import_api(
    request,
    file: UploadedFile = File(...),
    dry_run: bool = Form(False),
    skip_invalid: bool = Form(False),
    background: bool = Form(True),
):
    """Import an Excel sheet (multipart `file`) as a background job, dry runs included: the
    answer is 202 with the job's id and `url`; GET /api/jobs/{job_id} follows it and holds the
    report (rows created, updated, rejected, each error's row, column and message) and
    `error_file_url`… via GET /api/jobs/{job_id}/download. Nothing is written if any row is
    bad, unless `skip_invalid`. A file that is not a workbook or too big is 422 at once; a
    workbook that would expand past the limits fails the job with a message saying which.
    `background` is accepted for older clients and ignored: an import never runs in the web
    process."""
    job = services.elder_import_start(by=request.user, upload=file, dry_run=dry_run, skip_invalid=skip_invalid, via="api")
    return Status(202, job_started(request, job))


class ExportIn(ElderFilterIn):
    """The list's filters (as GET /api/elders reads them) and whether to write full numbers."""

    reveal: bool = Field(False, description="full ID numbers and phones, if the role may see them (logged)")


@router.post("/export", response={200: None, 403: ErrorOut})
@requires("export", Elder)
def elder_export_api(request, data: ExportIn):
    """The filtered list as an xlsx file, streamed from disk: `POST` with the filters in the
    JSON body (a browser session needs the CSRF token). Numbers masked unless `reveal` and the
    user may see them; every export is logged with its filter (search words with personal
    numbers starred)."""
    import os
    import tempfile

    from django.http import FileResponse

    from elders.exporter import elder_export

    filters = selectors.parse_filter(data.dict(exclude={"reveal"}))
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    try:
        elder_export(
            user=request.user,
            filters=filters,
            reveal=data.reveal,
            out=tmp.name,
            detail={"via": "api"},
            ip=client_address(request),
        )
        handle = open(tmp.name, "rb")  # noqa: SIM115  (FileResponse closes it)
    finally:
        os.unlink(tmp.name)  # an open handle keeps the data until the response is sent
    return FileResponse(
        handle,
        as_attachment=True,
        filename="elders.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
