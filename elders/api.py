"""/api/elders: the register through the API, with the same filters and rules as the pages."""

import datetime

from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from audit.selectors import change_records_for
from elders import selectors, services
from elders.categories import categories_of, enabled_categories
from elders.models import STATUS_ACTIONS
from jobs.api import JobErrorOut, JobStartedOut, job_started

router = Router(tags=["elders"])
MAX_PAGE_SIZE = 100


class CategoryOut(Schema):
    code: str
    label: str


class ElderItemOut(Schema):
    id: int
    name: str
    id_number: str = Field(description="masked, e.g. 110105********002X")
    phone: str = Field(description="masked, e.g. 138****5678")
    sex: str
    age: int
    region_id: int
    region: str
    address: str
    status: str
    categories: list[CategoryOut]


class ElderListOut(Schema):
    items: list[ElderItemOut]
    count: int = Field(description="exact up to 10,000 (or always with exact_count=true); see count_is_exact")
    count_is_exact: bool = Field(description="false: more than 10,000 match and count is 10,001 — a lower bound")
    page: int
    page_size: int


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
    birth_date: datetime.date
    hukou: str
    living_arrangement: str
    marital_status: str
    children_count: int
    children_away: bool
    income_level: str
    pension_type: str
    is_dibao: bool
    is_tekun: bool
    disability_grade: str
    ability_level: str
    chronic_illnesses: str
    is_party_member: bool
    is_retired_cadre: bool
    is_veteran_family: bool
    is_model_worker: bool
    is_family_planning_special: bool
    interests: str
    care_preference: str
    family_situation: str
    notes: str
    status_label: str
    status_changed_on: datetime.date | None
    contacts: list[ContactOut]


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
    care_preference: str | None = None
    family_situation: str | None = None
    notes: str | None = None
    contacts: list[ContactIn] | None = None


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
        "age": elder.age,
        "region_id": elder.region_id,
        "region": elder.region.name,
        "address": elder.address,
        "status": elder.status,
        "categories": [{"code": c.code, "label": str(c.label)} for c in categories_of(elder)],
    }


def _detail(elder) -> dict:
    data = _item(elder)
    for field in ElderOut.model_fields:
        if field not in data and hasattr(elder, field):
            data[field] = getattr(elder, field)
    data["status_label"] = elder.get_status_display()
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


@router.get("/categories", response=list[CategoryOut])
def category_list(request):
    return [{"code": c.code, "label": str(c.label)} for c in enabled_categories()]


@router.get("", response=ElderListOut)
def elder_list_api(request, page: int = 1, page_size: int = 20, exact_count: bool = False):
    """Filters as on the page: q, region, category (repeat for AND), age_min, age_max, status, sex.
    Past 10,000 matches the count is a lower bound (count_is_exact false) unless exact_count=true,
    which costs a full count (hundreds of ms over a city)."""
    from core.pagination import CappedPaginator

    filters = selectors.parse_filter(request.GET)
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    qs = selectors.elder_list(user=request.user, filters=filters)
    paginator = CappedPaginator(qs, page_size, cap=None if exact_count else 10_000)
    page_obj = paginator.get_page(page)
    return {
        "items": [_item(e) for e in page_obj.object_list],
        "count": paginator.count,
        "count_is_exact": paginator.is_exact,
        "page": page_obj.number,
        "page_size": page_size,
    }


@router.post("", response={201: ElderOut})
def elder_create_api(request, data: ElderIn):
    elder = services.elder_create(by=request.user, data=_payload(data, partial=False))
    return Status(201, _detail(elder))


@router.get("/{int:elder_id}", response=ElderOut)
def elder_get_api(request, elder_id: int):
    return _detail(selectors.elder_get(user=request.user, elder_id=elder_id))


@router.patch("/{int:elder_id}", response=ElderOut)
def elder_update_api(request, elder_id: int, data: ElderIn):
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="change")
    elder = services.elder_update(by=request.user, elder=elder, data=_payload(data, partial=True))
    return _detail(selectors.elder_get(user=request.user, elder_id=elder.pk))


@router.post("/{int:elder_id}/status", response=ElderOut)
def elder_status_api(request, elder_id: int, data: StatusIn):
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    if data.action not in STATUS_ACTIONS:
        raise ValidationError({"action": _("操作无效,可选:%(a)s") % {"a": ", ".join(STATUS_ACTIONS)}})
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="status")
    elder = services.elder_change_status(
        by=request.user,
        elder=elder,
        action=data.action,
        effective_on=data.effective_on,
        reason=data.reason,
        region_id=data.region,
    )
    return _detail(selectors.elder_get(user=request.user, elder_id=elder.pk, action="status"))


@router.post("/{int:elder_id}/reveal", response=RevealOut)
def elder_reveal_api(request, elder_id: int):
    """Full ID number and phones; needs the reveal permission and is logged."""
    elder = selectors.elder_get(user=request.user, elder_id=elder_id, action="reveal")
    return selectors.elder_reveal(
        user=request.user, elder=elder, fields=("id_number", "phone", "contacts"), ip=request.META.get("REMOTE_ADDR")
    )


@router.get("/{int:elder_id}/history", response=list[ChangeOut])
def elder_history_api(request, elder_id: int):
    elder = selectors.elder_get(user=request.user, elder_id=elder_id)
    return [
        {"at": r.at, "action": r.action, "by": str(r.by) if r.by else "", "changes": r.changes, "note": r.note}
        for r in change_records_for(user=request.user, obj=elder)[:200]
    ]


# --- Excel in and out -------------------------------------------------------------------------


def _upload_kind_error(upload):
    """A message when the upload is plainly not a workbook (its first bytes); reading it is the job's."""
    from elders.workbook_guard import file_kind, not_a_workbook_message

    head = upload.read(8)
    upload.seek(0)
    return None if file_kind(head) else not_a_workbook_message()


@router.post("/import", response={202: JobStartedOut, 403: JobErrorOut, 422: JobErrorOut})
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
    from django.conf import settings
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.utils.translation import gettext as _

    from elders.models import Elder
    from elders.tasks import elder_import_task
    from jobs.models import Job
    from jobs.services import job_create, job_enqueue

    if not request.user.may("import", Elder):
        raise PermissionDenied(_("您没有导入老年人的权限"))
    if file.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("文件太大(%(n)d MB),上限 %(m)d MB;请分成几个文件导入")
                % {"n": file.size // 1048576, "m": settings.IMPORT_MAX_BYTES // 1048576}
            }
        )
    if message := _upload_kind_error(file):
        raise ValidationError({"file": message})
    params = {"dry_run": dry_run, "skip_invalid": skip_invalid, "via": "api"}
    job = job_create(by=request.user, kind=Job.Kind.ELDER_IMPORT, params=params, upload=file, input_name=file.name)
    job_enqueue(job, elder_import_task)
    return Status(202, job_started(request, job))


@router.get("/export", response={200: None})
def elder_export_api(request, reveal: bool = False):
    """The filtered list (same filters as GET /api/elders) as an xlsx file, streamed from disk.
    Numbers masked unless `reveal=true` and the user may see them; every export is logged."""
    import os
    import tempfile

    from django.http import FileResponse

    from elders.exporter import elder_export

    filters = selectors.parse_filter(request.GET)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    try:
        elder_export(
            user=request.user,
            filters=filters,
            reveal=reveal,
            out=tmp.name,
            detail={"via": "api"},
            ip=request.META.get("REMOTE_ADDR"),
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
