"""Forms of the time bank's pages: Chinese labels, the checks of the services behind them."""

from django import forms
from django.utils.translation import gettext_lazy as _

from timebank.models import Category, Confirmation

CONFIRM_CHOICES = [(Confirmation.SIGNATURE, _("本人签字（上传签字图片）")), (Confirmation.CODE, _("一次性验证码（会员读出）"))]


class ApplyForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=32)
    region = forms.TypedChoiceField(label=_("所在社区"), coerce=int)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    is_retired_cadre = forms.BooleanField(label=_("离退休干部"), required=False)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = list(regions)


class DecideForm(forms.Form):
    decision = forms.ChoiceField(label=_("审核结果"), choices=[("approve", _("通过")), ("refuse", _("不通过"))])
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class ProxyForm(forms.Form):
    name = forms.CharField(label=_("代理人姓名"), max_length=32)
    relation = forms.CharField(label=_("关系"), max_length=20, help_text=_("如子女、邻居、志愿者"))
    account = forms.CharField(
        label=_("代理人登录账号"), max_length=150, required=False, help_text=_("有账号的代理人可在手机上查看和办理")
    )
    can_view = forms.BooleanField(label=_("可查看账户"), required=False, initial=True)
    can_spend = forms.BooleanField(label=_("可兑换服务"), required=False)
    can_give = forms.BooleanField(label=_("可转赠、捐赠"), required=False)
    ends_on = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    consent_note = forms.CharField(label=_("本人同意方式"), max_length=120, help_text=_("如“本人签字的授权书，存档于社区”"))


class DeskForm(forms.Form):
    action = forms.ChoiceField(label=_("办理事项"), choices=[("withdraw", _("取出时间币")), ("deposit", _("存入服务时长"))])
    minutes = forms.IntegerField(label=_("时长（分钟）"), min_value=1, max_value=1440)
    category = forms.ChoiceField(label=_("服务类别（存入时）"), choices=[("", _("—")), *Category.choices], required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
    confirmation = forms.ChoiceField(label=_("本人确认方式"), choices=CONFIRM_CHOICES, widget=forms.RadioSelect)
    signature = forms.FileField(label=_("签字图片"), required=False, help_text=_("PNG 或 JPEG，不超过 512 KB"))
    code = forms.CharField(label=_("验证码"), max_length=6, required=False, help_text=_("会员读出的 6 位数字"))


class StatementPeriodForm(forms.Form):
    """The period of a PDF statement (both days included; timebank.statement_pdf checks it)."""

    start = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class GiveForm(forms.Form):
    to_number = forms.IntegerField(label=_("对方会员编号"), min_value=1)
    to_name = forms.CharField(label=_("对方姓名"), max_length=32)
    minutes = forms.IntegerField(label=_("转赠时长（分钟）"), min_value=1, max_value=1440)
    note = forms.CharField(label=_("留言"), max_length=200, required=False)


class JoinForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=32, required=False, help_text=_("不填则用账号上的姓名"))
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class DonateForm(forms.Form):
    minutes = forms.IntegerField(label=_("捐赠时长（分钟）"), min_value=1, max_value=1440)


class MoveForm(forms.Form):
    to_bank = forms.TypedChoiceField(label=_("转入的时间银行"), coerce=int)

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_bank"].choices = list(banks)


class BankSettingsForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=60)
    min_age = forms.IntegerField(label=_("最低年龄"), min_value=0, max_value=120, required=False)
    residence = forms.BooleanField(label=_("须为本辖区居民"), required=False)
    approval = forms.BooleanField(label=_("入会须经审核"), required=False)
    credit_line_minutes = forms.IntegerField(label=_("透支额度（分钟）"), min_value=0, max_value=6000)

    def __init__(self, *args, rates=None, **kwargs):
        super().__init__(*args, **kwargs)
        rates = rates or {}
        for code, label in Category.choices:
            self.fields[f"rate_{code}"] = forms.IntegerField(
                label=_("%(c)s折算率（‰）") % {"c": label},
                min_value=1,
                max_value=5000,
                initial=rates.get(code, 1000),
                help_text=_("1000 即服务一小时记一小时") if code == Category.MUTUAL_CARE else "",
            )

    def rates(self) -> dict:
        """The rates that differ from 1000 (a category not listed counts 1000)."""
        return {
            code: self.cleaned_data[f"rate_{code}"]
            for code in Category.values
            if self.cleaned_data.get(f"rate_{code}", 1000) != 1000
        }

    def rate_fields(self):
        return [self[f"rate_{code}"] for code in Category.values]

    def main_fields(self):
        return [self[n] for n in ("name", "min_age", "residence", "approval", "credit_line_minutes")]


def _number_messages(label) -> dict:
    return {
        "invalid": _("“%(f)s”请填写数字。") % {"f": label},
        "min_value": _("“%(f)s”不能为负数。") % {"f": label},
        "max_value": _("“%(f)s”不能超过 %%(limit_value)s。") % {"f": label},
        "max_decimal_places": _("“%(f)s”最多保留 1 位小数。") % {"f": label},
        "max_digits": _("“%(f)s”数值过大，请核对。") % {"f": label},
        "max_whole_digits": _("“%(f)s”数值过大，请核对。") % {"f": label},
    }


def _decimal_field(label, *, max_value: int, max_digits: int) -> forms.DecimalField:
    """A threshold: not negative, one decimal, each error naming the field."""
    return forms.DecimalField(
        label=label,
        min_value=0,
        max_value=max_value,
        max_digits=max_digits,
        decimal_places=1,
        required=False,
        error_messages=_number_messages(label),
    )


class LevelForm(forms.Form):
    """One star level (星级义工): its name, thresholds and the incentive it brings. Hours are
    entered in hours (one decimal: 6 minutes) and kept in minutes."""

    label = forms.CharField(label=_("星级名称"), max_length=20, required=False)
    min_hours = _decimal_field(_("服务时长下限（小时）"), max_value=100000, max_digits=7)
    min_rating = _decimal_field(_("评分下限（0–5）"), max_value=5, max_digits=2)
    incentive = forms.CharField(label=_("激励措施"), max_length=200, required=False)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(f) not in (None, "") for f in ("label", "min_hours", "min_rating", "incentive"))


class BaseLevelFormSet(forms.BaseFormSet):
    """The levels in order, lowest first: each row's hours above the row before and its rating
    not below it. The errors stand beside the field, naming it and the level (the service
    checks the same: timebank.members.clean_levels)."""

    def clean(self):
        if any(self.errors):
            return
        previous = None
        n = 0
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form) or form.is_blank():
                continue
            n += 1
            data = dict(form.cleaned_data)  # add_error drops a field from cleaned_data
            if data.get("min_hours") is None:
                form.add_error("min_hours", _("请填写第 %(i)d 级的“服务时长下限（小时）”。") % {"i": n})
                continue
            if not (data.get("label") or "").strip():
                form.add_error("label", _("请填写第 %(i)d 级的“星级名称”，如“一星义工”。") % {"i": n})
            rating = data.get("min_rating") or 0
            if previous is not None and data["min_hours"] <= previous[0]:
                form.add_error(
                    "min_hours",
                    _("第 %(i)d 级的“服务时长下限（小时）”应高于第 %(p)d 级的 %(h)s 小时，请按从低到高的顺序填写。")
                    % {"i": n, "p": n - 1, "h": f"{previous[0]:g}"},
                )
            if previous is not None and rating < previous[1]:
                form.add_error(
                    "min_rating",
                    _("第 %(i)d 级的“评分下限（0–5）”不能低于第 %(p)d 级的 %(r)s 分。")
                    % {"i": n, "p": n - 1, "r": f"{previous[1]:g}"},
                )
            previous = (data["min_hours"], rating)

    def levels(self) -> list[dict]:
        """The rows filled in, in order, as the bank keeps them (minutes, a float rating)."""
        out = []
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form) or form.is_blank():
                continue
            data = form.cleaned_data
            out.append(
                {
                    "label": (data.get("label") or "").strip(),
                    "min_minutes": int(data["min_hours"] * 60),
                    "min_rating": float(data.get("min_rating") or 0),
                    "incentive": (data.get("incentive") or "").strip(),
                }
            )
        return out


LevelFormSet = forms.formset_factory(
    LevelForm, formset=BaseLevelFormSet, extra=2, max_num=10, validate_max=True, absolute_max=10, can_delete=True
)


def level_initial(levels) -> list[dict]:
    """The bank's levels as the form's rows (minutes shown in hours)."""
    from decimal import Decimal

    return [
        {
            "label": row.get("label", ""),
            "min_hours": (Decimal(int(row.get("min_minutes", 0))) / 60).quantize(Decimal("0.1")),
            "min_rating": Decimal(str(row.get("min_rating", 0))).quantize(Decimal("0.1")),
            "incentive": row.get("incentive", ""),
        }
        for row in levels or []
    ]
