from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from accounts.services import PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=USERNAME_MAX_LENGTH)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, max_length=PASSWORD_MAX_LENGTH)


class UserForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    full_name = forms.CharField(label=_("姓名"), max_length=32, required=False)
    role = forms.ChoiceField(label=_("角色"), choices=Role.choices)
    region = forms.TypedChoiceField(label=_("所属区域"), coerce=int, required=False, empty_value=None)
    organisation = forms.TypedChoiceField(
        label=_("所属服务机构"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("仅“服务机构”“助老服务员”角色：选了机构就不设所属区域，用户只能看到本机构及其人员。"),
    )
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, regions=(), organisations=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [("", "—")] + [(r.pk, f"{'　' * r.level}{r.name}") for r in regions]
        self.fields["organisation"].choices = [("", "—")] + [(o.pk, o.name) for o in organisations]
        if editing:
            self.fields["username"].disabled = True
            del self.fields["password"]
        else:
            self.fields["password"].required = True
            del self.fields["is_active"]
