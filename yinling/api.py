"""The API under /api/: one NinjaAPI, one authentication, one error shape.

Errors are JSON: {"detail": "<中文说明>", "errors": [{"field": "id_number", "message": "…"}]}.
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from accounts.services import api_token_user
from audit.services import SearchThrottled
from core.middleware import error_response, exception_as_bad_input
from core.schemas import ErrorItemOut, ErrorOut

logger = logging.getLogger("yinling.api")


class BearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = api_token_user(key=token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """A signed-in browser session; its writes need the CSRF token. Without a signed-in session
    there is nothing to forge, so the answer is the documented 401: ninja checked CSRF first and
    answered a write with no token, or an expired one, 403 "CSRF check Failed"."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


# What the shared mechanisms (core.middleware, the handlers below) may answer on any route; the
# OpenAPI schema declares them on each operation they apply to, beside what the route declares.
_COMMON_ERRORS = {
    400: "输入含无法处理的内容(NUL 字符、不成对的代理字符、非 UTF-8 文字、multipart 缺少 boundary)",
    401: "未登录或令牌无效、已过期",
    403: "没有执行此操作的权限",
    404: "未找到,或不在您的管辖范围内",
    413: "请求体超过上限(JSON 与表单 2.5 MB;导入文件见 UPLOAD_MAX_MB)",
    422: "参数或请求体不符合要求,errors 按字段说明",
}


class YinlingAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja's schema plus the errors every route shares, all as ErrorOut."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, ErrorItemOut):
            if model.__name__ not in schemas:
                definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
                definition.pop("$defs", None)
                schemas[model.__name__] = definition
        error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                codes = [400]
                if op.get("parameters") or op.get("requestBody"):
                    codes.append(422)
                if method not in ("get", "head"):
                    codes.append(413)  # the body limit applies whether or not the route reads one
                if op.get("security"):
                    codes.append(401)
                    if method != "get":
                        codes.append(403)
                if "{" in path:
                    codes.append(404)
                responses = op.setdefault("responses", {})
                for code in sorted(codes):
                    if code not in responses and str(code) not in responses:
                        responses[code] = {"description": _COMMON_ERRORS[code], **error_ref}
        return schema


api = YinlingAPI(
    title="Yinling 银龄 API",
    version="1",
    description="社区居家养老服务信息管理平台 API. Authenticate with POST /api/auth/token, then `Authorization: Bearer <token>`.",
    auth=[BearerAuth(), SessionAuth()],
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
    "finite_number": gettext_noop("应为有限的数字"),
    "int_from_float": gettext_noop("应为整数"),
    "float_parsing": gettext_noop("应为数字"),
    "list_type": gettext_noop("应为列表"),
    "dict_type": gettext_noop("应为对象"),
    "model_type": gettext_noop("应为对象"),
    "model_attributes_type": gettext_noop("应为对象"),
    "bool_type": gettext_noop("应为 true 或 false"),
    "date_type": gettext_noop("日期格式应为 1949-10-01"),
    "enum": gettext_noop("不是有效选项，可选：%(expected)s"),
    "literal_error": gettext_noop("不是有效选项，可选：%(expected)s"),
    "string_too_long": gettext_noop("不能超过 %(max_length)s 个字"),
    "too_long": gettext_noop("最多 %(max_length)s 项"),
    "greater_than_equal": gettext_noop("应不小于 %(ge)s"),
    "less_than_equal": gettext_noop("应不大于 %(le)s"),
    "greater_than": gettext_noop("应大于 %(gt)s"),
    "less_than": gettext_noop("应小于 %(lt)s"),
}


def _schema_message(err: dict) -> str:
    if err.get("type") == "value_error" and (err.get("ctx") or {}).get("error"):
        return str(err["ctx"]["error"])  # a validator's own (translated) message
    template = _SCHEMA_MESSAGES.get(err.get("type"))
    if template is None:
        return err.get("msg", "") or _("输入有误")
    try:
        return _(template) % {k: str(v) for k, v in (err.get("ctx") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return _(template)


@api.exception_handler(SchemaValidationError)
def on_schema_error(request, exc):
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "data", "payload")]
        message = _schema_message(err)
        errors.append({"field": ".".join(loc) or None, "message": message})
    detail = "；".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors[:3])
    return api.create_response(request, error_body(detail or _("输入有误"), errors), status=422)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return api.create_response(request, error_body(_("未找到，或不在您的管辖范围内")), status=404)


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


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    """Ninja's own errors (a body that is not JSON, a throttle) in the one error shape."""
    if exc.status_code == 400:
        message = _("请求体不是有效的 JSON")
    elif exc.status_code == 429:
        message = _("请求太频繁，请稍后再试")
    elif exc.status_code == 403 and exc.message == "CSRF check Failed":  # ninja's session check
        message = _("缺少或无效的 CSRF 令牌：请刷新页面后重试，或改用 API 令牌")
    else:
        message = str(exc.message)
    return api.create_response(request, error_body(message, [{"field": None, "message": message}]), status=exc.status_code)


@api.exception_handler(Exception)
def on_unexpected(request, exc):
    """Request-parsing errors get their 400/413; anything else is logged and answered as a JSON
    500 without traceback or server path (ninja would return the traceback when DEBUG is on)."""
    bad = exception_as_bad_input(exc)
    if bad is not None:
        return error_response(request, status=bad.status, message=bad.message, field=bad.field)
    logger.exception("API error on %s %s", request.method, request.path)
    return api.create_response(request, error_body(_("服务器内部错误，请稍后重试或联系管理员")), status=500)


@csrf_exempt  # it only ever answers 404; a CSRF 403 would hide that the path does not exist
def api_not_found(request, rest=""):
    """Every /api/… path no route answers: JSON 404 (yinling/urls.py, after the API's routes)."""
    return error_response(request, status=404, message=_("没有这个接口，请核对地址（接口文档见 /api/docs）"))


def _mount():
    from accounts.api import router as auth_router
    from elders.api import router as elders_router

    api.add_router("/auth/", auth_router)
    from jobs.api import router as jobs_router

    api.add_router("/elders", elders_router)
    api.add_router("/jobs/", jobs_router)
    from merchants.api import router as merchants_router

    api.add_router("/merchants", merchants_router)
    from providers.api import router as providers_router

    api.add_router("/providers", providers_router)
    from catalogue.api import router as catalogue_router
    from needs.api import router as needs_router

    api.add_router("/catalogue", catalogue_router)
    api.add_router("/needs", needs_router)
    from assessments.api import router as assessments_router

    api.add_router("/assessments", assessments_router)
    from orders.api import router as orders_router
    from settlements.api import router as settlements_router

    api.add_router("/orders", orders_router)
    api.add_router("/settlements", settlements_router)
    from pairing.api import router as pairing_router

    api.add_router("/pairing", pairing_router)
    from alerts.api import router as alerts_router

    api.add_router("/alerts", alerts_router)
    from visits.api import router as visits_router

    api.add_router("/visits", visits_router)
    from timebank.api import router as timebank_router

    api.add_router("/timebank", timebank_router)
    from timebank.api_ledger import router as timebank_ledger_router

    api.add_router("/timebank", timebank_ledger_router)
    from routing.api import router as routing_router

    api.add_router("/routing", routing_router)


_mount()
