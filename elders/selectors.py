"""Reads of the elder registry. Every one begins with `restrict()`."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field, replace

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log
from core import crypto
from core.access import get_scoped_or_404
from core.idnumbers import clean_id_number
from core.phones import normalize_phone
from core.redact import redact_numbers
from elders.categories import categories_q, category_by_code, years_before
from elders.models import Elder, Sex, Status
from regions.models import Level, Region

_DIGITS = re.compile(r"^\d+$")
_LETTERS = re.compile(r"^[a-z]+$")


@dataclass
class ElderFilter:
    """What the list page, the API and the export filter by (one shape for all three)."""

    q: str = ""
    region: int | None = None
    categories: list[str] = field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    status: str = Status.ACTIVE  # "" or "all" for every status
    sex: str = ""
    # Registered to a community that has grids, not to one of them (an import without a grid
    # column): the community places them, since a grid worker sees only their grid.
    unplaced: bool = False

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", []) and v is not False}


def parse_filter(params) -> ElderFilter:
    """Build a filter from query parameters (a QueryDict or dict); bad values raise by field."""
    filters, errors = parse_filter_lenient(params)
    if errors:
        raise ValidationError(errors)
    return filters


def parse_filter_lenient(params) -> tuple[ElderFilter, dict]:
    """The filter from the valid parameters, and the errors of the others (for a page, which
    keeps what it can and says what it dropped)."""
    get = params.get
    getlist = params.getlist if hasattr(params, "getlist") else (lambda k: params.get(k) or [])
    errors = {}
    f = ElderFilter(q=(get("q") or "").strip()[:64])

    def as_int(name, lo, hi):
        raw = (get(name) or "").strip() if isinstance(get(name), str) else get(name)
        if raw in (None, ""):
            return None
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[name] = [_("请填写整数")]
            return None
        if not lo <= value <= hi:
            errors[name] = [_("应在 %(lo)d 到 %(hi)d 之间") % {"lo": lo, "hi": hi}]
            return None
        return value

    f.region = as_int("region", 1, 2**62)
    f.age_min = as_int("age_min", 0, 150)
    f.age_max = as_int("age_max", 0, 150)
    cats = []
    for raw in getlist("category"):
        cats.extend(c for c in str(raw).split(",") if c)
    known = category_by_code()
    unknown = [c for c in cats if c not in known]
    if unknown:
        errors["category"] = [_("未知的类别：%(c)s") % {"c": "、".join(unknown)}]
    f.categories = [c for c in cats if c in known]
    status = (get("status") or Status.ACTIVE).strip()
    if status not in {*Status.values, "all"}:
        errors["status"] = [_("状态无效")]
    f.status = status
    sex = (get("sex") or "").strip()
    if sex and sex not in ("M", "F"):
        errors["sex"] = [_("性别无效")]
    f.sex = sex if sex in ("", "M", "F") else ""
    if f.status not in {*Status.values, "all"}:
        f.status = Status.ACTIVE
    unplaced = get("unplaced")
    f.unplaced = str(unplaced).strip().lower() in ("1", "true", "on", "yes") if unplaced not in (None, "") else False
    return f, errors


def unplaced_q() -> Q:
    """Elders registered to a community that has grids, rather than to one of its grids."""
    grids = Region.objects.filter(parent=OuterRef("region"), level=Level.GRID)
    return Q(region__level=Level.COMMUNITY) & Q(Exists(grids))


def holds_personal_number(text: str) -> bool:
    """True when `text` holds a run of seven or more digits: an ID number, a phone, a birth
    date. Such a search must not travel in a URL (server and proxy logs keep URLs): the page
    sends it by POST, the API refuses it on GET (POST /api/elders/search)."""
    return bool(text) and redact_numbers(text) != unicodedata.normalize("NFKC", str(text))


def full_number_kind(q: str) -> str:
    """ "id_number" or "phone" when the search text is a whole ID or phone number, else ""."""
    q = (q or "").strip()
    compact = clean_id_number(q)
    if len(compact) in (15, 18) and _DIGITS.match(compact[:-1]):
        return "id_number"
    phone_like = "".join(ch for ch in compact if ch not in "+()")
    if _DIGITS.match(phone_like) and len(phone_like) >= 7:
        try:
            return "phone" if normalize_phone(q) else ""
        except ValidationError:
            return ""
    return ""


def search_q(q: str, *, by_birth_date: bool = True) -> Q:
    """The search box: name, pinyin, initials, ID number (whole, or its birth-date part when
    `by_birth_date`), phone (whole or last four), address fragment. Numbers are matched
    through their keyed hashes, so no number reaches the database (or its logs) as text.

    `by_birth_date` is off for users without the reveal permission: they see age, not the
    birth date, and searching by dates would give it back one guess at a time (issue 8)."""
    q = q.strip()
    if not q:
        return Q()
    compact = clean_id_number(q)
    lower = q.lower().replace(" ", "")
    if len(compact) in (15, 18) and _DIGITS.match(compact[:-1]):
        from core.idnumbers import parse_id_number

        try:
            number = parse_id_number(compact).number
        except ValidationError:
            number = compact
        return Q(id_number_hash=crypto.lookup_hash(number))
    phone_like = "".join(ch for ch in compact if ch not in "+()")
    if _DIGITS.match(phone_like):
        digits = phone_like
        if len(digits) == 4:
            return Q(phone_tail=digits)
        if len(digits) == 8 and by_birth_date:
            try:
                born = datetime.datetime.strptime(digits, "%Y%m%d").date()
                return Q(birth_date=born)
            except ValueError:
                pass
        # A whole phone number as people write it (+86, dashes, brackets, area code).
        try:
            phone = normalize_phone(q)
        except ValidationError:
            phone = ""
        if phone:
            return Q(phone_hash=crypto.lookup_hash(phone))
        if len(digits) >= 7:
            # Not a valid phone or ID number: matches nothing (an address holds no such
            # number, and the digits must not reach the database as text).
            return Q(pk__in=[])
        return Q(address__contains=q)
    if _LETTERS.match(lower):
        return Q(name_initials__startswith=lower) | Q(name_pinyin__startswith=lower)
    # Names by prefix of the whole name or of the given name (冷, 冷国兴, 国兴), through
    # b-trees; a contains-match on names would scan a city. Addresses by fragment, through the
    # trigram index, from three characters on (shorter fragments cannot use it).
    by_name = Q(name__startswith=q) | Q(name_given__startswith=q)
    if len(q) >= 3:
        return by_name | Q(address__contains=q)
    return by_name


def elder_list(*, user, filters: ElderFilter | None = None, action: str = "view"):
    """The elders `user` may see, filtered. Default: those in residence (在册)."""
    filters = filters or ElderFilter()
    qs = Elder.objects.restrict(user, action)
    if filters.region:
        region = Region.objects.restrict(user, "view").filter(pk=filters.region).first()
        if region is None:
            return qs.none()
        qs = qs.within(region)
    if filters.status and filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.categories:
        qs = qs.filter(categories_q(filters.categories))
    today = timezone.localdate()
    if filters.age_min is not None:
        qs = qs.filter(birth_date__lte=years_before(today, filters.age_min))
    if filters.age_max is not None:
        qs = qs.filter(birth_date__gt=years_before(today, filters.age_max + 1))
    if filters.sex:
        qs = qs.filter(sex=filters.sex)
    if filters.unplaced:
        qs = qs.filter(unplaced_q())
    if filters.q:
        qs = qs.filter(search_q(filters.q, by_birth_date=user.may("reveal", Elder)))
    return qs.select_related("region")


def elder_inactive_matches(*, user, filters: ElderFilter) -> dict | None:
    """When a search finds no one in residence: how many match among the moved-out, deceased
    and institutionalised, by status; None when none do."""
    others = elder_list(user=user, filters=replace(filters, status="all")).exclude(status=Status.ACTIVE)
    counts = dict(others.order_by().values_list("status").annotate(n=Count("id")))
    if not counts:
        return None
    labels = dict(Status.choices)
    by_status = [{"status": s, "label": labels[s], "count": counts[s]} for s in Status.values if counts.get(s)]
    return {"total": sum(counts.values()), "by_status": by_status}


def elders_unplaced_ids(*, elders) -> set[int]:
    """Which of these loaded elders (region selected) are registered to a community that has
    grids (one query for the page)."""
    communities = {e.region_id for e in elders if e.region.level == Level.COMMUNITY}
    if not communities:
        return set()
    with_grids = set(
        Region.objects.filter(parent_id__in=communities, level=Level.GRID).values_list("parent_id", flat=True).distinct()
    )
    return {e.pk for e in elders if e.region_id in with_grids}


def elder_get(*, user, elder_id: int, action: str = "view") -> Elder:
    """One elder in `user`'s subtree, or 404 (never 403 for a row elsewhere: existence is not
    leaked); 403 when the role cannot do `action` at all (core.access)."""
    return get_scoped_or_404(Elder.objects.select_related("region"), user, elder_id, action)


# A reveal says why, in a few words ("电话回访", "核对低保材料"); kept in the access log.
REVEAL_REASON_MAX = 60


def clean_reveal_reason(reason) -> str:
    """The reason for a reveal as it is logged: one line, required, short, personal numbers
    starred (a phone typed into it must not be stored whole)."""
    from core.text import refuse_invisible_characters

    text = " ".join(str(reason or "").split())
    if not text:
        raise ValidationError({"reason": _("请填写查看完整号码的原因，例如“电话回访”")})
    if len(text) > REVEAL_REASON_MAX:
        raise ValidationError({"reason": _("查看原因最多 %(n)d 个字，请简要填写") % {"n": REVEAL_REASON_MAX}})
    try:
        refuse_invisible_characters(text)
    except ValidationError as exc:
        raise ValidationError({"reason": exc.messages}) from None
    return redact_numbers(text)


def elder_reveal(*, user, elder: Elder, reason: str, fields=("id_number", "phone"), ip=None) -> dict:
    """The full ID number and phone, for a user allowed to see them, who says why; each call
    is logged with the reason."""
    elder = elder_get(user=user, elder_id=elder.pk, action="reveal")
    reason = clean_reveal_reason(reason)
    values = {}
    if "id_number" in fields:
        values["id_number"] = crypto.decrypt(elder.id_number_enc)
    if "phone" in fields:
        values["phone"] = crypto.decrypt(elder.phone_enc)
    if "contacts" in fields:
        values["contacts"] = [{"id": c.pk, "phone": crypto.decrypt(c.phone_enc)} for c in elder.contacts.all()]
    access_log(
        kind="reveal",
        model="elders.elder",
        object_id=elder.pk,
        fields=fields,
        detail={"reason": reason},
        by=user,
        region=elder.region,
        ip=ip,
    )
    return values


def elder_search_guard(*, user, q: str) -> None:
    """Before a search with text: count it against the user's search limit (raises
    audit.services.SearchThrottled past it)."""
    from audit.services import search_throttle

    if q and q.strip():
        search_throttle(user=user)


def elder_search_log(*, user, q: str, found: list, via: str, ip=None) -> None:
    """A search by a whole ID or phone number is logged like a reveal: who, when, which
    elders it found — never the number (a guess of hidden digits leaves a trail)."""
    kind = full_number_kind(q)
    if not kind:
        return
    ids = [e.pk for e in found][:50]
    access_log(
        kind="search",
        model="elders.elder",
        object_id=ids[0] if len(ids) == 1 else None,
        fields=(kind,),
        detail={"by": kind, "found": len(found), "elders": ids, "via": via},
        by=user,
        region=user.region,
        ip=ip,
    )


def elder_duplicate_groups(*, user, limit: int = 200):
    """Likely duplicates: active elders with the same name, birth date and address."""
    keys = (
        Elder.objects.restrict(user, "view")
        .exclude(status__in=[Status.DECEASED])
        .values("name", "birth_date", "address")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("name")[:limit]
    )
    keys = list(keys)
    if not keys:
        return []
    # All members in one query (not one per group: the page lists up to `limit` groups).
    wanted = Q()
    for key in keys:
        wanted |= Q(name=key["name"], birth_date=key["birth_date"], address=key["address"])
    by_key: dict[tuple, list] = {}
    for elder in Elder.objects.restrict(user, "view").filter(wanted).select_related("region").order_by("id"):
        by_key.setdefault((elder.name, elder.birth_date, elder.address), []).append(elder)
    return [by_key.get((key["name"], key["birth_date"], key["address"]), []) for key in keys]


def elder_likely_duplicates(*, user, elder: Elder):
    return (
        Elder.objects.restrict(user, "view")
        .filter(name=elder.name, birth_date=elder.birth_date, address=elder.address)
        .exclude(pk=elder.pk)
        .exclude(status=Status.DECEASED)
    )


def elder_overview(*, user) -> dict:
    """Counts for the desk: elders in residence and per category, in one query."""
    from django.db.models import Count

    today = timezone.localdate()
    base = Elder.objects.restrict(user, "view").filter(status=Status.ACTIVE)
    cats = list(category_by_code().values())
    aggregates = {"total": Count("id")}
    for c in cats:
        aggregates[c.code] = Count("id", filter=c.q(today))
    counts = base.aggregate(**aggregates)
    return {
        "total": counts["total"],
        "categories": [{"code": c.code, "label": c.label, "count": counts[c.code]} for c in cats],
        # Only those who may place them (move them to a grid) are told; grid workers never see them.
        "unplaced": base.filter(unplaced_q()).count() if user.may("change", Elder) else 0,
    }


# --- receiving an elder who moved out of another community (迁出 → 迁入) ---------------------


@dataclass
class Receivable:
    """What an ID number finds for a community about to receive someone (issue 9).

    `state`: "receivable" (moved out, anywhere: the user may receive them), "registered_here"
    (in the user's subtree and not moved out: nothing to receive), "elsewhere" (registered in
    another subtree and not moved out: the community there must record the move-out first) or
    "none" (not registered: register them). Before confirming, the receiving side sees only
    the name, the masked number and the moved-out date; never where they were."""

    state: str
    elder: Elder | None = None

    @property
    def preview(self) -> dict | None:
        if self.state != "receivable":
            return None
        return {
            "name": self.elder.name,
            "id_number_masked": self.elder.id_number_masked,
            "moved_out_on": self.elder.status_changed_on,
        }


def elder_receive_may(user) -> bool:
    """Receiving brings a person into the register and changes their status."""
    return user.may("add", Elder) and user.may("status", Elder)


def elder_receive_check(user) -> None:
    """core.access's refusals for receiving: 403 without the add and status permissions, or
    for an account with no region."""
    from core.access import check

    check(user, "add", Elder)
    check(user, "status", Elder)


def elder_receivable(*, user, id_number: str, ip=None, lock: bool = False) -> Receivable:
    """Look an ID number up across the whole register for receiving (the one read of elders
    outside the user's subtree besides the duplicate check): only a moved-out record is shown,
    and only what the receiving side needs. Logged like a search by a whole number."""
    from core.idnumbers import parse_id_number

    elder_receive_check(user)
    try:
        number = parse_id_number(id_number).number
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    found = Elder.objects.filter(id_number_hash=crypto.lookup_hash(number)).select_related("region")
    elder = (found.select_for_update() if lock else found).first()
    if elder is None:
        return Receivable("none")
    if not lock:
        access_log(
            kind="search",
            model="elders.elder",
            object_id=elder.pk if elder.status == Status.MOVED_OUT else None,
            fields=("id_number",),
            detail={"by": "id_number", "found": 1, "via": "receive"},
            by=user,
            region=user.region,
            ip=ip,
        )
    if elder.status == Status.MOVED_OUT:
        return Receivable("receivable", elder)
    if Elder.objects.restrict(user, "view").filter(pk=elder.pk).exists():
        return Receivable("registered_here", elder)
    return Receivable("elsewhere")


# --- the access log in words (registered in elders.apps) -------------------------------------------


def elder_names(user, ids) -> dict[int, str]:
    """The names of these elders that `user` may see (others stay "#id" in the access log)."""
    return dict(Elder.objects.restrict(user, "view").filter(pk__in=ids).values_list("pk", "name"))


def filters_in_words(filters: dict) -> str:
    """An export's filters as recorded (search words starred), in words: 搜索“王”；类别：高龄、独居；年龄 80–90."""
    parts = []
    if filters.get("q"):
        parts.append(_("搜索“%(q)s”") % {"q": filters["q"]})
    if filters.get("region"):
        region = Region.objects.filter(pk=filters["region"]).values_list("name", flat=True).first()
        parts.append(_("区域：%(r)s") % {"r": region or f"#{filters['region']}"})
    codes = filters.get("category") or filters.get("categories") or []
    if codes:
        known = category_by_code()
        parts.append(_("类别：%(c)s") % {"c": "、".join(str(known[c].label) if c in known else c for c in codes)})
    if filters.get("age_min") is not None or filters.get("age_max") is not None:
        parts.append(_("年龄 %(lo)s–%(hi)s") % {"lo": filters.get("age_min", ""), "hi": filters.get("age_max", "")})
    status = filters.get("status")
    if status and status != Status.ACTIVE:
        parts.append(_("状态：%(s)s") % {"s": _("全部状态") if status == "all" else dict(Status.choices).get(status, status)})
    if filters.get("sex"):
        parts.append(_("性别：%(s)s") % {"s": dict(Sex.choices).get(filters["sex"], filters["sex"])})
    if filters.get("unplaced"):
        parts.append(_("未分配网格"))
    return "；".join(parts) or _("在册老人，无筛选条件")


# --- the hotline: who is calling (issue 11) ------------------------------------------------------


@dataclass
class PhoneMatch:
    """An elder a caller's number found: the elder's own number, or one of their contacts'."""

    elder: Elder
    contacts: list = field(default_factory=list)  # EmergencyContact rows with that number
    is_own: bool = False  # the elder's own number


PHONE_MATCH_MAX = 20


def elders_by_phone(*, user, phone: str, ip=None, via: str = "hotline") -> list[PhoneMatch]:
    """The elders of `user`'s subtree whose own phone or an emergency contact's phone is
    `phone` (whole, as typed by a worker taking a call), matched through the keyed hashes so no
    number reaches the database as text. Counted against the search limit and logged like a
    search by a whole number (never the number itself)."""
    from elders.models import EmergencyContact

    try:
        number = normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages}) from None
    if not number:
        raise ValidationError({"phone": _("请输入来电号码：手机号11位，固定电话带区号")})
    elder_search_guard(user=user, q=number)
    key = crypto.lookup_hash(number)
    scoped = Elder.objects.restrict(user, "view")
    by_contact = EmergencyContact.objects.filter(phone_hash=key, elder__in=scoped).select_related("elder")
    matches: dict[int, PhoneMatch] = {}
    for elder in scoped.filter(phone_hash=key).select_related("region").order_by("id")[:PHONE_MATCH_MAX]:
        matches[elder.pk] = PhoneMatch(elder=elder, is_own=True)
    for contact in by_contact.order_by("elder_id", "id")[: PHONE_MATCH_MAX * 2]:
        match = matches.get(contact.elder_id)
        if match is None:
            if len(matches) >= PHONE_MATCH_MAX:
                continue
            match = matches[contact.elder_id] = PhoneMatch(elder=contact.elder)
        match.contacts.append(contact)
    found = list(matches.values())
    if found:
        regions = {r.pk: r for r in Region.objects.filter(pk__in={m.elder.region_id for m in found})}
        for m in found:
            m.elder.region = regions.get(m.elder.region_id, m.elder.region)
    access_log(
        kind="search",
        model="elders.elder",
        object_id=found[0].elder.pk if len(found) == 1 else None,
        fields=("phone",),
        detail={"by": "phone", "found": len(found), "elders": [m.elder.pk for m in found], "via": via},
        by=user,
        region=user.region,
        ip=ip,
    )
    return found
