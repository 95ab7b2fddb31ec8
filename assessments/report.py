"""The assessment report (GB/T 42195-2022 附录C layout) as a PDF, drawn by WeasyPrint.

Personal numbers appear masked (the elder's masked ID number). Needs pango and a CJK font
(fonts-noto-cjk, docs/deploy.md). Callers write the access log first (selectors.assessment_report_log).
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from assessments.scoring import level_name, score


def report_context(a) -> dict:
    definition = a.instrument.definition
    result = score(definition, a.answers, a.facts)
    groups = [
        {"name": g["name"], "score": a.group_scores.get(g["code"], 0), "max": g["max_points"]} for g in definition["groups"]
    ]
    rules = [
        {"reason": r.get("reason", ""), "applied": any(x["code"] == r["code"] for x in a.adjustments)}
        for r in definition.get("adjustments", [])
    ]
    levels = [{"code": lv["code"], "name": lv["name"], "min": lv["min"]} for lv in definition["levels"]]
    items = [
        {"code": i["code"], "name": i["name"], "points": a.answers.get(i["code"]), "max": max(o["points"] for o in i["options"])}
        for i in definition["items"]
    ]
    return {
        "a": a,
        "elder": a.elder,
        "instrument": a.instrument,
        "groups": groups,
        "rules": rules,
        "levels": levels,
        "items": items,
        "max_score": result.max_score,
        "base_label": level_name(definition, a.base_level),
        "final_label": level_name(definition, a.final_level),
        "age": a.elder.age_on(a.assessed_on),
        "printed_at": timezone.localtime(),
    }


def report_pdf(a) -> bytes:
    from weasyprint import HTML

    html = render_to_string("assessments/report.html", report_context(a))
    return HTML(string=html).write_pdf()


def report_response(a) -> HttpResponse:
    response = HttpResponse(report_pdf(a), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="assessment-{a.pk}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
