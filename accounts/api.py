"""POST /api/auth/token: a bearer token for a user name and password."""

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from accounts.services import LoginThrottled, api_token_create, login_check
from core.schemas import ErrorOut

router = Router(tags=["auth"])


class TokenIn(Schema):
    username: str = Field(max_length=150)  # the column's length: longer was a database error (500)
    password: str = Field(max_length=4096)


class TokenOut(Schema):
    token: str
    expires_in: int


class MeOut(Schema):
    username: str
    full_name: str
    role: str
    role_label: str
    region_id: int | None
    region_name: str
    permissions: list[str]


@router.post("/token", auth=None, response={200: TokenOut, 401: ErrorOut, 429: ErrorOut})
def token_create(request, data: TokenIn):
    from django.conf import settings

    try:
        user = login_check(request=request, username=data.username, password=data.password, via="api")
    except LoginThrottled as exc:
        return Status(429, {"detail": str(exc), "errors": [{"field": "username", "message": str(exc)}]})
    if user is None:
        message = _("用户名或密码不正确")
        return Status(401, {"detail": message, "errors": [{"field": "password", "message": message}]})
    return Status(200, {"token": api_token_create(user=user), "expires_in": settings.API_TOKEN_HOURS * 3600})


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
