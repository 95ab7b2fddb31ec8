"""Checking an import's rows: cells to clean values with the form's and the API's rules
(elders.validation), the community and grid found in the user's scope, and — unless a dry
run — the new elder's database rows built ahead of the writer. Pure (no database): a big
file's rows are checked by worker processes, a few chunks ahead of the writer."""

import collections
import math
import unicodedata
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core import crypto
from elders.excel import BY_KEY
from elders.importer.read import _cell_text, _date_cell, _id_cell
from elders.services import ElderRowBuilder, NewElderRows
from elders.validation import clean_elder_input, field_label
from regions.models import Level, Region

# Rows are checked by worker processes when a file is big enough to repay starting them.
PARALLEL_MIN_ROWS = 5000
WORKERS = 2
CHUNK_ROWS = 1000  # rows per chunk checked by a worker and written in one go
# Chunks handed to the checkers ahead of the writer. Pool.imap would read the whole sheet
# ahead and keep every checked chunk the writer has not reached yet (the database is slower
# than the checkers), so memory would grow with the file; a window keeps it flat.
WINDOW = 3 * WORKERS


class GoodRow(NamedTuple):
    """A row that passed every check."""

    number: int  # the sheet row a person sees in Excel
    clean: dict  # the field values, cleaned as the form cleans them
    region_id: int  # the community or grid it belongs to
    id_hash: str  # the ID number's lookup hash: the import's key
    new_rows: NewElderRows | None  # its rows if it is new (None in a dry run)
    cells: list  # the cells as read, for the error workbook


class BadRow(NamedTuple):
    """A row refused, with its problems as (column header, message)."""

    number: int
    cells: list
    problems: list[tuple[str, str]]


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


def column_for(key: str, headers: dict[str, str]) -> str:
    if key == "contacts":
        return headers.get("contact_name") or BY_KEY["contact_name"].header
    if key == "region":
        return headers.get("community", BY_KEY["community"].header)
    return headers.get(key) or (BY_KEY[key].header if key in BY_KEY else field_label(key))


def _check_row(ctx: dict, number: int, cells: list) -> "GoodRow | BadRow":
    """One data row -> a GoodRow or a BadRow. Pure: no database (runs in workers).
    `ctx` is this run's context (run_context): the acting user's region resolver and the
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
            column = column_for(key, ctx["headers_by_key"])
            problems.extend((column, msg) for msg in dict.fromkeys(msgs))
        return BadRow(number, cells, problems)
    id_hash = crypto.lookup_hash(clean["id_number"])
    # The new elder's rows as the database takes them (elder, contacts, history), built here
    # so the writer, whose work and the database's add up to the import's time, only puts in
    # the primary keys.
    new_rows = None if ctx["dry_run"] else ctx["builder"].new(clean, region.pk)
    return GoodRow(number, clean, region.pk, id_hash, new_rows, cells)


def check_chunk(ctx: dict, chunk):
    return [_check_row(ctx, number, cells) for number, cells in chunk]


# A checker process serves one import only (its pool is made for that run and closed after
# it): the run's context is handed to it once, when the process starts.
_worker_ctx: dict | None = None


def init_checker(ctx: dict) -> None:
    global _worker_ctx
    _worker_ctx = ctx


def _check_chunk_in_checker(chunk):
    return check_chunk(_worker_ctx, chunk)


def checked_in_window(pool, chunks):
    """Checked chunks in order, at most WINDOW of them submitted and not yet taken."""
    pending = collections.deque()
    for chunk in chunks:
        pending.append(pool.apply_async(_check_chunk_in_checker, (chunk,)))
        if len(pending) >= WINDOW:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def run_context(*, by, colmap: dict, headers_by_key: dict, dry_run: bool, note: str, now) -> dict:
    """What the row checkers need for one run: built per import, handed to its checkers."""
    return {
        "colmap": colmap,
        "resolver": RegionResolver(by),
        "today": timezone.localdate(),
        "headers_by_key": headers_by_key,
        "dry_run": dry_run,
        "builder": ElderRowBuilder(by_id=by.pk, now=now, action="import", note=note),
    }
