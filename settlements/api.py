"""/api/settlements: the monthly statements and the shares of an order (docs/settlements.md).

`GET /statements`, `GET /statements/{id}` (with a page of its lines), `POST /statements/build`,
`POST /statements/issue` (a month at once), `POST /statements/{id}/issue`,
`POST /statements/{id}/export` (a job), `GET /orders/{order_id}/shares`,
`POST /shares/{share_id}/correct`. Money in integer fen; a month as "YYYY-MM".
"""

import datetime
from typing import Literal

from ninja import Field, Query, Router, Schema, Status

from core.access import requires
from core.api_kit import IdName, PageIn, Paginated, id_name, paginate
from core.schemas import ErrorOut
from jobs.api import JobStartedOut, job_started
from settlements import selectors, services
from settlements.models import Statement
from settlements.payers import payer_label
from settlements.split import visit_day

router = Router(tags=["settlements"])

MONTH = Field(pattern=r"^\d{4}-\d{2}$", description='a month, "2026-05"')
ID = Field(ge=1, le=2**62)
E = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class StatementFilterIn(Schema):
    month: str = Field("", pattern=r"^(\d{4}-\d{2})?$", description='"2026-05"; empty: every month')
    kind: Literal[tuple(["", *Statement.Kind.values])] = Field("", description="payer, organisation or worker")
    state: Literal[tuple(["", *Statement.State.values])] = ""
    payer_kind: str = Field("", max_length=16, description="a payer statement's kind: government, subsidy, merchant, elder …")
    region: int | None = Field(None, ge=1, le=2**62, description="statements built for this region's subtree")
    q: str = Field("", max_length=40, description="a few characters of the party's name")


class StatementItemOut(Schema):
    id: int
    kind: str
    kind_label: str
    month: str
    region: IdName
    party_key: str
    party_label: str
    payer_kind: str
    payer_kind_label: str
    organisation: IdName | None
    caregiver: IdName | None
    state: str
    state_label: str
    total_fen: int
    line_count: int
    issued_at: datetime.datetime | None
    issued_by: str | None
    created_at: datetime.datetime


class StatementListOut(Paginated[StatementItemOut]):
    """A page of statements, the latest month first."""


class LineOut(Schema):
    id: int
    share: int
    order: int
    visit_on: datetime.date
    elder: IdName
    item: IdName
    quantity: int
    organisation: IdName | None
    worker: str
    payer_kind: str
    payer_label: str
    amount_fen: int
    is_late: bool = Field(description="a share of an earlier month, payable only now, or a correction")
    corrects: int | None = Field(description="the share this line's share corrects")
    note: str


class LinePageOut(Paginated[LineOut]):
    """A page of a statement's lines, in the order of the visits."""


class StatementOut(StatementItemOut):
    late_lines: int
    corrections: int
    lines: LinePageOut


class BuildIn(Schema):
    month: str = MONTH
    region: int = Field(ge=1, le=2**62, description="a region in your scope: statements of its subtree")


class BuildOut(Schema):
    month: str
    region: int
    statements: dict[str, int] = Field(description="how many of each kind were built")
    lines: int
    late_lines: int
    payer_total_fen: int
    removed_drafts: int = Field(description="earlier drafts of the month in the subtree, replaced")


class IssueOut(Schema):
    statement: StatementItemOut
    orders_settled: int


class IssueMonthOut(Schema):
    statements: int
    orders_settled: int


class StatementRefOut(Schema):
    id: int
    kind: str
    month: str
    state: str


class ShareOut(Schema):
    id: int
    payer_kind: str
    payer_kind_label: str
    payer_key: str
    payer_label: str
    amount_fen: int
    month: str
    units: int
    quota_key: str
    corrects: int | None
    note: str
    created_at: datetime.datetime
    statements: list[StatementRefOut]


class OrderSharesOut(Schema):
    order: int
    amount_fen: int
    verification: str
    payable: bool = Field(description="the visit is verified: its shares go on statements")
    total_fen: int = Field(description="the shares and corrections together")
    shares: list[ShareOut]


class CorrectIn(Schema):
    amount_fen: int = Field(ge=0, le=services.AMOUNT_MAX, description="what this payer owes for the order from now on")
    note: str = Field(max_length=2000, description="why (required)")


def statement_item(st) -> dict:
    return {
        "id": st.pk,
        "kind": st.kind,
        "kind_label": str(st.get_kind_display()),
        "month": f"{st.month:%Y-%m}",
        "region": id_name(st.region),
        "party_key": st.party_key,
        "party_label": st.party_label,
        "payer_kind": st.payer_kind,
        "payer_kind_label": payer_label(st.payer_kind) if st.payer_kind else "",
        "organisation": id_name(st.organisation),
        "caregiver": id_name(st.caregiver),
        "state": st.state,
        "state_label": str(st.get_state_display()),
        "total_fen": st.total_fen,
        "line_count": st.line_count,
        "issued_at": st.issued_at,
        "issued_by": (st.issued_by.full_name or st.issued_by.username) if st.issued_by else None,
        "created_at": st.created_at,
    }


def line_item(line) -> dict:
    share, order = line.share, line.share.order
    worker = share.caregiver or share.volunteer
    return {
        "id": line.pk,
        "share": share.pk,
        "order": order.pk,
        "visit_on": visit_day(order),
        "elder": id_name(order.elder),
        "item": id_name(order.item),
        "quantity": order.quantity,
        "organisation": id_name(share.organisation),
        "worker": worker.name if worker else "",
        "payer_kind": share.payer_kind,
        "payer_label": share.payer_label,
        "amount_fen": line.amount_fen,
        "is_late": line.is_late,
        "corrects": share.corrects_id,
        "note": share.note,
    }


def share_item(share) -> dict:
    return {
        "id": share.pk,
        "payer_kind": share.payer_kind,
        "payer_kind_label": payer_label(share.payer_kind),
        "payer_key": share.payer_key,
        "payer_label": share.payer_label,
        "amount_fen": share.amount_fen,
        "month": f"{share.month:%Y-%m}",
        "units": share.units,
        "quota_key": share.quota_key,
        "corrects": share.corrects_id,
        "note": share.note,
        "created_at": share.created_at,
        "statements": [
            {"id": ln.statement_id, "kind": ln.kind, "month": f"{ln.statement.month:%Y-%m}", "state": ln.statement.state}
            for ln in share.lines.all()
        ],
    }


def _region(request, region_id: int):
    from regions.selectors import region_get

    return region_get(user=request.user, region_id=region_id)


@router.get("/statements", response={200: StatementListOut, **E})
@requires("view", Statement)
def statement_list_api(request, filters: Query[StatementFilterIn], paging: Query[PageIn]):
    """Statements of your subtree (an organisation: its own and its workers'), latest month first."""
    f = selectors.StatementFilter(
        month=selectors.month_parse(filters.month) if filters.month else None,
        kind=filters.kind,
        state=filters.state,
        payer_kind=filters.payer_kind,
        region=_region(request, filters.region) if filters.region else None,
        q=filters.q,
    )
    out = paginate(selectors.statement_list(user=request.user, filters=f), paging)
    out["items"] = [statement_item(s) for s in out["items"]]
    return out


@router.get("/statements/{int:statement_id}", response={200: StatementOut, **E})
@requires("view", Statement)
def statement_get_api(request, statement_id: int, paging: Query[PageIn]):
    """A statement and a page of its lines (late lines and corrections marked)."""
    statement = selectors.statement_get(user=request.user, statement_id=statement_id)
    lines = paginate(selectors.statement_lines(statement=statement), paging)
    lines["items"] = [line_item(ln) for ln in lines["items"]]
    figures = selectors.statement_figures(statement=statement)
    return {**statement_item(statement), "late_lines": figures["late"], "corrections": figures["corrections"], "lines": lines}


@router.post("/statements/build", response={200: BuildOut, **E})
@requires("issue", Statement)
def statements_build_api(request, data: BuildIn):
    """(Re)build the draft statements of a month for a region's subtree, set-based: per payer,
    per organisation, per worker, from the payable shares (late ones included)."""
    region = _region(request, data.region)
    result = services.statements_build(by=request.user, month=selectors.month_parse(data.month), region=region)
    return {
        "month": f"{result.month:%Y-%m}",
        "region": result.region_id,
        "statements": {str(k): v for k, v in result.statements.items()},
        "lines": result.lines,
        "late_lines": result.late_lines,
        "payer_total_fen": result.payer_total_fen,
        "removed_drafts": result.removed_drafts,
    }


@router.post("/statements/issue", response={200: IssueMonthOut, **E})
@requires("issue", Statement)
def statements_issue_api(request, data: BuildIn):
    """Issue every draft of a month in a region's subtree at once; settles their orders."""
    region = _region(request, data.region)
    result = services.statements_issue(by=request.user, month=selectors.month_parse(data.month), region=region)
    return {"statements": result.statements, "orders_settled": result.orders_settled}


@router.post("/statements/{int:statement_id}/issue", response={200: IssueOut, **E})
@requires("issue", Statement)
def statement_issue_api(request, statement_id: int):
    """出具: freeze the statement (a later correction is a new line on a later statement). A payer
    statement settles the orders whose every share is then on an issued payer statement."""
    statement = selectors.statement_get(user=request.user, statement_id=statement_id, action="issue")
    result = services.statement_issue(by=request.user, statement=statement)
    fresh = selectors.statement_get(user=request.user, statement_id=statement_id)
    return {"statement": statement_item(fresh), "orders_settled": result.orders_settled}


@router.post("/statements/{int:statement_id}/export", response={202: JobStartedOut, **E})
@requires("export", Statement)
def statement_export_api(request, statement_id: int):
    """Export the statement's lines to Excel as a background job; follow it at the job's url."""
    statement = selectors.statement_get(user=request.user, statement_id=statement_id, action="export")
    return Status(202, job_started(request, services.statement_export_start(by=request.user, statement=statement)))


@router.get("/orders/{int:order_id}/shares", response={200: OrderSharesOut, **E})
@requires("view", Statement)
def order_shares_api(request, order_id: int):
    """Who pays what of an order: its shares and their corrections, and the statements they are on."""
    order, shares = selectors.shares_of_order(user=request.user, order_id=order_id)
    rows = [share_item(s) for s in shares]
    return {
        "order": order.pk,
        "amount_fen": order.amount_fen,
        "verification": order.verification,
        "payable": order.verification == services.VERIFIED,
        "total_fen": sum(r["amount_fen"] for r in rows),
        "shares": rows,
    }


@router.post("/shares/{int:share_id}/correct", response={201: ShareOut, **E})
@requires("issue", Statement)
def share_correct_api(request, share_id: int, data: CorrectIn):
    """更正: what this payer owes for the order from now on; a new share holds the difference and
    goes on a later statement as a late line (never an edit)."""
    share = selectors.share_get(user=request.user, share_id=share_id, action="issue")
    correction = services.share_correct(by=request.user, share=share, amount_fen=data.amount_fen, note=data.note)
    return Status(201, share_item(selectors.share_get(user=request.user, share_id=correction.pk)))
