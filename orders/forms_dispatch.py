"""Forms of the dispatch pages: the elder's preferences and a caregiver's absence. They take
the input's shape; the rules (and their messages) are the services'."""

from django import forms
from django.utils.translation import gettext_lazy as _

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")  # what <input type=date> reads
SEXES = [("", _("不限")), ("F", _("女")), ("M", _("男"))]


def add_errors(form, exc) -> None:
    """A service's ValidationError beside the fields it names (else above the form)."""
    for field, messages in exc.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


class PreferenceForm(forms.Form):
    caregiver_sex = forms.ChoiceField(label=_("服务人员性别"), choices=SEXES, required=False)
    languages = forms.CharField(
        label=_("语言和方言"), required=False, max_length=80, help_text=_("多个用顿号分开，例如：粤语、普通话")
    )
    preferred_caregiver = forms.TypedChoiceField(label=_("指定服务人员"), required=False, coerce=int, empty_value=None)
    notes = forms.CharField(label=_("其他要求"), required=False, max_length=200)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_caregiver"].choices = [("", _("不指定")), *((p.pk, str(p)) for p in people)]
        self.fields["preferred_caregiver"].help_text = _("可选曾为老人服务过的人员")


class AbsenceForm(forms.Form):
    caregiver = forms.TypedChoiceField(
        label=_("服务人员"),
        coerce=int,
        error_messages={"required": _("请选择服务人员"), "invalid_choice": _("请从列表中选择本机构的服务人员")},
    )
    starts_on = forms.DateField(
        label=_("开始日期"),
        widget=DATE,
        error_messages={"required": _("请填写开始日期"), "invalid": _("开始日期请写成 2025-03-01 的格式")},
    )
    ends_on = forms.DateField(
        label=_("结束日期"),
        required=False,
        widget=DATE,
        help_text=_("只请一天可不填"),
        error_messages={"invalid": _("结束日期请写成 2025-03-01 的格式")},
    )
    reason = forms.ChoiceField(label=_("原因"), error_messages={"required": _("请选择原因")})
    note = forms.CharField(label=_("说明"), required=False, max_length=120)

    def __init__(self, *args, people=(), reasons=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["caregiver"].choices = [("", _("请选择")), *((p.pk, f"{p.name}（{p.organisation.name}）") for p in people)]
        self.fields["reason"].choices = list(reasons)
