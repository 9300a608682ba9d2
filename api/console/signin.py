"""Sessions, cross-site protection, sign-in and sign-out.

A page's caller comes from an ``Authorization`` header or the ``trunkline_key`` cookie; the
sign-in form checks the request's origin and a pre-session token in its own cookie, the
sign-out form the session's CSRF token. A page without a session answers 401 with the form.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import Principal, authenticate_cached
from core.errors import Unauthorized
from core.runtime import Runtime
from core.tables import Workspace

from ..deps import CSRF_COOKIE, SESSION_COOKIE, RuntimeDep, key_cache
from .render import _html, render

router = APIRouter(prefix="/console", include_in_schema=False)


#: The pre-session token of the sign-in form (HttpOnly, only sent to /console).
LOGIN_COOKIE = "trunkline_login_csrf"
#: Seconds a console session lasts.
SESSION_SECONDS = 12 * 3600


# -- sessions and cross-site protection -------------------------------------------------------


async def page_principal(request: Request, rt: Runtime) -> Principal | None:
    """The caller of a page: an ``Authorization`` header when one is sent (as for the JSON API),
    else the console's key cookie; None when neither holds a live key."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        key = request.cookies.get(SESSION_COOKIE)
        if not key:
            return None
        authorization = f"Bearer {key}"
    try:
        return await authenticate_cached(rt.sessionmaker, authorization, key_cache(rt))
    except Unauthorized:
        return None


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", request.url.netloc)
        if origin == "null" or urlsplit(origin).netloc != host:
            return False
    return True


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("//"):
        return value
    return "/console/telephony"


def _to_login(request: Request) -> HTMLResponse:
    """401 with the sign-in form, which brings the operator back to this page."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = _login_form(request, None, 401, path)
    if request.cookies.get(SESSION_COOKIE):  # a revoked or unknown key: forget it
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@dataclass
class Page:
    request: Request
    rt: Runtime
    principal: Principal
    workspace_name: str

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = render(
            template,
            path=self.request.url.path,
            demo_mode=self.rt.settings.demo_mode,
            csrf_token=self.request.cookies.get(CSRF_COOKIE, ""),
            workspace_name=self.workspace_name,
            **context,
        )
        return _html(body, status)


async def _page(request: Request, rt: Runtime, session: AsyncSession) -> Page | None:
    principal = await page_principal(request, rt)
    if principal is None:
        return None
    workspace = await session.get(Workspace, principal.workspace_id)
    return Page(request, rt, principal, workspace.name if workspace else "")


class SignInRequired(Exception):
    """A console page asked without a valid session: answered with :func:`_to_login`."""


async def console_page(request: Request, rt: RuntimeDep) -> Page:
    """The dependency of every console page: the signed-in operator's :class:`Page`, or
    :class:`SignInRequired` (401 with the sign-in form, see :func:`install`)."""
    async with rt.sessionmaker() as session:
        page = await _page(request, rt, session)
    if page is None:
        raise SignInRequired
    return page


ConsolePage = Annotated[Page, Depends(console_page)]


def install(app: FastAPI) -> None:
    """Answer :class:`SignInRequired` with the sign-in form, which brings the operator back."""

    async def sign_in(request: Request, exc: Exception) -> Response:
        return _to_login(request)

    app.add_exception_handler(SignInRequired, sign_in)


# -- sign-in and sign-out ---------------------------------------------------------------------


def _login_form(
    request: Request, error: str | None = None, status: int = 200, next_path: str | None = None
) -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    body = render(
        "login.html",
        path="/console/login",
        login_token=token,
        error=error,
        next=_safe_next(next_path or request.query_params.get("next")),
        workspace_name=None,
        csrf_token="",
    )
    response = _html(body, status)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=1800,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("")
async def console_home(request: Request, rt: RuntimeDep) -> Response:
    if await page_principal(request, rt) is None:
        return _to_login(request)
    return RedirectResponse("/console/telephony", status_code=303)


@router.get("/login")
async def login_page(request: Request, rt: RuntimeDep) -> Response:
    if await page_principal(request, rt) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _login_form(request)


async def _form(request: Request) -> dict[str, str]:
    raw = (await request.body()).decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


@router.post("/login")
async def login(request: Request, rt: RuntimeDep) -> Response:
    form = await _form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("login_token", "")
    if (
        not same_origin(request)
        or not expected
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return _login_form(
            request,
            "The sign-in form expired or came from another site: try again.",
            403,
            form.get("next"),
        )
    key = form.get("api_key", "").strip()
    try:
        async with rt.sessionmaker() as session:
            from core.auth import authenticate

            await authenticate(session, f"Bearer {key}")
    except Unauthorized:
        return _login_form(request, "That API key is not valid.", 401, form.get("next"))
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    secure = _secure(request)
    response.set_cookie(
        SESSION_COOKIE,
        key,
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure,
    )
    response.set_cookie(
        CSRF_COOKIE,
        secrets.token_urlsafe(32),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=False,  # the page scripts echo it in X-CSRF-Token
        samesite="strict",
        secure=secure,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    expected = request.cookies.get(CSRF_COOKIE, "")
    given = form.get("csrf_token", "")
    if request.cookies.get(SESSION_COOKIE) and (
        not same_origin(request)
        or not expected
        or not hmac.compare_digest(expected.encode(), given.encode())
    ):
        return _html(
            render(
                "error.html",
                path="/console/logout",
                workspace_name=None,
                csrf_token="",
                status=403,
                title="Sign-out refused",
                message="The sign-out request came without this session's token.",
            ),
            403,
        )
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="strict")
    return response
