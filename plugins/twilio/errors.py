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

import trunkline
from trunkline import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    error_for_status,
    parse_retry_after,
)

PROVIDER = "twilio"
CARRIER = "Twilio"
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


def classify(
    status: int, code: int | None, message: str, retry_after: float | None = None
) -> ProviderError:
    """The core error for a Twilio error: HTTP ``status``, Twilio ``code``, Twilio's message.

    Twilio's own codes decide first (a rate or auth code under any status, a known rejection);
    everything else is the carrier helpers' status mapping.
    """
    effective = 429 if code in RATE_CODES else 401 if code in AUTH_CODES else status
    if effective < 500 and effective not in (401, 403, 429) and code is not None:
        reason = f"{REJECTED_CODES[code]}: " if code in REJECTED_CODES else ""
        return ProviderRejected(
            f"Twilio error {code}: {reason}{message}",
            provider=PROVIDER,
            provider_code=code,
            provider_detail=message,
        )
    return error_for_status(
        PROVIDER,
        effective,
        message,
        carrier=CARRIER,
        code=code if code is not None else status,
        retry_after=retry_after,
    )


def from_response(status: int, text: str, headers: Mapping[str, str]) -> ProviderError:
    """The core error for a Twilio HTTP answer with a 4xx or 5xx status."""
    body = _body(text)
    message = str(body.get("message") or body.get("detail") or f"HTTP {status}")
    retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    return classify(status, _code(body.get("code")), message, retry_after)


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


def check_same_number(operation: str, asked: str, answered: str | None) -> None:
    """Refuse an answer about another phone number than the one asked: trust none of it."""
    trunkline.check_same_number(PROVIDER, operation, asked, answered, carrier=CARRIER)
