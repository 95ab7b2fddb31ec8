"""/api/timebank: the ledger's routes (docs/timebank-ledger.md, docs/api.md).

- `POST /api/timebank/transfers` — a gift, a donation (a member, or their proxy with the right,
  or the desk for a member) or a group payment (the desk: one account pays many). With an
  `Idempotency-Key` header a retry returns the first transfer (201 both times).
- `POST /api/timebank/transfers/{id}/reverse` — 冲正 (timebank.reverse_transfer).
- `GET /api/timebank/accounts/{id}/movements` — the statement, newest first, by keyset on
  (at, id): `cursor` from the previous page's `next_cursor`; as fast on the last page of ten
  years as on the first.
- `GET /api/timebank/audit` — the audit of the banks in the user's subtree.
"""

import base64
import binascii
import datetime
from functools import wraps
from typing import Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Header, Query, Router, Schema, Status

from core.access import NotPermitted, check, not_permitted_message, requires
from core.api_kit import IdName, id_name
from core.schemas import ErrorOut
from timebank import ledger
from timebank.ledger_access import MEMBER_CODE, account_get, counterparty_get, transfer_get
from timebank.models import AccountKind, Bank, Category, Movement, Transfer, TransferKind

router = Router(tags=["timebank"])

ID = Field(ge=1, le=2**62)
MINUTES = Field(ge=1, le=10**6)
PAGE_MAX = 100


def requires_any(*codes: str):
    """The guard of a route two kinds of user take (the desk and a member): signed in (the API's
    auth), and the role holds one of `codes`; the scope is checked by the reads (ledger_access)."""

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            from core.middleware import error_response

            user = request.user
            if not getattr(user, "is_authenticated", False):
                return error_response(request, status=401, message=_("请先登录或提供有效的令牌"))
            if not any(user.may_code(code) for code in codes):
                return error_response(request, status=403, message=not_permitted_message())
            return view(request, *args, **kwargs)

        guarded.required_permission = codes
        return guarded

    return decorate


# --- schemas ---------------------------------------------------------------------------------------


class PayeeIn(Schema):
    account: int = ID
    minutes: int = MINUTES


class TransferIn(Schema):
    kind: Literal["gift", "donation", "spend", "group"] = Field(
        description="gift: to another member; donation: to a pool; spend: exchange for a service (a member, or their "
        "proxy with can_spend); group: one pays many (desk)"
    )
    from_account: int = Field(ge=1, le=2**62, description="who pays: the member's account (gift, donation) or the payer (group)")
    to_account: int | None = Field(None, ge=1, le=2**62, description="gift: the receiving member's account, same bank")
    pool: int | None = Field(None, ge=1, le=2**62, description="donation: a pool of the bank (default its first)")
    minutes: int | None = Field(None, ge=1, le=10**6, description="gift, donation, spend: how many minutes")
    payees: list[PayeeIn] = Field([], max_length=500, description="group: each participant's account and minutes")
    category: Literal[tuple(["", *Category.values])] = ""
    note: str = Field("", max_length=200)


class ReverseIn(Schema):
    note: str = Field(max_length=200, description="why (required)")


class LegOut(Schema):
    account: IdName
    account_kind: str
    minutes: int
    balance_after: int


class LedgerTransferOut(Schema):
    id: int
    bank: IdName
    kind: str
    kind_label: str
    category: str
    note: str
    at: datetime.datetime
    order: int | None
    served_minutes: int | None
    reverses: int | None
    legs: list[LegOut]


class LedgerMovementOut(Schema):
    id: int
    at: datetime.datetime
    minutes: int = Field(description="positive: into the account; negative: out")
    balance_after: int
    transfer: int
    kind: str
    kind_label: str
    category: str
    note: str
    order: int | None


class AccountOut(Schema):
    id: int
    name: str
    kind: str
    bank: IdName
    balance_minutes: int
    closed_at: datetime.datetime | None


class AccountStatementOut(Schema):
    account: AccountOut
    items: list[LedgerMovementOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next (older) page; null on the last")


class StatementIn(Schema):
    cursor: str = Field("", max_length=100, description="the previous page's next_cursor")
    until: datetime.date | None = Field(None, description="start at the end of this day (jump to a period)")
    limit: int = Field(20, ge=1, le=PAGE_MAX)


class ProblemOut(Schema):
    check: str = Field(description="balance, transfer or bank_sum")
    bank: int
    account: int | None = None
    transfer: int | None = None
    expected: int
    found: int


class AuditOut(Schema):
    ok: bool
    banks: list[IdName] = Field(description="the banks audited (those of your subtree)")
    accounts: int
    transfers: int
    problems: list[ProblemOut]


# --- helpers ---------------------------------------------------------------------------------------


def transfer_out(transfer: Transfer) -> dict:
    legs = transfer.movements.select_related("account").order_by("id")
    return {
        "id": transfer.pk,
        "bank": id_name(transfer.bank),
        "kind": transfer.kind,
        "kind_label": str(transfer.get_kind_display()),
        "category": transfer.category,
        "note": transfer.note,
        "at": transfer.at,
        "order": transfer.order_id,
        "served_minutes": transfer.served_minutes,
        "reverses": transfer.reverses_id,
        "legs": [
            {
                "account": id_name(m.account),
                "account_kind": m.account.kind,
                "minutes": m.minutes,
                "balance_after": m.balance_after,
            }
            for m in legs
        ],
    }


def _cursor_encode(at: datetime.datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _cursor_decode(value: str) -> tuple[datetime.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        at, pk = raw.rsplit("|", 1)
        return datetime.datetime.fromisoformat(at), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({"cursor": _("翻页参数无效，请从第一页重新查看")}) from None


def statement_page(*, account, cursor: str = "", until: datetime.date | None = None, limit: int = 20) -> dict:
    """One page of `account`'s movements, newest first, after `cursor` (keyset on (at, id): the
    index tb_movement_account_at answers any page with one range scan)."""
    qs = Movement.objects.filter(account_id=account.pk)
    if cursor:
        at, pk = _cursor_decode(cursor)
        # at <= … is the index's range; the OR only drops the rows of that same instant already shown.
        qs = qs.filter(at__lte=at).filter(Q(at__lt=at) | Q(id__lt=pk))
    elif until is not None:
        end = timezone.make_aware(datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min))
        qs = qs.filter(at__lt=end)
    rows = list(
        qs.order_by("-at", "-id")
        .select_related("transfer")
        .only(
            "id",
            "at",
            "minutes",
            "balance_after",
            "transfer__id",
            "transfer__kind",
            "transfer__category",
            "transfer__note",
            "transfer__order_id",
        )[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [
            {
                "id": m.pk,
                "at": m.at,
                "minutes": m.minutes,
                "balance_after": m.balance_after,
                "transfer": m.transfer_id,
                "kind": m.transfer.kind,
                "kind_label": str(TransferKind(m.transfer.kind).label),
                "category": m.transfer.category,
                "note": m.transfer.note,
                "order": m.transfer.order_id,
            }
            for m in rows
        ],
        "next_cursor": _cursor_encode(rows[-1].at, rows[-1].pk) if more and rows else None,
    }


# --- routes ----------------------------------------------------------------------------------------


@router.post("/transfers", response={201: LedgerTransferOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
@requires_any("timebank.use_account", "timebank.record_transfer")
def transfer_create_api(request, data: TransferIn, idempotency_key: str | None = Header(None, alias="Idempotency-Key")):
    """转赠, 捐赠, 兑换服务 or 集体活动. A member gives or spends from their own account, or as a
    proxy in force with the right (can_give, can_spend); the desk (timebank.record_transfer)
    gives for any member of its subtree and pays groups (a group is the desk's only; spending is
    the member's only). Too few coins: 422 naming the account and the shortfall."""
    user = request.user
    key = (idempotency_key or "").strip()
    if len(key) > 48 or (key and not key.isprintable()):
        raise ValidationError({"idempotency_key": _("幂等键应为 1 至 48 个可见字符")})
    # The client's key is theirs: kept with their user id, so another's same key never finds it.
    key = f"u{user.pk}:{key}" if key else ""
    if data.kind == "group":
        if not user.may_code("timebank.record_transfer"):
            raise NotPermitted(not_permitted_message())
        payer, _proxy = account_get(user=user, account_id=data.from_account, purpose="give")
        if not data.payees:
            raise ValidationError({"payees": _("请至少选择一位参与者")})
        payees = [(counterparty_get(from_account=payer, account_id=p.account), p.minutes) for p in data.payees]
        transfer = ledger.group(
            bank=payer.bank,
            payer_account=payer,
            payees=payees,
            by=user,
            category=data.category,
            note=data.note,
            idempotency_key=key,
        )
        return Status(201, transfer_out(transfer))
    if data.kind == "spend" and not user.may_code(MEMBER_CODE):
        # The desk records a member's spending as a withdrawal with their confirmation (desk routes).
        raise NotPermitted(_("窗口代会员取出请用“窗口取出”，并由会员本人确认"))
    source, proxy = account_get(user=user, account_id=data.from_account, purpose="spend" if data.kind == "spend" else "give")
    if data.minutes is None:
        raise ValidationError({"minutes": _("请填写分钟数")})
    if data.kind == "spend":
        transfer = ledger.spend(
            from_account=source,
            minutes=data.minutes,
            by=user,
            note=data.note,
            category=data.category,
            proxy=proxy,
            idempotency_key=key,
        )
    elif data.kind == "gift":
        if data.to_account is None:
            raise ValidationError({"to_account": _("请选择接受转赠的账户")})
        to = counterparty_get(from_account=source, account_id=data.to_account)
        transfer = ledger.gift(
            from_account=source, to_account=to, minutes=data.minutes, by=user, note=data.note, proxy=proxy, idempotency_key=key
        )
    else:
        pool = counterparty_get(from_account=source, account_id=data.pool) if data.pool else None
        if pool is not None and pool.kind != AccountKind.POOL:
            raise ValidationError({"pool": _("请选择本行的公益池")})
        transfer = ledger.donate(
            from_account=source, minutes=data.minutes, by=user, pool=pool, note=data.note, proxy=proxy, idempotency_key=key
        )
    return Status(201, transfer_out(transfer))


@router.post("/transfers/{int:transfer_id}/reverse", response={201: LedgerTransferOut, 403: ErrorOut, 422: ErrorOut})
@requires("reverse", Transfer)
def transfer_reverse_api(request, transfer_id: int, data: ReverseIn):
    """冲正: a new transfer negating every leg; once per transfer; refused when it would overdraw an account."""
    transfer = transfer_get(user=request.user, transfer_id=transfer_id, action="reverse")
    reversal = ledger.reverse(transfer=transfer, by=request.user, note=data.note)
    return Status(201, transfer_out(reversal))


@router.get("/accounts/{int:account_id}/movements", response={200: AccountStatementOut, 403: ErrorOut, 422: ErrorOut})
@requires_any("timebank.view_bank", "timebank.use_account")
def account_movements_api(request, account_id: int, filters: Query[StatementIn]):
    """对账单: the account's movements, newest first, `limit` a page, keyset-paginated."""
    account, _proxy = account_get(user=request.user, account_id=account_id, purpose="view")
    page = statement_page(account=account, cursor=filters.cursor, until=filters.until, limit=filters.limit)
    return {
        "account": {
            "id": account.pk,
            "name": account.name,
            "kind": account.kind,
            "bank": id_name(account.bank),
            "balance_minutes": account.balance_minutes,
            "closed_at": account.closed_at,
        },
        **page,
    }


@router.get("/audit", response={200: AuditOut, 403: ErrorOut})
@requires("view", Bank)
def audit_api(request):
    """对账: the ledger of the banks of your subtree proved (balances = movements, transfers and banks sum to zero)."""
    check(request.user, "view", Bank)
    banks = Bank.objects.restrict(request.user, "view").order_by("id")
    result = ledger.audit(banks=banks)
    return {
        "ok": result.ok,
        "banks": [id_name(b) for b in banks.only("id", "name")[:1000]],
        "accounts": result.accounts,
        "transfers": result.transfers,
        "problems": result.problems,
    }
