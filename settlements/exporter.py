"""Excel out for a statement: every line, with its visit, elder, worker, payer and amount.

A background job acting for its user: the statement read through the selector (so the user's
scope, for "export"), the lines streamed by core.xlsx.SheetWriter (the project's constant-memory
xlsx writer: rows go to the zip as they come, so a district's statement of a million lines takes
flat memory), amounts in fen (exact) and yuan. The lines name elders: every export writes one
access-log row (who, which statement, how many lines).
"""

import os
import tempfile

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log
from core.xlsx import SheetWriter
from settlements.selectors import statement_get, statement_lines

HEADERS = (
    "序号",
    "工单号",
    "服务日期",
    "老年人",
    "服务项目",
    "数量",
    "服务机构",
    "服务人员",
    "付费方",
    "金额（元）",
    "金额（分）",
    "补记（以前月份）",
    "更正",
    "说明",
)
WIDTHS = [7, 10, 12, 12, 16, 6, 20, 12, 24, 12, 12, 10, 8, 30]


def _rows(statement):
    lines = statement_lines(statement=statement).values_list(
        "share__order_id",
        "share__order__checkin_at",
        "share__order__scheduled_start",
        "share__order__elder__name",
        "share__order__item__name",
        "share__order__quantity",
        "share__organisation__name",
        "share__caregiver__name",
        "share__volunteer__name",
        "share__payer_label",
        "amount_fen",
        "is_late",
        "share__corrects_id",
        "share__note",
    )
    yes = _("是")
    for number, row in enumerate(lines.iterator(chunk_size=2000), 1):
        order_id, checkin, start, elder, item, quantity, org, cg, vol, payer, fen, late, corrects, note = row
        day = timezone.localtime(checkin or start).date().isoformat()
        yield [number, order_id, day, elder, item, quantity, org or "", cg or vol or "", payer, fen / 100, fen,
               yes if late else "", yes if corrects else "", note]  # fmt: skip


def export(*, user, statement_id: int, out, detail=None) -> int:
    """Write the statement's lines to `out` (a path); returns the lines; logged."""
    statement = statement_get(user=user, statement_id=statement_id, action="export")
    count = 0
    with SheetWriter(out, f"{statement.month:%Y-%m}结算单", widths=WIDTHS) as sheet:
        sheet.header(list(HEADERS))
        for row in _rows(statement):
            sheet.row(row)
            count += 1
        sheet.row(["", "", "", "", "", "", "", "", _("合计"), statement.total_fen / 100, statement.total_fen])
    access_log(
        kind="export",
        model="settlements.statement",
        object_id=statement.pk,
        fields=("lines",),
        by=user,
        region=user.region or statement.region,
        detail={"rows": count, "state": statement.state, **(detail or {})},
    )
    return count


def export_job_work(job) -> dict:
    from django.core.files import File

    statement_id = int(job.params["statement"])
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        count = export(user=job.by, statement_id=statement_id, out=path, detail={"job": job.pk})
        statement = statement_get(user=job.by, statement_id=statement_id, action="export")
        name = f"{statement.party_label}-{statement.month:%Y-%m}"
        job.output_name = f"{name}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
        with open(path, "rb") as fh:
            job.output_file.save(f"statement-{job.pk}.xlsx", File(fh), save=True)
    finally:
        os.unlink(path)
    return {"rows": count, "statement": statement_id}
