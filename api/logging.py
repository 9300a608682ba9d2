"""JSON-lines logging with a request id; secrets never reach a log line."""

from __future__ import annotations

import contextvars
import itertools
import json
import logging
import os
import re
import sys
import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9_\-\.]+", re.I)


def scrub(text: str, secrets: list[str]) -> str:
    """Remove every known secret value and any bearer token from ``text``."""
    text = _BEARER.sub(r"\1**********", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "**********")
    return text


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = secrets or []

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str), self.secrets)


class ScrubFilter(logging.Filter):
    """Scrubs secrets from every record (also for handlers that are not ours, e.g. pytest's)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def configure_logging(json_lines: bool, secrets: list[str]) -> None:
    """Log to stderr as JSON lines (or plain text), scrubbing the given secret values."""
    root = logging.getLogger("trunkline")
    root.setLevel(logging.INFO)
    for handler in list(root.handlers):
        if getattr(handler, "_trunkline", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._trunkline = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter(secrets)
        if json_lines
        else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(ScrubFilter(secrets))
    root.addHandler(handler)
    root.propagate = True


_ID_PREFIX = os.urandom(8).hex()
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes: a random per-process prefix and a counter.

    Not a uuid4: that reads the OS's random source on every request (a system call that
    costs more than the rest of this middleware); the id is a correlation tag, not a secret.
    Forked workers import this module after the fork, so each gets its own prefix.
    """
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"  # 32 hex digits, as a uuid4 hex


_SAFE_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
#: The ASGI scope key holding the request id.
SCOPE_KEY = "trunkline.request_id"


class RequestIdMiddleware:
    """Pure ASGI: a request id (the client's ``X-Request-ID`` or a new one) in every log line
    of the request and in the response's ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
        # A client's id is kept only when it is safe to log and echo as it is; any other
        # (a character outside the set, too long, empty) is replaced by a new one.
        if not _SAFE_ID.fullmatch(rid):
            rid = new_request_id()
        raw = rid.encode()
        # Kept in the scope too: an unhandled error is answered by Starlette's outermost
        # middleware, after this one has returned (see ``api.problems``).
        scope[SCOPE_KEY] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", raw))
                message = {**message, "headers": headers}
            await send(message)

        token = request_id.set(rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestIdMiddleware)
