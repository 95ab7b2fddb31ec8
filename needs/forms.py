"""The needs forms: widgets and labels; the rules live in needs.services."""

from django import forms
from django.utils.translation import gettext_lazy as _

from needs.models import NEED_ACTIONS, Kind, Source


class NeedForm(forms.Form):
    kind = forms.ChoiceField(label=_("需求类型"), choices=Kind.choices, initial=Kind.GENERAL)
    source = forms.ChoiceField(label=_("需求来源"), choices=Source.choices, initial=Source.VISIT)
    description = forms.CharField(
        label=_("需求描述"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：行动不便，希望每周有人上门打扫卫生")}),
    )
    items = forms.TypedMultipleChoiceField(
        label=_("对应服务项目"), coerce=int, required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    follow_up_on = forms.DateField(
        label=_("跟进日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    responsible = forms.TypedChoiceField(label=_("负责人"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, items=(), people=(), **kwargs):
        super().__init__(*args, **kwargs)
        grouped = {}
        for item in items:
            grouped.setdefault(item.category.name, []).append((item.pk, item.name))
        self.fields["items"].choices = list(grouped.items())
        self.fields["responsible"].choices = [("", "—")] + [(u.pk, u.full_name or u.username) for u in people]


class MoveForm(forms.Form):
    action = forms.ChoiceField(label=_("操作"), choices=list(NEED_ACTIONS.items()))
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)
    follow_up_on = forms.DateField(
        label=_("跟进日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
