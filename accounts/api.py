"""/api/auth: bearer tokens for a user name and password, logout, one's own tokens, and an
administrator ending a user's sessions."""

import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from accounts.models import User
from accounts.selectors import api_token_list, user_scope
from accounts.services import (
    LoginThrottled,
    api_token_create,
    api_token_end,
    api_token_end_own,
    api_token_hash,
    login_check,
    user_sessions_end,
)
from core.access import requires
from core.schemas import ErrorOut

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(max_length=150)  # the column's length: longer was a database error (500)
    password: str = Field(max_length=4096)


class TokenOut(Schema):
    token: str
    expires_in: int


class TokenItemOut(Schema):
    id: int
    created_at: datetime.datetime
    last_used_at: datetime.datetime | None
    expires_at: datetime.datetime
    is_current: bool


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    role_label: str
    region_id: int | None
    region_name: str
    permissions: list[str]


def _bearer_key(request) -> str | None:
    """The key of `Authorization: Bearer <key>`, read as ninja's HttpBearer reads it."""
    parts = request.headers.get("Authorization", "").split(" ")
    if len(parts) < 2 or parts[0].lower() != "bearer":
        return None
    return " ".join(parts[1:])


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 422: ErrorOut, 429: ErrorOut})
def token_create(request, data: TokenIn, response: HttpResponse):
    """A token for a user name and password. Failures are throttled per name and address and
    per address (429 with Retry-After); a name over 150 characters, NUL or a lone surrogate is 422."""
    try:
        user = login_check(request=request, username=data.username, password=data.password, via="api")
    except LoginThrottled as exc:
        response["Retry-After"] = str(exc.retry_after)
        return Status(429, {"detail": str(exc), "errors": [{"field": "username", "message": str(exc)}]})
    if user is None:
        message = _("用户名或密码不正确")
        return Status(401, {"detail": message, "errors": [{"field": "password", "message": message}]})
    return Status(200, {"token": api_token_create(user=user), "expires_in": settings.API_TOKEN_HOURS * 3600})


@router.post("/logout", response={204: None, 401: ErrorOut})
def logout_api(request):
    """End the token this request was made with; with a browser session instead, end that session."""
    key = _bearer_key(request)
    if not (key and api_token_end(key=key)):
        logout(request)
    return Status(204, None)


@router.get("/tokens", response={200: list[TokenItemOut], 401: ErrorOut})
def token_list(request):
    """Your own tokens that still work: when made, last used (to within 5 minutes), when they expire.
    Never the key."""
    current = _bearer_key(request)
    current_hash = api_token_hash(current) if current else None
    return [
        {
            "id": t.pk,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
            "expires_at": t.expires_at,
            "is_current": t.key_hash == current_hash,
        }
        for t in api_token_list(user=request.user)
    ]


@router.delete("/tokens/{token_id}", response={204: None, 401: ErrorOut, 404: ErrorOut})
def token_end(request, token_id: int):
    """End one of your own tokens (someone else's is 404)."""
    if not api_token_end_own(user=request.user, token_id=token_id):
        raise Http404
    return Status(204, None)


@router.post("/users/{user_id}/end-sessions", response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
@requires("change", User)
def user_end_sessions(request, user_id: int):
    """End every browser session and token of a user of your subtree (needs accounts.change_user;
    a user elsewhere is 404)."""
    target = get_object_or_404(user_scope(by=request.user, action="change"), pk=user_id)
    user_sessions_end(by=request.user, user=target)
    return Status(204, None)


@router.get("/me", response=MeOut)
def me(request):
    user = request.user
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "role_label": user.get_role_display(),
        "region_id": user.region_id,
        "region_name": user.region.name if user.region_id else "",
        "permissions": sorted(user.permissions),
    }
