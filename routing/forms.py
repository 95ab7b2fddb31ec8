from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from routing.models import Kind


class PlanForm(forms.Form):
    owner = forms.ChoiceField(label=_("为谁排"), help_text=_("上门服务和送餐选服务机构；网格走访选社区或网格"))
    # ISO is what <input type=date> reads (the zh-hans input format would leave it empty).
    day = forms.DateField(label=_("日期"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类型"), choices=Kind.choices)

    def __init__(self, *args, owners: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [(f"org:{o.pk}", o.name) for o in owners["organisations"]] + [
            (f"region:{r.pk}", f"{r.name}（{r.get_level_display()}）") for r in owners["regions"]
        ]
        self.fields["day"].initial = timezone.localdate() + timezone.timedelta(days=1)
