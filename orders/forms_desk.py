"""Forms of the order desk, the hotline, recurring plans and agreements: widgets and labels; the
rules live in the services (orders.services, orders.plans, orders.agreements)."""

import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from core.redact import redact_numbers
from orders.models import OrderPlan, Source

DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
TIME = forms.TimeInput(format="%H:%M", attrs={"type": "time", "step": 300})
REASON_ATTRS = {"maxlength": 200, "autocomplete": "off"}


def _grouped_items(items) -> list:
    grouped = {}
    for item in items:
        grouped.setdefault(item.category.name, []).append((item.pk, item.name))
    return [("", "—")] + list(grouped.items())


class DispatchForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("服务机构"), coerce=int, required=False, empty_value=None)
    caregiver = forms.TypedChoiceField(label=_("服务人员"), coerce=int, required=False, empty_value=None)
    volunteer = forms.TypedChoiceField(label=_("志愿者"), coerce=int, required=False, empty_value=None)
    reason = forms.CharField(label=_("改派原因"), required=False, max_length=2000, widget=forms.TextInput(attrs=REASON_ATTRS))

    def __init__(self, *args, organisations=(), caregivers=(), volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "—")] + [(o.pk, o.name) for o in organisations]
        self.fields["caregiver"].choices = [("", "—")] + [(c.pk, f"{c.name}（{c.organisation.name}）") for c in caregivers]
        self.fields["volunteer"].choices = [("", "—")] + [(v.pk, v.name) for v in volunteers]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=2000, widget=forms.TextInput(attrs=REASON_ATTRS))

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("来电号码"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "placeholder": _("手机号或带区号的固定电话"), "autofocus": True}
        ),
    )


SOURCES_AT_DESK = [(s, label) for s, label in Source.choices if s != Source.PLAN]


class OrderForm(forms.Form):
    item = forms.TypedChoiceField(label=_("服务项目"), coerce=int, empty_value=None)
    day = forms.DateField(label=_("服务日期"), widget=DATE)
    time = forms.TimeField(label=_("上门时间"), widget=TIME)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=99, initial=1)
    payment_mode = forms.ChoiceField(label=_("付费方式"), required=False)
    notes = forms.CharField(
        label=_("备注"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2, "maxlength": 500})
    )
    source = forms.ChoiceField(label=_("来源"), choices=SOURCES_AT_DESK, initial=Source.HOTLINE)
    caller_name = forms.CharField(label=_("来电人"), required=False, max_length=200)
    caller_relation = forms.CharField(label=_("与老人关系"), required=False, max_length=200)
    need = forms.TypedChoiceField(label=_("对应需求"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, items=(), modes=(), needs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = _grouped_items(items)
        self.fields["payment_mode"].choices = [("", _("按服务项目默认"))] + list(modes)
        self.fields["need"].choices = [("", "—")] + [(n.pk, n.description[:30]) for n in needs]

    # A phone or ID number typed into free text would be kept whole on the order (and shown to
    # the caregiver): numbers belong in the elder's record, encrypted (issue 8, core.redact).
    def _no_number(self, name):
        value = self.cleaned_data.get(name) or ""
        if redact_numbers(value) != unicodedata.normalize("NFKC", value):
            raise forms.ValidationError(_("请不要在这里填写电话或证件号码：联系电话请登记在老人档案的紧急联系人中"))
        return value

    def clean_notes(self):
        return self._no_number("notes")

    def clean_caller_name(self):
        return self._no_number("caller_name")

    def clean_caller_relation(self):
        return self._no_number("caller_relation")


PATTERNS = [
    ("daily", _("每天")),
    ("workdays", _("每个工作日（含调休上班日，跳过法定节假日）")),
    ("weekly", _("每周固定几天")),
    ("custom", _("自定义规则（RFC 5545）")),
]
WEEKDAY_CHOICES = [
    ("MO", _("周一")),
    ("TU", _("周二")),
    ("WE", _("周三")),
    ("TH", _("周四")),
    ("FR", _("周五")),
    ("SA", _("周六")),
    ("SU", _("周日")),
]


class PlanForm(forms.Form):
    item = forms.TypedChoiceField(label=_("服务项目"), coerce=int, empty_value=None)
    pattern = forms.ChoiceField(label=_("重复"), choices=PATTERNS, initial="workdays", widget=forms.RadioSelect)
    weekdays = forms.MultipleChoiceField(
        label=_("星期"), choices=WEEKDAY_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    rrule = forms.CharField(
        label=_("自定义规则"),
        required=False,
        max_length=400,
        help_text=_("例如每周五：FREQ=WEEKLY;BYDAY=FR；每两周一次：FREQ=WEEKLY;INTERVAL=2；每月1日：FREQ=MONTHLY;BYMONTHDAY=1"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    calendar = forms.ChoiceField(label=_("节假日"), choices=OrderPlan.Calendar.choices, initial=OrderPlan.Calendar.ALL_DAYS)
    starts_on = forms.DateField(label=_("开始日期"), widget=DATE)
    ends_on = forms.DateField(label=_("结束日期"), required=False, widget=DATE, help_text=_("不填则长期执行"))
    start_time = forms.TimeField(label=_("上门时间"), widget=TIME)
    duration_minutes = forms.IntegerField(label=_("时长（分钟）"), min_value=1, max_value=10000)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=99, initial=1)
    payment_mode = forms.ChoiceField(label=_("付费方式"), required=False)
    organisation = forms.TypedChoiceField(label=_("服务机构"), coerce=int, required=False, empty_value=None)
    caregiver = forms.TypedChoiceField(label=_("固定服务人员"), coerce=int, required=False, empty_value=None)
    auto_dispatch = forms.BooleanField(label=_("生成后自动派单"), required=False, initial=True)
    agreement = forms.TypedChoiceField(label=_("服务协议"), coerce=int, required=False, empty_value=None)
    notes = forms.CharField(label=_("备注"), required=False, max_length=400)

    def __init__(self, *args, items=(), modes=(), organisations=(), caregivers=(), agreements=(), with_item=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = _grouped_items(items)
        if not with_item:
            del self.fields["item"]
        self.fields["payment_mode"].choices = [("", _("按服务项目默认"))] + list(modes)
        self.fields["organisation"].choices = [("", "—")] + [(o.pk, o.name) for o in organisations]
        self.fields["caregiver"].choices = [("", "—")] + [(c.pk, f"{c.name}（{c.organisation.name}）") for c in caregivers]
        self.fields["agreement"].choices = [("", "—")] + [(a.pk, a.number) for a in agreements]

    def rule(self) -> tuple[str, str]:
        """(rrule, calendar) from the pattern the worker chose."""
        data = self.cleaned_data
        pattern, calendar = data.get("pattern"), data.get("calendar") or OrderPlan.Calendar.ALL_DAYS
        if pattern == "daily":
            return "FREQ=DAILY", calendar
        if pattern == "workdays":
            # Every day of the rule, kept when China's calendar says it is a working day: make-up
            # working Saturdays are served, holidays on weekdays are not.
            return "FREQ=DAILY", OrderPlan.Calendar.WORKING_DAYS
        if pattern == "weekly":
            days = [d for d, _label in WEEKDAY_CHOICES if d in (data.get("weekdays") or [])]
            return ("FREQ=WEEKLY;BYDAY=" + ",".join(days)) if days else "", calendar
        return data.get("rrule") or "", calendar


class PlanEndForm(forms.Form):
    ends_on = forms.DateField(label=_("最后服务日期"), widget=DATE)
    reason = forms.CharField(label=_("结束原因"), max_length=2000, widget=forms.TextInput(attrs=REASON_ATTRS))


FREQUENCY_CHOICES = [("month", _("每月")), ("week", _("每周")), ("day", _("每天")), ("once", _("单次"))]
PAYER_CHOICES = [("elder", _("老人自付")), ("government", _("政府购买")), ("subsidy", _("补贴额度")), ("free", _("无偿服务"))]


class AgreementForm(forms.Form):
    organisation = forms.TypedChoiceField(label=_("服务机构（乙方）"), coerce=int, required=False, empty_value=None)
    valid_from = forms.DateField(label=_("生效日期"), widget=DATE)
    valid_to = forms.DateField(label=_("截止日期"), required=False, widget=DATE, help_text=_("不填则长期有效"))
    terms = forms.CharField(label=_("约定事项"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", _("（由社区统一派单）"))] + [(o.pk, o.name) for o in organisations]


class AgreementLineForm(forms.Form):
    item = forms.TypedChoiceField(label=_("服务项目"), coerce=int, required=False, empty_value=None)
    quantity = forms.IntegerField(label=_("数量"), min_value=1, max_value=999, required=False)
    frequency = forms.ChoiceField(label=_("频次"), choices=FREQUENCY_CHOICES, initial="month", required=False)
    payer = forms.ChoiceField(label=_("由谁支付"), choices=PAYER_CHOICES, initial="elder", required=False)

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = _grouped_items(items)


AgreementLineFormSet = forms.formset_factory(AgreementLineForm, extra=4, max_num=20, validate_max=True)


class SignForm(forms.Form):
    signatory = forms.CharField(label=_("签字人（老人或代理人）"), max_length=200)
    signed_on = forms.DateField(label=_("签订日期"), widget=DATE)
