"""Excel out for staff and volunteers: the import templates and the exports.

An export is a background job acting for its user: rows through the selectors (so the
user's scope), written by core.xlsx.SheetWriter, with the numbers masked as the pages show
them; each export writes one access-log row (who, what, how many). The template has the
import's columns, required ones marked *, notes as comments, the number columns as text.
"""

import xlsxwriter
from django.utils import timezone

from audit.services import access_log
from core.xlsx import SheetWriter
from elders.exporter import book_formats
from providers.excel import CAREGIVER_COLUMNS, CAREGIVER_EXPORT_EXTRA, VOLUNTEER_COLUMNS, VOLUNTEER_EXPORT_EXTRA
from providers.importer import STAFF
from providers.models import weekdays_text
from providers.selectors import caregiver_list, volunteer_list

EXAMPLES = {
    STAFF: {"organisation": "示例:康乃馨家政", "kind": "保姆", "name": "王丽", "id_number": "110105197503010021", "phone": "13812345678", "skills": "做饭、保洁", "work_start": "08:00", "work_end": "17:00", "work_days": "周一、周二、周三、周四、周五", "languages": "普通话"},
    "volunteer": {"region": "示例:安泰社区", "team": "党员志愿服务队", "name": "张红", "phone": "13912345678", "birth_year": "1960", "skills": "陪同就医", "available_days": "周六、周日", "available_from": "09:00", "available_to": "11:30"},
}  # fmt: skip


def write_template(out, what: str) -> None:
    columns = CAREGIVER_COLUMNS if what == STAFF else VOLUNTEER_COLUMNS
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("服务人员" if what == STAFF else "志愿者")
    fmt = book_formats(book)
    for col, column in enumerate(columns):
        sheet.write_string(
            0, col, column.header + ("*" if column.required else ""), fmt["req"] if column.required else fmt["head"]
        )
        sheet.set_column(col, col, 22 if column.key in ("id_number", "work_days", "skills") else 14, fmt["text"])
        if column.note:
            sheet.write_comment(0, col, column.note)
        sheet.write_string(1, col, EXAMPLES[what].get(column.key, ""), fmt["note"])
    sheet.freeze_panes(1, 0)
    book.close()


def _time(value) -> str:
    return value.strftime("%H:%M") if value else ""


def caregiver_rows(user):
    qs = caregiver_list(user=user, status="").select_related("organisation").prefetch_related("skills", "certificates__kind")
    for c in qs.iterator(chunk_size=500):
        certs = "；".join(f"{x.kind.name} {x.number_masked} 至{x.expires_on or '长期'}" for x in c.certificates.all())
        yield [
            c.organisation.name, c.get_kind_display(), c.name, c.id_number_masked, c.get_sex_display(),
            c.birth_date.isoformat() if c.birth_date else "", c.phone_masked, "、".join(s.name for s in c.skills.all()),
            _time(c.work_start), _time(c.work_end), weekdays_text(c.work_days), c.languages,
            "" if c.home_lat is None else c.home_lat, "" if c.home_lng is None else c.home_lng,
            certs, c.get_status_display(),
        ]  # fmt: skip


def volunteer_rows(user):
    qs = volunteer_list(user=user).select_related("region", "team").prefetch_related("skills")
    for v in qs.iterator(chunk_size=500):
        yield [
            v.region.name, v.team.name if v.team else "", v.name, v.phone_masked, v.birth_year or "", v.age or "",
            "、".join(s.name for s in v.skills.all()), weekdays_text(v.available_days),
            _time(v.available_from), _time(v.available_to), v.get_status_display(),
        ]  # fmt: skip


def export(*, user, what: str, out, detail=None) -> int:
    """Write `user`'s staff (or volunteers) to `out` (a path); returns the rows; logged."""
    if what == STAFF:
        columns, rows, model = CAREGIVER_COLUMNS + CAREGIVER_EXPORT_EXTRA, caregiver_rows(user), "providers.caregiver"
    else:
        columns, rows, model = VOLUNTEER_COLUMNS + VOLUNTEER_EXPORT_EXTRA, volunteer_rows(user), "providers.volunteer"
    count = 0
    with SheetWriter(out, "服务人员" if what == STAFF else "志愿者", widths=[14] * len(columns)) as sheet:
        sheet.header([c.header for c in columns])
        for row in rows:
            sheet.row(row)
            count += 1
    region = user.region
    if region is None and user.organisation_id:
        region = user.organisation.region
    access_log(kind="export", model=model, by=user, region=region, detail={"rows": count, **(detail or {})})
    return count


def export_job_work(job) -> dict:
    import os
    import tempfile

    from django.core.files import File

    what = job.params.get("what", STAFF)
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        count = export(user=job.by, what=what, out=path, detail={"job": job.pk})
        label = "服务人员名单" if what == STAFF else "志愿者名单"
        job.output_name = f"{label}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
        with open(path, "rb") as fh:
            job.output_file.save(f"export-{job.pk}.xlsx", File(fh), save=True)
    finally:
        os.unlink(path)
    return {"rows": count, "what": what}
