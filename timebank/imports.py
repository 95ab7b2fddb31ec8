"""Importing a sheet of transfers (a community's paper ledger of deposits and withdrawals), with
the elders' importer rules: the guarded reading (python-calamine in a child process), the header
search, all-or-nothing unless bad rows are skipped, and the error workbook of the bad rows with
an 错误原因 column (elders.importer.report).

A row names the member by 会员编号, or by 姓名 and 联系电话 together; its 类型 is 存入 (service
given: coins at the category's rate, the minutes counted as served) or 取出 (coins paid out);
时长 in minutes; 服务类别 by its Chinese name; 说明 optional. Each row becomes one transfer through
the ledger, keyed by the file's digest and row number, so importing the same sheet twice writes
nothing the second time.
"""

import hashlib
import io
import itertools
import os
from dataclasses import dataclass, field

import xlsxwriter
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.crypto import lookup_hash
from core.phones import normalize_phone
from elders.excel import Column, normalise_header
from elders.exporter import book_formats
from elders.importer.read import (
    HEADER_SCAN_ROWS,
    UnreadableFile,
    _cell_text,
    _local_path,
    _rows_or_unreadable,
    data_chunks,
    open_rows,
)
from elders.importer.report import ImportReport, reject, write_error_report
from timebank.models import AccountKind, Category, MemberStatus, Transfer, TransferKind

MAX_ROWS = 5_000

COLUMNS = [
    Column("number", "会员编号", ("编号", "会员号"), False, "填编号，或同时填姓名和联系电话"),
    Column("name", "姓名", ("会员姓名",)),
    Column("phone", "联系电话", ("电话", "手机", "手机号")),
    Column("kind", "类型", ("交易类型", "存取"), True, "存入 / 取出"),
    Column("minutes", "时长（分钟）", ("时长", "分钟", "时长(分钟)"), True, "1 到 1440 的整数"),
    Column("category", "服务类别", ("类别",), False, "存入时必填：" + "、".join(str(label) for _c, label in Category.choices)),
    Column("note", "说明", ("备注",)),
]
BY_KEY = {c.key: c for c in COLUMNS}
HEADER_LOOKUP = {normalise_header(n): c.key for c in COLUMNS for n in (c.header, *c.aliases)}
KINDS = {"存入": "deposit", "存": "deposit", "取出": "withdraw", "取": "withdraw", "支取": "withdraw"}
CATEGORIES = {str(label): code for code, label in Category.choices} | {code: code for code in Category.values}


@dataclass
class TransferImportReport(ImportReport):
    error_file: bytes = b""
    rows: list = field(default_factory=list)


def find_header(rows: list[list]):
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {i: HEADER_LOOKUP.get(normalise_header(cell)) for i, cell in enumerate(row)}
        if {"kind", "minutes"} <= {k for k in keys.values() if k}:
            colmap = {}
            for i, key in keys.items():
                if key and key not in colmap.values():
                    colmap[i] = key
            return index, colmap
    raise UnreadableFile(
        _("没有找到表头：前%(n)d行里应有一行同时包含“类型”和“时长（分钟）”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS}
    )


def _digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()[:24]


def _int(text: str):
    text = text.strip()
    if text.endswith(".0"):
        text = text[:-2]
    return int(text) if text.isdigit() else None


def import_transfers(
    source, *, by, dry_run: bool = False, skip_invalid: bool = False, filename: str = ""
) -> TransferImportReport:
    """Check every row, then (unless dry_run) post all of them in one transaction — or, with
    skip_invalid, the good ones. Members are found in `by`'s scope only."""
    from timebank.selectors import member_scope

    if not by.may_code("timebank.record_transfer"):
        raise PermissionDenied(_("您没有导入时间币交易的权限"))
    report = TransferImportReport(filename=filename or getattr(source, "name", ""), dry_run=dry_run, skip_invalid=skip_invalid)
    path, temporary = _local_path(source)
    good = []
    try:
        digest = _digest(path)
        with open_rows(path) as stream:
            rows = _rows_or_unreadable(stream)
            head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
            header_index, colmap = find_header(head)
            report.header_row = header_index + 1
            report.headers = [_cell_text(c) for c in head[header_index]]
            scope = member_scope(by, "change").filter(status=MemberStatus.ACTIVE)
            for chunk in data_chunks(itertools.chain(head[header_index + 1 :], rows), first_number=header_index + 2, size=500):
                for number, cells in chunk:
                    report.total_rows += 1
                    if report.total_rows > MAX_ROWS:
                        raise UnreadableFile(_("一次最多导入 %(n)d 行，请分成几个文件") % {"n": MAX_ROWS})
                    raw = {key: _cell_text(cells[i]) if i < len(cells) else "" for i, key in colmap.items()}
                    problems, row = _check(raw, scope)
                    if problems:
                        reject(report, number, cells, problems)
                    else:
                        row["key"] = f"import:{digest}:{number}"
                        good.append(row)
    finally:
        if temporary:
            os.unlink(temporary)
    if report.bad_rows:
        out = io.BytesIO()
        write_error_report(report, out)
        report.error_file = out.getvalue()
    report.created = len(good)
    report.preview = [
        {"会员": r["member"].name, "类型": _("存入") if r["kind"] == "deposit" else _("取出"), "分钟": r["minutes"]}
        for r in good[:10]
    ]
    if dry_run or (report.rejected and not skip_invalid):
        return report
    try:
        report.created, report.unchanged = _post_all(by=by, rows=good, filename=report.filename)
    except ValidationError as exc:
        raise UnreadableFile(_("写入时被拒绝，没有写入任何数据：%(m)s") % {"m": "；".join(exc.messages)}) from None
    report.written = True
    return report


def _check(raw: dict, scope) -> tuple[list, dict]:
    problems = []
    member = None
    number = _int(raw.get("number", ""))
    name, phone = raw.get("name", "").strip(), raw.get("phone", "").strip()
    if raw.get("number", "").strip():
        if number is None:
            problems.append((BY_KEY["number"].header, _("会员编号应为数字")))
        else:
            member = scope.filter(pk=number).select_related("bank").first()
            if member is None:
                problems.append((BY_KEY["number"].header, _("没有这个会员编号（或不在您的辖区、不是正常状态）")))
            elif name and member.name != name:
                problems.append((BY_KEY["name"].header, _("姓名与会员编号对不上")))
    elif name and phone:
        normal = normalize_phone(phone)
        if not normal:
            problems.append((BY_KEY["phone"].header, _("联系电话格式不对")))
        else:
            found = list(scope.filter(name=name, phone_hash=lookup_hash(normal)).select_related("bank")[:2])
            if len(found) != 1:
                problems.append((BY_KEY["name"].header, _("按姓名和联系电话找不到唯一的会员，请填写会员编号")))
            else:
                member = found[0]
    else:
        problems.append((BY_KEY["number"].header, _("请填写会员编号，或同时填写姓名和联系电话")))
    kind = KINDS.get(raw.get("kind", "").strip())
    if kind is None:
        problems.append((BY_KEY["kind"].header, _("类型应为“存入”或“取出”")))
    minutes = _int(raw.get("minutes", ""))
    if minutes is None or not 0 < minutes <= 1440:
        problems.append((BY_KEY["minutes"].header, _("时长应为 1 到 1440 之间的整数分钟")))
    category = CATEGORIES.get(raw.get("category", "").strip(), None) if raw.get("category", "").strip() else ""
    if category is None:
        problems.append((BY_KEY["category"].header, _("没有这个服务类别")))
    elif kind == "deposit" and not category:
        problems.append((BY_KEY["category"].header, _("存入时请填写服务类别")))
    note = raw.get("note", "").strip()[:200]
    return problems, {"member": member, "kind": kind, "minutes": minutes, "category": category or "", "note": note}


@transaction.atomic
def _post_all(*, by, rows, filename: str) -> tuple[int, int]:
    """Each row one transfer through the ledger; a row already imported (same file, same row) is
    skipped. Answers (written, already there)."""
    from timebank import ledger

    keys = {r["key"] for r in rows}
    done = set(Transfer.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    written = 0
    note_default = _("表格导入：%(f)s") % {"f": filename or "-"}
    for r in rows:
        if r["key"] in done:
            continue
        member = r["member"]
        account = member.account
        issue = ledger.system_account(member.bank_id, AccountKind.ISSUE)
        if r["kind"] == "deposit":
            credited = ledger.coins_for(member.bank, r["category"], r["minutes"])
            legs = [(issue, -credited), (account, credited)]
            served = r["minutes"]
        else:
            legs = [(account, -r["minutes"]), (issue, r["minutes"])]
            served = None
        ledger.post(
            bank=member.bank,
            kind=TransferKind.IMPORT,
            legs=legs,
            by=by,
            category=r["category"],
            note=(r["note"] or note_default)[:200],
            served_minutes=served,
            idempotency_key=r["key"][:64],
        )
        written += 1
    return written, len(rows) - written


def import_job_work(job) -> dict:
    """The import job (timebank.tasks): read as the job's user; the bad rows as its output file."""
    from jobs.services import import_job_run

    return import_job_run(
        job,
        lambda source: import_transfers(
            source,
            by=job.by,
            dry_run=job.params.get("dry_run", False),
            skip_invalid=job.params.get("skip_invalid", False),
            filename=job.input_name,
        ),
    )


def template_workbook() -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("时间币交易")
    fmt = book_formats(book)
    for col, column in enumerate(COLUMNS):
        sheet.write_string(
            0, col, column.header + ("*" if column.required else ""), fmt["req"] if column.required else fmt["head"]
        )
        sheet.set_column(col, col, 16, fmt["text"])
        if column.note:
            sheet.write_comment(0, col, column.note)
    example = {
        "number": "示例:1001",
        "name": "王秀英",
        "kind": "存入",
        "minutes": "60",
        "category": "互助养老",
        "note": "陪同就医",
    }
    for col, column in enumerate(COLUMNS):
        sheet.write_string(1, col, example.get(column.key, ""), fmt["note"])
    sheet.freeze_panes(1, 0)
    book.close()
    return out.getvalue()


def import_start(*, by, upload, dry_run: bool, skip_invalid: bool, via: str = "web"):
    """Store `upload` and start the import as a background job (as `by`); answers the Job."""
    from elders.services import import_upload_refusal
    from jobs.services import job_create, job_enqueue
    from timebank.jobs import TRANSFER_IMPORT
    from timebank.tasks import transfer_import_task

    if not by.may_code("timebank.record_transfer"):
        raise PermissionDenied(_("您没有导入时间币交易的权限"))
    if message := import_upload_refusal(upload):
        raise ValidationError({"file": message})
    params = {"dry_run": dry_run, "skip_invalid": skip_invalid, "via": via}
    job = job_create(by=by, kind=TRANSFER_IMPORT, params=params, upload=upload, input_name=upload.name)
    job_enqueue(job, transfer_import_task)
    return job


def import_confirm(*, by, dry_run_job, skip_invalid: bool):
    from jobs.services import job_create_on_file_of, job_enqueue
    from timebank.jobs import TRANSFER_IMPORT
    from timebank.tasks import transfer_import_task

    if dry_run_job.kind != TRANSFER_IMPORT or not dry_run_job.input_file:
        raise ValidationError({"file": _("原文件已不在，请重新上传")})
    job = job_create_on_file_of(job=dry_run_job, by=by, params={"dry_run": False, "skip_invalid": skip_invalid, "via": "web"})
    job_enqueue(job, transfer_import_task)
    return job
