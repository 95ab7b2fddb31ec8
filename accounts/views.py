"""Login, logout, password change, and user administration within the admin's subtree."""

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms import LoginForm, UserForm
from accounts.models import User
from accounts.roles import PERMISSIONS, ROLE_PERMISSIONS, Role
from accounts.selectors import api_token_list, user_scope
from accounts.services import (
    LoginThrottled,
    api_token_end_own,
    login_check,
    user_create,
    user_password_set,
    user_sessions_end,
    user_update,
)
from core.access import requires
from regions.selectors import region_list


def login_view(request):
    if request.user.is_authenticated:
        return redirect("core:home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = login_check(request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"])
        except LoginThrottled as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error(field, msg)
        else:
            if user is None:
                form.add_error(None, _("用户名或密码不正确"))
            else:
                login(request, user)
                target = request.GET.get("next") or ""
                if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                    target = ""
                return redirect(target or "core:home")
    return render(request, "accounts/login.html", {"form": form})


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("您已退出登录"))
    return redirect("accounts:login")


class PasswordChange(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        user_password_set(by=self.request.user, user=form.user, password=form.cleaned_data["new_password1"])
        # Django's rule for one's own change: every other session and every token ends, this
        # browser stays signed in (the session gets the new hash).
        update_session_auth_hash(self.request, form.user)
        messages.success(self.request, _("密码已修改；其他设备上的登录和全部 API 令牌已失效"))
        return HttpResponseRedirect(self.get_success_url())


@login_required
def token_list(request):
    """The signed-in user's own API tokens: when made, last used, when they expire; never the key."""
    return render(request, "accounts/token_list.html", {"tokens": api_token_list(user=request.user)})


@require_POST
@login_required
def token_end(request, token_id):
    if not api_token_end_own(user=request.user, token_id=token_id):
        raise Http404
    messages.success(request, _("令牌已作废"))
    return redirect("accounts:token_list")


@login_required
@requires("view", User)
def user_list(request):
    qs = user_scope(by=request.user, action="view").select_related("region", "organisation").order_by("region__path", "username")
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(username__icontains=q) | qs.filter(full_name__icontains=q)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "accounts/user_list.html", {"page": page, "q": q})


@login_required
@requires("add", User)
def user_create_form(request):
    return _user_form(request, None)


@login_required
@requires("change", User)
def user_edit_form(request, user_id):
    return _user_form(request, _user_or_404(request.user, user_id))


def _user_or_404(by, user_id):
    """A user `by` manages (their region, or an organisation in it), else 404."""
    return get_object_or_404(user_scope(by=by, action="change"), pk=user_id)


def _user_form(request, target):
    regions = region_list(user=request.user)
    initial = (
        {
            "username": target.username,
            "full_name": target.full_name,
            "role": target.role,
            "region": target.region_id,
            "organisation": target.organisation_id,
            "is_active": target.is_active,
        }
        if target
        else {"region": request.user.region_id}
    )
    organisations = User._meta.get_field("organisation").related_model.objects.within(request.user.region).order_by("name")
    form = UserForm(request.POST or None, regions=regions, organisations=organisations, editing=bool(target), initial=initial)
    tokens = api_token_list(user=target).count() if target else 0
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        region = regions.filter(pk=data["region"]).first() if data["region"] else None
        organisation = organisations.filter(pk=data["organisation"]).first() if data["organisation"] else None
        try:
            if target:
                user_update(
                    by=request.user,
                    user=target,
                    full_name=data["full_name"],
                    role=data["role"],
                    region=region,
                    is_active=data["is_active"],
                    organisation=organisation,
                )
            else:
                user_create(
                    by=request.user,
                    username=data["username"],
                    full_name=data["full_name"],
                    role=data["role"],
                    region=region,
                    password=data["password"],
                    organisation=organisation,
                )
        except ValidationError as exc:
            for field, msgs in exc.message_dict.items():
                for msg in msgs:
                    form.add_error(field if field in form.fields else None, msg)
        else:
            if target and target.pk == request.user.pk:
                update_session_auth_hash(request, target)  # a new role or region ends other sessions, not this one
            messages.success(request, _("用户已保存"))
            return redirect("accounts:user_list")
    return render(request, "accounts/user_form.html", {"form": form, "target": target, "tokens": tokens})


@require_POST
@login_required
@requires("change", User)
def user_end_sessions(request, user_id):
    target = _user_or_404(request.user, user_id)
    ended = user_sessions_end(by=request.user, user=target)
    if target.pk == request.user.pk:
        update_session_auth_hash(request, target)
    messages.success(request, _("已让 %(name)s 在所有设备上退出登录，作废 %(n)d 个 API 令牌") % {"name": target, "n": ended})
    return redirect("accounts:user_edit", user_id=target.pk)


@login_required
@requires("change", User)
def user_password(request, user_id):
    """An administrator sets a new password for a user of their subtree."""
    target = _user_or_404(request.user, user_id)
    form = SetPasswordForm(target, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_password_set(by=request.user, user=target, password=form.cleaned_data["new_password1"])
        except ValidationError as exc:
            for msg in exc.message_dict.get("password", exc.messages):
                form.add_error("new_password2", msg)
        else:
            if target.pk == request.user.pk:
                update_session_auth_hash(request, target)
            messages.success(request, _("已为 %(name)s 设置新密码，其原有登录和 API 令牌已全部失效") % {"name": target})
            return redirect("accounts:user_edit", user_id=target.pk)
    return render(request, "accounts/user_password.html", {"form": form, "target": target})


@login_required
@requires("view", User)
def roles(request):
    rows = [{"code": role.value, "label": role.label, "perms": ROLE_PERMISSIONS.get(role.value, frozenset())} for role in Role]
    return render(request, "accounts/roles.html", {"roles": rows, "permissions": PERMISSIONS})
