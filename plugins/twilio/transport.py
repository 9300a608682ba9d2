"""The Twilio SDK's HTTP, over httpx: pooled, with explicit timeouts and a bounded retry.

Only 429 and 5xx answers are retried (at most ``max_retries`` times, with exponential backoff,
honouring ``Retry-After`` up to a cap). Any answer that is still an error, and any transport
failure, is raised as the core error :mod:`plugins.twilio.errors` maps it to, so every Twilio
failure reaches the host through one mapping.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from logging import Logger, getLogger
from typing import Any

import httpx
from twilio.http import AsyncHttpClient, HttpClient
from twilio.http.response import Response

from . import errors

log = getLogger("trunkline.plugins.twilio")
MAX_RETRY_WAIT = 10.0


def _clean(values: dict[str, object] | None) -> dict[str, Any] | None:
    """Drop the SDK's ``unset`` markers and render booleans as Twilio expects."""
    if not values:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or type(value).__name__ == "object":
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class _Retrying:
    def __init__(self, max_retries: int, backoff: float) -> None:
        self.max_retries = max_retries
        self.backoff = backoff

    def should_retry(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retrying, or None to stop."""
        if attempt >= self.max_retries:
            return None
        if response.status_code != 429 and response.status_code < 500:
            return None
        wait = self.backoff * (2**attempt)
        header = response.headers.get("retry-after")
        if header is not None:
            with contextlib.suppress(ValueError):
                wait = max(wait, float(header))
        return min(wait, MAX_RETRY_WAIT)

    @staticmethod
    def result(response: httpx.Response) -> Response:
        if response.status_code >= 400:
            raise errors.from_response(response.status_code, response.text, response.headers)
        return Response(response.status_code, response.text, dict(response.headers))


class HttpxAsyncHttpClient(AsyncHttpClient):
    """``twilio.http.AsyncHttpClient`` over one pooled ``httpx.AsyncClient``."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        logger: Logger = log,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(logger, True, timeout)
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self.retrying = _Retrying(max_retries, backoff)

    async def request(  # type: ignore[override]
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        attempt = 0
        while True:
            try:
                response = await self.client.request(
                    method.upper(),
                    uri,
                    params=_clean(params),
                    data=_clean(data),
                    headers=headers,
                    auth=auth,
                    timeout=timeout or self.timeout,
                    follow_redirects=allow_redirects,
                )
            except httpx.TimeoutException as exc:
                raise errors.timeout(f"{type(exc).__name__} after {self.timeout} s") from None
            except httpx.TransportError as exc:
                raise errors.timeout(f"{type(exc).__name__}: {exc}") from None
            wait = self.retrying.should_retry(attempt, response)
            if wait is None:
                return self.retrying.result(response)
            log.info(
                "twilio answered %s; retry %d in %.2f s", response.status_code, attempt + 1, wait
            )
            attempt += 1
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self.client.aclose()


class HttpxHttpClient(HttpClient):
    """``twilio.http.HttpClient`` over a pooled ``httpx.Client``, for synchronous callers
    (the command line). The host itself only ever uses the async client."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        backoff: float = 0.5,
        logger: Logger = log,
        client: httpx.Client | None = None,
    ) -> None:
        super().__init__(logger, False, timeout)
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout))
        self.retrying = _Retrying(max_retries, backoff)

    def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        attempt = 0
        while True:
            try:
                response = self.client.request(
                    method.upper(),
                    uri,
                    params=_clean(params),
                    data=_clean(data),
                    headers=headers,
                    auth=auth,
                    timeout=timeout or self.timeout,
                    follow_redirects=allow_redirects,
                )
            except httpx.TimeoutException as exc:
                raise errors.timeout(f"{type(exc).__name__} after {self.timeout} s") from None
            except httpx.TransportError as exc:
                raise errors.timeout(f"{type(exc).__name__}: {exc}") from None
            wait = self.retrying.should_retry(attempt, response)
            if wait is None:
                return self.retrying.result(response)
            attempt += 1
            time.sleep(wait)

    def close(self) -> None:
        self.client.close()
