"""The providers' forms: widgets and labels only; the rules live in providers.services (clean_*)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from providers import models as m


def _choices(enum):
    return [("", "—")] + list(enum.choices)


def _date(label):
    return forms.CharField(label=label, required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))


def _time(label):
    return forms.CharField(label=label, required=False, widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}))


def _days(label):
    return forms.MultipleChoiceField(
        label=label, required=False, choices=m.WEEKDAYS, widget=forms.CheckboxSelectMultiple(attrs={"class": "checks"})
    )


class LenientForm(forms.Form):
    """Fields are parsed by the services; the form renders and carries their errors."""

    def set_errors(self, exc) -> None:
        self.is_valid()
        for field, msgs in exc.message_dict.items():
            for msg in msgs:
                self.add_error(field if field in self.fields else None, msg)


class OrganisationForm(LenientForm):
    name = forms.CharField(label=_("机构名称"), max_length=80, required=False)
    kind = forms.ChoiceField(label=_("机构类型"), choices=_choices(m.OrganisationKind), required=False)
    region = forms.ChoiceField(label=_("所在区域"), required=False)
    rating = forms.ChoiceField(label=_("星级评定"), choices=_choices(m.Rating), required=False)
    rated_on = _date(_("评定日期"))
    contract_number = forms.CharField(label=_("合同编号"), max_length=40, required=False)
    contract_start = _date(_("合同开始"))
    contract_end = _date(_("合同结束"))
    service_area = forms.MultipleChoiceField(
        label=_("服务区域"), required=False, widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("可多选（按住 Ctrl 或长按）；服务区域内的社区由本机构提供服务。"),
    )  # fmt: skip
    contact_name = forms.CharField(label=_("联系人"), max_length=32, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    quota_amount = forms.CharField(
        label=_("购买服务额度"), required=False, widget=forms.NumberInput(attrs={"min": 0}),
        help_text=_("按单位填写整数；单位为“分”时 100 分 = 1 元。"),
    )  # fmt: skip
    quota_unit = forms.ChoiceField(label=_("额度单位"), choices=m.QuotaUnit.choices, required=False)
    quota_period = forms.ChoiceField(label=_("额度周期"), choices=m.QuotaPeriod.choices, required=False)
    status = forms.ChoiceField(label=_("状态"), choices=m.OrganisationStatus.choices, required=False)

    def __init__(self, *args, regions=(), own=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(r.pk, f"{'　' * r.level}{r.name}") for r in regions]
        self.fields["region"].choices = [("", "—")] + choices
        self.fields["service_area"].choices = choices
        if own:  # an organisation's own user changes its contact only
            for name in list(self.fields):
                if name not in ("contact_name", "contact_phone"):
                    del self.fields[name]


class CaregiverForm(LenientForm):
    organisation = forms.ChoiceField(label=_("所属机构"), required=False)
    kind = forms.ChoiceField(label=_("人员类别"), choices=_choices(m.CaregiverKind), required=False)
    name = forms.CharField(label=_("姓名"), max_length=32, required=False)
    id_number = forms.CharField(label=_("身份证号"), max_length=32, required=False)
    sex = forms.ChoiceField(label=_("性别"), choices=_choices(m.Sex), required=False)
    birth_date = _date(_("出生日期"))
    phone = forms.CharField(
        label=_("联系电话"), max_length=32, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    skills = forms.MultipleChoiceField(
        label=_("技能"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "checks"})
    )
    work_start = _time(_("上班时间"))
    work_end = _time(_("下班时间"))
    work_days = _days(_("工作日（未选的为休息日）"))
    languages = forms.CharField(label=_("语言和方言"), max_length=80, required=False, help_text=_("例如：普通话、粤语、潮汕话"))
    home_lat = forms.CharField(
        label=_("住址纬度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_("WGS-84 坐标（手机定位给出的经纬度），例如 39.9087"),
    )  # fmt: skip
    home_lng = forms.CharField(label=_("住址经度"), required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))

    def __init__(self, *args, organisations=(), skills=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "—")] + [(o.pk, o.name) for o in organisations]
        self.fields["skills"].choices = [(s.pk, s.name) for s in skills]
        if editing:
            del self.fields["organisation"]
            self.fields["id_number"].help_text = _("已登记的号码不显示；留空表示不修改，填写则替换。")
            self.fields["phone"].help_text = _("已登记的号码不显示；留空表示不修改，填写则替换。")


class CertificateForm(LenientForm):
    kind = forms.ChoiceField(label=_("证书类型"), required=False)
    number = forms.CharField(label=_("证书编号"), max_length=40, required=False)
    issued_on = _date(_("发证日期"))
    expires_on = _date(_("有效期至"))

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "—")] + [(k.pk, k.name) for k in kinds]


class TeamForm(LenientForm):
    region = forms.ChoiceField(label=_("所属社区"), required=False)
    kind = forms.ChoiceField(label=_("队伍类型"), choices=_choices(m.TeamKind), required=False)
    name = forms.CharField(label=_("队伍名称"), max_length=60, required=False)
    leader = forms.CharField(label=_("队长"), max_length=32, required=False)

    def __init__(self, *args, regions=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "—")] + [(r.pk, r.name) for r in regions]
        if editing:
            del self.fields["region"]


class VolunteerForm(LenientForm):
    region = forms.ChoiceField(label=_("所属社区"), required=False)
    team = forms.ChoiceField(label=_("志愿服务队"), required=False)
    name = forms.CharField(label=_("姓名"), max_length=32, required=False)
    phone = forms.CharField(
        label=_("联系电话"), max_length=32, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    birth_year = forms.CharField(label=_("出生年份"), required=False, widget=forms.NumberInput(attrs={"min": 1920, "max": 2015}))
    skills = forms.MultipleChoiceField(
        label=_("技能"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "checks"})
    )
    available_days = _days(_("可服务日"))
    available_from = _time(_("可服务时段起"))
    available_to = _time(_("可服务时段止"))

    def __init__(self, *args, regions=(), teams=(), skills=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "—")] + [(r.pk, r.name) for r in regions]
        self.fields["team"].choices = [("", "—")] + [(t.pk, f"{t.name}（{t.region.name}）") for t in teams]
        self.fields["skills"].choices = [(s.pk, s.name) for s in skills]
        if editing:
            del self.fields["region"]
            self.fields["phone"].help_text = _("已登记的号码不显示；留空表示不修改，填写则替换。")
