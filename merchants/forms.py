"""The merchant form: widgets and labels only; the rules live in merchants.validation."""

from django import forms
from django.utils.translation import gettext_lazy as _

from merchants.hours import WEEKDAYS, day_text
from merchants.models import AgreementStatus, Kind

_DATE = {"type": "date"}


class MerchantForm(forms.Form):
    region = forms.TypedChoiceField(label=_("所属社区/街道"), coerce=int)
    name = forms.CharField(label=_("名称"), max_length=80, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=[("", "—")] + list(Kind.choices), required=False)
    address = forms.CharField(label=_("地址"), max_length=255, required=False)
    lng = forms.CharField(
        label=_("经度"),
        required=False,
        help_text=_("WGS-84 度数，如 116.397；也可在网点地图上点选。高德、腾讯、百度地图的坐标有约 500 米偏移，请勿直接抄用"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    lat = forms.CharField(
        label=_("纬度"), required=False, help_text=_("如 39.909"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    phone = forms.CharField(label=_("电话"), max_length=32, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    contact_name = forms.CharField(label=_("联系人"), max_length=32, required=False)
    agreement_no = forms.CharField(label=_("协议编号"), max_length=40, required=False)
    signed_on = forms.CharField(label=_("签订日期"), required=False, widget=forms.DateInput(attrs=_DATE))
    period_start = forms.CharField(label=_("协议开始"), required=False, widget=forms.DateInput(attrs=_DATE))
    period_end = forms.CharField(label=_("协议结束"), required=False, widget=forms.DateInput(attrs=_DATE))
    status = forms.ChoiceField(label=_("协议状态"), choices=AgreementStatus.choices, required=False)
    discount = forms.CharField(
        label=_("优惠幅度（%）"),
        required=False,
        help_text=_("5 到 10 之间，可带一位小数；没有优惠留空"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    items = forms.MultipleChoiceField(label=_("提供的服务项目"), required=False, widget=forms.CheckboxSelectMultiple, choices=[])
    goods = forms.CharField(label=_("商品与服务说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, regions=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        top = min((r.level for r in regions), default=0)
        self.fields["region"].choices = [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions]
        self.fields["items"].choices = [(str(i.pk), i.name) for i in items]
        for index, label in enumerate(WEEKDAYS):
            self.fields[f"hours_{index}"] = forms.CharField(
                label=label,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "08:00-20:00"}),
            )

    SECTIONS = [
        (_("网点"), ["region", "name", "kind", "address", "lng", "lat", "phone", "contact_name"]),
        (_("为老服务协议"), ["agreement_no", "signed_on", "period_start", "period_end", "status", "discount"]),
        (_("服务与商品"), ["items", "goods"]),
        (_("营业时间（不营业写“休息”，多段用逗号分开）"), [f"hours_{i}" for i in range(7)]),
        (_("备注"), ["notes"]),
    ]

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def to_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("hours_") and k != "version"}
        data["opening_hours"] = [self.cleaned_data.get(f"hours_{i}", "") for i in range(7)]
        return data

    @staticmethod
    def initial_for(merchant) -> dict:
        initial = {
            f: getattr(merchant, f)
            for f in (
                "name",
                "kind",
                "address",
                "lng",
                "lat",
                "phone",
                "contact_name",
                "agreement_no",
                "status",
                "goods",
                "notes",
            )
        }
        for f in ("signed_on", "period_start", "period_end"):
            value = getattr(merchant, f)
            initial[f] = value.isoformat() if value else ""
        initial["region"] = merchant.region_id
        initial["discount"] = merchant.discount_percent.rstrip("%")
        initial["items"] = [str(pk) for pk in merchant.items.values_list("pk", flat=True)]
        initial["version"] = merchant.version
        for i in range(7):
            initial[f"hours_{i}"] = day_text(merchant.opening_hours, i) or ("休息" if merchant.opening_hours else "")
        return initial
