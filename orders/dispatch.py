"""Dispatch (派单, SPEC §2.6 matching): the candidates for an order, ranked, each with its
reasons in words, and the automatic mode recurring plans use.

Hard criteria (a candidate failing one is not offered), all in SQL, in one query per kind of
worker (not one per caregiver):
- the item's required skills, every one held;
- the item's required certificates, each answered by a held certificate of the same family and
  at least its rank (catalogue.selectors.certificate_satisfies) that is not expired on the
  visit day (`expires_on` is the last valid day);
- in the window: a day of the worker's `work_days` and inside `work_start`–`work_end` (either
  left empty: not known, not held against them), no providers.Absence over the day, no other
  order of theirs (not cancelled) overlapping the window.

Soft criteria give points (settings.DISPATCH_WEIGHTS, whole numbers; the score is their sum):
distance from the elder's home — from the end of the worker's previous visit that day if there
is one, else from their home (core.geo.haversine_m) —, workload this week (orders Monday to
Sunday), continuity (the last worker who served this elder; one who served earlier), and the
elder's preferences (orders.models.ElderPreference: a sex, languages, a named caregiver; a
recurring plan's caregiver counts as named). A criterion's points are weight × fraction,
rounded half up, so a score is an integer and equal scores are equal. Ties: nearer, then less
busy, then by id.

Scoring runs in Python over the rows the SQL returns (a few numbers per person); only the
returned top `limit` get their certificates read for the reasons. docs/orders-dispatch.md.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, JSONField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import change_record
from core.access import check
from core.geo import haversine_m
from orders.dispatch_targets import dispatch_organisations, dispatch_volunteers
from orders.models import DELIVERED, ElderPreference, Order, Status
from orders.selectors import order_scope

LIMIT_MAX = 50


@dataclass
class Reason:
    """One reason in words, with the points it gave (0 for a fact or a caution)."""

    text: str
    points: int = 0
    kind: str = "info"  # "plus" (gave points), "minus" (a caution), "info"


@dataclass
class Candidate:
    kind: str  # "caregiver" or "volunteer"
    id: int
    name: str
    sex: str = ""
    organisation_id: int | None = None
    organisation_name: str = ""
    score: int = 0
    distance_m: int | None = None
    week_orders: int = 0
    reasons: list[Reason] = field(default_factory=list)
    is_current: bool = False  # the order is with this worker now (a reassignment)
    facts: dict = field(default_factory=dict, repr=False)  # what the score was made of (_explain)


@dataclass
class Ranking:
    candidates: list[Candidate]
    considered: int  # how many passed the hard criteria
    threshold: int  # the score automatic dispatch needs
    offers_volunteers: bool


def weights() -> dict[str, int]:
    """The points per criterion, and (read once a ranking, not once a caregiver) the distance and
    the week's orders at which theirs fall to 0."""
    return {
        **settings.DISPATCH_WEIGHTS,
        "distance_max_m": settings.DISPATCH_DISTANCE_MAX_M,
        "week_max": settings.DISPATCH_WEEK_MAX_ORDERS,
    }


def _points(weight: int, fraction: float) -> int:
    """weight × fraction (0…1), rounded half up."""
    return int(weight * max(0.0, min(1.0, fraction)) + 0.5)


def distance_text(metres: float) -> str:
    if metres < 1000:
        return _("%(m)d 米") % {"m": int(metres + 0.5)}
    return _("%(km)s 公里") % {"km": f"{metres / 1000:.1f}"}


def certificate_phrase(name: str) -> str:
    """养老护理员（中级） → 养老护理员证（中级）; 健康证, 护士执业证书 stay as they are."""
    if "证" in name:
        return name
    base, sep, rest = name.partition("（")
    return f"{base}证{sep}{rest}"


SPLIT = re.compile(r"[、,，;；/\s]+")


def languages_of(text: str) -> list[str]:
    return [t for t in SPLIT.split(text or "") if t]


def shift_fits(*, work_days, work_start, work_end, start: datetime.datetime, end: datetime.datetime) -> bool:
    """Whether a window (local times) lies in a worker's shift: its day in `work_days` (empty:
    not filled in, any day) and its times between `work_start` and `work_end` (either empty:
    any time). A shift whose end is not after its start runs past midnight (22:00–06:00)."""
    if work_days and start.isoweekday() not in work_days:
        return False
    if work_start is None or work_end is None:
        return True
    s, e = start.time(), end.time()
    crosses = end.date() > start.date()
    if crosses and e == datetime.time(0, 0) and end.date() == start.date() + datetime.timedelta(days=1):
        crosses, e = False, datetime.time.max  # ends at midnight
    if work_end > work_start:
        return not crosses and work_start <= s and e <= work_end
    if crosses:
        return s >= work_start and e <= work_end
    return s >= work_start or e <= work_end


def payment_mode_label(code: str) -> str:
    from catalogue.models import PaymentMode

    return str(dict(PaymentMode.choices).get(code, code))


def offers_volunteers(order: Order) -> bool:
    """Volunteers are offered for time-bank items and the payment modes DISPATCH_VOLUNTEER_MODES."""
    from catalogue.models import Scheme

    return order.item.category.scheme == Scheme.TIMEBANK or order.payment_mode in settings.DISPATCH_VOLUNTEER_MODES


# --- the order's side: window, requirements, preferences, history -------------------------------


@dataclass
class _Order:
    order: Order
    start: datetime.datetime
    end: datetime.datetime
    day: datetime.date
    last_day: datetime.date
    week_from: datetime.datetime
    week_to: datetime.datetime
    skills: list  # [(id, name)]
    certificates: list  # [(required CertificateKind, [ids of the kinds that answer it])]
    home: tuple | None
    preference: ElderPreference | None
    plan_caregiver_id: int | None
    plan_organisation_id: int | None
    served: dict  # {("caregiver"|"volunteer", id): (count, last start)}
    last_worker: tuple | None

    @classmethod
    def of(cls, order: Order) -> "_Order":
        from catalogue.models import CertificateKind
        from catalogue.selectors import certificate_satisfies

        start, end = timezone.localtime(order.scheduled_start), timezone.localtime(order.scheduled_end)
        day = start.date()
        last_day = (end - datetime.timedelta(microseconds=1)).date() if end > start else day
        monday = day - datetime.timedelta(days=day.weekday())
        tz = timezone.get_current_timezone()
        week_from = datetime.datetime.combine(monday, datetime.time.min, tzinfo=tz)
        required = list(order.item.required_certificates.all())
        kinds = list(CertificateKind.objects.filter(family__in={k.family for k in required})) if required else []
        certificates = [(req, [k.pk for k in kinds if certificate_satisfies(k, req)]) for req in required]
        served = {}
        rows = (
            Order.objects.filter(elder_id=order.elder_id, status__in=DELIVERED)
            .exclude(pk=order.pk)
            .order_by()
            .values("caregiver_id", "volunteer_id")
            .annotate(n=Count("pk"), last=Max("scheduled_start"))
        )
        for row in rows:
            key = ("caregiver", row["caregiver_id"]) if row["caregiver_id"] else ("volunteer", row["volunteer_id"])
            if key[1]:
                served[key] = (row["n"], row["last"])
        last_worker = max(served, key=lambda k: served[k][1]) if served else None
        plan = order.plan if order.plan_id else None
        elder = order.elder
        return cls(
            order=order,
            start=start,
            end=end,
            day=day,
            last_day=last_day,
            week_from=week_from,
            week_to=week_from + datetime.timedelta(days=7),
            skills=list(order.item.required_skills.values_list("pk", "name")),
            certificates=certificates,
            home=(elder.home_lat, elder.home_lng) if elder.home_lat is not None and elder.home_lng is not None else None,
            preference=ElderPreference.objects.filter(elder_id=order.elder_id).first(),
            plan_caregiver_id=plan.caregiver_id if plan else None,
            plan_organisation_id=plan.organisation_id if plan else None,
            served=served,
            last_worker=last_worker,
        )


# No order is longer than this (orders.services.order_create): an overlapping one starts after
# the window's start minus it, which bounds the range read per worker on (caregiver, scheduled_start).
LONGEST_ORDER = datetime.timedelta(hours=24)


def _busy(ctx: _Order, worker_field: str):
    """Another order of the worker (not cancelled) overlapping the window."""
    return Exists(
        Order.objects.filter(
            **{worker_field: OuterRef("pk")},
            scheduled_start__gt=ctx.start - LONGEST_ORDER,
            scheduled_start__lt=ctx.end,
            scheduled_end__gt=ctx.start,
        )
        .exclude(status=Status.CANCELLED)
        .exclude(pk=ctx.order.pk)
    )


def _week_count(ctx: _Order, worker_field: str):
    week = (
        Order.objects.filter(
            **{worker_field: OuterRef("pk")}, scheduled_start__gte=ctx.week_from, scheduled_start__lt=ctx.week_to
        )
        .exclude(status=Status.CANCELLED)
        .exclude(pk=ctx.order.pk)
        .order_by()
        .values(worker_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(week, output_field=IntegerField()), Value(0))


def _previous(ctx: _Order, worker_field: str):
    """The worker's visit that day ending last before this window starts, as one JSON object
    {lat, lng, end}: its elder's home and its end (one index probe per worker, no second query)."""
    day_start = datetime.datetime.combine(ctx.day, datetime.time.min, tzinfo=ctx.start.tzinfo)
    visits = (
        Order.objects.filter(
            **{worker_field: OuterRef("pk")},
            scheduled_start__gte=day_start,
            scheduled_start__lt=ctx.start,
            scheduled_end__lte=ctx.start,
        )
        .exclude(status=Status.CANCELLED)
        .exclude(pk=ctx.order.pk)
        .order_by("-scheduled_end", "-id")
        .annotate(point=JSONObject(lat=F("elder__home_lat"), lng=F("elder__home_lng"), end=F("scheduled_end")))
        .values("point")[:1]
    )
    return Subquery(visits, output_field=JSONField())


def _moment(value) -> datetime.datetime:
    """A datetime as JSON carried it (ISO text; SQLite's has no offset and is UTC)."""
    at = datetime.datetime.fromisoformat(str(value).replace(" ", "T").replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=datetime.UTC)


def _time_window_q(ctx: _Order, start_field: str, end_field: str) -> Q:
    """A prefilter of the shift in SQL (shift_fits decides, also for shifts past midnight)."""
    open_ended = Q(**{f"{start_field}__isnull": True}) | Q(**{f"{end_field}__isnull": True})
    overnight = Q(**{f"{end_field}__lte": F(start_field)})
    if ctx.end.date() != ctx.start.date():
        return Q()
    return open_ended | overnight | Q(**{f"{start_field}__lte": ctx.start.time(), f"{end_field}__gte": ctx.end.time()})


def _days_q(ctx: _Order, days_field: str) -> Q:
    if not connection.features.supports_json_field_contains:
        return Q()  # SQLite: shift_fits checks the day
    return Q(**{days_field: []}) | Q(**{f"{days_field}__contains": [ctx.start.isoweekday()]})


def _caregiver_rows(ctx: _Order, organisations) -> tuple[list, dict]:
    """The caregivers who pass the hard criteria, as light rows, and {organisation id: name}."""
    from providers.models import Absence, Caregiver, Certificate, StaffStatus

    if ctx.plan_organisation_id:
        organisations = organisations.filter(pk=ctx.plan_organisation_id)
    # The organisations first (a few dozen): PostgreSQL then estimates the caregivers from the
    # column's statistics rather than guessing one row behind an OR of subqueries, and no row
    # joins its organisation for the name.
    names = dict(organisations.values_list("pk", "name"))
    qs = Caregiver.objects.filter(status=StaffStatus.ACTIVE, organisation_id__in=list(names))
    for skill_id, _name in ctx.skills:
        qs = qs.filter(Exists(Caregiver.skills.through.objects.filter(caregiver_id=OuterRef("pk"), skill_id=skill_id)))
    for _req, kind_ids in ctx.certificates:
        valid = Certificate.objects.filter(caregiver_id=OuterRef("pk"), kind_id__in=kind_ids).filter(
            Q(expires_on__isnull=True) | Q(expires_on__gte=ctx.last_day), Q(issued_on__isnull=True) | Q(issued_on__lte=ctx.day)
        )
        qs = qs.filter(Exists(valid))
    away = Absence.objects.filter(caregiver_id=OuterRef("pk"), starts_on__lte=ctx.last_day, ends_on__gte=ctx.day)
    qs = qs.filter(~Exists(away), ~_busy(ctx, "caregiver_id"))
    qs = qs.filter(_days_q(ctx, "work_days"), _time_window_q(ctx, "work_start", "work_end"))
    qs = qs.annotate(week=_week_count(ctx, "caregiver_id"), previous=_previous(ctx, "caregiver_id"))
    fields = ["pk", "name", "sex", "languages", "home_lat", "home_lng", "work_start", "work_end", "organisation_id"]
    fields += ["week", "previous"]
    if not connection.features.supports_json_field_contains:
        fields.append("work_days")  # SQLite: the day is checked here (shift_fits), not in SQL
    return list(qs.order_by().values_list(*fields, named=True)), names


def _volunteer_rows(ctx: _Order, volunteers) -> list[dict]:
    from providers.models import Volunteer

    if ctx.certificates or ctx.plan_organisation_id:
        return []  # volunteers hold no certificates; a plan with an organisation keeps to it
    qs = volunteers
    for skill_id, _name in ctx.skills:
        qs = qs.filter(Exists(Volunteer.skills.through.objects.filter(volunteer_id=OuterRef("pk"), skill_id=skill_id)))
    qs = qs.filter(~_busy(ctx, "volunteer_id"))
    qs = qs.filter(_days_q(ctx, "available_days"), _time_window_q(ctx, "available_from", "available_to"))
    qs = qs.annotate(week=_week_count(ctx, "volunteer_id"))
    return list(qs.order_by().values("pk", "name", "available_days", "available_from", "available_to", "week"))


# --- scoring: numbers for everyone, words for those shown -------------------------------------------
#
# Every candidate who passes the hard criteria is scored (a few arithmetic operations and one
# haversine); the reasons in words are written only for the `limit` returned, from the facts
# kept while scoring, so a score is always the sum of its reasons' points.


def _score_common(ctx: _Order, c: Candidate, w: dict) -> int:
    """Continuity and workload, the same for caregivers and volunteers."""
    points = 0
    key = (c.kind, c.id)
    if key in ctx.served:
        if key == ctx.last_worker:
            c.facts["served"] = ("last", 0, w["continuity"])
        else:
            c.facts["served"] = ("earlier", ctx.served[key][0], w["continuity_earlier"])
        points += c.facts["served"][2]
    week = _points(w["workload"], 1 - c.week_orders / w["week_max"])
    c.facts["week"] = week
    return points + week


def _score_caregiver(ctx: _Order, row, w: dict, wanted_languages: list, org_names: dict) -> Candidate:
    c = Candidate(
        kind="caregiver",
        id=row.pk,
        name=row.name,
        sex=row.sex,
        organisation_id=row.organisation_id,
        organisation_name=org_names.get(row.organisation_id, ""),
        week_orders=row.week,
        is_current=ctx.order.caregiver_id == row.pk,
    )
    f = c.facts
    points = 0
    pref = ctx.preference
    if row.pk == ctx.plan_caregiver_id:
        f["preferred"] = "plan"
    elif pref is not None and row.pk == pref.preferred_caregiver_id:
        f["preferred"] = "elder"
    if "preferred" in f:
        points += w["preferred"]
    if pref is not None and pref.caregiver_sex:
        f["sex"] = row.sex
        if row.sex == pref.caregiver_sex:
            points += w["sex"]
    if wanted_languages:
        spoken = [lang for lang in wanted_languages if lang in (row.languages or "")]
        f["languages"] = spoken
        if spoken:
            points += w["language"]
    points += _score_common(ctx, c, w)
    before = row.previous
    if ctx.home is None:
        f["distance"] = ("no_elder_home",)
    elif before and before.get("lat") is not None and before.get("lng") is not None:
        f["distance"] = ("previous", haversine_m(before["lat"], before["lng"], *ctx.home), before["end"])
    elif row.home_lat is not None and row.home_lng is not None:
        f["distance"] = ("home", haversine_m(row.home_lat, row.home_lng, *ctx.home))
    else:
        f["distance"] = ("no_home",)
    if len(f["distance"]) > 1:
        metres = f["distance"][1]
        c.distance_m = int(metres + 0.5)
        f["distance_points"] = _points(w["distance"], 1 - metres / w["distance_max_m"])
        points += f["distance_points"]
    f["shift"] = (row.work_start, row.work_end) if row.work_start is not None and row.work_end is not None else None
    c.score = points
    return c


def _score_volunteer(ctx: _Order, row: dict, w: dict) -> Candidate:
    c = Candidate(kind="volunteer", id=row["pk"], name=row["name"], week_orders=row["week"])
    c.is_current = ctx.order.volunteer_id == row["pk"]
    c.score = _score_common(ctx, c, w)
    c.facts["span"] = (
        (row["available_from"], row["available_to"])
        if row["available_from"] is not None and row["available_to"] is not None
        else None
    )
    return c


def _explain(ctx: _Order, c: Candidate, w: dict) -> None:
    """The reasons in words of one shown candidate, from the facts its score was made of."""
    f, out = c.facts, c.reasons
    if c.kind == "volunteer":
        out.append(Reason(_("本社区志愿者")))
    if "preferred" in f:
        text = _("周期计划指定的服务人员") if f["preferred"] == "plan" else _("老人指定的服务人员")
        out.append(Reason(text, w["preferred"], "plus"))
    pref = ctx.preference
    if "sex" in f:
        wish = _("老人希望%(sex)s服务人员") % {"sex": _("女性") if pref.caregiver_sex == "F" else _("男性")}
        if f["sex"] == pref.caregiver_sex:
            out.append(Reason(wish, w["sex"], "plus"))
        elif f["sex"]:
            sex = _("男性") if f["sex"] == "M" else _("女性")
            out.append(Reason(_("%(wish)s，此人为%(sex)s") % {"wish": wish, "sex": sex}, 0, "minus"))
        else:
            out.append(Reason(_("%(wish)s，此人未登记性别") % {"wish": wish}, 0, "minus"))
    if "languages" in f:
        if f["languages"]:
            out.append(Reason(_("会说%(lang)s（老人希望）") % {"lang": "、".join(f["languages"])}, w["language"], "plus"))
        else:
            wanted = "、".join(languages_of(pref.languages))
            out.append(Reason(_("老人希望用%(lang)s交流，此人未登记") % {"lang": wanted}, 0, "minus"))
    if "served" in f:
        how, n, points = f["served"]
        text = _("上次为该老人服务") if how == "last" else _("曾为该老人服务 %(n)d 次") % {"n": n}
        out.append(Reason(text, points, "plus"))
    week = f["week"]
    out.append(Reason(_("本周已安排 %(n)d 次服务") % {"n": c.week_orders}, week, "plus" if week else "minus"))
    distance = f.get("distance")
    if distance is not None:
        kind = distance[0]
        if kind == "no_elder_home":
            out.append(Reason(_("老人住址未登记坐标，未计算距离")))
        elif kind == "no_home":
            out.append(Reason(_("住址未登记坐标，未计算距离"), 0, "minus"))
        else:
            points = f["distance_points"]
            if kind == "previous":
                ends = timezone.localtime(_moment(distance[2])).strftime("%H:%M")
                text = _("距上一单服务地点 %(d)s（%(t)s 结束）") % {"d": distance_text(distance[1]), "t": ends}
            else:
                text = _("距老人家 %(d)s") % {"d": distance_text(distance[1])}
            out.append(Reason(text, points, "plus" if points else "minus"))
    if c.kind == "caregiver":
        if f["shift"] is not None:
            shift = f"{f['shift'][0]:%H:%M}–{f['shift'][1]:%H:%M}"
            out.append(Reason(_("当天在班（%(shift)s）") % {"shift": shift}))
        else:
            out.append(Reason(_("未填写工作时间，请先电话确认"), 0, "minus"))
    elif f["span"] is not None:
        out.append(Reason(_("可服务时段 %(span)s") % {"span": f"{f['span'][0]:%H:%M}–{f['span'][1]:%H:%M}"}))


def _explain_requirements(ctx: _Order, chosen: list[Candidate]) -> None:
    """The skills and, for the caregivers shown, the certificates that answer the requirements."""
    from providers.models import Certificate

    if ctx.skills:
        skills = "、".join(name for _pk, name in ctx.skills)
        for c in chosen:
            c.reasons.append(Reason(_("具备所需技能：%(skills)s") % {"skills": skills}))
    if not ctx.certificates:
        return
    ids = [c.id for c in chosen if c.kind == "caregiver"]
    answering = {pk for _req, kinds in ctx.certificates for pk in kinds}
    held: dict[int, list] = {}
    for cert in (
        Certificate.objects.filter(caregiver_id__in=ids, kind_id__in=answering)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gte=ctx.last_day))
        .select_related("kind")
        .order_by("-kind__rank", "expires_on")
    ):
        held.setdefault(cert.caregiver_id, []).append(cert)
    soon = ctx.day + datetime.timedelta(days=settings.CERTIFICATE_EXPIRY_DAYS)
    for c in chosen:
        for _req, kinds in ctx.certificates:
            cert = next((x for x in held.get(c.id, []) if x.kind_id in kinds), None)
            if cert is None:
                continue
            text = _("持有有效%(cert)s") % {"cert": certificate_phrase(cert.kind.name)}
            if cert.expires_on and cert.expires_on <= soon:
                text = _("%(text)s，%(date)s 到期") % {"text": text, "date": cert.expires_on.isoformat()}
            c.reasons.append(Reason(text))


def rank(*, user, order: Order, limit: int = 20, offset: int = 0) -> Ranking:
    """The candidates `user` may dispatch `order` to, best first (the module says how): the
    `limit` from `offset` on (a page of the ranking), with their reasons."""
    check(user, "dispatch", Order)
    if not order_scope(user, "dispatch").filter(pk=order.pk).exists():
        raise Http404
    limit = max(1, min(int(limit), LIMIT_MAX))
    ctx = _Order.of(order)
    w = weights()
    rows, org_names = _caregiver_rows(ctx, dispatch_organisations(user=user, order=order))
    start, end = ctx.start, ctx.end
    rows = [
        r
        for r in rows
        if shift_fits(work_days=getattr(r, "work_days", None), work_start=r.work_start, work_end=r.work_end, start=start, end=end)
    ]
    wanted_languages = languages_of(ctx.preference.languages) if ctx.preference is not None else []
    people = [_score_caregiver(ctx, r, w, wanted_languages, org_names) for r in rows]
    volunteers = offers_volunteers(order) and not user.organisation_id
    if volunteers:
        for r in _volunteer_rows(ctx, dispatch_volunteers(user=user, order=order)):
            days, since, until = r["available_days"], r["available_from"], r["available_to"]
            if shift_fits(work_days=days, work_start=since, work_end=until, start=ctx.start, end=ctx.end):
                people.append(_score_volunteer(ctx, r, w))
    far = 10**12
    people.sort(key=lambda c: (-c.score, far if c.distance_m is None else c.distance_m, c.week_orders, c.kind, c.id))
    offset = max(0, int(offset))
    chosen = people[offset : offset + limit]
    for c in chosen:
        _explain(ctx, c, w)
    _explain_requirements(ctx, chosen)
    order_of = {"plus": 0, "minus": 1, "info": 2}
    for c in chosen:
        c.reasons.sort(key=lambda r: (order_of.get(r.kind, 3), -r.points))
    threshold = settings.DISPATCH_AUTO_MIN_SCORE
    return Ranking(candidates=chosen, considered=len(people), threshold=threshold, offers_volunteers=volunteers)


def candidates(*, user, order: Order, limit: int = 20) -> list[Candidate]:
    """Caregivers (and, for time-bank and volunteer items, the community's approved volunteers)
    ranked for `order`, each with its score and its reasons in words."""
    return rank(user=user, order=order, limit=limit).candidates


# --- automatic mode ---------------------------------------------------------------------------------


@transaction.atomic
def auto_dispatch(*, by, order: Order):
    """Dispatch a created order to its best caregiver when the score reaches
    DISPATCH_AUTO_MIN_SCORE (recurring plans); else leave it created and record why in its
    history (action "auto_dispatch"). Returns the caregiver chosen, or None."""
    from orders.services import order_dispatch

    order = Order.objects.select_related("elder", "region", "item__category", "plan").get(pk=order.pk)
    if order.status != Status.CREATED:
        return None
    threshold = settings.DISPATCH_AUTO_MIN_SCORE
    best = next((c for c in rank(user=by, order=order, limit=LIMIT_MAX).candidates if c.kind == "caregiver"), None)
    if best is None:
        why = _("自动派单未派出：没有符合条件的服务人员（技能、证书、在班时间、请假或时间冲突），请人工派单")
    elif best.score < threshold:
        why = _("自动派单未派出：最合适的%(name)s得分 %(score)d，低于自动派单要求的 %(min)d 分，请人工派单") % {
            "name": best.name,
            "score": best.score,
            "min": threshold,
        }
    else:
        from providers.models import Caregiver

        caregiver = Caregiver.objects.select_related("organisation").get(pk=best.id)
        shown = "；".join(r.text for r in best.reasons if r.points)
        reason = _("自动派单：得分 %(score)d（%(why)s）") % {"score": best.score, "why": shown}
        order_dispatch(by=by, order=order, caregiver=caregiver, reason=reason[:200])
        return caregiver
    change_record(obj=order, action="auto_dispatch", changes={}, by=by, region=order.region, note=why)
    return None


# --- the elder's preferences ---------------------------------------------------------------------------


def elder_preference_get(*, user, elder) -> ElderPreference:
    """The elder's preferences (an unsaved empty one when none are recorded); `elder` was read
    through the user's scope."""
    check(user, "dispatch", Order)
    return ElderPreference.objects.filter(elder=elder).select_related("preferred_caregiver").first() or ElderPreference(
        elder=elder
    )


@transaction.atomic
def elder_preference_set(
    *, by, elder, caregiver_sex: str = "", languages: str = "", preferred_caregiver=None, notes: str = ""
) -> ElderPreference:
    """Record what the elder asked for in who serves them (dispatch ranks by it). `elder` was
    read through the user's scope; `preferred_caregiver` through dispatch_caregiver_get."""
    from orders.services import clean_text

    check(by, "dispatch", Order)
    errors = {}
    if caregiver_sex not in ("", "F", "M"):
        errors["caregiver_sex"] = _("服务人员性别请选择：不限、女或男")
    try:
        languages = "、".join(languages_of(clean_text(languages, "languages", _("语言和方言"), max_length=80)))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        notes = clean_text(notes, "notes", _("其他要求"), max_length=200)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if len(languages) > 80:
        errors["languages"] = _("语言和方言最多 80 个字，请精简")
    if errors:
        raise ValidationError(errors)
    pref = ElderPreference.objects.select_for_update().filter(elder=elder).first() or ElderPreference(elder=elder)
    is_new = pref.pk is None
    before = {
        "caregiver_sex": pref.caregiver_sex,
        "languages": pref.languages,
        "preferred_caregiver": pref.preferred_caregiver_id,
        "notes": pref.notes,
    }
    pref.caregiver_sex, pref.languages, pref.notes = caregiver_sex, languages, notes
    pref.preferred_caregiver = preferred_caregiver
    pref.full_clean()
    pref.save()
    after = {
        "caregiver_sex": pref.caregiver_sex,
        "languages": pref.languages,
        "preferred_caregiver": pref.preferred_caregiver_id,
        "notes": pref.notes,
    }
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        change_record(obj=pref, action="create" if is_new else "update", changes=changes, by=by, region=elder.region)
    return pref
