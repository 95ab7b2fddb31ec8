"""/api/needs: the needs ledger through the API, with the same rules as the pages."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from audit.selectors import change_records_for, changes_shown
from catalogue.selectors import item_list
from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from elders.selectors import elder_get
from needs import selectors, services
from needs.models import NEED_ACTIONS, NEED_MACHINE, Kind, Need, Source, State
from regions.selectors import region_get

router = Router(tags=["needs"])


class NeedFilterIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    kind: Literal[tuple(["", *Kind.values])] = Field("", description="general 普需, special 特需, urgent 刚需")
    state: Literal[tuple(["pending", "all", *State.values])] = Field(
        "pending", description="pending = open and planned (default)"
    )
    overdue: bool = Field(False, description="only open or planned needs whose follow-up date has passed")
    category: int | None = Field(None, ge=1, le=2**62, description="a catalogue category: needs answered by one of its items")


class NeedItemOut(Schema):
    id: int
    elder: IdName
    region: IdName
    kind: str
    kind_label: str
    source: str
    source_label: str
    description: str
    state: str
    state_label: str
    follow_up_on: datetime.date | None
    overdue: bool
    responsible: IdName | None


class NeedOut(NeedItemOut):
    service_items: list[IdName] = Field(description="the catalogue items that answer the need")
    close_reason: str
    actions: list[str] = Field(description="the moves the state allows now")
    created_at: datetime.datetime


class NeedListOut(Paginated[NeedItemOut]):
    """A page of needs, by follow-up date."""


class NeedIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    kind: Literal[tuple(Kind.values)] = Kind.GENERAL
    source: Literal[tuple(Source.values)] = Source.VISIT
    description: str = Field(max_length=2000)
    service_items: list[int] = Field([], max_length=50, description="ids of catalogue items that answer the need")
    follow_up_on: datetime.date | None = None
    responsible: int | None = Field(None, ge=1, le=2**62, description="a community or grid worker of the elder's community")


class MoveIn(Schema):
    action: str = Field(description="plan, meet, close (reason required), reopen (reason required)")
    reason: str = Field("", max_length=2000)
    follow_up_on: datetime.date | None = None


class HistoryOut(Schema):
    at: datetime.datetime
    action: str
    by: str | None
    changes: dict
    note: str


def _person(user):
    return None if user is None else {"id": user.pk, "name": user.full_name or user.username}


def _item(need) -> dict:
    return {
        "id": need.pk,
        "elder": id_name(need.elder),
        "region": id_name(need.region),
        "kind": need.kind,
        "kind_label": str(need.get_kind_display()),
        "source": need.source,
        "source_label": str(need.get_source_display()),
        "description": need.description,
        "state": need.state,
        "state_label": str(need.get_state_display()),
        "follow_up_on": need.follow_up_on,
        "overdue": selectors.is_overdue(need),
        "responsible": _person(need.responsible),
    }


def _detail(need) -> dict:
    return {
        **_item(need),
        "service_items": [id_name(i) for i in need.items.all()],
        "close_reason": need.close_reason,
        "actions": NEED_MACHINE.actions_from(need.state),
        "created_at": need.created_at,
    }


@router.get("", response={403: ErrorOut, 200: NeedListOut, 422: ErrorOut})
@requires("view", Need)
def need_list_api(request, filters: Query[NeedFilterIn], paging: Query[PageIn]):
    """Needs of your subtree by follow-up date: open and planned by default; `overdue=true`
    for those whose follow-up date has passed."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    f = selectors.NeedFilter(
        region=region, kind=filters.kind, state=filters.state, overdue=filters.overdue, category=filters.category
    )
    out = paginate(selectors.need_list(user=request.user, filters=f), paging)
    out["items"] = [_item(n) for n in out["items"]]
    return out


@router.post("", response={201: NeedOut, 422: ErrorOut})
@requires("add", Need)
def need_create_api(request, data: NeedIn):
    elder = elder_get(user=request.user, elder_id=data.elder)
    known = {i.pk: i for i in item_list(user=request.user)} if request.user.may_code("catalogue.view_serviceitem") else {}
    unknown = [str(i) for i in data.service_items if i not in known]
    if unknown:
        raise ValidationError({"service_items": _("服务项目不存在：%(ids)s，请从服务清单中选择") % {"ids": "、".join(unknown)}})
    responsible = None
    if data.responsible is not None:
        people = {u.pk: u for u in selectors.responsible_choices(user=request.user, elder=elder)}
        responsible = people.get(data.responsible)
        if responsible is None:
            raise ValidationError({"responsible": _("负责人应为该老人所在社区或网格的工作人员，请重新选择")})
    need = services.need_create(
        by=request.user,
        elder=elder,
        kind=data.kind,
        source=data.source,
        description=data.description,
        items=[known[i] for i in data.service_items],
        follow_up_on=data.follow_up_on,
        responsible=responsible,
    )
    return Status(201, _detail(selectors.need_get(user=request.user, need_id=need.pk)))


@router.get("/{int:need_id}", response={200: NeedOut, 403: ErrorOut})
@requires("view", Need)
def need_get_api(request, need_id: int):
    return _detail(selectors.need_get(user=request.user, need_id=need_id))


@router.post("/{int:need_id}/move", response={200: NeedOut, 422: ErrorOut})
@requires("change", Need)
def need_move_api(request, need_id: int, data: MoveIn):
    """One move of the need's state: plan, meet, close or reopen (close and reopen need a
    reason). A move the current state does not allow is refused (422 on `action`)."""
    need = selectors.need_get(user=request.user, need_id=need_id, action="change")
    if data.action not in NEED_ACTIONS:
        raise ValidationError({"action": _("操作无效，可选：%(a)s") % {"a": ", ".join(NEED_ACTIONS)}})
    services.need_move(by=request.user, need=need, action=data.action, reason=data.reason, follow_up_on=data.follow_up_on)
    return _detail(selectors.need_get(user=request.user, need_id=need.pk))


class NeedHistoryListOut(Paginated[HistoryOut]):
    """A page of a need's history, newest first."""


@router.get("/{int:need_id}/history", response={200: NeedHistoryListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Need)
def need_history_api(request, need_id: int, paging: Query[PageIn]):
    need = selectors.need_get(user=request.user, need_id=need_id)
    out = paginate(change_records_for(user=request.user, obj=need, whole=True).select_related("by"), paging)
    out["items"] = [
        {
            "at": r.at,
            "action": r.action,
            "by": (r.by.full_name or r.by.username) if r.by else None,
            "changes": changes_shown(user=request.user, model=Need, changes=r.changes),
            "note": r.note,
        }
        for r in out["items"]
    ]
    return out
