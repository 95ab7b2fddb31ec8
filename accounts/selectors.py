"""Reads for users: a user's own API tokens."""

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """`user`'s tokens that still work, newest first (the key itself is never stored)."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-created_at", "-pk")
