"""The Twilio SDK's HTTP, over httpx: pooled, with explicit timeouts and a bounded retry.

The plugin calls only the SDK's ``*_async`` methods, which hand every request to an
``AsyncHttpClient`` (``await request``): :class:`HttpxAsyncHttpClient`, over one pooled
``httpx.AsyncClient``, so the event loop never waits on Twilio. There is no synchronous client:
nothing in Trunkline calls Twilio synchronously.

Only 429 and 5xx answers are retried: at most ``max_retries`` times, waiting
``backoff * 2**attempt`` seconds, or ``Retry-After`` (seconds or an HTTP date) when Twilio says
more, never longer than ``max_wait``. An answer that is still an error, and any transport
failure, is raised as the core error :mod:`plugins.twilio.errors` maps it to, so every Twilio
failure reaches the host through that one mapping. Nothing here logs a header, a body or the
credentials.
"""

from __future__ import annotations

import asyncio
from logging import Logger, getLogger
from typing import Any

import httpx
from twilio.http import AsyncHttpClient
from twilio.http.response import Response

from trunkline import parse_retry_after

from . import errors

log = getLogger("trunkline.plugins.twilio")


def _clean(values: dict[str, object] | None) -> dict[str, Any] | None:
    """Drop absent values and render booleans as Twilio expects (``true``/``false``)."""
    if not values:
        return None
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or type(value) is object:  # the SDK's ``values.unset`` marker
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class RetryPolicy:
    """When to retry a Twilio answer, and how long to wait first."""

    def __init__(self, max_retries: int = 2, backoff: float = 0.5, max_wait: float = 5.0) -> None:
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait

    def wait(self, attempt: int, response: httpx.Response) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or ``None`` to stop."""
        if attempt >= self.max_retries:
            return None
        if response.status_code != 429 and response.status_code < 500:
            return None
        wait = self.backoff * (2**attempt)
        asked = parse_retry_after(response.headers.get("retry-after"))
        if asked is not None:
            wait = max(wait, asked)
        return max(0.0, min(wait, self.max_wait))

    @staticmethod
    def result(response: httpx.Response) -> Response:
        """The SDK's response for a final answer; an error status raises the mapped error."""
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
        max_wait: float = 5.0,
        logger: Logger = log,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(logger, True, timeout)
        self.client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout))
        self.retry = RetryPolicy(max_retries, backoff, max_wait)

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
        timeout = timeout or self.timeout
        method = method.upper()
        attempt = 0
        while True:
            try:
                response = await self.client.request(
                    method,
                    uri,
                    params=_clean(params),
                    data=_clean(data),
                    headers=headers,
                    auth=auth,
                    timeout=timeout,
                    follow_redirects=allow_redirects,
                )
            except httpx.TimeoutException as exc:
                raise errors.unreachable(f"{type(exc).__name__} after {timeout} s") from None
            except httpx.TransportError as exc:
                raise errors.unreachable(f"{type(exc).__name__}: {exc}") from None
            wait = self.retry.wait(attempt, response)
            if wait is None:
                return self.retry.result(response)
            attempt += 1
            self.logger.info(
                "twilio answered %s to %s %s; retry %d in %.2f s",
                response.status_code,
                method,
                httpx.URL(uri).path,
                attempt,
                wait,
            )
            await asyncio.sleep(wait)

    async def aclose(self) -> None:
        await self.client.aclose()
