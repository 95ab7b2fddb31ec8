"""Writes of the ability assessment: instruments (publish a version), drafts, answers, completion,
and the set-based recompute after a cut-off change.

Every score and level is computed by assessments.scoring from the stored answers and facts; the
latest completed GB/T assessment sets Elder.ability_level through the elders services.
"""

import copy
import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.definition import total_points, validate_definition
from assessments.models import ASSESSMENT_STATUS, Assessment, Instrument, Reason, Status
from assessments.scoring import clean_answer, level_index, score
from audit.services import change_record
from core.text import refuse_invisible_characters
from elders.models import Elder
from elders.models import Status as ElderStatus
from elders.services import elder_bulk_set_ability_level, elder_set_ability_level


def current_instrument(code: str) -> Instrument:
    """The published version in use of `code` (the highest)."""
    found = Instrument.objects.filter(code=code, is_published=True).order_by("-version").first()
    if found is None:
        raise ValidationError({"instrument": _("评估量表“%(c)s”不存在或尚未发布") % {"c": code}})
    return found


@transaction.atomic
def instrument_publish(*, by, definition: dict, note: str = "") -> Instrument:
    """Publish a new version of an instrument (say, changed cut-offs). Its items must be those of
    the version in use (answers stay comparable); the version number is the next one. Levels of
    existing assessments change only through the recompute job (assessment_recompute_start)."""
    if not getattr(by, "is_superuser", False) and not by.may_code("assessments.publish_instrument"):
        raise PermissionDenied(_("您没有发布评估量表的权限"))
    validate_definition(definition)
    code = definition["code"]
    last = Instrument.objects.select_for_update().filter(code=code).order_by("-version").first()
    if last is not None:
        old = {i["code"]: sorted(o["points"] for o in i["options"]) for i in last.definition["items"]}
        new = {i["code"]: sorted(o["points"] for o in i["options"]) for i in definition["items"]}
        if old != new:
            raise ValidationError({"definition": [_("新版本的评估项目和分值必须与当前版本一致；如需改动项目，请另建量表编码")]})
    version = (last.version + 1) if last else 1
    inst = Instrument(
        code=code,
        version=version,
        name=definition["name"],
        definition={**definition, "version": version},
        is_published=True,
        published_at=timezone.now(),
        note=note[:255],
    )
    inst.full_clean()
    inst.save()
    change_record(
        obj=inst, action="publish", changes={"version": [last.version if last else None, version]}, by=by, region=None, note=note
    )
    return inst


def levels_from_ranges(definition: dict, ranges: list[dict]) -> list[dict]:
    """The definition's levels with the mins of `ranges` ([{code, min, max}], one per level, in
    any order). The ranges must cover 0..total without gaps or overlaps, best level on top;
    each error names the level and the bound to fix (keys `levels.<code>.min|max`)."""
    levels = definition["levels"]
    names = {lv["code"]: lv["name"] for lv in levels}
    total = total_points(definition)
    given: dict[str, dict] = {}
    for r in ranges:
        code = r.get("code") if isinstance(r, dict) else None
        if code not in names:
            raise ValidationError(
                {"levels": [_("没有等级“%(c)s”；等级只能是 %(all)s") % {"c": str(code)[:20], "all": "、".join(names)}]}
            )
        if code in given:
            raise ValidationError({"levels": [_("等级“%(n)s”出现了两次；每个等级只填一次") % {"n": names[code]}]})
        given[code] = r
    missing = [names[c] for c in names if c not in given]
    if missing:
        raise ValidationError({"levels": [_("缺少等级 %(n)s 的分数段；每个等级都要填写") % {"n": "、".join(missing)}]})
    errors: dict[str, list] = {}
    for code, name in names.items():
        for bound, label in (("min", _("最低分")), ("max", _("最高分"))):
            value = given[code].get(bound)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= total:
                errors[f"levels.{code}.{bound}"] = [
                    _("“%(n)s”的%(b)s请填写 0 到 %(t)s 的整数") % {"n": name, "b": label, "t": total}
                ]
        if not errors and given[code]["min"] > given[code]["max"]:
            errors[f"levels.{code}.max"] = [
                _("“%(n)s”的最高分 %(hi)s 低于最低分 %(lo)s；请把最高分改为不低于最低分")
                % {"n": name, "hi": given[code]["max"], "lo": given[code]["min"]}
            ]
    if errors:
        raise ValidationError(errors)
    best, worst = levels[0]["code"], levels[-1]["code"]
    if given[best]["max"] != total:
        errors[f"levels.{best}.max"] = [
            _("“%(n)s”的最高分应为总分 %(t)s（分数段要覆盖 0–%(t)s 分）") % {"n": names[best], "t": total}
        ]
    if given[worst]["min"] != 0:
        errors[f"levels.{worst}.min"] = [_("“%(n)s”的最低分应为 0（分数段要覆盖 0–%(t)s 分）") % {"n": names[worst], "t": total}]
    for better, worse in zip(levels, levels[1:], strict=False):
        b, w = given[better["code"]], given[worse["code"]]
        args = {
            "w": worse["name"],
            "b": better["name"],
            "wlo": w["min"],
            "whi": w["max"],
            "blo": b["min"],
            "bhi": b["max"],
            "fix": b["min"] - 1,
        }
        if w["max"] >= b["min"]:
            errors[f"levels.{worse['code']}.max"] = [
                _(
                    "“%(w)s”（%(wlo)s–%(whi)s）与“%(b)s”（%(blo)s–%(bhi)s）重叠；"
                    "请把“%(w)s”的最高分改为 %(fix)s，或调整“%(b)s”的最低分"
                )
                % args
            ]
        elif w["max"] < b["min"] - 1:
            errors[f"levels.{worse['code']}.max"] = [
                _(
                    "“%(w)s”的最高分 %(whi)s 与“%(b)s”的最低分 %(blo)s 之间缺少 %(gap)s 分；"
                    "请把“%(w)s”的最高分改为 %(fix)s，或调整“%(b)s”的最低分"
                )
                % {**args, "gap": f"{w['max'] + 1}–{b['min'] - 1}" if w["max"] + 1 < b["min"] - 1 else w["max"] + 1}
            ]
    if errors:
        raise ValidationError(errors)
    return [{**lv, "min": given[lv["code"]]["min"]} for lv in levels]


@transaction.atomic
def instrument_publish_levels(
    *, by, code: str, levels: list[dict], note: str, recompute: bool = True, base_version: int | None = None
):
    """The admin's page and API route: the version in use of `code` with other cut-offs
    (`levels` as [{code, min, max}]) becomes the next version (instrument_publish), and with
    `recompute` the recompute job starts. One transaction: if publishing is refused nothing is
    written and no job exists; the job's task is enqueued on commit (jobs.services.job_enqueue).
    `base_version` (the version the form was opened on) refuses a publish over someone else's.
    Returns (instrument, job or None)."""
    if not getattr(by, "is_superuser", False) and not by.may_code("assessments.publish_instrument"):
        raise PermissionDenied(_("您没有发布评估量表的权限"))
    Instrument.objects.select_for_update().filter(code=code).order_by("-version").first()  # one publisher at a time
    current = current_instrument(code)
    if base_version is not None and base_version != current.version:
        raise ValidationError(
            {
                "base_version": [
                    _("“%(n)s”已有第 %(v)s 版（您打开页面时是第 %(b)s 版）；请刷新页面，在新版本的基础上修改")
                    % {"n": current.name, "v": current.version, "b": base_version}
                ]
            }
        )
    errors: dict[str, list] = {}
    try:
        note = _check_text("note", note, 255)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if not note:
            errors["note"] = [_("请填写版本说明，例如：依据某文件调整轻度失能分数段")]
    new_levels = None
    try:
        new_levels = levels_from_ranges(current.definition, levels)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if [lv["min"] for lv in new_levels] == [lv["min"] for lv in current.definition["levels"]]:
        raise ValidationError(
            {"levels": [_("分数段与当前第 %(v)s 版相同，无需发布；请至少修改一个等级的分数段") % {"v": current.version}]}
        )
    definition = {**copy.deepcopy(current.definition), "levels": new_levels}
    try:
        inst = instrument_publish(by=by, definition=definition, note=note)
    except ValidationError as exc:
        raise ValidationError({"levels": exc.messages}) from None
    job = assessment_recompute_start(by=by, instrument=inst) if recompute else None
    return inst, job


def _check_text(field: str, value: str, limit: int) -> str:
    value = (value or "").strip()
    try:
        refuse_invisible_characters(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None
    if len(value) > limit:
        raise ValidationError({field: _("最多 %(n)s 个字") % {"n": limit}})
    return value


def _refuse_unless(by, action: str) -> None:
    if not by.may(action, Assessment):
        raise PermissionDenied(_("您的角色没有此权限。如需办理，请联系管理员调整角色。"))


def _apply_result(a: Assessment) -> None:
    r = score(a.instrument.definition, a.answers, a.facts)
    a.score = r.score
    a.group_scores = r.group_scores
    a.base_level = r.base_level
    a.final_level = r.final_level
    a.adjustments = [{"code": x.code, "reason": x.reason} for x in r.applied]
    a.raise_steps = r.raise_steps
    a.forced_level = r.forced_level
    a.graded_with = a.instrument.version


@transaction.atomic
def assessment_create(
    *, by, elder: Elder, instrument_code: str = "gbt42195", assessed_on=None, place: str = "", reason: str = Reason.FIRST
) -> Assessment:
    """A draft for `elder` (already read in `by`'s scope), with `by` as the assessor."""
    _refuse_unless(by, "add")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError({"elder": _("只能为在册老人新建评估")})
    if reason not in Reason.values:
        raise ValidationError({"reason": _("请选择评估原因")})
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": _("评估日期不能晚于今天")})
    a = Assessment(
        elder=elder,
        instrument=current_instrument(instrument_code),
        assessor=by,
        assessed_on=assessed_on,
        place=_check_text("place", place, 100),
        reason=reason,
    )
    _apply_result(a)
    a.full_clean()
    a.save()
    change_record(obj=a, action="create", changes={"status": [None, a.status]}, by=by, region=elder.region)
    return a


def _lock(a: Assessment) -> Assessment:
    return Assessment.objects.select_for_update().select_related("instrument", "elder", "elder__region").get(pk=a.pk)


@transaction.atomic
def assessment_answer(
    *, by, assessment: Assessment, answers: dict | None = None, facts: dict | None = None, data: dict | None = None
) -> Assessment:
    """Save some answers of a draft (item code -> points; None clears an answer), adjustment facts
    and the header fields (assessed_on, place, reason) — one call per tap on the phone."""
    _refuse_unless(by, "change")
    a = _lock(assessment)
    if a.status != Status.DRAFT:
        raise ValidationError({"status": _("评估已完成，不能再修改答案")})
    definition = a.instrument.definition
    items = {i["code"]: i for i in definition["items"]}
    errors = {}
    new_answers = dict(a.answers)
    for code, value in (answers or {}).items():
        item = items.get(code)
        if item is None:
            errors[f"answers.{code}"] = [_("没有评估项目“%(c)s”") % {"c": str(code)[:20]}]
        elif value is None:
            new_answers.pop(code, None)
        elif clean_answer(item, value) is None:
            errors[f"answers.{code}"] = [
                _("“%(n)s”的分值只能是 %(p)s") % {"n": item["name"], "p": "、".join(str(o["points"]) for o in item["options"])}
            ]
        else:
            new_answers[code] = value
    new_facts = dict(a.facts)
    known = {f["code"]: f for f in definition.get("facts", [])}
    for code, value in (facts or {}).items():
        fact = known.get(code)
        if fact is None:
            errors[f"facts.{code}"] = [_("没有等级变更依据“%(c)s”") % {"c": str(code)[:20]}]
        elif fact["kind"] == "bool":
            if not isinstance(value, bool):
                errors[f"facts.{code}"] = [_("“%(n)s”只能是“是”或“否”") % {"n": fact["label"]}]
            else:
                new_facts[code] = value
        elif isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 999:
            errors[f"facts.{code}"] = [_("“%(n)s”请填写 0 到 999 的次数") % {"n": fact["label"]}]
        else:
            new_facts[code] = value
    data = data or {}
    if "assessed_on" in data:
        day = data["assessed_on"]
        if isinstance(day, str):
            try:
                day = datetime.date.fromisoformat(day)
            except ValueError:
                errors["assessed_on"] = [_("评估日期格式应为 年-月-日，例如 2026-05-01")]
                day = None
        if day is not None and day > timezone.localdate():
            errors["assessed_on"] = [_("评估日期不能晚于今天")]
        elif day is not None:
            a.assessed_on = day
    if "place" in data:
        try:
            a.place = _check_text("place", data["place"], 100)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if "reason" in data:
        if data["reason"] not in Reason.values:
            errors["reason"] = [_("请选择评估原因")]
        else:
            a.reason = data["reason"]
    if errors:
        raise ValidationError(errors)
    a.answers = new_answers
    a.facts = new_facts
    _apply_result(a)
    a.save()  # a draft's answers are not history (the completed record is); no record per tap
    return a


def next_due_for(*, assessed_on: datetime.date, level: str, previous_level: str | None) -> datetime.date:
    """The reassessment date: ASSESSMENT_INTERVAL_MONTHS after the assessment, or
    ASSESSMENT_SOONER_MONTHS when the level changed from the previous one or is severe."""
    sooner = level in settings.ASSESSMENT_SOONER_LEVELS or (previous_level not in (None, "") and previous_level != level)
    months = settings.ASSESSMENT_SOONER_MONTHS if sooner else settings.ASSESSMENT_INTERVAL_MONTHS
    total = assessed_on.year * 12 + assessed_on.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    for day in (assessed_on.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day, assessed_on.day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def missing_message(definition: dict, missing: list) -> str:
    names = {i["code"]: f"{i['code']} {i['name']}" for i in definition["items"]}
    shown = [names[c] for c in missing[:8]]
    more = _("等 %(n)s 项") % {"n": len(missing)} if len(missing) > 8 else ""
    return _("还有 %(n)s 个项目未作答：%(items)s%(more)s。请全部作答后再完成评估") % {
        "n": len(missing),
        "items": "、".join(shown),
        "more": more,
    }


@transaction.atomic
def assessment_complete(*, by, assessment: Assessment) -> Assessment:
    """Complete a draft: every item answered; the result is fixed, the record becomes the elder's
    latest (if its instrument drives the level) and sets Elder.ability_level and the next date."""
    _refuse_unless(by, "change")
    a = _lock(assessment)
    ASSESSMENT_STATUS.check(a, "complete")
    definition = a.instrument.definition
    result = score(definition, a.answers, a.facts)
    if result.missing:
        raise ValidationError({"answers": [missing_message(definition, result.missing)]})
    _apply_result(a)
    a.completed_at = timezone.now()
    update = ["score", "group_scores", "base_level", "final_level", "adjustments", "raise_steps", "forced_level"]
    update += ["graded_with", "completed_at", "updated_at"]
    if definition.get("drives_ability_level"):
        previous = Assessment.objects.select_for_update().filter(elder_id=a.elder_id, is_latest=True).exclude(pk=a.pk).first()
        if previous is None or (previous.assessed_on, previous.pk) <= (a.assessed_on, a.pk):
            if previous is not None:
                previous.is_latest = False
                previous.save(update_fields=["is_latest"])
            a.is_latest = True
            a.next_due = next_due_for(
                assessed_on=a.assessed_on,
                level=a.final_level,
                previous_level=previous.final_level if previous else None,
            )
            update += ["is_latest", "next_due"]
    ASSESSMENT_STATUS.move(
        a,
        "complete",
        by=by,
        changes={
            "score": [None, a.score],
            "final_level": [None, a.final_level],
            "answers": [None, a.answers],
            "facts": [None, a.facts],
        },
        update_fields=update,
        region=a.elder.region,
    )
    if a.is_latest:
        elder_set_ability_level(
            by=by, elder=a.elder, level=a.final_level, note=_("能力评估 #%(id)s（%(d)s）") % {"id": a.pk, "d": a.assessed_on}
        )
    return a


@transaction.atomic
def assessments_record_completed(*, by, records: list[dict], instrument_code: str = "gbt42195") -> list[Assessment]:
    """Assessments made earlier and entered together (a station's paper records; the demo):
    each record {"elder" (read in `by`'s scope), "assessed_on", "answers", "facts", "place",
    "reason"} becomes a completed assessment, the elder's latest when the elder has none (a
    record from paper never displaces one made in the system), with
    the two history records assessment_create and assessment_complete write — set-based (one
    INSERT per 500 assessments, the records by core.bulk) instead of the three locked steps the
    phone form takes per elder. Every item must be answered; the elder's level follows as
    assessment_complete sets it. Returns the assessments."""
    from audit.services import change_records_from_rows

    _refuse_unless(by, "add")
    _refuse_unless(by, "change")
    instrument = current_instrument(instrument_code)
    definition = instrument.definition
    today = timezone.localdate()
    elder_ids = [r["elder"].pk for r in records]
    if len(set(elder_ids)) != len(elder_ids):
        raise ValidationError({"elder": _("同一位老人只能录入一份评估")})
    has_latest = set(Assessment.objects.filter(elder_id__in=elder_ids, is_latest=True).values_list("elder_id", flat=True))
    now = timezone.now()
    made = []
    for number, r in enumerate(records, start=1):
        elder = r["elder"]
        if elder.status != ElderStatus.ACTIVE:
            raise ValidationError({"elder": _("第 %(n)s 份：只能为在册老人录入评估") % {"n": number}})
        if r["assessed_on"] > today:
            raise ValidationError({"assessed_on": _("第 %(n)s 份：评估日期不能晚于今天") % {"n": number}})
        a = Assessment(
            elder=elder,
            instrument=instrument,
            assessor=by,
            assessed_on=r["assessed_on"],
            place=_check_text("place", r.get("place", ""), 100),
            reason=r.get("reason", Reason.FIRST),
            answers=dict(r["answers"]),
            facts=dict(r.get("facts") or {}),
            status=Status.COMPLETED,
            completed_at=now,
        )
        result = score(definition, a.answers, a.facts)
        if result.missing:
            raise ValidationError({"answers": [_("第 %(n)s 份：") % {"n": number} + missing_message(definition, result.missing)]})
        _apply_result(a)
        if definition.get("drives_ability_level") and elder.pk not in has_latest:
            a.is_latest = True
            a.next_due = next_due_for(assessed_on=a.assessed_on, level=a.final_level, previous_level=None)
        made.append(a)
    Assessment.objects.bulk_create(made, batch_size=500)
    created = [{"object_id": a.pk, "changes": {"status": [None, Status.DRAFT]}, "region_id": a.elder.region_id} for a in made]
    change_records_from_rows(model=Assessment, rows=created, by=by, action="create", at=now)
    completed = [
        {
            "object_id": a.pk,
            "changes": {
                "status": [Status.DRAFT, Status.COMPLETED],
                "score": [None, a.score],
                "final_level": [None, a.final_level],
                "answers": [None, a.answers],
                "facts": [None, a.facts],
            },
            "region_id": a.elder.region_id,
        }
        for a in made
    ]
    change_records_from_rows(model=Assessment, rows=completed, by=by, action=ASSESSMENT_STATUS.record_action, at=now)
    for a in made:
        if a.is_latest and a.elder.ability_level != a.final_level:
            elder_set_ability_level(
                by=by, elder=a.elder, level=a.final_level, note=_("能力评估 #%(id)s（%(d)s）") % {"id": a.pk, "d": a.assessed_on}
            )
    return made


# --- the set-based recompute after a cut-off change ------------------------------------------


def _level_cases(definition: dict):
    """Base and final level of a latest assessment as SQL CASE expressions over its score, its
    stored raise steps and forced level (what scoring.adjust does, in the database)."""
    levels = definition["levels"]
    worst = len(levels) - 1
    ranges = []
    for i, lv in enumerate(levels):
        upper = levels[i - 1]["min"] - 1 if i else None
        cond = Q(score__gte=lv["min"]) & (Q(score__lte=upper) if upper is not None else Q())
        ranges.append((i, cond))
    base = Case(*[When(cond, then=Value(levels[i]["code"])) for i, cond in ranges], default=Value(levels[-1]["code"]))
    forced_codes = sorted({r["level"] for r in definition.get("adjustments", []) if r["effect"] == "set_level"})
    steps = sorted({0, *range(0, worst + 1)})
    whens = []
    for code in forced_codes:
        f = level_index(definition, code)
        for i, cond in ranges:
            whens.append(When(cond & Q(forced_level=code), then=Value(levels[max(i, f)]["code"])))
    for i, cond in ranges:
        for s in steps:
            q = cond & Q(forced_level="") & (Q(raise_steps=s) if s < worst else Q(raise_steps__gte=s))
            whens.append(When(q, then=Value(levels[min(i + s, worst)]["code"])))
    final = Case(*whens, default=Value(levels[-1]["code"]))
    return base, final


def assessment_recompute(*, by, instrument: Instrument, progress=None, batch: int = 200_000, chunk: int = 5_000) -> dict:
    """Regrade every latest assessment of `instrument`'s code with its (new) cut-offs and set the
    elders' ability_level from it, in SQL, not row by row: per batch of assessment ids, one
    SELECT finds the rows whose level the CASE over score ranges changes (a cut-off change moves
    a few %), one UPDATE … CASE writes them (with `graded_with` = the new version), and
    elders.services.elder_bulk_set_ability_level sets those elders (one INSERT … SELECT of
    history and one UPDATE … FROM per chunk of ids). Each batch is its own transaction.
    Returns counts."""
    from django.db.models import Max, Min

    definition = instrument.definition
    base, final = _level_cases(definition)
    latest = Assessment.objects.filter(is_latest=True, instrument__code=instrument.code)
    bounds = latest.aggregate(lo=Min("id"), hi=Max("id"))
    regraded = changed = 0
    note = _("评估量表 %(c)s 第 %(v)s 版重新分级") % {"c": instrument.code, "v": instrument.version}
    if bounds["lo"] is not None:
        start = bounds["lo"]
        while start <= bounds["hi"]:
            stop = start + batch
            with transaction.atomic():
                moved = list(
                    latest.filter(id__gte=start, id__lt=stop)
                    .filter(~Q(base_level=base) | ~Q(final_level=final))
                    .values_list("id", flat=True)
                )
                for i in range(0, len(moved), chunk):
                    ids = moved[i : i + chunk]
                    regraded += Assessment.objects.filter(id__in=ids).update(
                        base_level=base, final_level=final, graded_with=instrument.version
                    )
                    if definition.get("drives_ability_level"):
                        marks = ", ".join(["%s"] * len(ids))
                        changed += elder_bulk_set_ability_level(
                            by=by,
                            source_sql=(
                                "SELECT a.elder_id AS elder_id, a.final_level AS level FROM assessments_assessment a "
                                f"WHERE a.id IN ({marks})"
                            ),
                            params=ids,
                            note=note,
                        )
            if progress:
                progress(min(stop, bounds["hi"]) - bounds["lo"], bounds["hi"] - bounds["lo"] + 1)
            start = stop
    return {"regraded": regraded, "elders_changed": changed, "version": instrument.version}


def assessment_recompute_start(*, by, instrument: Instrument):
    """Start the recompute job for `instrument` (the job page shows its progress)."""
    from assessments.jobs import ASSESSMENT_RECOMPUTE
    from jobs.services import job_create, job_enqueue

    if not getattr(by, "is_superuser", False) and not by.may_code("assessments.publish_instrument"):
        raise PermissionDenied(_("您没有发布评估量表的权限"))
    job = job_create(by=by, kind=ASSESSMENT_RECOMPUTE, params={"instrument": instrument.pk})
    job_enqueue(job)
    return job
