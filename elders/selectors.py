"""Reads of the elder registry. Every one begins with `restrict()`."""

import datetime
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import access_log
from core import crypto
from core.access import get_scoped_or_404
from core.idnumbers import clean_id_number
from core.phones import normalize_phone
from core.redact import redact_numbers
from elders.categories import categories_q, category_by_code, years_before
from elders.models import Elder, Status
from regions.models import Region

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

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", [])}


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
        errors["category"] = [_("未知的类别:%(c)s") % {"c": "、".join(unknown)}]
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
    return f, errors


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
    if filters.q:
        qs = qs.filter(search_q(filters.q, by_birth_date=user.may("reveal", Elder)))
    return qs.select_related("region")


def elder_get(*, user, elder_id: int, action: str = "view") -> Elder:
    """One elder in `user`'s subtree, or 404 (never 403 for a row elsewhere: existence is not
    leaked); 403 when the role cannot do `action` at all (core.access)."""
    return get_scoped_or_404(Elder.objects.select_related("region"), user, elder_id, action)


def elder_reveal(*, user, elder: Elder, fields=("id_number", "phone"), ip=None) -> dict:
    """The full ID number and phone, for a user allowed to see them; each call is logged."""
    elder = elder_get(user=user, elder_id=elder.pk, action="reveal")
    values = {}
    if "id_number" in fields:
        values["id_number"] = crypto.decrypt(elder.id_number_enc)
    if "phone" in fields:
        values["phone"] = crypto.decrypt(elder.phone_enc)
    if "contacts" in fields:
        values["contacts"] = [{"id": c.pk, "phone": crypto.decrypt(c.phone_enc)} for c in elder.contacts.all()]
    access_log(kind="reveal", model="elders.elder", object_id=elder.pk, fields=fields, by=user, region=elder.region, ip=ip)
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
    }
