"""The service agreement (签订协议) as a PDF, drawn by WeasyPrint as the assessment report is
(assessments/report.py): the CJK font comes from the system (fonts-noto-cjk, docs/deploy.md).

Three parties — the elder (甲方), the organisation (乙方) and the community (丙方) — the items
with prices in yuan and who pays what, the terms, and signature and date lines. The elder's ID
number and phone appear masked. Callers write the access log first
(orders.agreements.agreement_pdf_log).
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from orders.agreements import lines_total_fen


def agreement_context(agreement) -> dict:
    from regions.selectors import region_community_of

    elder = agreement.elder
    return {
        "agreement": agreement,
        "elder": elder,
        "age": elder.age_on(agreement.valid_from),
        "organisation": agreement.organisation,
        "community": region_community_of(elder.region) or agreement.region,
        "lines": agreement.lines,
        "total_fen": lines_total_fen(agreement.lines),
        "terms": [t for t in (agreement.terms or "").splitlines() if t.strip()],
        "printed_at": timezone.localtime(),
    }


def agreement_pdf(agreement) -> bytes:
    from weasyprint import HTML

    html = render_to_string("orders/agreement_pdf.html", agreement_context(agreement))
    return HTML(string=html).write_pdf()


def agreement_response(agreement) -> HttpResponse:
    response = HttpResponse(agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{agreement.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
