"""A member's statement for a period as a PDF (A4, drawn by WeasyPrint as the assessment report
and the service agreement are; the CJK font comes from the system: fonts-noto-cjk,
docs/deploy.md): the opening balance, every movement of the period with the balance after it,
the totals in and out, and the closing balance. Callers read the member through a selector and
write the access log first (`statement_log`, as the Excel statement does)."""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from timebank.models import Movement

ROWS_MAX = 5000  # about ten years of an active volunteer's movements; more: a shorter period
YEARS_MAX = 10


def statement_log(*, user, member, fmt: str, start=None, end=None, ip=None) -> None:
    """One access-log entry per statement shown or downloaded (page, Excel, PDF, API)."""
    from audit.services import access_log

    detail = {"format": fmt}
    if start is not None:
        detail.update(start=start.isoformat(), end=end.isoformat())
    access_log(
        kind="export",
        model="timebank.member",
        by=user,
        region=member.region,
        object_id=member.pk,
        fields=["statement"],
        detail=detail,
        ip=ip,
    )


def statement_period(start: datetime.date | None, end: datetime.date | None, today=None) -> tuple[datetime.date, datetime.date]:
    """The period asked for, both days included; default this year up to today. Refused with a
    message naming the field: the end before the start, a day in the future, more than ten years."""
    today = today or timezone.localdate()
    end = end or today
    start = start or end.replace(month=1, day=1)
    if end > today:
        raise ValidationError({"end": _("结束日期不能晚于今天（%(d)s），请重新选择") % {"d": today.isoformat()}})
    if start > end:
        raise ValidationError({"start": _("开始日期不能晚于结束日期，请重新选择")})
    if (end - start).days > YEARS_MAX * 366:
        raise ValidationError({"start": _("对账期间最长 %(n)d 年，请缩短期间") % {"n": YEARS_MAX}})
    return start, end


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def statement_context(*, member, start: datetime.date, end: datetime.date) -> dict:
    """What the PDF shows: opening and closing balance, the movements (oldest first), totals."""
    account = getattr(member, "account", None)
    lo, hi = _at(start), _at(end + datetime.timedelta(days=1))
    rows, opening = [], 0
    totals = {"in": 0, "out": 0}
    if account is not None:
        before = (
            Movement.objects.filter(account=account, at__lt=lo).order_by("-at", "-id").values_list("balance_after", flat=True)
        )
        opening = int(before.first() or 0)
        period = Movement.objects.filter(account=account, at__gte=lo, at__lt=hi)
        sums = period.aggregate(i=Sum("minutes", filter=Q(minutes__gt=0)), o=Sum("minutes", filter=Q(minutes__lt=0)))
        totals = {"in": int(sums["i"] or 0), "out": -int(sums["o"] or 0)}
        rows = list(period.select_related("transfer", "transfer__proxy").order_by("at", "id")[: ROWS_MAX + 1])
    truncated = len(rows) > ROWS_MAX
    rows = rows[:ROWS_MAX]
    closing = opening + totals["in"] - totals["out"]
    return {
        "member": member,
        "account": account,
        "start": start,
        "end": end,
        "rows": rows,
        "opening": opening,
        "closing": closing,
        "totals": totals,
        "truncated": truncated,
        "printed_at": timezone.localtime(),
    }


def statement_pdf(*, member, start: datetime.date, end: datetime.date) -> bytes:
    from weasyprint import HTML

    html = render_to_string("timebank/statement_pdf.html", statement_context(member=member, start=start, end=end))
    return HTML(string=html).write_pdf()


def statement_pdf_response(*, member, start: datetime.date, end: datetime.date) -> HttpResponse:
    response = HttpResponse(statement_pdf(member=member, start=start, end=end), content_type="application/pdf")
    name = f"timebank-statement-{member.pk}-{start:%Y%m%d}-{end:%Y%m%d}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response
