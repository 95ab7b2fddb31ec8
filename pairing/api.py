"""/api/pairing: pairings through the API, with the same rules as the pages (docs/pairing.md)."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from core.access import NotPermitted, not_permitted_message, requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from elders.selectors import elder_get
from pairing import selectors, services
from pairing.models import Pairing, PartnerKind, Role
from regions.selectors import region_get

router = Router(tags=["pairing"])


class PairingFilterIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")
    role: Literal[tuple(["", *Role.values])] = Field("", description="watcher 守望员, helper 互助员")
    partner_kind: Literal[tuple(["", *PartnerKind.values])] = Field(
        "", description="neighbour, relative, party_member, volunteer, other"
    )
    active: Literal["active", "ended", "all"] = Field("active", description="in force today (default), ended, or all")
    elder: int | None = Field(None, ge=1, le=2**62, description="one elder's pairings")


class PairingOut(Schema):
    id: int
    elder: IdName
    region: IdName
    role: str
    role_label: str
    partner_kind: str
    partner_kind_label: str
    partner_name: str
    phone_masked: str
    has_account: bool = Field(description="the partner has an account: their phone page lists the elder")
    volunteer: IdName | None
    address_note: str
    starts_on: datetime.date
    ends_on: datetime.date | None
    end_reason: str
    notes: str
    active: bool = Field(description="in force today")


class PairingListOut(Paginated[PairingOut]):
    """A page of pairings, by region and elder."""


class PairingIn(Schema):
    elder: int = Field(ge=1, le=2**62, description="an elder in your scope")
    role: Literal[tuple(Role.values)] = Role.WATCHER
    partner_kind: Literal[tuple(PartnerKind.values)] = PartnerKind.NEIGHBOUR
    partner_name: str = Field("", max_length=200, description="required unless `volunteer` is given")
    phone: str = Field("", max_length=40, description="required unless `volunteer` is given")
    account: str = Field("", max_length=150, description="the partner's user name (老人/家属 or 志愿者), if they have one")
    volunteer: int | None = Field(None, ge=1, le=2**62, description="an approved volunteer of the elder's community")
    starts_on: datetime.date | None = Field(None, description="default today")
    address_note: str = Field("", max_length=200)
    notes: str = Field("", max_length=1000)


class EndIn(Schema):
    reason: str = Field(max_length=500)
    ends_on: datetime.date | None = Field(None, description="default today; from this day the pairing is no longer in force")


class UnwatchedOut(Schema):
    id: int
    name: str
    region: IdName
    age: int
    at_risk: list[str] = Field(description="why the elder is at risk: 独居, 空巢, 留守, 失能, 重度残疾, 计划生育特殊家庭")


class UnwatchedListOut(Paginated[UnwatchedOut]):
    """A page of at-risk elders with no watcher, by name."""


class UnwatchedIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="a region in your scope: its whole subtree")


class MineOut(Schema):
    pairing: int
    role: str
    role_label: str
    elder: IdName
    address: str = Field(description="the elder's address (each read is written to the access log)")
    phone_masked: str


class MineListOut(Paginated[MineOut]):
    """Your pairings in force, by elder."""


class PhoneOut(Schema):
    phone: str


def _out(p: Pairing, day: datetime.date) -> dict:
    return {
        "id": p.pk,
        "elder": id_name(p.elder),
        "region": id_name(p.region),
        "role": p.role,
        "role_label": str(p.get_role_display()),
        "partner_kind": p.partner_kind,
        "partner_kind_label": str(p.get_partner_kind_display()),
        "partner_name": p.partner_name,
        "phone_masked": p.phone_masked,
        "has_account": p.user_id is not None,
        "volunteer": id_name(p.volunteer) if p.volunteer_id else None,
        "address_note": p.address_note,
        "starts_on": p.starts_on,
        "ends_on": p.ends_on,
        "end_reason": p.end_reason,
        "notes": p.notes,
        "active": selectors.is_active(p, day),
    }


@router.get("", response={200: PairingListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Pairing)
def pairing_list_api(request, filters: Query[PairingFilterIn], paging: Query[PageIn]):
    """Pairings of your subtree: in force today by default."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    elder = elder_get(user=request.user, elder_id=filters.elder) if filters.elder else None
    f = selectors.PairingFilter(
        region=region, role=filters.role, partner_kind=filters.partner_kind, active=filters.active, elder=elder
    )
    today = timezone.localdate()
    out = paginate(selectors.pairing_list(user=request.user, filters=f, day=today), paging)
    out["items"] = [_out(p, today) for p in out["items"]]
    return out


@router.post("", response={201: PairingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Pairing)
def pairing_create_api(request, data: PairingIn):
    """Pair a partner with an elder as watcher or helper. A volunteer gives name, phone and
    account; otherwise `partner_name` and `phone` are required. The same partner cannot hold
    the same role for the same elder twice at once (422)."""
    elder = elder_get(user=request.user, elder_id=data.elder)
    volunteer = None
    if data.volunteer is not None:
        volunteer = {v.pk: v for v in selectors.partner_volunteers(user=request.user, elder=elder)}.get(data.volunteer)
        if volunteer is None:
            raise ValidationError({"volunteer": _("请选择老人所在社区已通过审核的志愿者")})
    account = None
    if data.account:
        account = selectors.partner_account_find(username=data.account)
        if account is None:
            raise ValidationError({"account": _("没有找到这个账号：请核对用户名，账号角色应为“老人/家属”或“志愿者”")})
    pairing = services.pairing_create(
        by=request.user,
        elder=elder,
        role=data.role,
        partner_kind=data.partner_kind,
        partner_name=data.partner_name,
        phone=data.phone,
        user=account,
        volunteer=volunteer,
        starts_on=data.starts_on,
        address_note=data.address_note,
        notes=data.notes,
    )
    return Status(201, _out(selectors.pairing_get(user=request.user, pairing_id=pairing.pk), timezone.localdate()))


@router.get("/unwatched", response={200: UnwatchedListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Pairing)
def unwatched_api(request, filters: Query[UnwatchedIn], paging: Query[PageIn]):
    """At-risk elders in residence of your subtree with no watcher in force today, by name."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else None
    today = timezone.localdate()
    out = paginate(selectors.unwatched_at_risk(user=request.user, day=today, region=region), paging)
    out["items"] = [
        {
            "id": e.pk,
            "name": e.name,
            "region": id_name(e.region),
            "age": e.age_on(today),
            "at_risk": selectors.at_risk_labels(e, today),
        }
        for e in out["items"]
    ]
    return out


def _watch_check(user) -> None:
    if not selectors.may_watch(user):
        raise NotPermitted(not_permitted_message())


@router.get("/mine", response={200: MineListOut, 403: ErrorOut, 422: ErrorOut})
def mine_api(request, paging: Query[PageIn]):
    """Your own pairings in force (a watcher's or helper's phone): each elder's name and address
    (logged), by elder. Needs pairing.watch_pairing; an account without a region is normal here."""
    _watch_check(request.user)
    out = paginate(selectors.watcher_pairings(user=request.user), paging)
    selectors.watcher_page_log(user=request.user, pairings=out["items"])
    out["items"] = [
        {
            "pairing": p.pk,
            "role": p.role,
            "role_label": str(p.get_role_display()),
            "elder": id_name(p.elder),
            "address": p.elder.address,
            "phone_masked": p.elder.phone_masked,
        }
        for p in out["items"]
    ]
    return out


@router.post("/mine/{int:pairing_id}/phone", response={200: PhoneOut, 403: ErrorOut, 404: ErrorOut})
def mine_phone_api(request, pairing_id: int):
    """The full phone of one of your elders, to call them (written to the access log)."""
    _watch_check(request.user)
    pairing = selectors.watcher_pairing_get(user=request.user, pairing_id=pairing_id)
    return {"phone": selectors.watcher_elder_phone(user=request.user, pairing=pairing)}


@router.get("/{int:pairing_id}", response={200: PairingOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", Pairing)
def pairing_get_api(request, pairing_id: int):
    return _out(selectors.pairing_get(user=request.user, pairing_id=pairing_id), timezone.localdate())


@router.post("/{int:pairing_id}/end", response={200: PairingOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Pairing)
def pairing_end_api(request, pairing_id: int, data: EndIn):
    """End a pairing from `ends_on` (default today; not before it started), with a reason."""
    pairing = selectors.pairing_get(user=request.user, pairing_id=pairing_id, action="change")
    services.pairing_end(by=request.user, pairing=pairing, reason=data.reason, ends_on=data.ends_on)
    return _out(selectors.pairing_get(user=request.user, pairing_id=pairing.pk), timezone.localdate())
