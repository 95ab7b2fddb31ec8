"""Writes of settlements: the shares of a checked-out visit, corrections, and the monthly
statements (docs/settlements.md). Keyword-only, `by=`, atomic; pages, API and tasks call these.

Statements are built set-based: one INSERT … SELECT of a month's candidate shares into a
temporary table (the share, its order's verification, each kind's party), then per kind one
INSERT … SELECT … GROUP BY of the statements and one INSERT … SELECT of their lines; no Python
loop over orders. Issuing freezes a statement; issuing payer statements settles, in one UPDATE
through the transition table (orders.services.orders_settle), every order whose shares are all on
issued payer statements.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField, Case, CharField, Exists, ExpressionWrapper, F, OuterRef, Q, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Concat
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record, change_records_from_queryset
from core.access import check
from core.scoping import Scope
from core.text import refuse_invisible_characters
from settlements.models import Share, Statement, StatementLine
from settlements.payers import payer_label
from settlements.selectors import share_effective_fen, this_month
from settlements.split import context_for, month_of, split

PAYER = Statement.Kind.PAYER
ORGANISATION = Statement.Kind.ORGANISATION
WORKER = Statement.Kind.WORKER
DRAFT = Statement.State.DRAFT
ISSUED = Statement.State.ISSUED
VERIFIED = "verified"  # orders.models.Verification.VERIFIED: the one payable state
AMOUNT_MAX = 1_000_000_000  # fen (¥10,000,000): larger is a typing error


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _batch_memory() -> None:
    """A month's build or settling sorts and hashes millions of rows: on PostgreSQL let this
    transaction (only) use more memory per sort or hash than a page's queries need."""
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '256MB'")


def _advisory_lock(name: str, key: int = 0) -> None:
    """Serialise writers of one kind on PostgreSQL (SQLite serialises every writer already)."""
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", [name, key % 2**31])


# --- shares ----------------------------------------------------------------------------------------


def on_order_move(*, order, action: str, by) -> None:
    """The orders app's AFTER_MOVE hook (registered in SettlementsConfig.ready)."""
    if action == "check_out":
        shares_write(order=order, by=by)


@transaction.atomic
def shares_write(*, order, by) -> list[Share]:
    """Split the price of a visit just checked out among its payers and keep one Share per part
    (settlements/split.py). Called in the check-out's transaction; a visit that already has its
    shares keeps them. Whether the visit is payable is not decided here but when statements are
    built (the order's verification then). No history record: the shares follow from the order
    as it was checked out (its own record) and are never edited; corrections are recorded."""
    if Share.objects.filter(order_id=order.pk, corrects__isnull=True).exists():
        return []
    ctx = context_for(order)
    month = month_of(ctx.on)
    # Two visits of one elder checked out at once must not both spend the same quota.
    _advisory_lock("settlements.quota", order.elder_id)
    awaits = month < this_month()  # its month may already be built: the next build looks for it
    shares = [
        Share(
            order_id=order.pk,
            payer_kind=part.kind,
            payer_key=str(part.key)[:40],
            payer_label=str(part.label)[:80],
            amount_fen=part.amount_fen,
            month=month,
            region_id=order.region_id,
            organisation_id=order.organisation_id,
            caregiver_id=order.caregiver_id,
            volunteer_id=order.volunteer_id,
            units=part.units,
            quota_key=part.quota_key,
            awaits_statement=awaits,
        )
        for part in split(ctx)
    ]
    for share in shares:
        share.full_clean(exclude=["order", "region", "organisation", "caregiver", "volunteer", "corrects"])
    return Share.objects.bulk_create(shares)


@transaction.atomic
def share_correct(*, by, share: Share, amount_fen: int, note: str) -> Share:
    """更正: what this payer owes for this order is `amount_fen` from now on. Never an edit: a new
    Share `corrects` the original, holding the difference, and goes on a later statement as a
    late line (an issued statement is never changed). A correction of a correction corrects the
    original. Moving money between two payers is two corrections."""
    check(by, "issue", Statement)
    original = share.corrects or share
    original = Share.objects.select_for_update().select_related("region").get(pk=original.pk)
    note = (note or "").strip()
    try:
        refuse_invisible_characters(note)
    except ValidationError as exc:
        raise ValidationError({"note": exc.messages}) from None
    errors = {}
    if not note:
        errors["note"] = _("请填写更正说明，例如：核实服务时长为 1 小时")
    elif len(note) > 200:
        errors["note"] = _("更正说明最多 200 个字，请精简")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 <= amount_fen <= AMOUNT_MAX:
        errors["amount_fen"] = _("更正后的金额应为 0 至 1000000000 的整数（单位：分），请填写该付费方应付的金额")
    if errors:
        raise ValidationError(errors)
    current = share_effective_fen(original)
    if amount_fen == current:
        raise ValidationError({"amount_fen": _("更正后的金额与现有金额相同（%(fen)s 分），无需更正") % {"fen": current}})
    correction = Share(
        order_id=original.order_id,
        payer_kind=original.payer_kind,
        payer_key=original.payer_key,
        payer_label=original.payer_label,
        amount_fen=amount_fen - current,
        month=original.month,
        region_id=original.region_id,
        organisation_id=original.organisation_id,
        caregiver_id=original.caregiver_id,
        volunteer_id=original.volunteer_id,
        corrects=original,
        note=note,
        awaits_statement=original.month < this_month(),
    )
    correction.full_clean(exclude=["order", "region", "organisation", "caregiver", "volunteer", "corrects"])
    correction.save()
    change_record(
        obj=original,
        action="correct",
        changes={"amount_fen": [current, amount_fen]},
        by=by,
        region=original.region,
        note=note,
    )
    return correction


# --- statements --------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    month: datetime.date
    region_id: int
    statements: dict  # kind -> how many
    lines: int
    late_lines: int
    payer_total_fen: int  # what the payer statements add up to (each kind of statement adds up to the same)
    removed_drafts: int


# The kinds of statement that hold lines: its party column in the candidates, its label, its
# organisation and caregiver columns, and which candidates it takes. An organisation's statement
# holds no lines of its own: it is its workers' statements of the month and region together (a
# city month writes a line per share twice, not three times).
_KINDS = {
    PAYER: ("c_payer", "c_plabel", "MAX(c.c_pkind)", "NULL", "NULL", "1 = 1"),
    WORKER: ("c_workp", "c_wlabel", "''", "MAX(c.c_org)", "MAX(c.c_cg)", "c.c_workp IS NOT NULL"),
}


def _candidates(*, month: datetime.date, region):
    """The month's shares in `region`'s subtree and the earlier ones still waiting, with what the
    build needs of each: its order's verification and each kind's party and label."""
    text = CharField()
    return (
        Share.objects.within(region)
        .filter(Q(month=month) | Q(month__lt=month, awaits_statement=True))
        .order_by()
        .values(
            c_sid=F("id"),
            c_amount=F("amount_fen"),
            c_month=F("month"),
            c_awaits=F("awaits_statement"),
            c_payable=ExpressionWrapper(Q(order__verification=VERIFIED), output_field=BooleanField()),
            c_payer=Concat(F("payer_kind"), Value(":"), F("payer_key"), output_field=text),
            c_plabel=F("payer_label"),
            c_pkind=F("payer_kind"),
            c_org=F("organisation_id"),
            c_cg=F("caregiver_id"),
            # one statement per caregiver and organisation (a caregiver who changed employer
            # within the month has one from each), or per volunteer
            c_workp=Case(
                When(
                    caregiver_id__isnull=False,
                    then=Concat(
                        Value("cg:"), Cast("caregiver_id", text), Value(":"), Coalesce(Cast("organisation_id", text), Value(""))
                    ),
                ),
                When(volunteer_id__isnull=False, then=Concat(Value("vol:"), Cast("volunteer_id", text))),
                default=None,
                output_field=text,
            ),
            c_wlabel=Coalesce(F("caregiver__name"), F("volunteer__name")),
        )
    )


def _check_region(by, region) -> None:
    if not Scope.of(by).covers(path=region.path):
        raise Http404


@transaction.atomic
def statements_build(*, by, month: datetime.date, region) -> BuildResult:
    """(Re)build the draft statements of `month` for `region`'s subtree: per payer (kind + key),
    per organisation, per worker, from the payable shares (their order verified) of the month and
    the earlier ones still waiting (late lines). Earlier drafts of the month in the subtree are
    replaced; issued statements are never touched — a party that already has an issued statement
    of this month and region gets its new shares on a later month's statement."""
    check(by, "issue", Statement)
    _check_region(by, region)
    month = month.replace(day=1)
    if month > this_month():
        raise ValidationError({"month": _("不能生成未来月份的结算单，请选择本月或以前的月份")})
    _advisory_lock("settlements.statements")
    _batch_memory()
    ops = connection.ops
    at = ops.adapt_datetimefield_value(timezone.now())
    m = ops.adapt_datefield_value(month)
    st_table, line_table = Statement._meta.db_table, StatementLine._meta.db_table

    # 1. Earlier drafts of the month in the subtree go; the late shares on them wait again.
    drafts = Statement.objects.within(region).filter(month=month, state=DRAFT)
    Share.objects.filter(month__lt=month, lines__statement__in=drafts).update(awaits_statement=True)
    StatementLine.objects.filter(statement__in=drafts).delete()
    removed = drafts.delete()[0]

    suffix = uuid.uuid4().hex[:10]
    cands, listed, parties = f"yl_settle_c_{suffix}", f"yl_settle_l_{suffix}", f"yl_settle_p_{suffix}"
    sql, params = _candidates(month=month, region=region).query.sql_with_params()
    with connection.cursor() as cursor:
        # 2. The candidates, once; and which of them are already on a statement of some kind.
        cursor.execute(f"CREATE TEMPORARY TABLE {cands} AS {sql}", params)
        # (A share of this month can only be on statements of this month or later: found
        # through the statements; an earlier one, which waits, through its own lines.)
        cursor.execute(
            f"CREATE TEMPORARY TABLE {listed} AS SELECT l.share_id, l.kind FROM {line_table} l "
            f"JOIN {st_table} st ON st.id = l.statement_id "
            f"WHERE st.month >= %s AND l.share_id IN (SELECT c_sid FROM {cands} WHERE c_month = %s) "
            f"UNION SELECT l.share_id, l.kind FROM {line_table} l "
            f"WHERE l.share_id IN (SELECT c_sid FROM {cands} WHERE c_month < %s)",
            [m, m, m],
        )
        cursor.execute(f"CREATE INDEX {listed}_i ON {listed} (share_id, kind)")
        cursor.execute(f"CREATE INDEX {cands}_i ON {cands} (c_sid)")
        if _pg():
            cursor.execute(f"ANALYZE {cands}")
            cursor.execute(f"ANALYZE {listed}")
        made = {}
        issued_orgs = (
            f"AND (c.c_org IS NULL OR c.c_org NOT IN (SELECT organisation_id FROM {st_table} "
            "WHERE kind = %s AND month = %s AND region_id = %s AND state = %s AND organisation_id IS NOT NULL))"
        )
        org_params = [ORGANISATION, m, region.pk, ISSUED]
        for kind, (party, label, pkind, org, caregiver, takes) in _KINDS.items():
            # 3. One statement per party of each kind, its total and count …
            cursor.execute(
                f"INSERT INTO {st_table} (kind, month, region_id, party_key, party_label, payer_kind, "
                "organisation_id, caregiver_id, state, total_fen, line_count, created_at) "
                f"SELECT %s, %s, %s, c.{party}, COALESCE(MAX(c.{label}), ''), {pkind}, {org}, {caregiver}, "
                f"%s, SUM(c.c_amount), COUNT(*), %s FROM {cands} c WHERE c.c_payable AND {takes} AND NOT EXISTS "
                f"(SELECT 1 FROM {listed} x WHERE x.share_id = c.c_sid AND x.kind = %s) AND c.{party} NOT IN "
                f"(SELECT party_key FROM {st_table} WHERE kind = %s AND month = %s AND region_id = %s) "
                # a worker of an organisation whose statement is issued waits too: that statement
                # is its workers' statements, frozen
                f"{issued_orgs if kind == WORKER else ''} GROUP BY c.{party}",
                [kind, m, region.pk, DRAFT, at, kind, kind, m, region.pk, *(org_params if kind == WORKER else [])],
            )
            made[kind] = cursor.rowcount
        # … and every line of both kinds in one INSERT, in the order of the unique index (share,
        # kind), so each is appended at its right end instead of splitting pages all over it once
        # per kind. A party with an issued statement of this month has no draft: its shares find
        # none and wait. The drafts just made, by party, in a small table of their own: the statements table's
        # statistics do not know them yet (a plan from them joined every draft to every share).
        cursor.execute(
            f"CREATE TEMPORARY TABLE {parties} AS SELECT id, kind, party_key FROM {st_table} "
            "WHERE month = %s AND region_id = %s AND state = %s",
            [m, region.pk, DRAFT],
        )
        if _pg():
            cursor.execute(f"ANALYZE {parties}")
        kinds = " UNION ALL ".join(f"SELECT '{k}' AS kind" for k in sorted(_KINDS))
        party_of = " ".join(f"WHEN '{k}' THEN c.{v[0]}" for k, v in _KINDS.items())
        cursor.execute(
            f"INSERT INTO {line_table} (statement_id, share_id, kind, amount_fen, is_late) "
            f"SELECT p.id, c.c_sid, k.kind, c.c_amount, (c.c_month < %s) FROM {cands} c CROSS JOIN ({kinds}) k "
            f"JOIN {parties} p ON p.kind = k.kind AND p.party_key = (CASE k.kind {party_of} END) "
            f"WHERE c.c_payable AND NOT EXISTS (SELECT 1 FROM {listed} x WHERE x.share_id = c.c_sid AND x.kind = k.kind) "
            "ORDER BY c.c_sid, k.kind",
            [m],
        )
        lines = cursor.rowcount
        cursor.execute(
            f"SELECT count(*) FROM {cands} c JOIN {parties} p ON p.kind = %s AND p.party_key = c.c_payer "
            f"WHERE c.c_month < %s AND c.c_payable "
            f"AND NOT EXISTS (SELECT 1 FROM {listed} x WHERE x.share_id = c.c_sid AND x.kind = %s)",
            [PAYER, m, PAYER],
        )
        late = cursor.fetchone()[0]
        # 4. One statement per organisation: its workers' statements of the month and region
        # (drafts and issued) added up; an organisation already issued keeps its statement.
        issued = Statement.objects.filter(kind=ORGANISATION, month=month, region=region).values("organisation_id")
        orgs = (
            Statement.objects.filter(kind=WORKER, month=month, region=region, organisation__isnull=False)
            .exclude(organisation_id__in=issued)
            .order_by()
            .values("organisation_id", "organisation__name")
            .annotate(total=Sum("total_fen"), count=Sum("line_count"))
        )
        made[ORGANISATION] = len(
            Statement.objects.bulk_create(
                Statement(
                    kind=ORGANISATION,
                    month=month,
                    region=region,
                    party_key=f"org:{o['organisation_id']}",
                    party_label=o["organisation__name"][:80],
                    organisation_id=o["organisation_id"],
                    total_fen=o["total"],
                    line_count=o["count"],
                )
                for o in orgs
            )
        )
        # 5. What waits — a share waits while it lacks a line of a kind it belongs on (payer;
        # worker when it has a worker). The earlier ones that now have them wait no more (few:
        # driven from the candidates by their index, whatever the planner guesses of how few)…
        done = RawSQL(
            f"SELECT c.c_sid FROM {cands} c WHERE c.c_awaits "
            f"AND EXISTS (SELECT 1 FROM {line_table} l WHERE l.share_id = c.c_sid AND l.kind = %s) "
            f"AND (c.c_workp IS NULL OR EXISTS (SELECT 1 FROM {line_table} l WHERE l.share_id = c.c_sid AND l.kind = %s))",
            [PAYER, WORKER],
        )
        Share.objects.filter(pk__in=done).update(awaits_statement=False)
        # … and this month's that did not get them start waiting: their order is not payable
        # yet, or their party's (or organisation's) statement of this month is already issued.
        issued_party = f"(SELECT party_key FROM {st_table} WHERE kind = %s AND month = %s AND region_id = %s AND state = %s)"
        unlisted = f"NOT EXISTS (SELECT 1 FROM {listed} x WHERE x.share_id = c.c_sid AND x.kind = %s)"
        left_out = RawSQL(
            f"SELECT c.c_sid FROM {cands} c WHERE NOT c.c_awaits AND (NOT c.c_payable "
            f"OR (c.c_payer IN {issued_party} AND {unlisted}) "
            f"OR (c.c_workp IS NOT NULL AND {unlisted} AND (c.c_workp IN {issued_party} "
            f"OR c.c_org IN (SELECT organisation_id FROM {st_table} WHERE kind = %s AND month = %s AND region_id = %s "
            "AND state = %s AND organisation_id IS NOT NULL))))",
            [PAYER, m, region.pk, ISSUED, PAYER, WORKER, WORKER, m, region.pk, ISSUED, ORGANISATION, m, region.pk, ISSUED],
        )
        Share.objects.filter(pk__in=left_out).update(awaits_statement=True)
        cursor.execute(f"DROP TABLE {parties}")
        cursor.execute(f"DROP TABLE {listed}")
        cursor.execute(f"DROP TABLE {cands}")

    built = Statement.objects.filter(month=month, region=region, state=DRAFT)
    change_records_from_queryset(
        queryset=built,
        action="build",
        changes={"total_fen": [None, F("total_fen")], "line_count": [None, F("line_count")]},
        by=by,
    )
    payer_total = built.filter(kind=PAYER).aggregate(n=Sum("total_fen"))["n"] or 0
    return BuildResult(
        month=month,
        region_id=region.pk,
        statements=made,
        lines=lines,
        late_lines=late,
        payer_total_fen=payer_total,
        removed_drafts=removed,
    )


def _refuse_unless_issuable(statement: Statement) -> None:
    if statement.state == ISSUED:
        raise ValidationError(
            {"state": _("该结算单已出具，不能再出具或修改；如需更正，请更正费用分担，更正将记入以后月份的结算单")}
        )
    if statement.month >= this_month():
        raise ValidationError(
            {"month": _("%(month)s尚未结束，月末之后才能出具该月结算单") % {"month": f"{statement.month:%Y-%m}"}}
        )


@dataclass
class IssueResult:
    statements: int
    orders_settled: int


@transaction.atomic
def statement_issue(*, by, statement: Statement) -> IssueResult:
    """出具: freeze a draft statement (issued: never edited again). An organisation's statement
    freezes its workers' statements with it. A payer statement also settles the orders whose
    every share is now on an issued payer statement."""
    check(by, "issue", Statement)
    _advisory_lock("settlements.statements")
    found = Statement.objects.restrict(by, "issue").select_for_update(of=("self",)).filter(pk=statement.pk).first()
    if found is None:
        raise Http404
    _refuse_unless_issuable(found)
    found.state = ISSUED
    found.issued_at = timezone.now()
    found.issued_by = by
    found.save(update_fields=["state", "issued_at", "issued_by"])
    change_record(obj=found, action="issue", changes={"state": [DRAFT, ISSUED]}, by=by, region=found.region)
    if found.kind == ORGANISATION:
        # An organisation's statement is its workers' statements: they are frozen with it.
        workers = Statement.objects.filter(
            kind=WORKER, month=found.month, region_id=found.region_id, organisation_id=found.organisation_id, state=DRAFT
        )
        ids = list(workers.values_list("pk", flat=True))
        Statement.objects.filter(pk__in=ids).update(state=ISSUED, issued_at=found.issued_at, issued_by=by)
        change_records_from_queryset(
            queryset=Statement.objects.filter(pk__in=ids),
            action="issue",
            changes={"state": [DRAFT, ISSUED]},
            by=by,
            note=_("随%(org)s结算单出具") % {"org": found.party_label},
        )
    settled = _settle(by=by, statement_ids=[found.pk]) if found.kind == PAYER else 0
    statement.state, statement.issued_at, statement.issued_by = found.state, found.issued_at, by
    return IssueResult(statements=1, orders_settled=settled)


@transaction.atomic
def statements_issue(*, by, month: datetime.date, region) -> IssueResult:
    """Issue every draft statement of `month` in `region`'s subtree at once (a city's month):
    set-based, one UPDATE of the statements, their history by one INSERT … SELECT, and one
    settling of the orders."""
    check(by, "issue", Statement)
    _check_region(by, region)
    _advisory_lock("settlements.statements")
    month = month.replace(day=1)
    drafts = Statement.objects.restrict(by, "issue").within(region).filter(month=month, state=DRAFT)
    ids = list(drafts.values_list("pk", flat=True))
    if not ids:
        raise ValidationError({"month": _("%(month)s没有待出具的草稿结算单，请先生成") % {"month": f"{month:%Y-%m}"}})
    _refuse_unless_issuable(Statement(month=month, state=DRAFT))
    issued = Statement.objects.filter(pk__in=ids)
    issued.update(state=ISSUED, issued_at=timezone.now(), issued_by=by)
    change_records_from_queryset(queryset=issued, action="issue", changes={"state": [DRAFT, ISSUED]}, by=by)
    payer_ids = list(issued.filter(kind=PAYER).values_list("pk", flat=True))
    return IssueResult(statements=len(ids), orders_settled=_settle(by=by, statement_ids=payer_ids) if payer_ids else 0)


def _settle(*, by, statement_ids: list[int]) -> int:
    """Settle the orders with a share on these just-issued payer statements whose every share is
    on an issued payer statement: their ids once into a temporary table, then
    orders.services.orders_settle (one UPDATE limited to the states the table settles from)."""
    from orders.models import Order
    from orders.services import orders_settle

    _batch_memory()
    on_issued = StatementLine.objects.filter(share=OuterRef("pk"), kind=PAYER, statement__state=ISSUED)
    unissued = Share.objects.filter(order=OuterRef("pk")).filter(~Exists(on_issued))
    touched = Share.objects.filter(lines__statement_id__in=statement_ids).values("order_id")
    ready = Order.objects.filter(pk__in=touched).filter(~Exists(unissued)).order_by().values(oid=F("pk"))
    sql, params = ready.query.sql_with_params()
    table = f"yl_settle_o_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {table} AS SELECT r.oid AS id FROM ({sql}) r", params)
        if _pg():
            cursor.execute(f"ANALYZE {table}")
    months = sorted({f"{m:%Y-%m}" for m in Statement.objects.filter(pk__in=statement_ids).values_list("month", flat=True)})
    moved = orders_settle(
        by=by,
        orders=Order.objects.filter(pk__in=RawSQL(f"SELECT id FROM {table}", [])),
        reason=_("%(months)s付费方结算单已出具") % {"months": "、".join(months)},
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    return moved


# --- export ----------------------------------------------------------------------------------------


def statement_export_start(*, by, statement: Statement):
    """Export a statement's lines to Excel as a background job (settlements.exporter)."""
    from jobs.services import job_create, job_enqueue
    from settlements.jobs import STATEMENT_EXPORT
    from settlements.tasks import statement_export_task

    check(by, "export", Statement)
    job = job_create(by=by, kind=STATEMENT_EXPORT, params={"statement": statement.pk}, region=by.region or statement.region)
    job_enqueue(job, statement_export_task)
    return job


def kind_label(kind: str) -> str:
    return str(dict(Statement.Kind.choices).get(kind, kind))


def payer_kind_label(code: str) -> str:
    return payer_label(code)
