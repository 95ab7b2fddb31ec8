"""Users attached to a region with a role; login attempts; API tokens."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.roles import ROLE_PERMISSIONS, Role
from core.scoping import ScopedManager


class ScopedUserManager(UserManager, ScopedManager):
    pass


class User(AbstractUser):
    """A person who logs in: attached to one region node, with one role."""

    SCOPE_PATH = "region__path"

    region = models.ForeignKey(
        "regions.Region", verbose_name=_("所属区域"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    # The second scope axis (core/scoping.py): a provider's or caregiver's organisation. Its
    # users reach that organisation's rows (SCOPE_ORG) whatever the region; they usually have
    # no region, so they see nothing else.
    organisation = models.ForeignKey(
        "providers.Organisation",
        verbose_name=_("所属服务机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.COMMUNITY)
    full_name = models.CharField(_("姓名"), max_length=32, blank=True, default="")
    # Set by accounts.services.user_logins_end; part of the session hash, so a new value ends
    # every browser session made before it (tokens are deleted there too).
    sessions_ended_at = models.DateTimeField(_("上次强制下线"), null=True, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self):
        return self.full_name or self.username

    @property
    def permissions(self) -> frozenset[str]:
        if not self.is_active:
            return frozenset()
        return ROLE_PERMISSIONS.get(self.role, frozenset())

    def may(self, action: str, model) -> bool:
        meta = model._meta
        return f"{meta.app_label}.{action}_{meta.model_name}" in self.permissions

    def may_code(self, code: str) -> bool:
        return code in self.permissions

    def get_session_auth_hash(self):
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self):
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, *, secret):
        """Django's HMAC of the password hash, plus the moment sessions were last ended.

        Django ends other sessions when the password hash changes; `sessions_ended_at` does
        the same for deactivation, a new role or region, and an administrator's "end sessions".
        Users never ended keep Django's own hash, so existing sessions survive the upgrade.
        """
        value = self.password
        if self.sessions_ended_at is not None:
            value = f"{value}:{int(self.sessions_ended_at.timestamp() * 1_000_000)}"
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class LoginAttempt(models.Model):
    """One login try, kept for throttling and for the audit trail."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    via = models.CharField(max_length=8, default="web")  # web or api
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["username", "at"]), models.Index(fields=["ip", "at"])]


class ApiToken(models.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
