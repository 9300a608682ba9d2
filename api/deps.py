"""Dependencies with ``Annotated`` aliases: the runtime, a session, the caller."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from core import queries
from core.auth import KeyCache, Principal, authenticate_cached
from core.errors import TrunklineError
from core.runtime import Runtime

from .schemas.common import PageOut

SESSION_COOKIE = "trunkline_key"
CSRF_COOKIE = "trunkline_csrf"


class CsrfFailed(TrunklineError):
    status = 403
    code = "csrf_failed"
    title = "Cross-site request refused"


async def get_runtime(request: Request) -> Runtime:
    # async: a plain ``def`` dependency would run in the thread pool, a thread hop per request
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def key_cache(runtime: Runtime) -> KeyCache:
    """The worker's API key cache: the snapshot's (same TTL, same invalidations)."""
    return runtime.snapshot.keys


class KeyAuth(HTTPBearer):
    """The caller of a ``Bearer`` key, or of the console's session cookie.

    A cookie-authenticated request that changes something must also carry the
    ``X-CSRF-Token`` header equal to the ``trunkline_csrf`` cookie (double submit); the key
    cookie itself is HttpOnly and SameSite=Strict.

    An ``HTTPBearer`` so that OpenAPI documents the scheme; it reads the request itself (no
    sub-dependencies), which keeps FastAPI's per-request dependency work to one call: this
    runs before every API request, the dialer's preflight included.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        if authorization is None:
            cookie = request.cookies.get(SESSION_COOKIE)
            if cookie:
                if request.method not in ("GET", "HEAD", "OPTIONS"):
                    expected = request.cookies.get(CSRF_COOKIE, "")
                    given = request.headers.get("x-csrf-token", "")
                    if not expected or not hmac.compare_digest(expected, given):
                        raise CsrfFailed("missing or wrong X-CSRF-Token for a console request")
                authorization = f"Bearer {cookie}"
        runtime: Runtime = request.app.state.runtime
        principal = await authenticate_cached(
            runtime.sessionmaker, authorization, key_cache(runtime)
        )
        request.state.principal = principal
        return principal


get_principal = KeyAuth(
    scheme_name="ApiKey",
    bearerFormat="Trunkline API key",
    description="A workspace API key: `Authorization: Bearer <key>`. The console sends the "
    "same key as its `trunkline_key` cookie (with `X-CSRF-Token` on changes).",
    auto_error=False,
)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


T = TypeVar("T")


class Page(queries.Page):
    """``?limit=&offset=`` for every list: the page the core's list functions are given."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    ) -> None:
        super().__init__(limit, offset)

    def of(self, items: list[T], total: int) -> PageOut[T]:
        """This page of a list: its ``items`` and the ``total`` matching."""
        return PageOut(items=items, total=total, limit=self.limit, offset=self.offset)


PageDep = Annotated[Page, Depends()]
