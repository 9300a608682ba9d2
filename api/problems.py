"""RFC 9457 problem documents: every error the API answers, with a stable ``code``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from core.errors import ProviderRateLimited, RateLimited, TrunklineError

from . import logging as api_logging
from .validation import body_problem, undecodable_body

log = logging.getLogger("trunkline.api")
PROBLEM = "application/problem+json"


def problem_body(
    status: int, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    """The RFC 9457 document itself (``None`` extras are left out)."""
    body: dict[str, Any] = {
        "type": f"https://trunkline.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, code, title, detail, instance, **extra)
    headers = dict(headers or {})
    retry_after = extra.get("retry_after")
    if retry_after is not None:
        headers["Retry-After"] = str(int(float(retry_after) + 0.999))
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="trunkline"'

    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _error_extra(exc: TrunklineError) -> dict[str, Any]:
    extra = dict(exc.extra)
    if isinstance(exc, ProviderRateLimited | RateLimited) and exc.retry_after is not None:
        extra["retry_after"] = max(1, int(exc.retry_after + 0.999))
    return extra


def error_body(exc: TrunklineError, instance: str | None = None) -> dict[str, Any]:
    """The problem document of a Trunkline error (what its response would carry)."""
    return problem_body(exc.status, exc.code, exc.title, exc.detail, instance, **_error_extra(exc))


def validation_body(errors: Sequence[Any], instance: str | None = None) -> dict[str, Any]:
    """The ``validation_error`` problem document for pydantic's ``errors()``."""
    found = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        found.append({"field": ".".join(loc) or None, "message": err.get("msg")})
    fields = ", ".join(e["field"] or "body" for e in found)
    return problem_body(
        422, "validation_error", "Invalid request", f"invalid: {fields}", instance, errors=found
    )


async def _trunkline_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TrunklineError)
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc.detail)
    extra = _error_extra(exc)
    return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, **extra)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    unreadable = body_problem(exc, request.headers.get("content-type"))
    if unreadable is not None:
        status, code, title, detail = unreadable
        return problem(status, code, title, detail, request.url.path)
    body = validation_body(exc.errors(), request.url.path)
    return JSONResponse(body, status_code=422, media_type=PROBLEM)


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 401: "unauthorized"}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and undecodable_body(exc):
        return problem(
            400,
            "invalid_json",
            "Body is not JSON",
            "the body is not valid JSON: it is not UTF-8 text",
            request.url.path,
        )
    code = HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route that matched the path; a path served by
        # several routes (GET and POST of a collection) allows each one's method
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(
        exc.status_code, code, str(exc.detail), str(exc.detail), request.url.path, headers=headers
    )


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app serves at this request's path."""
    allowed = []
    for method in METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback and the request id, which the answer carries too.

    Starlette answers unhandled errors from its outermost middleware, outside the request-id
    middleware: the id is read back from the scope, set for the log line, and put in the
    response's ``X-Request-ID`` here."""
    rid = request.scope.get(api_logging.SCOPE_KEY)
    token = api_logging.request_id.set(rid)
    try:
        log.exception(
            "unhandled error on %s %s (request id %s)", request.method, request.url.path, rid
        )
    finally:
        api_logging.request_id.reset(token)
    response = problem(
        500,
        "internal_error",
        "Internal error",
        "an unexpected error occurred",
        request.url.path,
        request_id=rid,
    )
    if rid:
        response.headers["X-Request-ID"] = rid
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(TrunklineError, _trunkline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unhandled)
