"""Catalogue forms: widgets and labels; the rules live in the models' clean and the services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from catalogue.models import CertificateKind, PaymentMode, ServiceCategory, ServiceItem, Skill, Unit


def _lines(value) -> list[str]:
    return [line.strip() for line in (value or "").replace("，", "\n").replace("、", "\n").splitlines() if line.strip()]


class ItemForm(forms.ModelForm):
    payment_modes = forms.MultipleChoiceField(
        label=_("付费方式"), choices=PaymentMode.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    orderable_by = forms.MultipleChoiceField(
        label=_("可下单角色"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    outcomes = forms.CharField(
        label=_("签退前须记录"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一项，例如：服药已协助"),
    )
    price_yuan = forms.DecimalField(label=_("指导价（元）"), min_value=0, max_digits=9, decimal_places=2, initial=0)

    class Meta:
        model = ServiceItem
        fields = [
            "category",
            "code",
            "name",
            "description",
            "unit",
            "price_yuan",
            "duration_minutes",
            "payment_modes",
            "required_skills",
            "required_certificates",
            "outcomes",
            "orderable_by",
            "position",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "required_skills": forms.CheckboxSelectMultiple,
            "required_certificates": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, roles=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["orderable_by"].choices = list(roles)
        self.fields["category"].queryset = ServiceCategory.objects.order_by("scheme", "position")
        if self.instance.pk:
            self.initial["price_yuan"] = self.instance.price_fen / 100
            self.initial["outcomes"] = "\n".join(self.instance.outcomes)

    def clean_outcomes(self):
        return _lines(self.cleaned_data.get("outcomes"))

    def values(self) -> tuple[dict, dict]:
        """(field values, many-to-many lists) for catalogue.services.vocabulary_save."""
        d = self.cleaned_data
        data = {
            k: d[k]
            for k in (
                "category",
                "code",
                "name",
                "description",
                "unit",
                "duration_minutes",
                "payment_modes",
                "outcomes",
                "orderable_by",
                "position",
                "is_active",
            )
        }
        data["price_fen"] = int(round(d["price_yuan"] * 100))
        return data, {"required_skills": list(d["required_skills"]), "required_certificates": list(d["required_certificates"])}


class CategoryForm(forms.ModelForm):
    class Meta:
        model = ServiceCategory
        fields = ["code", "name", "scheme", "position", "is_active"]


class SkillForm(forms.ModelForm):
    class Meta:
        model = Skill
        fields = ["code", "name", "is_active"]


class CertificateKindForm(forms.ModelForm):
    class Meta:
        model = CertificateKind
        fields = ["code", "name", "family", "rank", "is_active"]


def simple_values(form) -> tuple[dict, dict]:
    return {k: form.cleaned_data[k] for k in form.Meta.fields}, {}


class PriceEntryForm(forms.Form):
    item = forms.TypedChoiceField(label=_("服务项目"), coerce=int)
    price_yuan = forms.DecimalField(label=_("价格（元）"), min_value=0, max_digits=9, decimal_places=2)
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    valid_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        grouped = {}
        for item in items:
            grouped.setdefault(item.category.name, []).append((item.pk, item.name))
        self.fields["item"].choices = [("", "—")] + list(grouped.items())


class PackageForm(forms.Form):
    region = forms.TypedChoiceField(label=_("适用区域"), coerce=int)
    code = forms.SlugField(label=_("代码"), max_length=40, help_text=_("下级区域用相同代码设置服务包，即替换本服务包"))
    name = forms.CharField(label=_("名称"), max_length=60)
    ability_levels = forms.MultipleChoiceField(
        label=_("适用能力等级"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    categories = forms.MultipleChoiceField(
        label=_("适用老人类别"), choices=(), widget=forms.CheckboxSelectMultiple, required=False
    )
    payment_mode = forms.ChoiceField(label=_("付费方式"), choices=PaymentMode.choices)
    valid_from = forms.DateField(label=_("生效日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    valid_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, regions=(), levels=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = list(regions)
        self.fields["ability_levels"].choices = list(levels)
        self.fields["categories"].choices = list(categories)


class GrantForm(forms.Form):
    item = forms.TypedChoiceField(label=_("服务项目"), coerce=int, required=False, empty_value=None)
    category = forms.TypedChoiceField(label=_("或服务类别"), coerce=int, required=False, empty_value=None)
    quantity = forms.IntegerField(label=_("每月数量"), min_value=1, max_value=10000, required=False)
    unit = forms.ChoiceField(label=_("计量单位"), choices=Unit.choices, initial=Unit.HOUR)

    def __init__(self, *args, items=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", "—")] + [(i.pk, f"{i.category.name} · {i.name}") for i in items]
        self.fields["category"].choices = [("", "—")] + [(c.pk, c.name) for c in categories]


GrantFormSet = forms.formset_factory(GrantForm, extra=0, max_num=10, absolute_max=10)
