"""Writes for users: login with throttling, API tokens, user administration."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, LoginAttempt, User
from accounts.roles import Role
from audit.services import change_record


class LoginThrottled(PermissionDenied):
    pass


def login_is_locked(*, username: str) -> bool:
    since = timezone.now() - timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    recent = LoginAttempt.objects.filter(username=username, at__gte=since).order_by("-at")
    failures = 0
    for succeeded in recent.values_list("succeeded", flat=True)[: settings.LOGIN_MAX_FAILURES]:
        if succeeded:
            break
        failures += 1
    return failures >= settings.LOGIN_MAX_FAILURES


def login_check(*, request, username: str, password: str, via: str = "web") -> User | None:
    """Authenticate, refusing a locked user name; every try is recorded."""
    username = (username or "").strip()
    if login_is_locked(username=username):
        raise LoginThrottled(_("登录失败次数过多,请 %(m)d 分钟后再试") % {"m": settings.LOGIN_LOCK_MINUTES})
    user = authenticate(request, username=username, password=password)
    LoginAttempt.objects.create(
        username=username, ip=request.META.get("REMOTE_ADDR") or None, succeeded=user is not None, via=via
    )
    return user


def _hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(*, user: User) -> str:
    """A new bearer token for `user`; the key itself is shown once and never stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=_hash_token(key), expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    )
    return key


def api_token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__region")
        .filter(key_hash=_hash_token(key), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _check_user_fields(*, by: User, region, role: str) -> None:
    if region is None:
        raise ValidationError({"region": _("请选择所属区域")})
    if not by.region.contains(region):
        raise ValidationError({"region": _("只能把用户分配到本人管辖范围内的区域")})
    if role not in Role.values:
        raise ValidationError({"role": _("角色无效")})
    if role == Role.ADMIN and by.role != Role.ADMIN:
        raise ValidationError({"role": _("只有平台管理员可以设置管理员角色")})


@transaction.atomic
def user_create(*, by: User, username: str, full_name: str, role: str, region, password: str) -> User:
    """Create a user inside `by`'s subtree."""
    if not by.may_code("accounts.add_user"):
        raise PermissionDenied(_("您没有新建用户的权限"))
    _check_user_fields(by=by, region=region, role=role)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名“%(u)s”已被使用") % {"u": username}})
    user = User(username=username, full_name=full_name.strip(), role=role, region=region)
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    change_record(obj=user, action="create", changes={"username": [None, username], "role": [None, role]}, by=by, region=region)
    return user


@transaction.atomic
def user_update(*, by: User, user: User, full_name: str, role: str, region, is_active: bool) -> User:
    """Change a user's name, role, region or active flag; recorded in the history."""
    if not by.may_code("accounts.change_user") or user.region is None or not by.region.contains(user.region):
        # The page fetches the user through restrict(); callers that do not get the same refusal.
        raise PermissionDenied(_("您没有修改此用户的权限"))
    _check_user_fields(by=by, region=region, role=role)
    if user.pk == by.pk and not is_active:
        raise ValidationError({"is_active": _("不能停用自己的账号")})
    before = {"full_name": user.full_name, "role": user.role, "region": user.region_id, "is_active": user.is_active}
    user.full_name, user.role, user.region, user.is_active = full_name.strip(), role, region, is_active
    user.save(update_fields=["full_name", "role", "region", "is_active"])
    after = {"full_name": user.full_name, "role": user.role, "region": user.region_id, "is_active": user.is_active}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        change_record(obj=user, action="update", changes=changes, by=by, region=region)
    return user
