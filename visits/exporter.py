"""Excel out for the visit records: a background job acting for its user.

Rows through visits.selectors.visit_list (so the user's scope, and the list's filters), written
by core.xlsx.SheetWriter. The rows hold the elder's address (personal data, no numbers): each
export writes one access-log row (who, how many, which filters)."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log
from core.xlsx import SheetWriter
from regions.selectors import region_get
from visits import selectors
from visits.checklist import flags


def headers() -> list[str]:
    return [_("探访时间"), _("老人"), _("地区"), _("地址"), _("探访方式"), _("空访"), _("空访原因"), _("探访结果"), _("需关注事项"), _("探访人"), _("转介"), _("备注")]  # fmt: skip


def filters_params(f: selectors.VisitFilter) -> dict:
    """A VisitFilter as a job's params (ids and words only)."""
    return {
        "region": f.region.pk if f.region is not None else None,
        "outcome": f.outcome,
        "missed": f.missed,
        "month": f.month.strftime("%Y-%m") if f.month else "",
    }


def filters_from_params(params: dict, user) -> selectors.VisitFilter:
    """The filters back, the region read again through the user's scope (404 if it left it)."""
    region = region_get(user=user, region_id=params["region"]) if params.get("region") else None
    month = datetime.datetime.strptime(params["month"], "%Y-%m").date() if params.get("month") else None
    return selectors.VisitFilter(region=region, outcome=params.get("outcome") or "", missed=params.get("missed"), month=month)


def visit_rows(user, filters):
    qs = selectors.visit_list(user=user, filters=filters).select_related("elder", "region")
    for v in qs.iterator(chunk_size=500):
        yield [
            timezone.localtime(v.visited_at).strftime("%Y-%m-%d %H:%M"), v.elder.name, v.region.name, v.elder.address,
            v.get_via_display(), _("是") if v.missed else _("否"), v.get_missed_reason_display() if v.missed else "",
            v.get_outcome_display(), "、".join(f"{item.label}{label}" for item, label in flags(v.checklist)), v.visitor_name, v.referral, v.notes,
        ]  # fmt: skip


def export(*, user, filters: selectors.VisitFilter, out, detail=None) -> int:
    """Write `user`'s visit records (filtered) to `out` (a path); returns the rows; logged."""
    count = 0
    with SheetWriter(out, _("探访记录"), widths=[17, 10, 14, 30, 10, 6, 12, 10, 30, 10, 20, 30]) as sheet:
        sheet.header(headers())
        for row in visit_rows(user, filters):
            sheet.row(row)
            count += 1
    access_log(
        kind="export",
        model="visits.visit",
        by=user,
        region=user.region,
        fields=("address",),
        detail={"rows": count, "filters": filters_params(filters), **(detail or {})},
    )
    return count


def export_job_work(job) -> dict:
    import os
    import tempfile

    from django.core.files import File

    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as tmp:
        path = tmp.name
    try:
        count = export(user=job.by, filters=filters_from_params(job.params, job.by), out=path, detail={"job": job.pk})
        job.output_name = f"{_('探访记录')}-{timezone.localtime(job.created_at):%Y%m%d-%H%M}.xlsx"
        with open(path, "rb") as fh:
            job.output_file.save(f"export-{job.pk}.xlsx", File(fh), save=True)
    finally:
        os.unlink(path)
    return {"rows": count}
