"""Reads of the ability assessment; each begins with restrict()."""

import datetime

from django.conf import settings
from django.utils import timezone

from assessments.models import Assessment, Instrument, Status
from audit.models import AccessLog
from audit.services import access_log
from core.access import get_scoped_or_404
from elders.models import Status as ElderStatus


def instruments_in_use() -> list[Instrument]:
    """The published version in use of each instrument (public reference data); the ones that
    drive the ability level (GB/T 42195) first, so a new assessment defaults to it."""
    seen, out = set(), []
    for inst in Instrument.objects.filter(is_published=True).order_by("code", "-version"):
        if inst.code not in seen:
            seen.add(inst.code)
            out.append(inst)
    return sorted(out, key=lambda i: (not i.definition.get("drives_ability_level"), i.code))


def assessment_list(*, user, elder_id=None, status: str = "", region=None, instrument: str = "", action: str = "view"):
    qs = Assessment.objects.restrict(user, action).select_related("elder", "elder__region", "instrument", "assessor")
    if elder_id:
        qs = qs.filter(elder_id=elder_id)
    if status:
        qs = qs.filter(status=status)
    if instrument:
        qs = qs.filter(instrument__code=instrument)
    if region is not None:
        qs = qs.within(region)
    return qs.order_by("-assessed_on", "-id")


def assessment_get(*, user, pk: int, action: str = "view") -> Assessment:
    qs = Assessment.objects.select_related("elder", "elder__region", "instrument", "assessor")
    return get_scoped_or_404(qs, user, pk, action)


def latest_for(*, user, elder) -> Assessment | None:
    """The elder's latest completed GB/T assessment (the elder is already read in scope)."""
    return Assessment.objects.restrict(user).filter(elder=elder, is_latest=True).select_related("instrument").first()


def drafts_for(*, user, elder) -> list:
    return list(Assessment.objects.restrict(user).filter(elder=elder, status=Status.DRAFT).order_by("-id")[:5])


def due_window(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    return today + datetime.timedelta(days=settings.ASSESSMENT_DUE_AHEAD_DAYS)


def due_list(*, user, region=None, today: datetime.date | None = None):
    """Elders in residence whose latest assessment is overdue or due within
    ASSESSMENT_DUE_AHEAD_DAYS, soonest first (index assess_latest_due)."""
    qs = (
        Assessment.objects.restrict(user)
        .filter(is_latest=True, next_due__lte=due_window(today), elder__status=ElderStatus.ACTIVE)
        .select_related("elder", "elder__region", "instrument")
    )
    if region is not None:
        qs = qs.within(region)
    return qs.order_by("next_due", "id")


def assessment_names(user, ids) -> dict[int, str]:
    """For the access log: "王秀兰 2026-05-01" for the assessments `user` may see."""
    rows = Assessment.objects.restrict(user).filter(pk__in=ids).values_list("pk", "elder__name", "assessed_on")
    return {pk: f"{name} {day}" for pk, name, day in rows}


def assessment_report_log(*, user, assessment: Assessment, ip=None, via: str = "web") -> None:
    """A report shows a health record: each view or print is in the access log."""
    access_log(
        kind=AccessLog.Kind.EXPORT,
        model="assessments.assessment",
        by=user,
        region=assessment.elder.region,
        object_id=assessment.pk,
        fields=("report",),
        detail={"what": "assessment_report", "elder": assessment.elder_id, "via": via},
        ip=ip,
    )


def instrument_versions() -> list[dict]:
    """Every instrument with all its versions, newest first, each with its level cut-offs as
    ranges and whether it is the one in use (the highest published version). Public reference
    data (no region); a handful of rows."""
    from assessments.definition import level_ranges

    by_code: dict[str, dict] = {}
    for inst in Instrument.objects.order_by("code", "-version"):
        entry = by_code.setdefault(inst.code, {"code": inst.code, "current": None, "versions": []})
        in_use = entry["current"] is None and inst.is_published
        if in_use:
            entry["current"] = inst
        entry["versions"].append({"instrument": inst, "in_use": in_use, "levels": level_ranges(inst.definition)})
    out = [e for e in by_code.values() if e["current"] is not None]
    return sorted(out, key=lambda e: (not e["current"].definition.get("drives_ability_level"), e["code"]))


def instrument_in_use(code: str) -> Instrument:
    """The version in use of `code`; 404 for a code that does not exist (or a hostile one)."""
    import re

    from django.http import Http404

    if not isinstance(code, str) or not re.fullmatch(r"[a-z0-9_]{1,20}", code):
        raise Http404
    found = Instrument.objects.filter(code=code, is_published=True).order_by("-version").first()
    if found is None:
        raise Http404
    return found
