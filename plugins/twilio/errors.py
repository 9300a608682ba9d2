"""Every Twilio failure mapped, in this one place, onto the core's error hierarchy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from core import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

PROVIDER = "twilio"
#: Twilio error codes with a meaning of their own.
AUTH_CODES = {20003, 20005, 20008}
RATE_CODES = {20429, 14107}
ALREADY_VERIFIED = 21450
REJECTED_CODES = {
    21211: "invalid 'To' number",
    21212: "invalid 'From' number",
    21210: "the caller ID is not verified on the Twilio account",
    21215: "geographic permissions do not allow calling this number",
    13227: "geographic permissions do not allow calling this country",
    21450: "the number is already verified",
    21421: "invalid phone number",
    21422: "the number is not available to buy",
}


def _body(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def from_response(status: int, text: str, headers: Mapping[str, str]) -> ProviderError:
    """The core error for a Twilio HTTP answer with a 4xx or 5xx status."""
    body = _body(text)
    code = body.get("code")
    message = str(body.get("message") or body.get("detail") or text[:200] or f"HTTP {status}")
    kw: dict[str, Any] = {
        "provider": PROVIDER,
        "provider_code": code or status,
        "provider_detail": message,
    }
    if status == 429 or code in RATE_CODES:
        return ProviderRateLimited(
            f"Twilio rate limit: {message}", retry_after=_retry_after(headers), **kw
        )
    if status in (401, 403) or code in AUTH_CODES:
        return ProviderAuthError(f"Twilio refused the credentials: {message}", **kw)
    if status >= 500:
        return ProviderUnavailable(f"Twilio is unavailable (HTTP {status}): {message}", **kw)
    if code in REJECTED_CODES:
        return ProviderRejected(f"Twilio error {code}: {REJECTED_CODES[code]}: {message}", **kw)
    return ProviderRejected(f"Twilio refused the request (HTTP {status}): {message}", **kw)


def timeout(detail: str) -> ProviderUnavailable:
    return ProviderUnavailable(f"Twilio did not answer: {detail}", provider=PROVIDER)


def malformed(detail: str) -> ProviderUnavailable:
    return ProviderUnavailable(f"Twilio answered something unusable: {detail}", provider=PROVIDER)
