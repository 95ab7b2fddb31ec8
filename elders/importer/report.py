"""What an import tells its user: the report (counts, row errors, a preview) and the workbook
of the bad rows, with the original header and an 错误原因 column, ready to fix and re-upload."""

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

import xlsxwriter

from elders.exporter import book_formats


@dataclass
class RowError:
    row: int  # the sheet row number a person sees in Excel (1-based)
    column: str  # the header of the column, or "" for the whole row
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}


class RejectedRow(NamedTuple):
    """A bad row as the error workbook shows it: its sheet row, its cells as read, the reasons."""

    number: int
    cells: list
    reasons: str


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
    bad_rows: list[RejectedRow] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)  # the first rows that would be created/updated

    def add_preview(self, number: int, action: str, name: str, region: str, *, fields: list | None = None) -> None:
        """One of the first rows that would be created (up to 20 shown) or updated (up to 40)."""
        if len(self.preview) >= (20 if action == "create" else 40):
            return
        item = {"row": number, "action": action, "name": name, "region": region}
        if fields is not None:
            item["fields"] = fields
        self.preview.append(item)

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


def reject(report: ImportReport, number: int, cells: list, problems) -> None:
    """Count row `number` as rejected for `problems` ([(column, message), …])."""
    for column, message in problems:
        report.errors.append(RowError(number, column, message))
    report.rejected += 1
    report.bad_rows.append(RejectedRow(number, list(cells), ";".join(f"{c}:{m}" for c, m in problems)))


def write_error_report(report, out) -> None:
    """Only the bad rows, with the original header and an 错误原因 column, ready to fix and re-upload."""
    book = xlsxwriter.Workbook(out, {"constant_memory": True})
    sheet = book.add_worksheet("错误行")
    fmt = book_formats(book)
    headers = list(report.headers)
    width = len(headers)
    for col, header in enumerate(headers):
        sheet.write_string(0, col, str(header), fmt["head"])
        sheet.set_column(col, col, 16, fmt["text"])
    sheet.write_string(0, width, "错误原因", fmt["req"])
    sheet.write_string(0, width + 1, "原行号", fmt["head"])
    sheet.set_column(width, width, 60)
    for out_row, (number, cells, reasons) in enumerate(report.bad_rows, start=1):
        for col in range(width):
            value = cells[col] if col < len(cells) else ""
            if isinstance(value, float) and value.is_integer():
                value = str(int(value))
            elif isinstance(value, datetime.datetime | datetime.date):
                value = value.strftime("%Y-%m-%d")
            sheet.write_string(out_row, col, "" if value is None else str(value))
        sheet.write_string(out_row, width, reasons, fmt["error"])
        sheet.write_number(out_row, width + 1, number)
    sheet.freeze_panes(1, 0)
    book.close()
