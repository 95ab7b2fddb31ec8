"""Excel import of staff (caregivers) and volunteers, with the elders' importer rules.

The same guarded reading (elders.importer.read: the workbook inspected before anything
expands, then read in a child process under a memory limit), the same report and the same
error workbook (elders.importer.report: the bad rows with the original header and an 错误原因
column, ready to fix and upload again), the same job flow (a dry run first, then "confirm" on
the same file, or skip the bad rows). What differs is small enough not to share the elders'
chunked, multi-process checker: a provider's sheet holds hundreds of rows, not a city. Each
row goes through the one write path, the services (caregiver_create / caregiver_update,
volunteer_create / volunteer_update), inside one transaction with a savepoint per row; a dry
run, or a file with bad rows imported "all or nothing", is rolled back, so the check is
exactly the write's.

Keys: a caregiver is the same person when their ID number is already registered in the same
organisation (updated, not added); a volunteer when their phone is registered in the same
community. Imported volunteers wait for approval like any registration.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core import crypto
from core.idnumbers import clean_id_number
from core.phones import normalize_phone
from elders.excel import normalise_header
from elders.importer.read import HEADER_SCAN_ROWS, UnreadableFile, _cell_text, _date_cell, _id_cell, data_chunks, read_sheet
from elders.importer.report import ImportReport, reject, write_error_report
from providers import services
from providers.excel import CAREGIVER_COLUMNS, VOLUNTEER_COLUMNS, header_lookup
from providers.models import Caregiver, Organisation, Team, Volunteer
from providers.selectors import community_choices

STAFF = "caregiver"
VOLUNTEERS = "volunteer"
MAX_ROWS = 5000  # a provider's or a community's list; the elders' importer is the one for a city


def _columns(what):
    return CAREGIVER_COLUMNS if what == STAFF else VOLUNTEER_COLUMNS


def find_header(rows, what):
    """The header row: the first of the first rows naming 姓名 and the sheet's other key column."""
    lookup = header_lookup(_columns(what))
    second = "kind" if what == STAFF else "region"
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {i: lookup.get(normalise_header(cell)) for i, cell in enumerate(row)}
        found = {k for k in keys.values() if k}
        if "name" in found and second in found:
            colmap = {}
            for i, key in keys.items():
                if key and key not in colmap.values():
                    colmap[i] = key
            return index, colmap
    wanted = "人员类别" if what == STAFF else "所属社区"
    raise UnreadableFile(
        _("没有找到表头：前%(n)d行里应有一行同时包含“姓名”和“%(w)s”两列。请使用导入模板。") % {"n": HEADER_SCAN_ROWS, "w": wanted}
    )


def _raw(cells, colmap) -> dict:
    raw = {}
    for i, key in colmap.items():
        value = cells[i] if i < len(cells) else None
        if key == "id_number":
            raw[key] = _id_cell(value) if value not in (None, "") else ""
        elif key == "birth_date":
            raw[key] = _date_cell(value)
        elif key in ("work_start", "work_end", "available_from", "available_to") and isinstance(value, float) and 0 <= value < 1:
            minutes = round(value * 24 * 60)  # an Excel time is a fraction of a day
            raw[key] = datetime.time(minutes // 60, minutes % 60)
        else:
            raw[key] = _cell_text(value).strip()
    return raw


class _Resolver:
    """Names in the sheet to rows in the user's scope, cached for the file."""

    def __init__(self, by):
        self.by = by
        self.orgs = {o.name: o for o in Organisation.objects.restrict(by, "view")}
        self.communities = {}
        for region in community_choices(user=by):
            self.communities.setdefault(region.name, []).append(region)
            if region.code:
                self.communities.setdefault(region.code, []).append(region)
        self.teams = {(t.region_id, t.name): t for t in Team.objects.restrict(by, "view")}

    def organisation(self, name: str):
        if not name:
            if self.by.organisation_id and self.by.organisation_id in {o.pk for o in self.orgs.values()}:
                return next(o for o in self.orgs.values() if o.pk == self.by.organisation_id)
            raise ValidationError({"organisation": _("请填写所属机构")})
        org = self.orgs.get(name)
        if org is None:
            raise ValidationError({"organisation": _("所属机构“%(v)s”不存在或不在您的管辖范围内") % {"v": name[:40]}})
        return org

    def community(self, name: str):
        found = self.communities.get(name, [])
        if not found:
            raise ValidationError({"region": _("所属社区“%(v)s”不存在或不在您的辖区内") % {"v": name[:40]}})
        if len(found) > 1:
            raise ValidationError({"region": _("辖区内有多个“%(v)s”，请填写12位区划代码") % {"v": name[:40]}})
        return found[0]

    def team(self, name: str, region):
        if not name:
            return None
        team = self.teams.get((region.pk, name))
        if team is None:
            raise ValidationError(
                {"team": _("志愿服务队“%(v)s”不在%(r)s，请先建立队伍或改正名称") % {"v": name[:40], "r": region.name}}
            )
        return team


def _write_caregiver(by, raw, resolver) -> tuple[str, str]:
    org = resolver.organisation(raw.pop("organisation", "") or "")
    number = clean_id_number(raw.get("id_number") or "")
    existing = None
    if number:
        existing = (
            Caregiver.objects.restrict(by, "change").filter(organisation=org, id_number_hash=crypto.lookup_hash(number)).first()
        )
    if existing is None and "id_number" in raw and not raw["id_number"]:
        raw.pop("id_number")
    if existing is not None:
        data = {k: v for k, v in raw.items() if v not in ("", None) or k in ("skills",)}
        services.caregiver_update(by=by, caregiver=existing, data=data)
        return "update", org.name
    services.caregiver_create(by=by, data={**raw, "organisation": org.pk})
    return "create", org.name


def _write_volunteer(by, raw, resolver) -> tuple[str, str]:
    region = resolver.community(raw.pop("region", "") or "")
    team = resolver.team(raw.pop("team", "") or "", region)
    try:
        phone = normalize_phone(raw.get("phone") or "")
    except ValidationError:
        phone = ""
    existing = None
    if phone:
        existing = Volunteer.objects.restrict(by, "change").filter(region=region, phone_hash=crypto.lookup_hash(phone)).first()
    data = {**raw, "team": team.pk if team else ""}
    if existing is not None:
        services.volunteer_update(by=by, volunteer=existing, data={k: v for k, v in data.items() if v not in ("", None)})
        return "update", region.name
    services.volunteer_create(by=by, data={**data, "region": region.pk})
    return "create", region.name


def import_sheet(source, *, by, what: str, dry_run: bool = False, skip_invalid: bool = False, filename: str = "") -> ImportReport:
    """Check every row and write it through the services; keep the writes unless this is a dry
    run or (without skip_invalid) a row was bad. Raises UnreadableFile for a file that cannot be read."""
    model = Caregiver if what == STAFF else Volunteer
    if not by.may("import", model):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))
    rows, _offset = read_sheet(source)
    header_index, colmap = find_header(rows, what)
    labels = {c.key: c.header for c in _columns(what)}
    report = ImportReport(filename=filename, header_row=header_index + 1, dry_run=dry_run, skip_invalid=skip_invalid)
    report.headers = [_cell_text(c) for c in rows[header_index]]
    data_rows = rows[header_index + 1 :]
    if len(data_rows) > MAX_ROWS:
        raise UnreadableFile(_("一次最多导入 %(n)d 行，请分成几个文件") % {"n": MAX_ROWS})
    write = _write_caregiver if what == STAFF else _write_volunteer
    with transaction.atomic():
        resolver = _Resolver(by)
        for chunk in data_chunks(data_rows, header_index + 2, 500):
            for number, cells in chunk:
                report.total_rows += 1
                try:
                    raw = _raw(cells, colmap)
                    with transaction.atomic():
                        action, where = write(by, raw, resolver)
                except ValidationError as exc:
                    problems = []
                    for field, msgs in getattr(exc, "message_dict", {"": exc.messages}).items():
                        problems += [(labels.get(field, ""), m) for m in msgs]
                    reject(report, number, cells, problems)
                    continue
                except IntegrityError:
                    reject(report, number, cells, [("", _("与已登记的记录冲突，请核对后重新导入"))])
                    continue
                if action == "create":
                    report.created += 1
                else:
                    report.updated += 1
                report.add_preview(number, action, str(raw.get("name", "")), where)
        keep = not dry_run and (report.rejected == 0 or skip_invalid) and (report.created or report.updated)
        if keep:
            report.written = True
        else:
            transaction.set_rollback(True)
    return report


def import_job_work(job) -> dict:
    """A staff or volunteer import job (providers.tasks): the report as the job's result, the
    bad rows as its output file; the uploaded sheet deleted once written."""
    from jobs.services import error_report_bytes, import_job_run

    what = job.params.get("what", STAFF)
    summary = import_job_run(
        job,
        lambda source: import_sheet(
            source,
            by=job.by,
            what=what,
            dry_run=job.params.get("dry_run", False),
            skip_invalid=job.params.get("skip_invalid", False),
            filename=job.input_name,
        ),
        error_file=lambda report: error_report_bytes(report, write_error_report),
    )
    return {**summary, "what": what}
