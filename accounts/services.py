"""Writes for users: login with throttling, API tokens, user administration."""

import datetime
import hashlib
import math
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
from core.request import client_address

# AbstractUser.username's max_length: a longer name cannot be an account.
USERNAME_MAX_LENGTH = 150
# Far above any pass phrase; bounds the work of hashing what a stranger sends.
PASSWORD_MAX_LENGTH = 1024


class LoginThrottled(PermissionDenied):
    """Too many failures: `retry_at` is when the oldest counted failure leaves the window."""

    def __init__(self, *, retry_at: datetime.datetime):
        self.retry_at = retry_at
        super().__init__(
            _("登录失败次数过多，请在 %(time)s 之后再试（约 %(m)d 分钟后）")
            % {"time": timezone.localtime(retry_at).strftime("%H:%M"), "m": math.ceil(self.retry_after / 60)}
        )

    @property
    def retry_after(self) -> int:
        """Whole seconds until the next try is accepted (at least 1), for Retry-After."""
        return max(1, math.ceil((self.retry_at - timezone.now()).total_seconds()))


def login_retry_at(*, username: str, ip: str | None) -> datetime.datetime | None:
    """When a login for `username` from `ip` may be tried again, or None if it may now.

    Two limits within LOGIN_LOCK_MINUTES: LOGIN_MAX_FAILURES failures in a row for this name
    from this address (a success from the address resets it), and LOGIN_MAX_FAILURES_PER_ADDRESS
    failures from this address across all names (no reset: a sprayer may own one real account).
    Failures elsewhere never lock a name, so nobody can lock someone else's account.
    """
    window = timedelta(minutes=settings.LOGIN_LOCK_MINUTES)
    since = timezone.now() - window
    limit = settings.LOGIN_MAX_FAILURES
    recent = LoginAttempt.objects.filter(username=username, ip=ip, at__gte=since).order_by("-at", "-pk")
    failures = []
    for succeeded, at in recent.values_list("succeeded", "at")[:limit]:
        if succeeded:
            break
        failures.append(at)
    retry_at = failures[-1] + window if len(failures) >= limit else None
    if ip is not None:
        per_address = settings.LOGIN_MAX_FAILURES_PER_ADDRESS
        nth = (
            LoginAttempt.objects.filter(ip=ip, succeeded=False, at__gte=since)
            .order_by("-at", "-pk")
            .values_list("at", flat=True)[per_address - 1 : per_address]
        )
        for at in nth:
            retry_at = max(retry_at, at + window) if retry_at else at + window
    return retry_at


def login_username_clean(username) -> str:
    """The user name as typed, refused (on the username field) if no account could have it."""
    username = (username or "").strip()
    if len(username) > USERNAME_MAX_LENGTH:
        raise ValidationError({"username": _("用户名最多 %(n)d 个字符，请检查输入") % {"n": USERNAME_MAX_LENGTH}})
    if not _is_clean_text(username):
        raise ValidationError({"username": _("用户名含有无法识别的字符（如空字符），请重新输入")})
    return username


def login_password_clean(password) -> str:
    """Refuse (on the password field) what no password hasher can take."""
    password = password or ""
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationError({"password": _("密码最多 %(n)d 个字符，请检查输入") % {"n": PASSWORD_MAX_LENGTH}})
    if not _is_clean_text(password):
        raise ValidationError({"password": _("密码含有无法识别的字符（如空字符），请重新输入")})
    return password


def _is_clean_text(value: str) -> bool:
    # NUL cannot be stored by PostgreSQL; a lone surrogate (JSON "\ud800") cannot be encoded.
    return "\x00" not in value and not any("\ud800" <= ch <= "\udfff" for ch in value)


def login_check(*, request, username: str, password: str, via: str = "web") -> User | None:
    """Authenticate, refusing a throttled name or address; every try that is checked is recorded."""
    username = login_username_clean(username)
    password = login_password_clean(password)
    ip = client_address(request)
    retry_at = login_retry_at(username=username, ip=ip)
    if retry_at is not None:
        raise LoginThrottled(retry_at=retry_at)
    user = authenticate(request, username=username, password=password)
    LoginAttempt.objects.create(username=username, ip=ip, succeeded=user is not None, via=via)
    return user


def login_records_prune(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete login attempts older than LOGIN_ATTEMPT_DAYS and expired tokens; (attempts, tokens)."""
    now = now or timezone.now()
    attempts = LoginAttempt.objects.filter(at__lt=now - timedelta(days=settings.LOGIN_ATTEMPT_DAYS)).delete()[0]
    tokens = ApiToken.objects.filter(expires_at__lte=now).delete()[0]
    return attempts, tokens


def api_token_hash(key: str) -> str:
    """What is stored of a key: its SHA-256."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def api_token_create(*, user: User) -> str:
    """A new bearer token for `user`; the key itself is shown once and never stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=api_token_hash(key), expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_HOURS)
    )
    return key


def api_token_user(*, key: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user", "user__region")
        .filter(key_hash=api_token_hash(key), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def api_token_end(*, key: str) -> bool:
    """End the token with this key (logout); False if there is none."""
    return ApiToken.objects.filter(key_hash=api_token_hash(key)).delete()[0] > 0


def api_token_end_own(*, user: User, token_id: int) -> bool:
    """End one of `user`'s own tokens; False if `token_id` is not one of them."""
    return ApiToken.objects.filter(user=user, pk=token_id).delete()[0] > 0


def _manages(by: User, user: User) -> bool:
    """`user` lies in `by`'s scope: their region, or (an organisation's user without a region)
    their organisation's region, is inside `by`'s subtree."""
    if by.region is None:
        return False
    if user.region is not None:
        return by.region.contains(user.region)
    return user.organisation_id is not None and by.region.contains(user.organisation.region)


def _may_change(by: User, user: User) -> bool:
    return by.may_code("accounts.change_user") and _manages(by, user)


@transaction.atomic
def user_logins_end(*, user: User, by: User | None, reason: str) -> int:
    """End every browser session and API token of `user`; returns how many tokens ended.

    Sessions end through the session hash (User._session_hash), so every session store is
    covered and no session needs decoding. `reason` is recorded in the user's history.
    """
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(sessions_ended_at=now)
    user.sessions_ended_at = now
    tokens = ApiToken.objects.filter(user=user).delete()[0]
    change_record(obj=user, action="end_sessions", changes={"tokens": [tokens, 0]}, by=by, region=user.region, note=reason)
    return tokens


def user_sessions_end(*, by: User, user: User) -> int:
    """An administrator ends all of `user`'s sessions and tokens (scoped like user_update)."""
    if not _may_change(by, user):
        raise PermissionDenied(_("您没有修改此用户的权限"))
    return user_logins_end(user=user, by=by, reason="admin")


@transaction.atomic
def user_password_set(*, by: User, user: User, password: str) -> User:
    """Set `user`'s password (their own, or by an administrator); ends every session and token.

    The caller keeps its own browser signed in with update_session_auth_hash when the user
    changed their own password, as Django's PasswordChangeView does.
    """
    own = by.pk == user.pk
    if not own and not _may_change(by, user):
        raise PermissionDenied(_("您没有重置此用户密码的权限"))
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    if not own:
        change_record(obj=user, action="password_reset", changes={}, by=by, region=user.region)
    user_logins_end(user=user, by=by, reason="password_change" if own else "password_reset")
    return user


_KEEP = object()  # user_update: leave the organisation as it is

# Roles whose users may belong to a service organisation (the second scope axis).
ORGANISATION_ROLES = (Role.PROVIDER, Role.CAREGIVER)


def _check_user_fields(*, by: User, region, role: str, organisation=None) -> None:
    if organisation is not None:
        if role not in ORGANISATION_ROLES:
            raise ValidationError({"organisation": _("只有“服务机构”和“助老服务员”角色的用户可以选择所属服务机构")})
        if by.region is None or not by.region.contains(organisation.region):
            raise ValidationError({"organisation": _("只能选择本人管辖范围内的服务机构")})
        if region is not None:
            # With a region too, the user would see every organisation of that region.
            raise ValidationError({"region": _("机构用户只能看到本机构的数据，请清空所属区域")})
        if role not in Role.values:
            raise ValidationError({"role": _("角色无效")})
        return
    if region is None:
        raise ValidationError({"region": _("请选择所属区域")})
    if not by.region.contains(region):
        raise ValidationError({"region": _("只能把用户分配到本人管辖范围内的区域")})
    if role not in Role.values:
        raise ValidationError({"role": _("角色无效")})
    if role == Role.ADMIN and by.role != Role.ADMIN:
        raise ValidationError({"role": _("只有平台管理员可以设置管理员角色")})


def _refuse_invisible_in_name(full_name: str) -> None:
    """A right-to-left override or other invisible character in a name shown to others (core.text)."""
    from core.text import refuse_invisible_characters

    try:
        refuse_invisible_characters(full_name or "")
    except ValidationError as exc:
        raise ValidationError({"full_name": exc.messages}) from None


@transaction.atomic
def user_create(*, by: User, username: str, full_name: str, role: str, region, password: str, organisation=None) -> User:
    """Create a user inside `by`'s subtree (or of a service organisation inside it)."""
    if not by.may_code("accounts.add_user"):
        raise PermissionDenied(_("您没有新建用户的权限"))
    _check_user_fields(by=by, region=region, role=role, organisation=organisation)
    _refuse_invisible_in_name(full_name)
    username = username.strip()
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("用户名“%(u)s”已被使用") % {"u": username}})
    user = User(username=username, full_name=full_name.strip(), role=role, region=region, organisation=organisation)
    from django.contrib.auth.password_validation import validate_password

    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from None
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    changes = {"username": [None, username], "role": [None, role]}
    if organisation is not None:
        changes["organisation"] = [None, organisation.pk]
    change_record(obj=user, action="create", changes=changes, by=by, region=region or organisation.region)
    return user


@transaction.atomic
def user_update(*, by: User, user: User, full_name: str, role: str, region, is_active: bool, organisation=_KEEP) -> User:
    """Change a user's name, role, region, organisation or active flag; recorded in the history."""
    if not _may_change(by, user):
        # The page fetches the user through restrict(); callers that do not get the same refusal.
        raise PermissionDenied(_("您没有修改此用户的权限"))
    if organisation is _KEEP:
        organisation = user.organisation
    _check_user_fields(by=by, region=region, role=role, organisation=organisation)
    if user.pk == by.pk and not is_active:
        raise ValidationError({"is_active": _("不能停用自己的账号")})
    _refuse_invisible_in_name(full_name)

    def state():
        return {
            "full_name": user.full_name,
            "role": user.role,
            "region": user.region_id,
            "organisation": user.organisation_id,
            "is_active": user.is_active,
        }

    before = state()
    user.full_name, user.role, user.region, user.is_active = full_name.strip(), role, region, is_active
    user.organisation = organisation
    user.save(update_fields=["full_name", "role", "region", "organisation", "is_active"])
    after = state()
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        change_record(obj=user, action="update", changes=changes, by=by, region=region or organisation.region)
    # What a session or token may do was decided by the old role, region and organisation; and a
    # deactivated user's sessions must not come back if the account is enabled again.
    if {"role", "region", "organisation"} & set(changes) or ("is_active" in changes and not is_active):
        user_logins_end(user=user, by=by, reason="deactivated" if not is_active else "role_or_region")
    return user
