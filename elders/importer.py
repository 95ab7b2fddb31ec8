"""Excel import of elders (issue: the registry at city scale).

Real sheets are messy: a title above the header, merged cells, full-width characters,
stray spaces, 15-digit IDs, IDs that Excel turned into numbers, dates as text or as Excel
dates, blank rows, the same person twice. Every row is validated first with the same rules
as the form and the API (elders.validation); then, only if no row is bad (or the caller
chose to skip bad rows), everything is written in one transaction. The ID number is the
key: a person already in the register is updated, not added again.
"""

import collections
import datetime
import functools
import itertools
import logging
import math
import multiprocessing
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import ChangeRecord
from audit.services import access_log
from core import crypto
from core.bulk import defaults_for, row_converter
from core.scoping import in_scope
from elders.excel import BY_KEY, HEADER_LOOKUP, normalise_header
from elders.models import Elder, EmergencyContact
from elders.services import PLAIN_FIELDS, _apply
from elders.sheet_reader import ReaderFailed, SheetStream
from elders.validation import clean_elder_input, field_label
from elders.workbook_guard import WorkbookRefused, inspect_workbook
from regions.models import Level, Region

log = logging.getLogger(__name__)
HEADER_SCAN_ROWS = 15
CHUNK = 2000
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
EXCEL_EPOCH = datetime.date(1899, 12, 30)


class UnreadableFile(Exception):
    """The file is not a workbook we can read, or has no header row."""

    @property
    def messages(self) -> list[str]:
        # job_run shows `messages` to the user; without it they got the class name and a traceback
        return [str(self)]


@dataclass
class RowError:
    row: int  # the sheet row number a person sees in Excel (1-based)
    column: str  # the header of the column, or "" for the whole row
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportReport:
    filename: str = ""
    header_row: int = 0
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    dry_run: bool = False
    skip_invalid: bool = False
    written: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    bad_rows: list[tuple[int, list, str]] = field(default_factory=list)  # (row, original cells, reasons)
    preview: list[dict] = field(default_factory=list)  # the first rows that would be created/updated

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def summary(self) -> dict:
        return {
            "filename": self.filename,
            "header_row": self.header_row,
            "total_rows": self.total_rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "written": self.written,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in self.errors[:1000]],
            "errors_truncated": len(self.errors) > 1000,
            "preview": self.preview,
        }


# --- reading -----------------------------------------------------------------------------


def _local_path(source) -> tuple[str, str | None]:
    """A path on disk for `source` (a path or a binary file object), and a temporary file to
    remove afterwards: the workbook is inspected and read by path, the reading in a child."""
    if isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
        return os.fsdecode(source), None
    # no workbook suffix: the reader then tells xlsx, xls and ods apart by their content
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as tmp:
        if hasattr(source, "seek"):
            source.seek(0)
        shutil.copyfileobj(source, tmp, 1 << 20)
    return tmp.name, tmp.name


def open_rows(path: str) -> SheetStream:
    """The first sheet's rows (merged cells filled in), after the workbook was inspected
    (elders.workbook_guard) and read in a child process with a memory limit
    (elders.sheet_reader); UnreadableFile with a message the user can act on otherwise."""
    from django.conf import settings

    if not os.path.isfile(path):
        raise UnreadableFile(_("找不到要导入的文件，请重新上传"))
    try:
        inspect_workbook(path)
    except WorkbookRefused as exc:
        raise UnreadableFile(str(exc)) from None
    try:
        return SheetStream(path, memory_bytes=settings.IMPORT_READER_MEMORY_MB << 20)
    except ReaderFailed as exc:
        raise _reader_failure(exc) from None


def _reader_failure(exc: ReaderFailed) -> "UnreadableFile":
    """What the user reads when the reader failed; the reader's own words (which may name a
    server path) go to the log only."""
    from django.conf import settings

    log.warning("workbook reader failed: %s %s", exc.kind, exc.detail)
    if exc.kind == "memory":
        return UnreadableFile(
            _(
                "读取这个文件需要的内存超过上限（%(m)d MB），文件可能含有大量空白行列或被构造成展开后极大。请把数据复制到导入模板后再导入"
            )
            % {"m": settings.IMPORT_READER_MEMORY_MB}
        )
    if exc.kind == "timeout":
        return UnreadableFile(_("读取文件超时。请把数据复制到导入模板后再导入"))
    return UnreadableFile(_("无法读取文件，请上传 Excel 文件（.xlsx 或 .xls），或在 Excel 或 WPS 中打开后另存为 .xlsx 再导入"))


def _rows_or_unreadable(rows):
    """The rows of a SheetStream; a reader that fails halfway is an UnreadableFile."""
    try:
        yield from rows
    except ReaderFailed as exc:
        raise _reader_failure(exc) from None


def read_sheet(source) -> tuple[list[list], int]:
    """All rows of the first sheet (merged cells filled in) and the sheet row of rows[0] less one."""
    path, temporary = _local_path(source)
    try:
        with open_rows(path) as stream:
            return list(_rows_or_unreadable(stream)), 0
    finally:
        if temporary:
            os.unlink(temporary)


def find_header(rows: list[list]) -> tuple[int, dict[int, str], list[str]]:
    """The header row (a title may stand above it): the first row naming 姓名 and 身份证号."""
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {i: HEADER_LOOKUP.get(normalise_header(cell)) for i, cell in enumerate(row)}
        found = {k for k in keys.values() if k}
        if "name" in found and "id_number" in found:
            colmap = {}
            for i, key in keys.items():
                if key and key not in colmap.values():
                    colmap[i] = key
            unknown = [str(cell).strip() for i, cell in enumerate(row) if str(cell).strip() and i not in colmap]
            return index, colmap, unknown
    raise UnreadableFile(
        _("没有找到表头：前%(n)d行里应有一行同时包含“姓名”和“身份证号”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS}
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _id_cell(value) -> str:
    """The ID number as text; refuse one that Excel stored as a number (its last digits are gone)."""
    if isinstance(value, bool):
        raise ValidationError(_("身份证号无效"))
    if isinstance(value, int | float):
        digits = str(int(value))
        if len(digits) >= 16 or (isinstance(value, float) and not value.is_integer()):
            raise ValidationError(
                _(
                    "身份证号被 Excel 存成了数字，后几位已经丢失（现在显示为 %(v)s）。"
                    "请把这一列设为“文本”格式，重新填写完整号码后再导入"
                )
                % {"v": digits}
            )
        return digits  # a 15-digit old number survives as a number
    text = str(value).strip()
    if _SCIENTIFIC.match(text.replace(" ", "")):
        raise ValidationError(
            _("身份证号被 Excel 显示成了科学计数法（%(v)s），后几位已经丢失。请把这一列设为“文本”格式，重新填写完整号码后再导入")
            % {"v": text}
        )
    return text


def _date_cell(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 80000:
        return EXCEL_EPOCH + datetime.timedelta(days=int(value))  # an Excel serial date
    return _cell_text(value)


# --- regions -------------------------------------------------------------------------------


class RegionResolver:
    """Finds the community (by name, "街道/社区", or 12-digit code) and grid of a row, in scope."""

    def __init__(self, user):
        qs = Region.objects.restrict(user, "view").filter(level__in=[Level.STREET, Level.COMMUNITY, Level.GRID])
        self.by_id = {r.pk: r for r in qs.only("id", "name", "code", "level", "parent_id", "path")}
        self.by_code, self.by_name, self.grids = {}, {}, {}
        for r in self.by_id.values():
            if r.level == Level.COMMUNITY:
                if r.code:
                    self.by_code[r.code] = r
                self.by_name.setdefault(r.name, []).append(r)
            elif r.level == Level.GRID:
                self.grids.setdefault((r.parent_id, r.name), r)

    def resolve(self, community: str, grid: str) -> Region:
        # full-width digits (９９０１…) and stray spaces are typing noise, as in every other column
        community = "".join(unicodedata.normalize("NFKC", community).split())
        if not community:
            raise ValidationError(_("请填写所属社区（名称或12位区划代码）"))
        if community.isdigit():
            region = self.by_code.get(community)
            if region is None:
                raise ValidationError(_("区划代码“%(c)s”不是您辖区内的社区") % {"c": community})
        else:
            street_name, _sep, name = community.rpartition("/")
            matches = self.by_name.get(name, [])
            if street_name:
                matches = [r for r in matches if self.by_id.get(r.parent_id) and self.by_id[r.parent_id].name == street_name]
            if not matches:
                raise ValidationError(_("社区“%(c)s”不存在或不在您的辖区内，请核对名称或改填12位区划代码") % {"c": community})
            if len(matches) > 1:
                raise ValidationError(
                    _("您的辖区内有%(n)d个社区叫“%(c)s”，请改填“街道/社区”或12位区划代码") % {"n": len(matches), "c": community}
                )
            region = matches[0]
        grid = "".join(unicodedata.normalize("NFKC", grid).split())
        if grid:
            found = self.grids.get((region.pk, grid))
            if found is None:
                raise ValidationError(_("网格“%(g)s”不在%(c)s") % {"g": grid, "c": region.name})
            return found
        return region


# --- the import ------------------------------------------------------------------------------


def _row_to_raw(cells: list, colmap: dict[int, str]) -> tuple[dict, dict, dict]:
    """Cells to raw field values; returns (raw, location values, errors)."""
    raw, where, errors = {}, {}, {}
    for index, key in colmap.items():
        value = cells[index] if index < len(cells) else ""
        if _not_a_number(value, key):
            # inf, -inf, nan, 1e999: no field holds them, and int() of them would fail the file
            errors[key] = [_("“%(v)s”不是有效的数值，请填写实际的数字或日期") % {"v": str(value).strip()[:20]}]
            continue
        if key == "id_number":
            try:
                raw["id_number"] = _id_cell(value)
            except ValidationError as exc:
                errors["id_number"] = exc.messages
        elif key == "birth_date":
            raw["birth_date"] = _date_cell(value)
        elif key in ("community", "grid"):
            where[key] = _cell_text(value)
        elif key in ("contact_name", "contact_phone", "contact_relation"):
            where[key] = _cell_text(value)
        else:
            raw[key] = _cell_text(value)
    if where.get("contact_name") or where.get("contact_phone"):
        raw["contacts"] = [
            {
                "name": where.get("contact_name", ""),
                "phone": where.get("contact_phone", ""),
                "relation": where.get("contact_relation", ""),
            }
        ]
    return raw, where, errors


_NUMERIC_TEXT_KEYS = frozenset({"children_count", "birth_date"})


def _not_a_number(value, key: str) -> bool:
    """A number cell that is not finite (any column), or text spelling one in a numeric column."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if key in _NUMERIC_TEXT_KEYS and isinstance(value, str):
        text = value.strip()
        if text[:1] in ("+", "-", ".", "i", "I", "n", "N") or text[:1].isdigit():
            try:
                return not math.isfinite(float(text))
            except ValueError:
                return False
    return False


def _column_for(key: str, headers: dict[str, str]) -> str:
    if key == "contacts":
        return headers.get("contact_name") or BY_KEY["contact_name"].header
    if key == "region":
        return headers.get("community", BY_KEY["community"].header)
    return headers.get(key) or (BY_KEY[key].header if key in BY_KEY else field_label(key))


# Rows are checked by worker processes when a file is big enough to repay starting them.
PARALLEL_MIN_ROWS = 5000
WORKERS = 2


def _check_row(ctx: dict, number: int, cells: list):
    """One data row -> ("ok", number, clean, region_id, id_hash, new_row | None) or
    ("bad", number, cells, [(column, message), …]). Pure: no database (runs in workers).
    `ctx` is this run's context (_run_context): the acting user's region resolver and the
    run's settings, passed in, never kept in module state another import could replace."""
    raw, where, errors = _row_to_raw(cells, ctx["colmap"])
    if "id_number" not in errors and not str(raw.get("id_number", "")).strip():
        errors["id_number"] = [_("请填写身份证号（导入以身份证号为准；没有身份证号的老人请在页面上单独登记）")]
    clean = {}
    try:
        clean = clean_elder_input(
            {k: v for k, v in raw.items() if not (k == "id_number" and "id_number" in errors)}, today=ctx["today"]
        )
    except ValidationError as exc:
        for key, msgs in exc.message_dict.items():
            errors.setdefault(key, []).extend(m for m in msgs if m not in errors.get(key, []))
    region = None
    try:
        region = ctx["resolver"].resolve(where.get("community", ""), where.get("grid", ""))
    except ValidationError as exc:
        errors.setdefault("region", []).extend(exc.messages)
    if errors:
        if "id_number" in errors:
            # sex/birth date messages that only repeat an ID problem are noise
            errors.pop("sex", None)
            if not raw.get("birth_date"):
                errors.pop("birth_date", None)
        problems = []
        for key, msgs in errors.items():
            column = _column_for(key, ctx["headers_by_key"])
            problems.extend((column, msg) for msg in dict.fromkeys(msgs))
        return ("bad", number, cells, problems)
    id_hash = crypto.lookup_hash(clean["id_number"])
    new_row = None
    if not ctx["dry_run"]:
        # The new elder's rows as the database takes them (elder, contacts, history), built
        # here so the writer, whose work and the database's add up to the import's time,
        # only puts in the primary keys.
        values = _new_elder_row(ctx["template"], clean, region.pk, id_hash, by_id=ctx["by_id"], now=ctx["now"])
        contacts = values.pop("contacts")
        contact_rows = [
            ctx["convert_contact"]({**ctx["contact_template"], **contact, "elder_id": None, "is_primary": i == 0})
            for i, contact in enumerate(contacts)
        ]
        record = ctx["convert_record"](
            {
                **ctx["record_template"],
                "object_id": None,
                "changes": {"name": [None, values["name"]]},
                "region_id": region.pk,
            }
        )
        new_row = (ctx["convert_elder"](values), contact_rows, record)
    return ("ok", number, clean, region.pk, id_hash, new_row, cells)


def _check_chunk(ctx: dict, chunk):
    return [_check_row(ctx, number, cells) for number, cells in chunk]


# A checker process serves one import only (its pool is made for that run and closed after
# it): the run's context is handed to it once, when the process starts.
_worker_ctx: dict | None = None


def _init_checker(ctx: dict) -> None:
    global _worker_ctx
    _worker_ctx = ctx


def _check_chunk_in_checker(chunk):
    return _check_chunk(_worker_ctx, chunk)


CHUNK_ROWS = 1000  # rows per chunk checked by a worker and written in one go


def _chunks(rows, first_number: int, size: int | None = None):
    size = size or CHUNK_ROWS
    batch = []
    for offset, cells in enumerate(rows):
        if all(str(c).strip() == "" for c in cells if c is not None):
            continue  # a blank row
        if cells and str(cells[0]).strip().startswith(("示例", "例:", "例：")):
            continue  # the template's example row
        batch.append((first_number + offset, cells))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# Chunks handed to the checkers ahead of the writer. Pool.imap would read the whole sheet
# ahead and keep every checked chunk the writer has not reached yet (the database is slower
# than the checkers), so memory would grow with the file; a window keeps it flat.
WINDOW = 3 * WORKERS


def _checked_in_window(pool, chunks):
    """Checked chunks in order, at most WINDOW of them submitted and not yet taken."""
    pending = collections.deque()
    for chunk in chunks:
        pending.append(pool.apply_async(_check_chunk_in_checker, (chunk,)))
        if len(pending) >= WINDOW:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


CONCURRENT_RETRIES = 3


class ImportConflict(UnreadableFile):
    """Other imports kept registering the same people while this one ran."""


class _RegisteredMeanwhile(Exception):
    """A concurrent import registered some of this import's new people first (or the two
    deadlocked); raised after this import's transaction was rolled back."""

    def __init__(self, hashes: set[str]):
        super().__init__(len(hashes))
        self.hashes = hashes


def import_elders(
    source,
    *,
    by,
    dry_run: bool = False,
    skip_invalid: bool = False,
    filename: str = "",
    progress: Callable[[int, int, str], None] | None = None,
    acting_label: str = "",
) -> ImportReport:
    """Validate every row, then (unless dry_run) write all of them — or, with skip_invalid,
    the good ones — in one transaction. Raises UnreadableFile for a file that cannot be read.

    Memory: the workbook is inspected before it is read and refused if it would expand past
    the limits (elders.workbook_guard); it is then read by a child process under a memory
    limit (elders.sheet_reader) that sends its rows over a pipe; rows are checked in chunks
    (by two worker processes for a big file, a few chunks ahead of the writer) and each
    checked chunk is written at once, inside the one transaction. What stays in this
    process's memory grows only with the bad rows and the ID hashes.

    Concurrency: when another import registers one of this file's new people first, this
    import's transaction is rolled back and the file run again with those rows refused as
    row errors (all or nothing still holds: nothing of the first attempt stays)."""
    if not by.may("import", Elder):
        raise PermissionDenied(_("您没有导入老年人的权限"))
    path, temporary = _local_path(source)
    try:
        taken: set[str] = set()
        for _attempt in range(CONCURRENT_RETRIES + 1):
            try:
                return _import_once(
                    path,
                    by=by,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    filename=filename,
                    progress=progress,
                    acting_label=acting_label,
                    taken=taken,
                )
            except _RegisteredMeanwhile as exc:
                taken |= exc.hashes
        raise ImportConflict(_("另一次导入正在登记同一批老人，本次导入没有写入任何数据。请等那次导入完成后重新运行"))
    finally:
        if temporary:
            os.unlink(temporary)


def _run_context(*, by, colmap: dict, headers_by_key: dict, dry_run: bool, note: str, now) -> dict:
    """What the row checkers need for one run: built per import, handed to its checkers."""
    return {
        "colmap": colmap,
        "resolver": RegionResolver(by),
        "today": timezone.localdate(),
        "headers_by_key": headers_by_key,
        "dry_run": dry_run,
        "template": defaults_for(Elder),
        "convert_elder": row_converter(Elder),
        "convert_contact": row_converter(EmergencyContact),
        "convert_record": row_converter(ChangeRecord),
        "contact_template": defaults_for(EmergencyContact),
        "record_template": {
            **defaults_for(ChangeRecord),
            "model": "elders.elder",
            "action": "import",
            "note": note[:255],
            "by_id": by.pk,
            "at": now,
        },
        "by_id": by.pk,
        "now": now,
    }


def _is_registration_race(exc: Exception) -> bool:
    """The unique ID index refused a row another transaction registered first, or two imports
    deadlocked on each other's new rows."""
    cause = exc.__cause__ or exc
    if getattr(cause, "sqlstate", "") == "40P01":  # PostgreSQL deadlock_detected
        return True
    diag = getattr(cause, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", "") == "elder_id_number_unique"
    return "id_number_hash" in str(cause)  # SQLite names the column


def _registered_now(hashes: list[str]) -> set[str]:
    found = set()
    for i in range(0, len(hashes), CHUNK):
        found.update(row["id_number_hash"] for row in _registered_by_hash(hashes[i : i + CHUNK], fields=("id_number_hash",)))
    return found


def _import_once(path, *, by, dry_run, skip_invalid, filename, progress, acting_label, taken: set[str]) -> ImportReport:
    report = ImportReport(filename=filename, dry_run=dry_run, skip_invalid=skip_invalid)
    with open_rows(path) as stream:
        rows = _rows_or_unreadable(stream)
        head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
        header_index, colmap, unknown = find_header(head)
        report.header_row = header_index + 1
        header_cells = head[header_index]
        report.headers = [_cell_text(c) for c in header_cells]
        headers_by_key = {key: _cell_text(header_cells[i]).strip() for i, key in colmap.items()}
        if "community" not in colmap.values():
            raise UnreadableFile(_("缺少“所属社区”列。请使用导入模板。"))
        if unknown:
            report.warnings.append(_("以下列不认识，已忽略：%(c)s") % {"c": "、".join(unknown[:20])})
        total = max(0, stream.height - header_index - 1)
        note = _("Excel 导入：%(f)s") % {"f": filename or "-"} + (f" ({acting_label})" if acting_label else "")
        now = timezone.now()
        ctx = _run_context(by=by, colmap=colmap, headers_by_key=headers_by_key, dry_run=dry_run, note=note, now=now)
        data = itertools.chain(head[header_index + 1 :], rows)
        chunks = _chunks(data, first_number=header_index + 2)
        pool = None
        if total >= PARALLEL_MIN_ROWS:
            pool = multiprocessing.get_context("fork").Pool(WORKERS, initializer=_init_checker, initargs=(ctx,))
            checked = _checked_in_window(pool, chunks)
        else:
            checked = map(functools.partial(_check_chunk, ctx), chunks)
        try:
            _write_checked(
                checked,
                report,
                ctx=ctx,
                by=by,
                note=note,
                now=now,
                total=total,
                progress=progress,
                filename=filename,
                acting_label=acting_label,
                taken=taken,
            )
        finally:
            if pool is not None:
                pool.terminate()
                pool.join()
    report.bad_rows.sort(key=lambda item: item[0])
    report.errors.sort(key=lambda e: e.row)
    return report


def _write_checked(checked, report, *, ctx, by, note, now, total, progress, filename, acting_label, taken) -> None:
    dry_run, skip_invalid = report.dry_run, report.skip_invalid
    seen: dict[bytes, int] = {}
    id_column = _column_for("id_number", ctx["headers_by_key"])
    region_name = ctx["resolver"].by_id
    writer = _Writer(by=by, note=note, now=now)
    created: list[str] = []  # the ID hashes this run registers, to find a concurrent import's
    done = 0
    # Checked rows are written as they come, inside one transaction, so the database works
    # while the next rows are checked; a bad row (unless skip_invalid) stops the writing and
    # rolls everything back at the end, after every row has been checked and reported.
    try:
        with transaction.atomic():
            for results in checked:
                goods = []
                for item in results:
                    report.total_rows += 1
                    if item[0] == "bad":
                        _kind, number, cells, problems = item
                        _reject(report, number, cells, problems)
                        continue
                    _kind, number, clean, region_id, id_hash, new_row, cells = item
                    key = bytes.fromhex(id_hash[:16])
                    first = seen.get(key)
                    if first is not None:
                        _reject(
                            report,
                            number,
                            cells,
                            [(id_column, _("与第%(r)d行是同一个身份证号，同一人只能出现一次") % {"r": first})],
                        )
                        continue
                    seen[key] = number
                    if id_hash in taken:
                        message = _(
                            "该身份证号已由同时进行的另一次导入登记，本行没有写入。"
                            "如需用本行更新这位老人的信息，请在那次导入完成后重新导入本行"
                        )
                        _reject(report, number, cells, [(id_column, message)])
                        continue
                    goods.append(item)
                existing = _existing_by_hash([item[4] for item in goods])
                batch = []
                for _ok, number, clean, region_id, id_hash, new_row, cells in goods:
                    elder = existing.get(id_hash)
                    if elder is None:
                        report.created += 1
                        if len(report.preview) < 20:
                            report.preview.append(
                                {"row": number, "action": "create", "name": clean["name"], "region": region_name[region_id].name}
                            )
                        batch.append(("create", number, None, region_id, new_row))
                        created.append(id_hash)
                    elif not in_scope(by, elder.region_path):
                        message = _("该身份证号已在其他辖区登记，如老人迁入本辖区，请联系原社区办理迁出")
                        _reject(report, number, cells, [(id_column, message)])
                    else:
                        changes = _update_changes(elder, clean, region_id)
                        if not changes:
                            report.unchanged += 1
                            continue
                        report.updated += 1
                        if len(report.preview) < 40:
                            report.preview.append(
                                {
                                    "row": number,
                                    "action": "update",
                                    "name": clean["name"],
                                    "region": region_name[region_id].name,
                                    "fields": sorted(changes),
                                }
                            )
                        batch.append(("update", number, clean, region_id, (elder.pk, changes)))
                if batch and not dry_run and (skip_invalid or not report.rejected):
                    try:
                        writer.write(batch)
                    except Exception as exc:  # COPY raises the driver's own errors, not Django's
                        if not _is_registration_race(exc):
                            raise
                        raise _WriteRace from exc
                done += len(results)
                if progress:
                    progress(done, max(total, done), "validate")
            if dry_run or (report.rejected and not skip_invalid):
                raise _NothingWritten
            access_log(
                kind="import",
                model="elders.elder",
                by=by,
                region=by.region,
                detail={
                    "file": filename,
                    "created": report.created,
                    "updated": report.updated,
                    "rejected": report.rejected,
                    "via": acting_label,
                },
            )
    except _NothingWritten:
        pass
    except _WriteRace:
        # rolled back: find whom the other import registered meanwhile, and run again
        raise _RegisteredMeanwhile(_registered_now(created)) from None
    else:
        report.written = True


class _WriteRace(Exception):
    """Raised inside the import's transaction when a concurrent import won a row."""


class _NothingWritten(Exception):
    """Raised inside the import's transaction to roll it back (dry run, or bad rows)."""


def _reject(report: ImportReport, number: int, cells: list, problems) -> None:
    for column, message in problems:
        report.errors.append(RowError(number, column, message))
    report.rejected += 1
    report.bad_rows.append((number, list(cells), ";".join(f"{c}:{m}" for c, m in problems)))


_EXISTING_FIELDS = ["id", "region_id", "id_number_hash", "phone_hash", "phone_masked", *PLAIN_FIELDS]


def _registered_by_hash(hashes: list[str], fields=(*_EXISTING_FIELDS, "region__path")):
    """The registered elders with these ID hashes, as plain values. exclude(""), though no hash
    given is empty, repeats the partial unique index's condition, which PostgreSQL cannot prove
    from an IN list of more than 100 values: without it each chunk of 1,000 scanned the whole
    register (0.7 s at 2,000,000 elders)."""
    return Elder.objects.filter(id_number_hash__in=hashes).exclude(id_number_hash="").order_by().values(*fields)


def _existing_by_hash(hashes: list[str]) -> dict:
    """Registered elders by ID hash, as light records (plain values, the region's path and the
    primary contact): a re-import of 100,000 people must not build 100,000 model instances."""
    from types import SimpleNamespace

    found = {}
    for i in range(0, len(hashes), CHUNK):
        chunk = hashes[i : i + CHUNK]
        rows = list(_registered_by_hash(chunk))
        if not rows:
            continue
        primary = {
            c["elder_id"]: (c["name"], c["relation"], c["phone_masked"])
            for c in EmergencyContact.objects.filter(elder_id__in=[r["id"] for r in rows], is_primary=True).values(
                "elder_id", "name", "relation", "phone_masked"
            )
        }
        for row in rows:
            record = SimpleNamespace(**row)
            record.pk = row["id"]
            record.region_path = row["region__path"]
            record.primary_contact = primary.get(row["id"])
            found[row["id_number_hash"]] = record
    return found


def _update_changes(elder, clean: dict, region_id: int) -> dict:
    """{field: [before, after]} for what a row would change in a registered elder (numbers masked).
    A blank cell keeps what the register holds: sheets leave out what they do not know."""
    from core.phones import mask_phone

    for key in [k for k, v in clean.items() if v in ("", None, []) and k not in ("name", "id_number")]:
        del clean[key]
    changes = {}
    for key in PLAIN_FIELDS:
        if key in clean and key not in ("sex", "birth_date"):
            before, after = getattr(elder, key), clean[key]
            if before != after:
                changes[key] = [before, after]
    if "phone" in clean and crypto.lookup_hash(clean["phone"]) != elder.phone_hash:
        changes["phone"] = [elder.phone_masked, mask_phone(clean["phone"])]
    if region_id != elder.region_id:
        changes["region"] = [elder.region_id, region_id]
    if "contacts" in clean:
        before = [elder.primary_contact] if elder.primary_contact else []
        after = [(c["name"], c["relation"], mask_phone(c["phone"])) for c in clean["contacts"]][:1]
        if before != after:
            changes["contacts"] = [[" ".join(x) for x in before], [" ".join(x) for x in after]]
    return changes


def _new_elder_row(template: dict, clean: dict, region_id: int, id_hash: str, *, by_id: int, now) -> dict:
    """A new elders_elder row as column values (encrypted, masked, search keys), without a
    model instance: at 100,000 rows, instances cost more than the database."""
    from core.idnumbers import mask_id_number
    from core.phones import mask_phone
    from elders.pinyin import given_name, name_keys

    values = dict(template)
    for key in PLAIN_FIELDS:
        if key in clean:
            values[key] = clean[key]
    values["name_pinyin"], values["name_initials"] = name_keys(clean["name"])
    values["name_given"] = given_name(clean["name"])
    number = clean["id_number"]
    values["id_number_enc"] = crypto.encrypt(number)
    values["id_number_hash"] = id_hash
    values["id_number_masked"] = mask_id_number(number)
    phone = clean.get("phone") or ""
    values["phone_enc"] = crypto.encrypt(phone)
    values["phone_hash"] = crypto.lookup_hash(phone)
    values["phone_masked"] = mask_phone(phone)
    values["phone_tail"] = "".join(ch for ch in phone if ch.isdigit())[-4:]
    values["region_id"] = region_id
    values["created_by_id"] = by_id
    values["created_at"] = values["updated_at"] = now
    values["contacts"] = [
        {
            "name": c["name"],
            "relation": c["relation"],
            "phone_enc": crypto.encrypt(c["phone"]),
            "phone_masked": mask_phone(c["phone"]),
        }
        for c in clean.get("contacts", [])
    ]
    return values


def _column_index(model, attname: str) -> int:
    """Where `attname` sits in a row_converter tuple of `model` (concrete fields, pk left out)."""
    names = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    return names.index(attname)


class _Writer:
    """Writes checked batches: new elders by COPY, changed ones by bulk update, with their
    contacts and history rows. Called inside the import's transaction."""

    def __init__(self, *, by, note: str, now):
        self.by = by
        self.note = note[:255]
        self.now = now
        self.contact_template = defaults_for(EmergencyContact)
        self.record_template = defaults_for(ChangeRecord)

    def write(self, batch) -> None:
        _write_batch(
            batch,
            by=self.by,
            note=self.note,
            now=self.now,
            contact_template=self.contact_template,
            record_template=self.record_template,
        )


def _write_batch(batch, *, by, note, now, contact_template, record_template) -> None:
    from core.bulk import insert_rows, insert_tuples, reserve_ids
    from core.phones import mask_phone

    creates = [item[4] for item in batch if item[0] == "create"]
    updates = [item for item in batch if item[0] == "update"]
    contact_rows, record_rows = [], []
    if creates:
        # the checkers built the rows with None for the new elder's primary key
        pks = reserve_ids(Elder, len(creates))
        at_elder, at_object = _column_index(EmergencyContact, "elder_id"), _column_index(ChangeRecord, "object_id")
        contacts, records = [], []
        for (_elder, new_contacts, record), pk in zip(creates, pks, strict=True):
            contacts.extend(row[:at_elder] + (pk,) + row[at_elder + 1 :] for row in new_contacts)
            records.append(record[:at_object] + (pk,) + record[at_object + 1 :])
        insert_tuples(Elder, pks, [elder for elder, _c, _r in creates])
        insert_tuples(EmergencyContact, reserve_ids(EmergencyContact, len(contacts)), contacts)
        insert_tuples(ChangeRecord, reserve_ids(ChangeRecord, len(records)), records)
    if updates:
        elders = Elder.objects.in_bulk([item[4][0] for item in updates])
        touched, fields, replace_contacts = [], set(), []
        for _a, _n, clean, region_id, (pk, changes) in updates:
            elder = elders[pk]
            _apply(elder, {k: v for k, v in clean.items() if k not in ("sex", "birth_date", "id_number", "contacts")})
            elder.region_id = region_id
            elder.updated_at = now
            elder.version = F("version") + 1  # in SQL: a page edit since in_bulk still counts; one record below
            touched.append(elder)
            for key in changes:
                if key == "phone":
                    fields |= {"phone_enc", "phone_hash", "phone_masked", "phone_tail"}
                elif key == "name":
                    fields |= {"name", "name_pinyin", "name_initials", "name_given"}
                elif key == "contacts":
                    replace_contacts.append(pk)
                    for i, c in enumerate(clean["contacts"][:1]):
                        contact_rows.append(
                            {
                                **contact_template,
                                "elder_id": pk,
                                "name": c["name"],
                                "relation": c["relation"],
                                "is_primary": i == 0,
                                "phone_enc": crypto.encrypt(c["phone"]),
                                "phone_masked": mask_phone(c["phone"]),
                            }
                        )
                else:
                    fields.add(key)
            record_rows.append(
                {
                    **record_template,
                    "model": "elders.elder",
                    "object_id": pk,
                    "action": "import",
                    "changes": changes,
                    "note": note,
                    "by_id": by.pk,
                    "region_id": region_id,
                    "at": now,
                }
            )
        fields.discard("region")
        Elder.objects.bulk_update(touched, sorted(fields | {"region", "updated_at", "version"}), batch_size=500)
        # the sheet holds the primary contact; others added on the page stay
        EmergencyContact.objects.filter(elder_id__in=replace_contacts, is_primary=True).delete()
    for model, rows in ((EmergencyContact, contact_rows), (ChangeRecord, record_rows)):
        for values, pk in zip(rows, reserve_ids(model, len(rows)), strict=True):
            values["id"] = pk
        insert_rows(model, rows)
