"""Two middlewares every request passes through.

RequestGuardMiddleware refuses, before any view runs, the input that no view can store or
search: NUL characters, lone UTF-16 surrogates and bytes that are not UTF-8 in the query
string, the form fields or a JSON body; a body over DATA_UPLOAD_MAX_MEMORY_SIZE (413); a
multipart body Django cannot parse (no boundary, too many fields or files: 400). A cookie
holding such characters is ignored (a session cookie with a NUL is no session). PostgreSQL
refuses a NUL in text and no database can encode a lone surrogate, so without this each of
them was a 500 somewhere. Under /api/ the answer is the API's JSON error shape; on pages a
short page in the user's language. It also turns any other error answer under /api/ that is
not JSON (405 from a route, 400 from Django) into that shape.

SecurityHeadersMiddleware, the outermost, sets Content-Security-Policy
(settings.CONTENT_SECURITY_POLICY), Permissions-Policy and X-Frame-Options on every response;
Django's SecurityMiddleware sets X-Content-Type-Options and Referrer-Policy.
"""

import json
from importlib import import_module
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

API_PREFIX = "/api/"
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadInput(Exception):
    """Input refused as a whole: the HTTP status, the field (or None) and the message."""

    def __init__(self, status: int, field: str | None, message: str):
        super().__init__(message)
        self.status, self.field, self.message = status, field, message


def is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(request, *, status: int, message: str, field: str | None = None) -> HttpResponse:
    """The documented error: JSON {"detail", "errors"} under /api/, a short page elsewhere."""
    if is_api(request):
        return JsonResponse({"detail": message, "errors": [{"field": field, "message": message}]}, status=status)
    html = render_to_string("core/error.html", {"status": status, "message": message})
    return HttpResponse(html, status=status)


def _bad_text(value: str) -> str | None:
    """What is wrong with one decoded string, or None."""
    if "\x00" in value:
        return _("不能包含空字符（NUL），请删除后重试")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return _("包含无效的字符（不成对的代理字符），请删除后重试")
    return None


def _check_urlencoded(raw: bytes, where: str) -> None:
    """Each name and value of a query string or form body must be UTF-8 without NUL."""
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _sep, value = pair.partition(b"=")
        try:
            name_text = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
            value_text = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            field = name.decode("ascii", "replace")[:64] or None
            raise BadInput(400, field, _("%(where)s不是有效的 UTF-8 文字，请检查输入") % {"where": where}) from None
        for text in (name_text, value_text):
            problem = _bad_text(text)
            if problem:
                raise BadInput(400, _printable(name_text), problem)


def _printable(name: str) -> str | None:
    cleaned = "".join(ch for ch in name if ch.isprintable() and not "\ud800" <= ch <= "\udfff")[:64]
    return cleaned or None


def _walk_json(value, path: str = "") -> None:
    if isinstance(value, str):
        problem = _bad_text(value)
        if problem:
            raise BadInput(400, path or None, problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = _bad_text(key)
            if problem:
                raise BadInput(400, _printable(key), problem)
            _walk_json(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk_json(item, f"{path}.{i}" if path else str(i))


def drop_bad_cookies(request) -> None:
    """Forget cookies holding NUL or lone surrogates (Django unquotes "\\000" in a cookie to a
    NUL). A session cookie like that was a database error on every page; now the request simply
    has no session, as if the cookie had expired."""
    bad = [name for name, value in request.COOKIES.items() if _bad_text(name) or _bad_text(value)]
    for name in bad:
        del request.COOKIES[name]
    if settings.SESSION_COOKIE_NAME in bad and hasattr(request, "session"):
        request.session = import_module(settings.SESSION_ENGINE).SessionStore(None)


def check_request(request) -> None:
    """Raise BadInput for input no view should see (see the module's docstring)."""
    query = request.META.get("QUERY_STRING", "")
    if query:
        try:
            raw_query = query.encode("iso-8859-1")  # WSGI passes the bytes as latin-1 text
        except UnicodeEncodeError:
            raw_query = query.encode("utf-8", "surrogatepass")
        _check_urlencoded(raw_query, _("网址参数"))
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    if content_type == "multipart/form-data":
        # Parsing streams uploaded files to disk; only the plain fields are held in memory.
        for name, values in request.POST.lists():
            for text in (name, *values):
                problem = _bad_text(text)
                if problem:
                    raise BadInput(400, _printable(name), problem)
        for name, files in request.FILES.lists():
            for upload in files:
                problem = _bad_text(upload.name or "")
                if problem:
                    raise BadInput(400, _printable(name), problem)
        if is_api(request):
            # The stream is read: an API route that takes a JSON body would fail reading it
            # (RawPostDataException, a 500). A form is no JSON body: it reads as none, and the
            # route answers 422 for a body it needs; files and form fields stay readable.
            request._body = b""
        return
    body = request.body  # RequestDataTooBig past DATA_UPLOAD_MAX_MEMORY_SIZE
    if not body:
        return
    if content_type == "application/x-www-form-urlencoded":
        _check_urlencoded(body, _("表单内容"))
        return
    if not is_api(request):
        return
    # The API reads any other body as JSON (django-ninja does not look at the content type).
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(400, None, _("请求体不是有效的 UTF-8 文字")) from None
    try:
        data = json.loads(text)
    except ValueError:
        return  # the API answers 422 "not valid JSON" itself
    _walk_json(data)


def _too_big_message() -> str:
    return _("提交的内容太大（上限 %(n)s MB），请减少内容后重试；导入大文件请用导入功能上传") % {
        "n": f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 1048576:.1f}".rstrip("0").rstrip(".")
    }


def exception_as_bad_input(exc: Exception) -> BadInput | None:
    """The request-parsing errors Django raises, as the answer they deserve (or None)."""
    if isinstance(exc, RequestDataTooBig):
        return BadInput(413, None, _too_big_message())
    if isinstance(exc, TooManyFilesSent):
        return BadInput(400, None, _("一次上传的文件太多"))
    if isinstance(exc, TooManyFieldsSent):
        return BadInput(400, None, _("提交的字段太多"))
    if isinstance(exc, MultiPartParserError):
        return BadInput(400, None, _("上传的内容格式不正确（multipart 请求缺少或写错了 boundary），请重新选择文件上传"))
    return None


_GENERIC = {
    400: gettext_noop("请求有误，请检查后重试"),
    401: gettext_noop("请先登录或提供有效的令牌"),
    403: gettext_noop("您没有执行此操作的权限"),
    404: gettext_noop("未找到，或不在您的管辖范围内"),
    405: gettext_noop("不支持此请求方法"),
    413: gettext_noop("提交的内容太大"),
}


class RequestGuardMiddleware:
    """Refuse unusable input with 400/413 before any view (and before CSRF reads the form)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        drop_bad_cookies(request)
        try:
            check_request(request)
        except BadInput as bad:
            return error_response(request, status=bad.status, message=bad.message, field=bad.field)
        except Exception as exc:
            bad = exception_as_bad_input(exc)
            if bad is None:
                raise
            return error_response(request, status=bad.status, message=bad.message)
        response = self.get_response(request)
        if is_api(request) and response.status_code >= 400 and not _is_json(response):
            message = _(_GENERIC.get(response.status_code, gettext_noop("请求未能完成")))
            json_response = error_response(request, status=response.status_code, message=message)
            if response.has_header("Allow"):
                json_response["Allow"] = response["Allow"]
            return json_response
        return response

    def process_exception(self, request, exc):
        bad = exception_as_bad_input(exc)
        if bad is not None:
            return error_response(request, status=bad.status, message=bad.message)
        return None


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (settings)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        if policy:
            response.headers.setdefault("Content-Security-Policy", policy)
        permissions = getattr(settings, "PERMISSIONS_POLICY", "")
        if permissions:
            response.headers.setdefault("Permissions-Policy", permissions)
        # XFrameOptionsMiddleware sits inside; an answer from RequestGuardMiddleware skips it.
        response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        return response
