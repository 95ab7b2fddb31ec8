"""Pages of the catalogue: items (everyone who orders or provides reads them; the platform
admin edits), the vocabulary (categories, skills, certificate kinds), price lists and
entitlement packages by region."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import Role
from catalogue import selectors, services
from catalogue.forms import (
    CategoryForm,
    CertificateKindForm,
    GrantFormSet,
    ItemForm,
    PackageForm,
    PriceEntryForm,
    SkillForm,
    simple_values,
)
from catalogue.models import EntitlementPackage, PaymentMode, PriceList, Scheme, ServiceItem
from core.access import requires
from regions.selectors import region_list, regions_in_tree_order


def _form_errors(form, exc: ValidationError):
    for field, msgs in exc.message_dict.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


def _int(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**62 else None


@login_required
@requires("view", ServiceItem)
def item_list(request):
    params = request.GET
    scheme = params.get("scheme") if params.get("scheme") in Scheme.values else ""
    mode = params.get("payment_mode") if params.get("payment_mode") in PaymentMode.values else ""
    q = (params.get("q") or "")[:40]
    items = selectors.item_list(user=request.user, scheme=scheme, category=_int(params.get("category")), payment_mode=mode, q=q)
    groups = {}
    for item in items:
        groups.setdefault(item.category, []).append(item)
    context = {
        "groups": list(groups.items()),
        "count": sum(len(v) for v in groups.values()),
        "values": {"scheme": scheme, "payment_mode": mode, "q": q, "category": _int(params.get("category")) or ""},
        "schemes": Scheme.choices,
        "modes": PaymentMode.choices,
        "categories": selectors.category_list(user=request.user),
        "can_change": request.user.may("change", ServiceItem),
        "can_prices": request.user.may("view", PriceList),
        "can_packages": request.user.may("view", EntitlementPackage),
        "mode_labels": dict(PaymentMode.choices),
        "role_labels": dict(Role.choices),
    }
    return render(request, "catalogue/item_list.html", context)


@login_required
@requires("view", ServiceItem)
def item_detail(request, item_id):
    item = selectors.item_get(user=request.user, item_id=item_id)
    price = None
    if request.user.region is not None:
        price = selectors.price_for(item, request.user.region)
    context = {
        "item": item,
        "price": price,
        "modes": [PaymentMode(m).label for m in item.payment_modes if m in PaymentMode.values],
        "roles": [Role(r).label for r in item.orderable_by if r in Role.values],
        "can_change": request.user.may("change", ServiceItem),
    }
    return render(request, "catalogue/item_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", ServiceItem)
def item_edit(request, item_id=None):
    item = selectors.item_get(user=request.user, item_id=item_id, action="change") if item_id else ServiceItem()
    form = ItemForm(request.POST or None, instance=item, roles=Role.choices)
    if request.method == "POST" and form.is_valid():
        data, m2m = form.values()
        try:
            saved = services.vocabulary_save(by=request.user, obj=item, data=data, m2m=m2m)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存服务项目：%(name)s") % {"name": saved.name})
            return redirect("catalogue:item_detail", saved.pk)
    return render(
        request, "catalogue/form.html", {"form": form, "title": item.name or _("新建服务项目"), "back": "catalogue:items"}
    )


VOCABULARY = {
    "categories": (CategoryForm, selectors.category_get, "category_id", gettext_lazy("服务类别")),
    "skills": (SkillForm, selectors.skill_get, "skill_id", gettext_lazy("技能")),
    "certificates": (CertificateKindForm, selectors.certificate_kind_get, "kind_id", gettext_lazy("证书类型")),
}


@login_required
@requires("view", ServiceItem)
def vocabulary(request):
    context = {
        "categories": selectors.category_list(user=request.user),
        "skills": selectors.skill_list(user=request.user),
        "certificates": selectors.certificate_kind_list(user=request.user),
        "can_change": request.user.may("change", ServiceItem),
    }
    return render(request, "catalogue/vocabulary.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", ServiceItem)
def vocabulary_edit(request, kind, pk=None):
    if kind not in VOCABULARY:
        raise Http404
    form_class, getter, key, noun = VOCABULARY[kind]
    obj = getter(user=request.user, action="change", **{key: pk}) if pk else form_class.Meta.model()
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        data, _m2m = simple_values(form)
        try:
            services.vocabulary_save(by=request.user, obj=obj, data=data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存%(noun)s") % {"noun": noun})
            return redirect("catalogue:vocabulary")
    title = str(obj) if pk else _("新建%(noun)s") % {"noun": noun}
    return render(request, "catalogue/form.html", {"form": form, "title": title, "back": "catalogue:vocabulary"})


# --- price lists -------------------------------------------------------------------------------


def _price_regions(user):
    """The nodes of the user's subtree a price list can be set on (city down to community)."""
    return region_options(user, max_level=5, min_level=2)


def region_options(user, *, max_level: int, min_level: int = 0) -> list[tuple[int, str]]:
    """(id, indented name) of the user's subtree down to `max_level`, as the tree reads."""
    top = max(user.region.level, min_level)
    nodes = region_list(user=user).filter(level__gte=top, level__lte=max_level).order_by("level", "path")[:500]
    return [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions_in_tree_order(nodes)]


@login_required
@requires("view", PriceList)
def price_lists(request):
    context = {
        "lists": selectors.price_list_regions(user=request.user),
        "regions": _price_regions(request.user),
        "can_change": request.user.may("change", PriceList),
    }
    return render(request, "catalogue/price_lists.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("view", PriceList)
def price_list(request, region_id):
    region = selectors.price_region_get(user=request.user, region_id=region_id)
    on = timezone.localdate()
    can_change = request.user.may("change", PriceList)
    items = list(selectors.item_list(user=request.user, active_only=True))
    form = PriceEntryForm(request.POST or None, items=items, initial={"valid_from": on})
    if request.method == "POST":
        if not can_change:
            from core.access import NotPermitted, not_permitted_message

            raise NotPermitted(not_permitted_message())
        if form.is_valid():
            d = form.cleaned_data
            by_id = {i.pk: i for i in items}
            try:
                services.price_entry_set(
                    by=request.user,
                    region=region,
                    item=by_id[d["item"]],
                    price_fen=int(round(d["price_yuan"] * 100)),
                    valid_from=d["valid_from"],
                    valid_to=d["valid_to"],
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("已设置价格"))
                return redirect("catalogue:price_list", region.pk)
    prices = selectors.prices_for(items, region, on)
    rows = [{"item": i, "price": prices[i.pk]} for i in items]
    context = {
        "region": region,
        "on": on,
        "rows": rows,
        "entries": selectors.price_entries_at(user=request.user, region=region),
        "form": form,
        "can_change": can_change,
    }
    return render(request, "catalogue/price_list.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
@requires("change", PriceList)
def price_entry_delete(request, entry_id):
    entry = selectors.price_entry_get(user=request.user, entry_id=entry_id)
    region = entry.price_list.region
    services.price_entry_delete(by=request.user, entry=entry)
    messages.success(request, _("已删除价格"))
    return redirect("catalogue:price_list", region.pk)


# --- entitlement packages ------------------------------------------------------------------------


@login_required
@requires("view", EntitlementPackage)
def package_list(request):
    context = {
        "packages": selectors.package_list(user=request.user),
        "can_change": request.user.may("change", EntitlementPackage),
        "levels": dict(selectors.ability_level_choices()),
        "categories": dict(selectors.elder_category_choices()),
    }
    return render(request, "catalogue/package_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@requires("change", EntitlementPackage)
def package_edit(request, package_id=None):
    package = (
        selectors.package_get(user=request.user, package_id=package_id, action="change") if package_id else EntitlementPackage()
    )
    regions = _price_regions(request.user)
    items = list(selectors.item_list(user=request.user, active_only=True))
    cats = list(selectors.category_list(user=request.user, active_only=True))
    initial = {"valid_from": timezone.localdate(), "payment_mode": PaymentMode.GOVERNMENT, "is_active": True}
    grants_initial = [{"unit": "hour"}] * 3
    if package.pk:
        initial = {
            f: getattr(package, f)
            for f in ("code", "name", "ability_levels", "categories", "payment_mode", "valid_from", "valid_to", "is_active")
        }
        initial["region"] = package.region_id
        grants_initial = [
            {"item": g.item_id, "category": g.category_id, "quantity": g.quantity, "unit": g.unit} for g in package.grants.all()
        ]
        grants_initial += [{"unit": "hour"}]
    form = PackageForm(
        request.POST or None,
        initial=initial,
        regions=regions,
        levels=selectors.ability_level_choices(),
        categories=selectors.elder_category_choices(),
    )
    formset = GrantFormSet(
        request.POST or None, initial=grants_initial, prefix="grants", form_kwargs={"items": items, "categories": cats}
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        d = dict(form.cleaned_data)
        region = selectors.price_region_get(user=request.user, region_id=d.pop("region"), action="change")
        items_by_id = {i.pk: i for i in items}
        cats_by_id = {c.pk: c for c in cats}
        grants = [
            {
                "item": items_by_id.get(g["item"]),
                "category": cats_by_id.get(g["category"]),
                "quantity": g["quantity"],
                "unit": g["unit"],
            }
            for g in formset.cleaned_data
            if g and (g.get("item") or g.get("category") or g.get("quantity"))
        ]
        try:
            services.package_save(by=request.user, package=package, data={"region": region, **d}, grants=grants)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存服务包"))
            return redirect("catalogue:packages")
    context = {"form": form, "formset": formset, "package": package}
    return render(request, "catalogue/package_form.html", context, status=422 if request.method == "POST" else 200)
