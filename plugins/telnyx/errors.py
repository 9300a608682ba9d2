"""Every Telnyx failure mapped, in this one place, onto the core's error hierarchy.

Telnyx answers errors as ``{"errors": [{"code", "title", "detail"}]}``; its code and detail are
kept in the problem (``provider_code``, ``provider_detail``). The SDK is imported by
``from_exception`` only, so that importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trunkline
from trunkline import (
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    error_for_status,
    parse_retry_after,
)

if TYPE_CHECKING:
    pass

PROVIDER = "telnyx"
CARRIER = "Telnyx"
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
        if status == 404:
            return ProviderRejected(f"Telnyx does not know it: {detail}", **kw)
        return error_for_status(
            PROVIDER,
            429 if code == RATE_LIMIT_CODE else status,
            detail,
            carrier=CARRIER,
            code=code or status,
            retry_after=parse_retry_after(exc.response.headers.get("retry-after")),
        )
    if isinstance(exc, unusable_answer):
        # A 2xx body that is not JSON, or JSON of another shape than the SDK's types.
        return ProviderUnavailable(
            f"Telnyx answered something unusable ({type(exc).__name__})", provider=PROVIDER
        )
    return ProviderError(f"Telnyx call failed: {type(exc).__name__}: {exc}", provider=PROVIDER)


def check_same_number(operation: str, asked: str, answered: str | None) -> None:
    """Refuse an answer about another phone number than the one asked: trust none of it."""
    trunkline.check_same_number(PROVIDER, operation, asked, answered, carrier=CARRIER)
