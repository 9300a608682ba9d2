"""Every Twilio failure mapped, in this one place, onto the core's error hierarchy.

| Twilio                                              | core                    |
| --------------------------------------------------- | ----------------------- |
| HTTP 401/403, codes 20003, 20005, 20008             | ``ProviderAuthError``   |
| HTTP 429, codes 20429, 14107                        | ``ProviderRateLimited`` |
| 21211, 21212, 21210, 21215, 13227, other 4xx        | ``ProviderRejected``    |
| 5xx, timeouts, connection errors, unusable bodies   | ``ProviderUnavailable`` |
| an answer about another phone number than asked     | ``ProviderError``       |

Twilio's own code (or the HTTP status when it gave none) goes to ``provider_code`` and its
message to ``provider_detail``. Nothing here ever sees the credentials: messages are built
from Twilio's answer body and exception class names only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException

from core import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

PROVIDER = "twilio"
#: Twilio error codes with a meaning of their own.
AUTH_CODES = frozenset({20003, 20005, 20008})
RATE_CODES = frozenset({20429, 14107})
ALREADY_VERIFIED = 21450
REJECTED_CODES = {
    21210: "the caller ID is not verified on the Twilio account",
    21211: "invalid 'To' number",
    21212: "invalid 'From' number",
    21215: "geographic permissions do not allow calling this number",
    13227: "geographic permissions do not allow calling this country",
    21421: "invalid phone number",
    21422: "the number is not available to buy",
    21450: "the number is already verified",
}


def _body(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _code(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify(
    status: int, code: int | None, message: str, retry_after: float | None = None
) -> ProviderError:
    """The core error for a Twilio error: HTTP ``status``, Twilio ``code``, Twilio's message."""
    kw: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_code": code if code is not None else status,
        "provider_detail": message,
    }
    if status == 429 or code in RATE_CODES:
        return ProviderRateLimited(
            f"Twilio rate limit reached: {message}", retry_after=retry_after, **kw
        )
    if status in (401, 403) or code in AUTH_CODES:
        return ProviderAuthError(f"Twilio refused the credentials: {message}", **kw)
    if status >= 500:
        return ProviderUnavailable(f"Twilio is unavailable (HTTP {status}): {message}", **kw)
    if code in REJECTED_CODES:
        return ProviderRejected(f"Twilio error {code}: {REJECTED_CODES[code]}: {message}", **kw)
    if code is not None:
        return ProviderRejected(f"Twilio error {code}: {message}", **kw)
    return ProviderRejected(f"Twilio refused the request (HTTP {status}): {message}", **kw)


def from_response(status: int, text: str, headers: Mapping[str, str]) -> ProviderError:
    """The core error for a Twilio HTTP answer with a 4xx or 5xx status."""
    body = _body(text)
    message = str(body.get("message") or body.get("detail") or f"HTTP {status}")
    return classify(status, _code(body.get("code")), message, _retry_after(headers))


def from_exception(exc: TwilioException) -> ProviderError:
    """The core error for an exception the SDK raised itself (a 3xx page, an odd answer)."""
    if isinstance(exc, TwilioRestException):
        return classify(int(exc.status or 502), _code(exc.code), str(exc.msg))
    response = exc.args[1] if len(exc.args) > 1 else None
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 300:
        return from_response(status, str(getattr(response, "text", "")), {})
    return malformed(f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}")


def unreachable(detail: str) -> ProviderUnavailable:
    """Twilio could not be reached in time: a timeout or a connection error."""
    return ProviderUnavailable(f"Twilio did not answer: {detail}", provider=PROVIDER)


def malformed(detail: str) -> ProviderUnavailable:
    """Twilio answered something the SDK could not read."""
    return ProviderUnavailable(f"Twilio answered something unusable: {detail}", provider=PROVIDER)


def another_number(operation: str, asked: str, answered: str) -> ProviderError:
    """Twilio answered about a phone number other than the one asked: trust none of it."""
    return ProviderError(
        f"Twilio answered {operation} for {answered}, not for {asked}",
        provider=PROVIDER,
        provider_detail=f"asked {asked}, answered {answered}",
    )
