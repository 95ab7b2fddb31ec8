"""The elder form: widgets and labels only; the rules live in elders.validation."""

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from elders import models as m


def _choices(enum):
    return [("", "—")] + list(enum.choices)


class ElderForm(forms.Form):
    region = forms.TypedChoiceField(label=_("所属社区/网格"), coerce=int)
    name = forms.CharField(label=_("姓名"), max_length=32, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=32, required=False)
    sex = forms.ChoiceField(label=_("性别"), choices=_choices(m.Sex), required=False)
    birth_date = forms.CharField(
        label=_("出生日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    address = forms.CharField(label=_("详细地址"), max_length=255, required=False)
    home_lng = forms.CharField(
        label=_("经度"),
        required=False,
        help_text=_("WGS-84 度数，如 116.397；可在网点地图上点选"),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    home_lat = forms.CharField(
        label=_("纬度"), required=False, help_text=_("如 39.909"), widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    hukou = forms.ChoiceField(label=_("户籍类型"), choices=_choices(m.Hukou), required=False)
    living_arrangement = forms.ChoiceField(label=_("居住情况"), choices=_choices(m.LivingArrangement), required=False)
    marital_status = forms.ChoiceField(label=_("婚姻状况"), choices=_choices(m.MaritalStatus), required=False)
    children_count = forms.CharField(label=_("子女数"), required=False, widget=forms.NumberInput(attrs={"min": 0, "max": 20}))
    children_away = forms.BooleanField(label=_("子女在外地"), required=False)
    income_level = forms.ChoiceField(label=_("收入水平"), choices=_choices(m.IncomeLevel), required=False)
    pension_type = forms.ChoiceField(label=_("养老金类型"), choices=_choices(m.PensionType), required=False)
    is_dibao = forms.BooleanField(label=_("低保"), required=False)
    is_tekun = forms.BooleanField(label=_("特困"), required=False)
    disability_grade = forms.ChoiceField(label=_("残疾等级"), choices=_choices(m.DisabilityGrade), required=False)
    ability_level = forms.ChoiceField(label=_("自理能力"), choices=_choices(m.AbilityLevel), required=False)
    chronic_illnesses = forms.CharField(label=_("慢性病"), max_length=255, required=False)
    is_party_member = forms.BooleanField(label=_("老党员"), required=False)
    is_retired_cadre = forms.BooleanField(label=_("离退休干部"), required=False)
    is_veteran_family = forms.BooleanField(label=_("军烈属/优抚对象"), required=False)
    is_model_worker = forms.BooleanField(label=_("老模范"), required=False)
    is_family_planning_special = forms.BooleanField(label=_("计划生育特殊家庭"), required=False)
    interests = forms.CharField(label=_("特长爱好"), max_length=255, required=False)
    care_preference = forms.ChoiceField(label=_("养老意愿"), choices=_choices(m.CarePreference), required=False)
    family_situation = forms.CharField(label=_("家庭情况"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    notes = forms.CharField(label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    contact1_name = forms.CharField(label=_("紧急联系人"), max_length=32, required=False)
    contact1_relation = forms.ChoiceField(label=_("关系"), choices=m.EmergencyContact.Relation.choices, required=False)
    contact1_phone = forms.CharField(label=_("联系人电话"), max_length=32, required=False)
    contact2_name = forms.CharField(label=_("第二联系人"), max_length=32, required=False)
    contact2_relation = forms.ChoiceField(label=_("关系"), choices=m.EmergencyContact.Relation.choices, required=False)
    contact2_phone = forms.CharField(label=_("联系人电话"), max_length=32, required=False)
    # The version of the record the edit page was opened on (a stale save is refused).
    version = forms.IntegerField(
        required=False,
        min_value=1,
        widget=forms.HiddenInput,
        error_messages={key: _("页面已过期，请重新打开编辑页再修改") for key in ("required", "invalid", "min_value")},
    )

    SECTIONS = [
        (
            _("基本信息"),
            ["region", "name", "id_number", "sex", "birth_date", "phone", "hukou", "address", "home_lng", "home_lat"],
        ),
        (
            _("家庭与居住"),
            ["living_arrangement", "marital_status", "children_count", "children_away", "care_preference", "family_situation"],
        ),
        (
            _("保障与健康"),
            ["income_level", "pension_type", "is_dibao", "is_tekun", "disability_grade", "ability_level", "chronic_illnesses"],
        ),
        (
            _("特殊身份与特长"),
            [
                "is_party_member",
                "is_retired_cadre",
                "is_veteran_family",
                "is_model_worker",
                "is_family_planning_special",
                "interests",
            ],
        ),
        (
            _("紧急联系人"),
            ["contact1_name", "contact1_relation", "contact1_phone", "contact2_name", "contact2_relation", "contact2_phone"],
        ),
        (_("备注"), ["notes"]),
    ]

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        top = min((r.level for r in regions), default=0)
        # Indented under their community, in tree order (regions_in_tree_order).
        self.fields["region"].choices = [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions]
        self.fields["id_number"].widget.attrs.update(
            {
                "autocomplete": "off",
                "inputmode": "text",
                "aria-describedby": "id-check",
                # As the number is typed, the page says what is wrong or what it reads (htmx);
                # by POST, so the number stays out of URLs and server logs.
                "hx-post": reverse_lazy("elders:id_check"),
                "hx-params": "id_number",
                "hx-trigger": "input changed delay:400ms",
                "hx-target": "#id-check",
                "hx-swap": "outerHTML",
                "hx-sync": "this:replace",
            }
        )
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        for name in ("contact1_phone", "contact2_phone"):
            self.fields[name].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def sections(self):
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def to_data(self) -> dict:
        """The raw values for the service (checkbox and contact fields reshaped)."""
        data = {k: v for k, v in self.cleaned_data.items() if not k.startswith("contact") and k != "version"}
        data["contacts"] = [
            {
                "name": self.cleaned_data.get(f"contact{i}_name"),
                "relation": self.cleaned_data.get(f"contact{i}_relation"),
                "phone": self.cleaned_data.get(f"contact{i}_phone"),
            }
            for i in (1, 2)
        ]
        return data


class StatusForm(forms.Form):
    action = forms.ChoiceField(label=_("变更"), choices=list(m.STATUS_ACTIONS.items()))
    # An <input type="date"> takes ISO dates only, whatever the language of the page.
    effective_on = forms.DateField(label=_("生效日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    reason = forms.CharField(label=_("原因/去向"), max_length=255, required=False)
    region = forms.TypedChoiceField(label=_("迁入到"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, actions=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a, m.STATUS_ACTIONS[a]) for a in actions]
        self.fields["region"].choices = [("", "—")] + [(r.pk, r.name) for r in regions]


class ReceiveForm(forms.Form):
    """接收迁入: an ID number first; the region, date and reason when confirming."""

    id_number = forms.CharField(label=_("身份证号"), max_length=32, error_messages={"required": _("请填写身份证号")})
    region = forms.TypedChoiceField(label=_("迁入到"), coerce=int, required=False, empty_value=None)
    effective_on = forms.DateField(
        label=_("迁入日期"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
    reason = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        top = min((r.level for r in regions), default=0)
        self.fields["region"].choices = [(r.pk, "\u3000" * (r.level - top) + r.name) for r in regions]
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "inputmode": "text"})
