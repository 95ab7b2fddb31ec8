"""Excel import of elders (issue: the registry at city scale).

Real sheets are messy: a title above the header, merged cells, full-width characters,
stray spaces, 15-digit IDs, IDs that Excel turned into numbers, dates as text or as Excel
dates, blank rows, the same person twice. Every row is validated first with the same rules
as the form and the API (elders.validation); then, only if no row is bad (or the caller
chose to skip bad rows), everything is written in one transaction. The ID number is the
key: a person already in the register is updated, not added again.

The package in the order a file goes through it:
- read: the guarded reading (elders.workbook_guard, elders.sheet_reader), the header row, cells;
- check: each row cleaned and validated (pure; worker processes for a big file) into a
  GoodRow or a BadRow;
- write: the checked rows written in one transaction through elders.services' bulk services
  (elder_bulk_create, elder_bulk_update: the same rows and history as the forms write);
- report: the ImportReport and the workbook of the bad rows.
"""

import functools
import itertools
import multiprocessing
import os
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _

from elders.importer import check
from elders.importer.check import BadRow, GoodRow, RegionResolver
from elders.importer.read import (
    HEADER_SCAN_ROWS,
    UnreadableFile,
    _cell_text,
    _local_path,
    _rows_or_unreadable,
    data_chunks,
    find_header,
    open_rows,
    read_sheet,
)
from elders.importer.report import ImportReport, RejectedRow, RowError, write_error_report
from elders.importer.write import CONCURRENT_RETRIES, ImportConflict, RegisteredMeanwhile, write_checked
from elders.models import Elder

__all__ = [
    "BadRow",
    "GoodRow",
    "ImportConflict",
    "ImportReport",
    "RegionResolver",
    "RejectedRow",
    "RowError",
    "UnreadableFile",
    "find_header",
    "import_elders",
    "open_rows",
    "read_sheet",
    "write_error_report",
]


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
            except RegisteredMeanwhile as exc:
                taken |= exc.hashes
        raise ImportConflict(_("另一次导入正在登记同一批老人，本次导入没有写入任何数据。请等那次导入完成后重新运行"))
    finally:
        if temporary:
            os.unlink(temporary)


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
        ctx = check.run_context(by=by, colmap=colmap, headers_by_key=headers_by_key, dry_run=dry_run, note=note, now=now)
        data = itertools.chain(head[header_index + 1 :], rows)
        chunks = data_chunks(data, first_number=header_index + 2, size=check.CHUNK_ROWS)
        pool = None
        if total >= check.PARALLEL_MIN_ROWS:
            pool = multiprocessing.get_context("fork").Pool(check.WORKERS, initializer=check.init_checker, initargs=(ctx,))
            checked = check.checked_in_window(pool, chunks)
        else:
            checked = map(functools.partial(check.check_chunk, ctx), chunks)
        try:
            write_checked(
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
