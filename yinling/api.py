"""The API under /api/: one NinjaAPI, one authentication, one error shape.

Errors are JSON: {"detail": "<中文说明>", "errors": [{"field": "id_number", "message": "…"}]}.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer, django_auth

from accounts.services import api_token_user
from audit.services import SearchThrottled


class BearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Yinling 银龄 API",
    version="1",
    description="社区居家养老服务信息管理平台 API. Authenticate with POST /api/auth/token, then `Authorization: Bearer <token>`.",
    auth=[BearerAuth(), django_auth],
    urls_namespace="api",
)


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


def validation_errors(exc: ValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [{"field": f, "message": msg} for f, msgs in exc.message_dict.items() for msg in msgs]
    return [{"field": None, "message": msg} for msg in exc.messages]


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    errors = validation_errors(exc)
    detail = "；".join(e["message"] for e in errors[:3]) or _("输入有误")
    return api.create_response(request, error_body(detail, errors), status=422)


_SCHEMA_MESSAGES = {
    "missing": gettext_noop("请填写此项"),
    "int_parsing": gettext_noop("应为整数"),
    "int_type": gettext_noop("应为整数"),
    "string_type": gettext_noop("应为文字"),
    "date_from_datetime_parsing": gettext_noop("日期格式应为 1949-10-01"),
    "date_parsing": gettext_noop("日期格式应为 1949-10-01"),
    "bool_parsing": gettext_noop("应为 true 或 false"),
    "json_invalid": gettext_noop("请求体不是有效的 JSON"),
}


@api.exception_handler(SchemaValidationError)
def on_schema_error(request, exc):
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "data", "payload")]
        message = _(_SCHEMA_MESSAGES[err["type"]]) if err.get("type") in _SCHEMA_MESSAGES else err.get("msg", "")
        errors.append({"field": ".".join(loc) or None, "message": message})
    detail = "；".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:3])
    return api.create_response(request, error_body(detail or _("输入有误"), errors), status=422)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body(_("未找到,或不在您的管辖范围内")), status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return api.create_response(request, error_body(str(exc) or _("您没有执行此操作的权限")), status=403)


@api.exception_handler(SearchThrottled)
def on_search_throttled(request, exc):
    response = api.create_response(request, error_body(exc.message, [{"field": "q", "message": exc.message}]), status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return api.create_response(request, error_body(_("请先登录或提供有效的令牌")), status=401)


def _mount():
    from accounts.api import router as auth_router
    from elders.api import router as elders_router

    api.add_router("/auth/", auth_router)
    from jobs.api import router as jobs_router

    api.add_router("/elders", elders_router)
    api.add_router("/jobs/", jobs_router)


_mount()
