"""Forms of the evaluation, supervision and family pages: widgets and labels; the rules live
in orders.quality and orders.family."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import FamilyLink
from orders.quality import CHECK_LABELS, RATING_WORDS

YES_NO = [("yes", _("是")), ("no", _("否"))]


def _yes_no(label):
    return forms.ChoiceField(label=label, choices=YES_NO, widget=forms.RadioSelect, required=False)


class CallBackForm(forms.Form):
    reached = forms.ChoiceField(
        label=_("是否联系上老人或家属"), choices=[("yes", _("联系上了")), ("no", _("没联系上"))], widget=forms.RadioSelect
    )
    received = _yes_no(CHECK_LABELS["received"])
    on_time = _yes_no(CHECK_LABELS["on_time"])
    full_duration = _yes_no(CHECK_LABELS["full_duration"])
    same_worker = _yes_no(CHECK_LABELS["same_worker"])
    note = forms.CharField(
        label=_("回访记录"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": _("例如：老人说阿姨只待了半小时")}),
    )
    rating = forms.TypedChoiceField(
        label=_("代老人评价（可不填）"),
        choices=[("", _("不代评"))] + [(n, f"{n} · {w}") for n, w in RATING_WORDS.items()],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("老人的评价意见"), max_length=300, required=False)

    def __init__(self, *args, may_rate: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_rate:
            del self.fields["rating"]
            del self.fields["comment"]

    def answers(self) -> dict:
        data = self.cleaned_data
        reached = data["reached"] == "yes"

        def yes_no(name):
            return {"yes": True, "no": False}.get(data.get(name) or "")

        out = {"reached": reached, "note": data.get("note", "")}
        out.update({name: yes_no(name) for name in CHECK_LABELS} if reached else {})
        if "rating" in self.fields:
            out["rating"] = data.get("rating")
            out["comment"] = data.get("comment", "")
        return out


class CloseForm(forms.Form):
    outcome = forms.CharField(
        label=_("办结情况"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：已约谈服务机构，次日重新上门，老人表示满意")}),
    )


class ComplaintForm(forms.Form):
    note = forms.CharField(
        label=_("投诉内容"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("例如：家属来电，服务人员迟到一小时")}),
    )


class FamilyLinkForm(forms.Form):
    account = forms.CharField(
        label=_("家属账号（用户名）"),
        max_length=150,
        help_text=_("家属已开通的账号，角色为“老人/家属”；还没有账号的，请联系管理员开通。"),
    )
    relation = forms.ChoiceField(label=_("与老人的关系"), choices=FamilyLink.Relation.choices, initial=FamilyLink.Relation.CHILD)
    consent_on = forms.DateField(
        label=_("老人同意日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}), initial=timezone.localdate
    )
    consent_note = forms.CharField(
        label=_("同意方式"), max_length=120, help_text=_("例如：本人签字同意书，存档编号 2026-001；或电话录音，编号……")
    )


class EndForm(forms.Form):
    reason = forms.CharField(label=_("解除原因"), max_length=200, required=False)
