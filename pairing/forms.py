"""The pairing forms: widgets and labels; the rules live in pairing.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from pairing.models import PartnerKind, Role


class PairingForm(forms.Form):
    role = forms.ChoiceField(label=_("结对角色"), choices=Role.choices, initial=Role.WATCHER, widget=forms.RadioSelect)
    partner_kind = forms.ChoiceField(label=_("结对人身份"), choices=PartnerKind.choices, initial=PartnerKind.NEIGHBOUR)
    volunteer = forms.TypedChoiceField(
        label=_("志愿者"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("结对人是登记的志愿者时选择，姓名和电话自动带出"),
    )
    partner_name = forms.CharField(label=_("结对人姓名"), max_length=32, required=False)
    phone = forms.CharField(
        label=_("结对人电话"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    account = forms.CharField(
        label=_("结对人账号"),
        max_length=150,
        required=False,
        help_text=_("结对人已开通“老人/家属”或志愿者账号的，填写账号用户名，他就能在手机上看到结对的老人"),
    )
    starts_on = forms.DateField(label=_("开始日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    address_note = forms.CharField(
        label=_("住址关系"), max_length=60, required=False, widget=forms.TextInput(attrs={"placeholder": _("例如：同楼对门")})
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].choices = [("", "—")] + [(v.pk, f"{v.name}（{v.phone_masked}）") for v in volunteers]


class EndForm(forms.Form):
    reason = forms.CharField(label=_("结束原因"), max_length=120)
    ends_on = forms.DateField(
        label=_("结束日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
