"""What ``POST /webhooks/{provider}`` refuses before any plugin reads the body.

A carrier's callback is small and shallow. The route reads at most :data:`MAX_WEBHOOK_BYTES`
(413 ``webhook_too_large`` past it, decided from ``Content-Length`` before reading when the
client declares it) and refuses a body whose brackets nest deeper than :data:`MAX_JSON_DEPTH`
(422 ``webhook_malformed``), so that no plugin's JSON parser meets a body that exhausts the
interpreter's recursion (a 100,000-deep array raised ``RecursionError``: a 500).
"""

from __future__ import annotations

import re

from starlette.requests import Request

from core.errors import WebhookMalformed, WebhookTooLarge

#: The largest webhook body accepted, in bytes (carriers' callbacks are a few kilobytes).
MAX_WEBHOOK_BYTES = 256 * 1024
#: The deepest nesting of ``[`` and ``{`` accepted (carriers' callbacks nest a few levels).
MAX_JSON_DEPTH = 32

#: A JSON string literal (escapes included), whose brackets are text, not nesting.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: Every byte but the four brackets, deleted before counting.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPEN = frozenset(b"[{")


async def read_body(request: Request) -> bytes:
    """The raw body, or ``WebhookTooLarge`` as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
        raise WebhookTooLarge(f"a webhook body is at most {MAX_WEBHOOK_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_WEBHOOK_BYTES:
            raise WebhookTooLarge(f"a webhook body is at most {MAX_WEBHOOK_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_depth(body: bytes) -> None:
    """``WebhookMalformed`` when ``[``/``{`` nest deeper than :data:`MAX_JSON_DEPTH`.

    Counted over the raw bytes whatever the content type (a JSON parser may decode UTF-16 or
    read a body sent as form data), brackets inside JSON strings excepted. Linear in the size.
    """
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPEN:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise WebhookMalformed(
                    f"the webhook body nests deeper than {MAX_JSON_DEPTH} levels"
                )
        elif depth:
            depth -= 1
