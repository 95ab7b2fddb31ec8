"""/api/catalogue: categories, items (with filters), skills, certificate kinds; admin writes;
price lists by region and the price of an item at a region; entitlement packages."""

import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from accounts.roles import Role
from catalogue import selectors, services
from catalogue.models import EntitlementPackage, PaymentMode, PriceList, Scheme, ServiceCategory, ServiceItem, Unit
from core.access import requires
from core.api_kit import IdName, id_name
from core.schemas import ErrorOut
from elders.selectors import elder_get

router = Router(tags=["catalogue"])


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    scheme: str
    scheme_label: str
    position: int
    is_active: bool


class SkillOut(Schema):
    id: int
    code: str
    name: str
    is_active: bool


class CertificateKindOut(Schema):
    id: int
    code: str
    name: str
    family: str = Field(description="grades of one certificate share a family; a higher rank answers a lower one")
    rank: int
    is_active: bool


class ItemOut(Schema):
    id: int
    code: str
    name: str
    description: str
    category: IdName
    scheme: str
    unit: str
    unit_label: str
    price_fen: int = Field(description="the catalogue's default price in fen; see /prices for a region's")
    duration_minutes: int
    payment_modes: list[str]
    payment_modes_label: list[str]
    required_skills: list[IdName]
    required_certificates: list[IdName]
    outcomes: list[str] = Field(description="what a worker must record before check-out")
    orderable_by: list[str] = Field(description="roles that may order it")
    position: int
    is_active: bool


class ItemFilterIn(Schema):
    scheme: Literal[tuple(["", *Scheme.values])] = ""
    category: int | None = Field(None, ge=1, le=2**62)
    payment_mode: Literal[tuple(["", *PaymentMode.values])] = ""
    skill: int | None = Field(None, ge=1, le=2**62)
    q: str = Field("", max_length=40, description="part of the item's, its code's or its category's name")
    active_only: bool = False


def _category(c) -> dict:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "scheme": c.scheme,
        "scheme_label": str(c.get_scheme_display()),
        "position": c.position,
        "is_active": c.is_active,
    }


def _item(i) -> dict:
    labels = dict(PaymentMode.choices)
    return {
        "id": i.pk,
        "code": i.code,
        "name": i.name,
        "description": i.description,
        "category": id_name(i.category),
        "scheme": i.category.scheme,
        "unit": i.unit,
        "unit_label": str(i.get_unit_display()),
        "price_fen": i.price_fen,
        "duration_minutes": i.duration_minutes,
        "payment_modes": i.payment_modes,
        "payment_modes_label": [str(labels.get(m, m)) for m in i.payment_modes],
        "required_skills": [id_name(s) for s in i.required_skills.all()],
        "required_certificates": [id_name(c) for c in i.required_certificates.all()],
        "outcomes": i.outcomes,
        "orderable_by": i.orderable_by,
        "position": i.position,
        "is_active": i.is_active,
    }


@router.get("/categories", response={200: list[CategoryOut], 403: ErrorOut})
@requires("view", ServiceItem)
def category_list_api(request, scheme: Literal[tuple(["", *Scheme.values])] = ""):
    return [_category(c) for c in selectors.category_list(user=request.user, scheme=scheme)]


@router.get("/items", response={403: ErrorOut, 200: list[ItemOut], 422: ErrorOut})
@requires("view", ServiceItem)
def item_list_api(request, filters: Query[ItemFilterIn]):
    """The whole catalogue (about fifty items) in its order; filters narrow it."""
    return [_item(i) for i in selectors.item_list(user=request.user, **filters.dict())]


@router.get("/items/{int:item_id}", response={200: ItemOut, 403: ErrorOut})
@requires("view", ServiceItem)
def item_get_api(request, item_id: int):
    return _item(selectors.item_get(user=request.user, item_id=item_id))


@router.get("/skills", response={200: list[SkillOut], 403: ErrorOut})
@requires("view", ServiceItem)
def skill_list_api(request):
    return [
        {"id": s.pk, "code": s.code, "name": s.name, "is_active": s.is_active} for s in selectors.skill_list(user=request.user)
    ]


@router.get("/certificate-kinds", response={200: list[CertificateKindOut], 403: ErrorOut})
@requires("view", ServiceItem)
def certificate_kind_list_api(request):
    return [
        {"id": c.pk, "code": c.code, "name": c.name, "family": c.family, "rank": c.rank, "is_active": c.is_active}
        for c in selectors.certificate_kind_list(user=request.user)
    ]


# --- admin writes ----------------------------------------------------------------------------


class ItemIn(Schema):
    category: int = Field(ge=1, le=2**62)
    code: str = Field(max_length=40, description="letters, digits, - and _")
    name: str = Field(max_length=60)
    description: str = Field("", max_length=2000)
    unit: Literal[tuple(Unit.values)] = Unit.VISIT
    price_fen: int = Field(0, ge=0, le=10**9)
    duration_minutes: int = Field(60, ge=1, le=1440)
    payment_modes: list[Literal[tuple(PaymentMode.values)]] = Field([], max_length=5)
    required_skills: list[int] = Field([], max_length=50)
    required_certificates: list[int] = Field([], max_length=50)
    outcomes: list[str] = Field([], max_length=20)
    orderable_by: list[Literal[tuple(Role.values)]] = Field([], max_length=20)
    position: int = Field(0, ge=0, le=10000)
    is_active: bool = True


class ItemPatchIn(Schema):
    category: int | None = Field(None, ge=1, le=2**62)
    name: str | None = Field(None, max_length=60)
    description: str | None = Field(None, max_length=2000)
    unit: Literal[tuple(Unit.values)] | None = None
    price_fen: int | None = Field(None, ge=0, le=10**9)
    duration_minutes: int | None = Field(None, ge=1, le=1440)
    payment_modes: list[Literal[tuple(PaymentMode.values)]] | None = Field(None, max_length=5)
    required_skills: list[int] | None = Field(None, max_length=50)
    required_certificates: list[int] | None = Field(None, max_length=50)
    outcomes: list[str] | None = Field(None, max_length=20)
    orderable_by: list[Literal[tuple(Role.values)]] | None = Field(None, max_length=20)
    position: int | None = Field(None, ge=0, le=10000)
    is_active: bool | None = None


def _resolve(user, payload: dict) -> tuple[dict, dict]:
    """Ids in the payload to rows, refusing unknown ones naming the field."""
    data, m2m = dict(payload), {}
    if data.get("category") is not None:
        found = {c.pk: c for c in selectors.category_list(user=user)}
        if data["category"] not in found:
            raise ValidationError({"category": _("服务类别不存在，请从类别列表中选择")})
        data["category"] = found[data["category"]]
    for name, rows, label in (
        ("required_skills", selectors.skill_list(user=user), _("所需技能")),
        ("required_certificates", selectors.certificate_kind_list(user=user), _("所需证书")),
    ):
        if data.get(name) is None:
            data.pop(name, None)
            continue
        found = {r.pk: r for r in rows}
        unknown = [str(i) for i in data[name] if i not in found]
        if unknown:
            raise ValidationError(
                {name: _("%(label)s不存在：%(ids)s，请从列表中选择") % {"label": label, "ids": "、".join(unknown)}}
            )
        m2m[name] = [found[i] for i in data.pop(name)]
    if data.get("outcomes") is not None:
        data["outcomes"] = [o.strip() for o in data["outcomes"] if o and o.strip()]
    return data, m2m


@router.post("/items", response={201: ItemOut, 422: ErrorOut})
@requires("change", ServiceItem)
def item_create_api(request, data: ItemIn):
    values, m2m = _resolve(request.user, data.dict())
    item = services.vocabulary_save(by=request.user, obj=ServiceItem(), data=values, m2m=m2m)
    return Status(201, _item(selectors.item_get(user=request.user, item_id=item.pk)))


@router.patch("/items/{int:item_id}", response={200: ItemOut, 422: ErrorOut})
@requires("change", ServiceItem)
def item_update_api(request, item_id: int, data: ItemPatchIn):
    item = selectors.item_get(user=request.user, item_id=item_id, action="change")
    values, m2m = _resolve(request.user, {k: v for k, v in data.dict().items() if v is not None})
    services.vocabulary_save(by=request.user, obj=item, data=values, m2m=m2m)
    return _item(selectors.item_get(user=request.user, item_id=item_id))


class CategoryIn(Schema):
    code: str = Field(max_length=40)
    name: str = Field(max_length=40)
    scheme: Literal[tuple(Scheme.values)] = Scheme.SERVICE
    position: int = Field(0, ge=0, le=10000)
    is_active: bool = True


@router.post("/categories", response={201: CategoryOut, 422: ErrorOut})
@requires("change", ServiceItem)
def category_create_api(request, data: CategoryIn):
    category = services.vocabulary_save(by=request.user, obj=ServiceCategory(), data=data.dict())
    return Status(201, _category(category))


# --- prices ----------------------------------------------------------------------------------


class PriceOut(Schema):
    item: IdName
    unit: str
    price_fen: int
    default_price_fen: int
    set_by: IdName | None = Field(description="the region whose list sets it; null: the catalogue's default")


class PriceEntryOut(Schema):
    id: int
    item: IdName
    price_fen: int
    valid_from: datetime.date
    valid_to: datetime.date | None


class PriceListOut(Schema):
    region: IdName
    on: datetime.date
    prices: list[PriceOut] = Field(description="every active item's price in force at the region on the date")
    entries: list[PriceEntryOut] = Field(description="the entries this region's own list holds")


class PriceEntryIn(Schema):
    item: int = Field(ge=1, le=2**62)
    price_fen: int = Field(ge=0, le=10**9)
    valid_from: datetime.date
    valid_to: datetime.date | None = None


def _price_list(user, region, on) -> dict:
    items = list(selectors.item_list(user=user, active_only=True))
    prices = selectors.prices_for(items, region, on)
    return {
        "region": id_name(region),
        "on": on,
        "prices": [
            {
                "item": id_name(i),
                "unit": i.unit,
                "price_fen": prices[i.pk].price_fen,
                "default_price_fen": i.price_fen,
                "set_by": id_name(prices[i.pk].region),
            }
            for i in items
        ],
        "entries": [
            {"id": e.pk, "item": id_name(e.item), "price_fen": e.price_fen, "valid_from": e.valid_from, "valid_to": e.valid_to}
            for e in selectors.price_entries_at(user=user, region=region)
        ],
    }


@router.get("/prices/{int:region_id}", response={403: ErrorOut, 200: PriceListOut, 422: ErrorOut})
@requires("view", PriceList)
def price_list_api(request, region_id: int, on: datetime.date | None = None):
    """The prices in force at a region of your subtree on `on` (today), and its own list."""
    region = selectors.price_region_get(user=request.user, region_id=region_id)
    return _price_list(request.user, region, on or timezone.localdate())


@router.post("/prices/{int:region_id}", response={201: PriceEntryOut, 422: ErrorOut})
@requires("change", PriceList)
def price_entry_create_api(request, region_id: int, data: PriceEntryIn):
    """Set an item's price in the list of a region of your subtree (another district: 404)."""
    region = selectors.price_region_get(user=request.user, region_id=region_id, action="change")
    items = {i.pk: i for i in selectors.item_list(user=request.user)}
    if data.item not in items:
        raise ValidationError({"item": _("服务项目不存在，请从服务清单中选择")})
    entry = services.price_entry_set(
        by=request.user,
        region=region,
        item=items[data.item],
        price_fen=data.price_fen,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
    )
    return Status(
        201,
        {
            "id": entry.pk,
            "item": id_name(entry.item),
            "price_fen": entry.price_fen,
            "valid_from": entry.valid_from,
            "valid_to": entry.valid_to,
        },
    )


@router.delete("/prices/entries/{int:entry_id}", response={204: None})
@requires("change", PriceList)
def price_entry_delete_api(request, entry_id: int):
    entry = selectors.price_entry_get(user=request.user, entry_id=entry_id)
    services.price_entry_delete(by=request.user, entry=entry)
    return Status(204, None)


# --- entitlements ----------------------------------------------------------------------------


class GrantOut(Schema):
    item: IdName | None
    category: IdName | None
    quantity: int
    unit: str
    unit_label: str


class PackageOut(Schema):
    id: int
    region: IdName
    code: str
    name: str
    ability_levels: list[str]
    categories: list[str]
    payment_mode: str
    payment_mode_label: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    is_active: bool
    grants: list[GrantOut]


class QuotaOut(Schema):
    item: IdName | None
    category: IdName | None
    quantity: int = Field(description="per month, summed over the packages that grant it")
    unit: str
    unit_label: str
    packages: list[int]


class EntitlementsOut(Schema):
    elder: IdName
    on: datetime.date
    packages: list[PackageOut]
    quotas: list[QuotaOut]


def _grant(g) -> dict:
    return {
        "item": id_name(g.item),
        "category": id_name(g.category),
        "quantity": g.quantity,
        "unit": g.unit,
        "unit_label": str(g.get_unit_display()),
    }


def _package(p, grants=None) -> dict:
    return {
        "id": p.pk,
        "region": id_name(p.region),
        "code": p.code,
        "name": p.name,
        "ability_levels": p.ability_levels,
        "categories": p.categories,
        "payment_mode": p.payment_mode,
        "payment_mode_label": str(p.get_payment_mode_display()),
        "valid_from": p.valid_from,
        "valid_to": p.valid_to,
        "is_active": p.is_active,
        "grants": [_grant(g) for g in (grants if grants is not None else p.grants.all())],
    }


@router.get("/packages", response={200: list[PackageOut], 403: ErrorOut})
@requires("view", EntitlementPackage)
def package_list_api(request):
    """The packages set on the nodes of your subtree."""
    return [_package(p) for p in selectors.package_list(user=request.user)]


class GrantIn(Schema):
    item: int | None = Field(None, ge=1, le=2**62)
    category: int | None = Field(None, ge=1, le=2**62)
    quantity: int = Field(ge=1, le=10000)
    unit: Literal[tuple(Unit.values)] = Unit.HOUR


class PackageIn(Schema):
    region: int = Field(ge=1, le=2**62, description="a node of your subtree; the package applies to its subtree")
    code: str = Field(max_length=40, description="a lower node's package with the same code replaces this one below it")
    name: str = Field(max_length=60)
    ability_levels: list[Literal[tuple(["intact", "mild", "moderate", "severe", "complete"])]] = Field([], max_length=5)
    categories: list[str] = Field([], max_length=20, description="elder category codes (GET /api/elders/categories)")
    payment_mode: Literal[tuple(PaymentMode.values)] = PaymentMode.GOVERNMENT
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    is_active: bool = True
    grants: list[GrantIn] = Field(max_length=10)


@router.post("/packages", response={201: PackageOut, 422: ErrorOut})
@requires("change", EntitlementPackage)
def package_create_api(request, data: PackageIn):
    """A package on a node of your subtree (another district's node: 404)."""
    region = selectors.price_region_get(user=request.user, region_id=data.region, action="change")
    known = {code for code, _label in selectors.elder_category_choices()}
    unknown = [c for c in data.categories if c not in known]
    if unknown:
        raise ValidationError({"categories": _("未知的老人类别：%(c)s") % {"c": "、".join(unknown)}})
    items = {i.pk: i for i in selectors.item_list(user=request.user)}
    cats = {c.pk: c for c in selectors.category_list(user=request.user)}
    grants = []
    for index, g in enumerate(data.grants):
        if g.item is not None and g.item not in items:
            raise ValidationError({f"grants[{index}].item": _("服务项目不存在，请从服务清单中选择")})
        if g.category is not None and g.category not in cats:
            raise ValidationError({f"grants[{index}].category": _("服务类别不存在，请从类别列表中选择")})
        grants.append({"item": items.get(g.item), "category": cats.get(g.category), "quantity": g.quantity, "unit": g.unit})
    values = data.dict(exclude={"region", "grants"})
    package = services.package_save(
        by=request.user, package=EntitlementPackage(), data={"region": region, **values}, grants=grants
    )
    return Status(201, _package(package))


@router.get("/entitlements/{int:elder_id}", response={200: EntitlementsOut, 403: ErrorOut})
@requires("view", EntitlementPackage)
def entitlements_api(request, elder_id: int, on: datetime.date | None = None):
    """What an elder of your subtree is entitled to a month: the packages that apply and the
    quota of each item or category (what the order settlement draws on)."""
    elder = elder_get(user=request.user, elder_id=elder_id)
    on = on or timezone.localdate()
    ent = selectors.entitlements_for(elder, on)
    return {
        "elder": id_name(elder),
        "on": on,
        "packages": [_package(p, p.grants_list) for p in ent.packages],
        "quotas": [
            {
                "item": id_name(q.item),
                "category": id_name(q.category),
                "quantity": q.quantity,
                "unit": q.unit,
                "unit_label": q.unit_label,
                "packages": [p.pk for p in q.packages],
            }
            for q in ent.quotas
        ],
    }
