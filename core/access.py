"""Permission and scope, once, for pages and API handlers alike.

    @login_required / @router.get(...)
    @requires("view", Elder)
    def elder_list(request): ...

    elder = get_scoped_or_404(Elder, request.user, elder_id, "change")

The refusals, the same on every route (docs/architecture.md, "The scope rule"):

- not signed in: a page redirects to the login page, the API answers 401;
- the role lacks `<app>.<action>_<model>`: 403, "您的角色没有此权限";
- the account has no region (nor organisation): 403 saying so and to ask the administrator
  (before this, such a user got a 500 on /elders/ and /regions/);
- a row outside the user's scope: 404, never 403 (its existence is not leaked).

Pages get core/error.html, the API its JSON error shape ({"detail", "errors"}).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from core.scoping import Scope


class NotPermitted(PermissionDenied):
    """The role does not grant the action."""


class NoRegion(PermissionDenied):
    """The account is attached to no region (and no organisation): it reaches nothing."""


def not_permitted_message() -> str:
    return _("您的角色没有此权限。如需办理，请联系管理员调整角色。")


def no_region_message() -> str:
    return _("您的账号尚未分配所属区域，暂时无法查看或办理业务。请联系管理员在“用户管理”中为您分配所属区域。")


def check(user, action: str, model) -> None:
    """Raise NotPermitted or NoRegion unless `user` may do `action` on `model`'s rows at all."""
    if not getattr(user, "is_authenticated", False) or not user.may(action, model):
        raise NotPermitted(not_permitted_message())
    if Scope.of(user).is_empty:
        raise NoRegion(no_region_message())


def requires(action: str, model):
    """A page view's or API handler's guard: signed in, the role grants `action` on `model`,
    and the account has a scope. Refuses as the module says; otherwise calls the view."""

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            from core.middleware import error_response, is_api

            user = request.user
            if not getattr(user, "is_authenticated", False):
                if is_api(request):
                    return error_response(request, status=401, message=_("请先登录或提供有效的令牌"))
                return redirect_to_login(request.get_full_path())
            try:
                check(user, action, model)
            except PermissionDenied as exc:
                if is_api(request):
                    return error_response(request, status=403, message=str(exc))
                raise  # pages: the 403 page (templates/403.html) says the reason, with a way back
            return view(request, *args, **kwargs)

        guarded.required_permission = (action, model)
        return guarded

    return decorate


def get_scoped_or_404(model_or_queryset, user, pk, action: str = "view"):
    """One row in `user`'s scope for `action`: 403 (NotPermitted / NoRegion) when the role or
    account cannot do it at all, 404 when the row is outside the scope or does not exist.
    Pass a queryset (Elder.objects.select_related("region")) to shape the read."""
    queryset = model_or_queryset if hasattr(model_or_queryset, "restrict") else model_or_queryset.objects.all()
    check(user, action, queryset.model)
    return get_object_or_404(queryset.restrict(user, action), pk=pk)
