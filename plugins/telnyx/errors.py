"""Every Telnyx failure mapped, in this one place, onto the core's error hierarchy.

Telnyx answers errors as ``{"errors": [{"code", "title", "detail"}]}``; its code and detail are
kept in the problem (``provider_code``, ``provider_detail``). The SDK is imported by
``from_exception`` only, so that importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core import (
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)

if TYPE_CHECKING:
    import telnyx

PROVIDER = "telnyx"
RATE_LIMIT_CODE = "10011"


def first_error(body: Any) -> tuple[str | None, str]:
    """Telnyx's first error code and its detail (or title) from an error body."""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            err = errors[0]
            detail = err.get("detail") or err.get("title") or "error"
            return (str(err["code"]) if err.get("code") is not None else None), str(detail)
    return None, str(body)[:200] if body else "no detail"


def _retry_after(exc: telnyx.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def from_exception(exc: Exception) -> ProviderError:
    """The core error for anything the Telnyx SDK raised."""
    import telnyx  # for its exception classes; loaded already when one can have been raised

    #: What reading a malformed 2xx body raises: the SDK's own validation error, a JSON decode
    #: error (a ValueError), or a missing attribute/key on a body of an unexpected shape.
    unusable_answer = (
        telnyx.APIResponseValidationError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
    )
    if isinstance(exc, telnyx.APITimeoutError):
        return ProviderUnavailable("Telnyx did not answer in time", provider=PROVIDER)
    if isinstance(exc, telnyx.APIConnectionError):
        return ProviderUnavailable(f"cannot reach Telnyx: {exc}", provider=PROVIDER)
    if isinstance(exc, telnyx.APIStatusError):
        code, detail = first_error(exc.body)
        status = exc.status_code
        kw: dict[str, Any] = {
            "provider": PROVIDER,
            "provider_code": code or status,
            "provider_detail": detail,
        }
        if status == 429 or code == RATE_LIMIT_CODE:
            return ProviderRateLimited(
                f"Telnyx rate limit: {detail}", retry_after=_retry_after(exc), **kw
            )
        if status in (401, 403):
            return ProviderAuthError(f"Telnyx refused the API key: {detail}", **kw)
        if status >= 500:
            return ProviderUnavailable(f"Telnyx is unavailable (HTTP {status}): {detail}", **kw)
        if status == 404:
            return ProviderRejected(f"Telnyx does not know it: {detail}", **kw)
        return ProviderRejected(f"Telnyx refused the request (HTTP {status}): {detail}", **kw)
    if isinstance(exc, unusable_answer):
        # A 2xx body that is not JSON, or JSON of another shape than the SDK's types.
        return ProviderUnavailable(
            f"Telnyx answered something unusable ({type(exc).__name__})", provider=PROVIDER
        )
    return ProviderError(f"Telnyx call failed: {type(exc).__name__}: {exc}", provider=PROVIDER)


def another_number(operation: str, asked: str, answered: str) -> ProviderError:
    """Telnyx answered about a phone number other than the one asked: trust none of it."""
    return ProviderError(
        f"Telnyx answered {operation} for {answered}, not for {asked}",
        provider=PROVIDER,
        provider_detail=f"asked {asked}, answered {answered}",
    )
