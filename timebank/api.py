"""/api/timebank: banks, members, proxies, the desk, the import, statements, figures and the
member's own account, with the same rules as the pages (docs/timebank.md). The ledger's own
routes (transfers, reversals, the audit) are timebank.ledger's router."""

import datetime
from typing import Literal

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from jobs.api import JobStartedOut, job_started
from regions.selectors import region_get
from timebank import members as services
from timebank import selectors
from timebank.api_ledger import requires_any
from timebank.ledger_access import MEMBER_CODE
from timebank.models import Bank, Category, Member, MemberStatus, Transfer

router = Router(tags=["timebank"])


# --- shapes ----------------------------------------------------------------------------------


class BankOut(Schema):
    id: int
    name: str
    region: IdName
    rules: dict
    rates: dict
    credit_line_minutes: int
    levels: list
    active: bool


class BankListOut(Paginated[BankOut]):
    """A page of the banks in your scope."""


class BankIn(Schema):
    name: str | None = Field(None, max_length=60)
    rules: dict | None = Field(None, description='{"min_age": 18, "residence": true, "approval": true}')
    rates: dict | None = Field(None, description="{category: per mille}; 1000 = an hour served earns an hour")
    credit_line_minutes: int | None = Field(None, ge=0, le=6000)
    levels: list | None = Field(None, description='[{"label", "min_minutes", "min_rating", "incentive"}, …] rising')


class MemberItemOut(Schema):
    id: int = Field(description="the member number")
    name: str
    bank: IdName
    region: IdName
    status: str
    status_label: str
    is_retired_cadre: bool
    level: int
    balance_minutes: int | None


class MemberListOut(Paginated[MemberItemOut]):
    """A page of members, newest first."""


class ProxyOut(Schema):
    id: int
    name: str
    relation: str
    can_view: bool
    can_spend: bool
    can_give: bool
    starts_on: datetime.date
    ends_on: datetime.date | None
    consent_note: str


class MemberOut(MemberItemOut):
    joined_on: datetime.date | None
    phone_masked: str
    served_minutes: int
    level_label: str
    incentive: str
    proxies: list[ProxyOut]


class MemberFilterIn(Schema):
    bank: int | None = Field(None, ge=1, le=2**62)
    status: Literal[tuple(["", *MemberStatus.values])] = ""
    q: str = Field("", max_length=32, description="a name's beginning or a member number")
    cadre: bool = False


class ApplyIn(Schema):
    name: str = Field(max_length=32)
    region: int = Field(ge=1, le=2**62, description="the member's community (inside the bank's region)")
    phone: str = Field("", max_length=20)
    birth_date: datetime.date | None = None
    is_retired_cadre: bool = False
    elder: int | None = Field(None, ge=1, le=2**62, description="an elder of the register in your scope")
    volunteer: int | None = Field(None, ge=1, le=2**62, description="a volunteer in your scope")


class DecideIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


class ProxyIn(Schema):
    name: str = Field(max_length=32)
    relation: str = Field(max_length=20)
    consent_note: str = Field(max_length=120)
    can_view: bool = True
    can_spend: bool = False
    can_give: bool = False
    ends_on: datetime.date | None = None


class MoveIn(Schema):
    to_bank: int = Field(ge=1, le=2**62)


class MemberMovementOut(Schema):
    at: datetime.datetime
    kind: str
    kind_label: str
    category: str
    note: str
    minutes: int
    balance_after: int
    confirmation: str
    served_minutes: int | None


class MemberStatementOut(Paginated[MemberMovementOut]):
    """A page of the member's movements, newest first, each with the balance after it."""


class CodeSentOut(Schema):
    sent: bool
    expires_in_minutes: int


class DeskWithdrawIn(Schema):
    minutes: int = Field(ge=1, le=1440)
    code: str = Field(max_length=6, description="the one-time code the member read back (a signature goes through the page)")
    note: str = Field("", max_length=200)


class DeskDepositIn(DeskWithdrawIn):
    category: Literal[tuple(Category.values)]


class DeskTransferOut(Schema):
    id: int
    kind: str
    kind_label: str
    at: datetime.datetime
    balance_minutes: int = Field(description="the member's balance after it")


class FiguresIn(Schema):
    region: int | None = Field(None, ge=1, le=2**62, description="default: your own region")
    period: Literal["all", "year", "month", "last30"] = "all"


class PoolOut(Schema):
    bank: str
    name: str
    balance_minutes: int


class CategoryFigureOut(Schema):
    category: str
    label: str
    services: int
    minutes: int


class FiguresOut(Schema):
    region: IdName
    members: dict = Field(description="members by status")
    retired_cadres: int
    services: int
    served_minutes: int
    transactions: int
    deposits_withdrawals: int
    by_category: list[CategoryFigureOut]
    pools: list[PoolOut]
    banks: int
    ledger_sum: int = Field(description="sum of every movement of the region's banks: 0 when healthy")
    balance_sum: int = Field(description="sum of every stored balance: 0 when healthy")
    healthy: bool


class TimebankMeOut(Schema):
    member: MemberOut | None
    recent: list[MemberMovementOut]
    acting_for: list[MemberItemOut]


class GiveIn(Schema):
    to_number: int = Field(ge=1, le=2**62)
    to_name: str = Field(max_length=32)
    minutes: int = Field(ge=1, le=1440)
    note: str = Field("", max_length=200)
    member: int | None = Field(None, ge=1, le=2**62, description="give for a member you are a proxy of (can_give)")


class DonateIn(Schema):
    minutes: int = Field(ge=1, le=1440)
    member: int | None = Field(None, ge=1, le=2**62)


# --- mapping ---------------------------------------------------------------------------------


def _bank(b: Bank) -> dict:
    return {
        "id": b.pk,
        "name": b.name,
        "region": id_name(b.region),
        "rules": b.rules,
        "rates": b.rates,
        "credit_line_minutes": b.credit_line_minutes,
        "levels": b.levels,
        "active": b.active,
    }


def _member_item(m: Member) -> dict:
    account = getattr(m, "account", None)
    return {
        "id": m.pk,
        "name": m.name,
        "bank": {"id": m.bank_id, "name": m.bank.name},
        "region": id_name(m.region),
        "status": m.status,
        "status_label": str(m.get_status_display()),
        "is_retired_cadre": m.is_retired_cadre,
        "level": m.level,
        "balance_minutes": account.balance_minutes if account else None,
    }


def _member(m: Member) -> dict:
    level = services.level_info(m.bank, m.level) or {}
    return {
        **_member_item(m),
        "joined_on": m.joined_on,
        "phone_masked": m.phone_masked,
        "served_minutes": selectors.served_minutes(member=m),
        "level_label": level.get("label", ""),
        "incentive": level.get("incentive", ""),
        "proxies": [{f: getattr(p, f) for f in ProxyOut.model_fields} for p in selectors.proxies_of(member=m)],
    }


def _movement(mv) -> dict:
    t = mv.transfer
    return {
        "at": mv.at,
        "kind": t.kind,
        "kind_label": str(t.get_kind_display()),
        "category": t.category,
        "note": t.note,
        "minutes": mv.minutes,
        "balance_after": mv.balance_after,
        "confirmation": t.confirmation,
        "served_minutes": t.served_minutes,
    }


def _transfer(t, member) -> dict:
    member.account.refresh_from_db()
    return {
        "id": t.pk,
        "kind": t.kind,
        "kind_label": str(t.get_kind_display()),
        "at": t.at,
        "balance_minutes": member.account.balance_minutes,
    }


# --- banks -----------------------------------------------------------------------------------


@router.get("/banks", response={200: BankListOut, 403: ErrorOut, 422: ErrorOut})
@requires("view", Bank)
def bank_list_api(request, paging: Query[PageIn]):
    out = paginate(selectors.bank_list(user=request.user), paging)
    out["items"] = [_bank(b) for b in out["items"]]
    return out


@router.patch("/banks/{int:bank_id}", response={200: BankOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Bank)
def bank_settings_api(request, bank_id: int, data: BankIn):
    """Change the name, joining rules, rates, credit line or levels (only what is given)."""
    bank = selectors.bank_get(user=request.user, bank_id=bank_id, action="change")
    bank = services.bank_settings_save(by=request.user, bank=bank, **data.dict())
    return _bank(bank)


@router.post("/banks/{int:bank_id}/members", response={201: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Member)
def member_apply_api(request, bank_id: int, data: ApplyIn):
    """Someone joins under the bank's rules (min_age, residence, approval): pending, or active
    with their account open when the bank needs no approval."""
    from elders.selectors import elder_get

    bank = selectors.bank_get(user=request.user, bank_id=bank_id)
    region = region_get(user=request.user, region_id=data.region)
    elder = elder_get(user=request.user, elder_id=data.elder) if data.elder else None
    volunteer = None
    if data.volunteer:
        from providers.selectors import volunteer_get

        volunteer = volunteer_get(user=request.user, volunteer_id=data.volunteer)
    member = services.member_apply(
        by=request.user,
        bank=bank,
        name=data.name,
        region=region,
        elder=elder,
        volunteer=volunteer,
        phone=data.phone,
        birth_date=data.birth_date,
        is_retired_cadre=data.is_retired_cadre,
    )
    return Status(201, _member(selectors.member_get(user=request.user, member_id=member.pk)))


# --- members ---------------------------------------------------------------------------------


@router.get("/members", response={200: MemberListOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Bank)
def member_list_api(request, filters: Query[MemberFilterIn], paging: Query[PageIn]):
    bank = selectors.bank_get(user=request.user, bank_id=filters.bank) if filters.bank else None
    f = selectors.MemberFilter(bank=bank, status=filters.status, q=filters.q.strip(), cadre=filters.cadre)
    out = paginate(selectors.member_list(user=request.user, filters=f), paging)
    out["items"] = [_member_item(m) for m in out["items"]]
    return out


@router.get("/members/{int:member_id}", response={200: MemberOut, 403: ErrorOut, 404: ErrorOut})
@requires("view", Bank)
def member_get_api(request, member_id: int):
    return _member(selectors.member_get(user=request.user, member_id=member_id))


@router.post("/members/{int:member_id}/decide", response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Member)
def member_decide_api(request, member_id: int, data: DecideIn):
    """Approve (the personal account opens) or refuse (with a reason) a pending member."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    services.member_decide(by=request.user, member=member, approve=data.approve, reason=data.reason)
    return _member(selectors.member_get(user=request.user, member_id=member.pk))


@router.post("/members/{int:member_id}/proxies", response={201: ProxyOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Member)
def proxy_register_api(request, member_id: int, data: ProxyIn):
    """A relative or volunteer acting for the member, with the rights stated and the consent."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    proxy = services.proxy_register(by=request.user, member=member, **data.dict())
    return Status(201, {f: getattr(proxy, f) for f in ProxyOut.model_fields})


@router.post("/members/{int:member_id}/move", response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("change", Member)
def member_move_api(request, member_id: int, data: MoveIn):
    """Coins follow the member to a bank of another community of the same city (the ledger's
    move_member): the answer is the member's new row in that bank."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    to_bank = selectors.bank_get(user=request.user, bank_id=data.to_bank)
    moved = services.member_move(by=request.user, member=member, to_bank=to_bank)
    new = moved if isinstance(moved, Member) else Member.objects.filter(bank=to_bank, name=member.name).order_by("-id").first()
    return _member(selectors.member_get(user=request.user, member_id=(new or member).pk))


@router.get("/members/{int:member_id}/statement", response={200: MemberStatementOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Bank)
def statement_api(request, member_id: int, paging: Query[PageIn]):
    """The member's movements, newest first, each with its running balance."""
    member = selectors.member_get(user=request.user, member_id=member_id)
    account = getattr(member, "account", None)
    if account is None:
        return {"items": [], "count": 0, "count_is_exact": True, "page": 1, "page_size": paging.page_size, "pages": 0}
    out = paginate(selectors.movements(account=account), paging)
    out["items"] = [_movement(m) for m in out["items"]]
    return out


class StatementPeriodIn(Schema):
    start: datetime.date | None = Field(None, description="the first day (default: 1 January of the end's year)")
    end: datetime.date | None = Field(None, description="the last day, included (default: today)")


@router.get("/members/{int:member_id}/statement.pdf", response={200: None, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("export", Bank)
def statement_pdf_api(request, member_id: int, period: Query[StatementPeriodIn]):
    """The member's statement for a period as an A4 PDF (opening and closing balance, every
    movement with the balance after it); each download is in the access log."""
    from core.request import client_address
    from timebank.statement_pdf import statement_log, statement_pdf_response, statement_period

    member = selectors.member_get(user=request.user, member_id=member_id)
    start, end = statement_period(period.start, period.end)
    statement_log(user=request.user, member=member, fmt="pdf", start=start, end=end, ip=client_address(request))
    return statement_pdf_response(member=member, start=start, end=end)


# --- the desk --------------------------------------------------------------------------------


@router.post("/desk/{int:member_id}/code", response={200: CodeSentOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("record", Transfer)
def desk_code_api(request, member_id: int):
    """Send the member (and their proxies) a one-time code; the answer never holds it."""
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    services.desk_code_issue(by=request.user, member=member)
    return {"sent": True, "expires_in_minutes": services.CODE_MINUTES}


@router.post("/desk/{int:member_id}/withdraw", response={201: DeskTransferOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("record", Transfer)
def desk_withdraw_api(request, member_id: int, data: DeskWithdrawIn):
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    t = services.desk_withdraw(
        by=request.user, member=member, minutes=data.minutes, confirmation="code", code=data.code, note=data.note
    )
    return Status(201, _transfer(t, member))


@router.post("/desk/{int:member_id}/deposit", response={201: DeskTransferOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("record", Transfer)
def desk_deposit_api(request, member_id: int, data: DeskDepositIn):
    member = selectors.member_get(user=request.user, member_id=member_id, action="change")
    t = services.desk_deposit(
        by=request.user,
        member=member,
        minutes_served=data.minutes,
        category=data.category,
        confirmation="code",
        code=data.code,
        note=data.note,
    )
    return Status(201, _transfer(t, member))


@router.post("/import", response={202: JobStartedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("record", Transfer)
def import_api(request, file: UploadedFile = File(...), dry_run: bool = Form(False), skip_invalid: bool = Form(False)):
    """Import a sheet of deposits and withdrawals (the template's columns) as a background job:
    202 with the job to follow (GET /api/jobs/{job_id}); its download is the bad rows."""
    from timebank.imports import import_start

    job = import_start(by=request.user, upload=file, dry_run=dry_run, skip_invalid=skip_invalid, via="api")
    return Status(202, job_started(request, job))


# --- figures ---------------------------------------------------------------------------------


@router.get("/figures", response={200: FiguresOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires("view", Bank)
def figures_api(request, filters: Query[FiguresIn]):
    """Seed 004's figures, live, for a region of your scope and a period."""
    region = region_get(user=request.user, region_id=filters.region) if filters.region else request.user.region
    start, end = selectors.period(filters.period)
    f = selectors.figures(user=request.user, region=region, start=start, end=end)
    return {
        "region": id_name(region),
        "members": f.members,
        "retired_cadres": f.retired_cadres,
        "services": f.services,
        "served_minutes": f.served_minutes,
        "transactions": f.transactions,
        "deposits_withdrawals": f.deposits_withdrawals,
        "by_category": f.by_category,
        "pools": f.pools,
        "banks": f.banks,
        "ledger_sum": f.ledger_sum,
        "balance_sum": f.balance_sum,
        "healthy": f.healthy,
    }


# --- my account ------------------------------------------------------------------------------


@router.get("/me", response={200: TimebankMeOut, 401: ErrorOut, 403: ErrorOut})
@requires_any(MEMBER_CODE)
def me_api(request):
    """Your own account: balance, hours served, level, recent movements, and the members you
    act for as a proxy."""
    own, proxies = selectors.my_members(user=request.user)
    me = next((m for m in own if m.status == MemberStatus.ACTIVE), own[0] if own else None)
    account = getattr(me, "account", None) if me else None
    return {
        "member": _member(me) if me else None,
        "recent": [_movement(m) for m in selectors.movements(account=account)[:20]] if account else [],
        "acting_for": [_member_item(p.member) for p in proxies],
    }


@router.post("/me/give", response={201: DeskTransferOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires_any(MEMBER_CODE)
def my_give_api(request, data: GiveIn):
    """Give coins to another member of your bank (their member number and name must match):
    your own, or for a member you are a proxy of with can_give."""
    member = selectors.acting_member(user=request.user, member_id=data.member)
    t = services.member_give(
        by=request.user, from_member=member, to_number=data.to_number, to_name=data.to_name, minutes=data.minutes, note=data.note
    )
    return Status(201, _transfer(t, member))


@router.post("/me/donate", response={201: DeskTransferOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires_any(MEMBER_CODE)
def my_donate_api(request, data: DonateIn):
    """Donate coins to your bank's pool (公益池)."""
    member = selectors.acting_member(user=request.user, member_id=data.member)
    t = services.member_donate(by=request.user, member=member, minutes=data.minutes)
    return Status(201, _transfer(t, member))
