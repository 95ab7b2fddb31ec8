"""Excel import of elders (issue: the registry at city scale).

Real sheets are messy: a title above the header, merged cells, full-width characters,
stray spaces, 15-digit IDs, IDs that Excel turned into numbers, dates as text or as Excel
dates, blank rows, the same person twice. Every row is validated first with the same rules
as the form and the API (elders.validation); then, only if no row is bad (or the caller
chose to skip bad rows), everything is written in one transaction. The ID number is the
key: a person already in the register is updated, not added again.
"""

import datetime
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from audit.models import ChangeRecord
from audit.services import access_log
from core import crypto
from elders.excel import BY_KEY, HEADER_LOOKUP, normalise_header
from elders.models import Elder, EmergencyContact
from elders.services import PLAIN_FIELDS, _apply, set_phone
from elders.validation import clean_elder_input, field_label
from regions.models import Level, Region

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


def read_sheet(source) -> tuple[list[list], int]:
    """All rows of the first sheet with merged cells filled in, and the sheet row of rows[0]."""
    try:
        if isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(source)
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every bad file
        raise UnreadableFile(_("无法读取文件,请上传 Excel 文件(.xlsx 或 .xls):%(e)s") % {"e": str(exc)[:200]}) from None
    for (r0, c0), (r1, c1) in sheet.merged_cell_ranges or []:
        # A merged block shows its value in every row and column it spans (a 所属社区 merged
        # down twenty rows belongs to all twenty).
        if r0 >= len(rows):
            continue
        value = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                if row[c] in ("", None):
                    row[c] = value
    # skip_empty_area=False gives the rows from A1, so row i is sheet row i + 1 whatever
    # sheet.start says (adding sheet.start would shift every row number by the blank rows above).
    return rows, 0


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
        _("没有找到表头:前%(n)d行里应有一行同时包含“姓名”和“身份证号”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS}
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
                    "身份证号被 Excel 存成了数字,后几位已经丢失(现在显示为 %(v)s)。"
                    "请把这一列设为“文本”格式,重新填写完整号码后再导入"
                )
                % {"v": digits}
            )
        return digits  # a 15-digit old number survives as a number
    text = str(value).strip()
    if _SCIENTIFIC.match(text.replace(" ", "")):
        raise ValidationError(
            _("身份证号被 Excel 显示成了科学计数法(%(v)s),后几位已经丢失。请把这一列设为“文本”格式,重新填写完整号码后再导入")
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
            raise ValidationError(_("请填写所属社区(名称或12位区划代码)"))
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
                raise ValidationError(_("社区“%(c)s”不存在或不在您的辖区内,请核对名称或改填12位区划代码") % {"c": community})
            if len(matches) > 1:
                raise ValidationError(
                    _("您的辖区内有%(n)d个社区叫“%(c)s”,请改填“街道/社区”或12位区划代码") % {"n": len(matches), "c": community}
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


@dataclass
class _Row:
    number: int
    cells: list
    clean: dict
    region: Region
    id_hash: str


def _row_to_raw(cells: list, colmap: dict[int, str]) -> tuple[dict, dict, dict]:
    """Cells to raw field values; returns (raw, location values, errors)."""
    raw, where, errors = {}, {}, {}
    for index, key in colmap.items():
        value = cells[index] if index < len(cells) else ""
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


def _column_for(key: str, headers: dict[str, str]) -> str:
    if key == "contacts":
        return headers.get("contact_name") or BY_KEY["contact_name"].header
    if key == "region":
        return headers.get("community", BY_KEY["community"].header)
    return headers.get(key) or (BY_KEY[key].header if key in BY_KEY else field_label(key))


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
    the good ones — in one transaction. Raises UnreadableFile for a file that cannot be read."""
    if not by.may("import", Elder):
        raise PermissionDenied(_("您没有导入老年人的权限"))
    report = ImportReport(filename=filename, dry_run=dry_run, skip_invalid=skip_invalid)
    rows, start_row = read_sheet(source)
    header_index, colmap, unknown = find_header(rows)
    report.header_row = start_row + header_index + 1
    header_cells = rows[header_index]
    report.headers = [_cell_text(c) for c in header_cells]
    headers_by_key = {key: _cell_text(header_cells[i]).strip() for i, key in colmap.items()}
    if "community" not in colmap.values():
        raise UnreadableFile(_("缺少“所属社区”列。请使用导入模板。"))
    if unknown:
        report.warnings.append(_("以下列不认识,已忽略:%(c)s") % {"c": "、".join(unknown[:20])})

    resolver = RegionResolver(by)
    today = timezone.localdate()
    good: list[_Row] = []
    seen: dict[str, int] = {}
    data_rows = rows[header_index + 1 :]
    total = len(data_rows)
    for offset, cells in enumerate(data_rows):
        number = start_row + header_index + 2 + offset
        if progress and offset % 1000 == 0:
            progress(offset, total, "validate")
        if all(str(c).strip() == "" for c in cells if c is not None):
            continue  # a blank row
        report.total_rows += 1
        raw, where, errors = _row_to_raw(cells, colmap)
        if "id_number" not in errors and not str(raw.get("id_number", "")).strip():
            errors["id_number"] = [_("请填写身份证号(导入以身份证号为准;没有身份证号的老人请在页面上单独登记)")]
        clean = {}
        try:
            clean = clean_elder_input(
                {k: v for k, v in raw.items() if not (k == "id_number" and "id_number" in errors)}, today=today
            )
        except ValidationError as exc:
            for key, msgs in exc.message_dict.items():
                errors.setdefault(key, []).extend(
                    m for m in msgs if key != "id_number" or "id_number" not in errors or m not in errors[key]
                )
        region = None
        try:
            region = resolver.resolve(where.get("community", ""), where.get("grid", ""))
        except ValidationError as exc:
            errors.setdefault("region", []).extend(exc.messages)
        number_text = clean.get("id_number")
        if number_text and "id_number" not in errors:
            first = seen.get(number_text)
            if first is not None:
                errors.setdefault("id_number", []).append(_("与第%(r)d行是同一个身份证号,同一人只能出现一次") % {"r": first})
            else:
                seen[number_text] = number
        if errors:
            # sex/birth_date messages that only repeat an ID problem are noise
            if "id_number" in errors:
                errors.pop("sex", None)
                errors.pop("birth_date", None) if not raw.get("birth_date") else None
            reasons = []
            for key, msgs in errors.items():
                column = _column_for(key, headers_by_key)
                for msg in dict.fromkeys(msgs):
                    report.errors.append(RowError(number, column, msg))
                    reasons.append(f"{column}:{msg}")
            report.rejected += 1
            report.bad_rows.append((number, list(cells), ";".join(reasons)))
            continue
        good.append(_Row(number, cells, clean, region, crypto.lookup_hash(number_text)))

    if progress:
        progress(total, total, "match")
    existing = _existing_by_hash([r.id_hash for r in good])
    in_scope_prefix = by.region.path
    creates, updates = [], []
    for row in good:
        elder = existing.get(row.id_hash)
        if elder is None:
            creates.append(row)
        elif not elder.region.path.startswith(in_scope_prefix):
            message = _("该身份证号已在其他辖区登记,如老人迁入本辖区,请联系原社区办理迁出")
            report.errors.append(RowError(row.number, _column_for("id_number", headers_by_key), message))
            report.rejected += 1
            report.bad_rows.append((row.number, list(row.cells), f"{_column_for('id_number', headers_by_key)}:{message}"))
        else:
            updates.append((row, elder))
    report.bad_rows.sort(key=lambda item: item[0])
    report.errors.sort(key=lambda e: e.row)

    # Work out what an update would change (so unchanged rows write nothing).
    planned_updates = []
    for row, elder in updates:
        changes = _update_changes(elder, row)
        if changes:
            planned_updates.append((row, elder, changes))
        else:
            report.unchanged += 1
    report.created, report.updated = len(creates), len(planned_updates)
    report.preview = [
        {"row": r.number, "action": "create", "name": r.clean["name"], "region": r.region.name} for r in creates[:20]
    ] + [
        {"row": r.number, "action": "update", "name": r.clean["name"], "region": r.region.name, "fields": sorted(c)}
        for r, _e, c in planned_updates[:20]
    ]
    if dry_run or (report.rejected and not skip_invalid):
        return report
    if progress:
        progress(total, total, "write")
    _write(
        creates,
        planned_updates,
        by=by,
        note=_("Excel 导入:%(f)s") % {"f": filename or "-"} + (f" ({acting_label})" if acting_label else ""),
    )
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
    report.written = True
    return report


def _existing_by_hash(hashes: list[str]) -> dict[str, Elder]:
    found = {}
    for i in range(0, len(hashes), CHUNK):
        chunk = hashes[i : i + CHUNK]
        for elder in Elder.objects.filter(id_number_hash__in=chunk).select_related("region").prefetch_related("contacts"):
            found[elder.id_number_hash] = elder
    return found


def _update_changes(elder: Elder, row: _Row) -> dict:
    """{field: [before, after]} for what this row would change (numbers masked)."""
    changes = {}
    clean = row.clean
    for key in PLAIN_FIELDS:
        if key in clean and key not in ("sex", "birth_date"):
            before, after = getattr(elder, key), clean[key]
            if before != after:
                changes[key] = [before, after]
    if "phone" in clean and crypto.lookup_hash(clean["phone"]) != elder.phone_hash:
        from core.phones import mask_phone

        changes["phone"] = [elder.phone_masked, mask_phone(clean["phone"])]
    if row.region.pk != elder.region_id:
        changes["region"] = [elder.region_id, row.region.pk]
    if "contacts" in clean:
        from core.phones import mask_phone

        before = [(c.name, c.relation, c.phone_masked) for c in elder.contacts.all()]
        after = [(c["name"], c["relation"], mask_phone(c["phone"])) for c in clean["contacts"]]
        if before[:1] != after[:1]:
            changes["contacts"] = [[" ".join(x) for x in before], [" ".join(x) for x in after]]
    return changes


def _new_elder_row(template: dict, row: _Row, *, by, now) -> dict:
    """A new elders_elder row as column values, without building a model instance."""
    from core.idnumbers import mask_id_number
    from core.phones import mask_phone
    from elders.pinyin import given_name, name_keys

    clean = row.clean
    values = dict(template)
    for key in PLAIN_FIELDS:
        if key in clean:
            values[key] = clean[key]
    values["name_pinyin"], values["name_initials"] = name_keys(clean["name"])
    values["name_given"] = given_name(clean["name"])
    number = clean["id_number"]
    values["id_number_enc"] = crypto.encrypt(number)
    values["id_number_hash"] = row.id_hash
    values["id_number_masked"] = mask_id_number(number)
    phone = clean.get("phone") or ""
    values["phone_enc"] = crypto.encrypt(phone)
    values["phone_hash"] = crypto.lookup_hash(phone)
    values["phone_masked"] = mask_phone(phone)
    values["phone_tail"] = "".join(ch for ch in phone if ch.isdigit())[-4:]
    values["region_id"] = row.region.pk
    values["created_by_id"] = by.pk
    values["created_at"] = values["updated_at"] = now
    return values


@transaction.atomic
def _write(creates: list[_Row], updates: list, *, by, note: str) -> None:
    from core.bulk import defaults_for, insert_rows, reserve_ids
    from core.phones import mask_phone

    now = timezone.now()
    template = defaults_for(Elder)
    elder_rows, contact_rows, record_rows = [], [], []
    contact_template = defaults_for(EmergencyContact)
    record_template = defaults_for(ChangeRecord)
    for row, pk in zip(creates, reserve_ids(Elder, len(creates)), strict=True):
        values = _new_elder_row(template, row, by=by, now=now)
        values["id"] = pk
        elder_rows.append(values)
        for i, item in enumerate(row.clean.get("contacts", [])):
            contact_rows.append(
                {
                    **contact_template,
                    "elder_id": pk,
                    "name": item["name"],
                    "relation": item["relation"],
                    "is_primary": i == 0,
                    "phone_enc": crypto.encrypt(item["phone"]),
                    "phone_masked": mask_phone(item["phone"]),
                }
            )
        record_rows.append(
            {
                **record_template,
                "model": "elders.elder",
                "object_id": pk,
                "action": "import",
                "changes": {"name": [None, values["name"]]},
                "note": note[:255],
                "by_id": by.pk,
                "region_id": row.region.pk,
                "at": now,
            }
        )
    insert_rows(Elder, elder_rows)
    contacts, records = [], []
    changed_fields = set()
    touched = []
    replace_contacts = []
    for row, elder, changes in updates:
        clean = {k: v for k, v in row.clean.items() if k not in ("sex", "birth_date", "id_number")}
        _apply(elder, clean)
        elder.region = row.region
        elder.updated_at = timezone.now()
        changed_fields.update(k for k in changes if k not in ("contacts",))
        touched.append(elder)
        if "contacts" in changes:
            replace_contacts.append(elder.pk)
            for i, item in enumerate(row.clean["contacts"]):
                contact = EmergencyContact(elder=elder, name=item["name"], relation=item["relation"], is_primary=i == 0)
                set_phone(contact, item["phone"])
                contacts.append(contact)
        records.append(
            ChangeRecord(
                model="elders.elder",
                object_id=elder.pk,
                action="import",
                changes=changes,
                note=note[:255],
                by=by,
                region=row.region,
            )
        )
    if touched:
        fields = sorted({"phone_enc", "phone_hash", "phone_masked", "phone_tail"} if "phone" in changed_fields else set())
        fields += sorted(f for f in changed_fields if f not in ("phone",))
        if "name" in changed_fields:
            fields += ["name_pinyin", "name_initials", "name_given"]
        if fields:
            Elder.objects.bulk_update(touched, [*fields, "updated_at"], batch_size=500)
    if replace_contacts:
        for i in range(0, len(replace_contacts), CHUNK):
            # the sheet holds the primary contact; others added on the page stay
            EmergencyContact.objects.filter(elder_id__in=replace_contacts[i : i + CHUNK], is_primary=True).delete()
    EmergencyContact.objects.bulk_create(contacts, batch_size=CHUNK)
    ChangeRecord.objects.bulk_create(records, batch_size=CHUNK)
    for model, rows in ((EmergencyContact, contact_rows), (ChangeRecord, record_rows)):
        for values, pk in zip(rows, reserve_ids(model, len(rows)), strict=True):
            values["id"] = pk
        insert_rows(model, rows)
