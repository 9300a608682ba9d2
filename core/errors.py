"""The error hierarchy shared by the core, the plugins and the HTTP layer.

Every error carries a stable machine-readable ``code`` and the HTTP ``status`` the API answers
with; ``api.problems`` turns any :class:`TrunklineError` into one RFC 9457 problem document.
Carrier plugins map their carrier's errors onto the ``Provider*`` classes in one place each.
"""

from __future__ import annotations

from typing import Any


class TrunklineError(Exception):
    """Base of every error Trunkline answers with a problem document."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra: dict[str, Any] = extra
        super().__init__(self.detail)


# -- configuration and plugins -------------------------------------------------------------


class ConfigurationError(TrunklineError):
    """The host cannot start: a setting, a plugin or its settings are wrong."""

    code = "configuration_error"
    title = "Configuration error"


class PluginLoadError(ConfigurationError):
    """A plugin failed to import, register or validate its settings; names the plugin."""

    code = "plugin_load_failed"
    title = "Plugin failed to load"

    def __init__(self, plugin: str, detail: str) -> None:
        super().__init__(f"plugin {plugin!r}: {detail}", plugin=plugin)
        self.plugin = plugin


class ProviderNotFound(TrunklineError):
    """No enabled plugin serves the provider name."""

    status = 422
    code = "unknown_provider"
    title = "Unknown provider"

    def __init__(self, provider: str) -> None:
        super().__init__(f"no enabled plugin serves the provider {provider!r}", provider=provider)
        self.provider = provider


class UnsupportedOperation(TrunklineError):
    """The provider does not support this operation."""

    status = 422
    code = "unsupported_operation"
    title = "Operation not supported by this provider"

    def __init__(self, provider: str, operation: str) -> None:
        super().__init__(
            f"provider {provider!r} does not support {operation!r}",
            provider=provider,
            operation=operation,
        )
        self.provider = provider
        self.operation = operation


class ProviderNotConfigured(TrunklineError):
    """The carrier plugin is loaded but its credentials are absent."""

    status = 503
    code = "provider_not_configured"
    title = "Provider not configured"

    def __init__(self, provider: str, missing: str = "credentials") -> None:
        super().__init__(
            f"provider {provider!r} is not configured: set its {missing}", provider=provider
        )
        self.provider = provider


# -- carrier errors: each plugin maps its carrier's errors onto these -----------------------


class ProviderError(TrunklineError):
    """A carrier call failed. ``provider_code`` and ``provider_detail`` keep the carrier's words."""

    status = 502
    code = "provider_error"
    title = "Carrier error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        provider: str | None = None,
        provider_code: str | int | None = None,
        provider_detail: str | None = None,
    ) -> None:
        extra: dict[str, Any] = {}
        if provider is not None:
            extra["provider"] = provider
        if provider_code is not None:
            extra["provider_code"] = str(provider_code)
        if provider_detail is not None:
            extra["provider_detail"] = provider_detail
        super().__init__(detail, **extra)
        self.provider = provider
        self.provider_code = None if provider_code is None else str(provider_code)
        self.provider_detail = provider_detail


class ProviderAuthError(ProviderError):
    """The carrier refused our credentials."""

    status = 502
    code = "provider_auth_failed"
    title = "Carrier refused the credentials"


class ProviderRateLimited(ProviderError):
    """The carrier rate-limited us; ``retry_after`` seconds when it said so."""

    status = 429
    code = "provider_rate_limited"
    title = "Carrier rate limit reached"

    def __init__(self, detail: str | None = None, *, retry_after: float | None = None, **kw: Any):
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The carrier is down, timed out or answered something unusable."""

    status = 503
    code = "provider_unavailable"
    title = "Carrier unavailable"


class ProviderRejected(ProviderError):
    """The carrier understood and refused the request (invalid number, permissions...)."""

    status = 502
    code = "provider_rejected"
    title = "Carrier rejected the request"


class WebhookSignatureError(TrunklineError):
    """A webhook's signature is missing or does not hold."""

    status = 403
    code = "webhook_signature_invalid"
    title = "Webhook signature invalid"


class WebhookMalformed(TrunklineError):
    """A webhook body that cannot be read as the carrier's callback: not the carrier's format,
    an unknown event kind, a missing field, or nested too deep. Raised by ``parse_webhook``
    (after the signature check) and by the core before it; the API answers 422."""

    status = 422
    code = "webhook_malformed"
    title = "Webhook body malformed"


class WebhookTooLarge(TrunklineError):
    """A webhook body larger than the core accepts; refused before it is read whole."""

    status = 413
    code = "webhook_too_large"
    title = "Webhook body too large"


# -- domain errors raised by the core -------------------------------------------------------


class NotFound(TrunklineError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(TrunklineError):
    status = 409
    code = "conflict"
    title = "Conflict"


class InvalidInput(TrunklineError):
    """Input that passed schema validation but is still wrong; ``field`` names it."""

    status = 422
    code = "invalid_input"
    title = "Invalid input"


class InvalidTimeZone(InvalidInput):
    """A time zone that is not an IANA name this system knows."""

    code = "invalid_time_zone"
    title = "Unknown time zone"


class InvalidPhoneNumber(InvalidInput):
    """Not E.164, or not a valid number for any country."""

    code = "invalid_phone_number"
    title = "Invalid phone number"


class DemoMode(TrunklineError):
    """DEMO_MODE is on: nothing reaches a carrier."""

    status = 403
    code = "demo_mode"
    title = "Demo mode: telephony is off"


class PolicyDenied(TrunklineError):
    """The outbound policy refused; ``reasons`` lists every reason that applies."""

    status = 409
    code = "outbound_not_allowed"
    title = "Outbound call not allowed"

    def __init__(
        self, reasons: list[str], detail: str | None = None, *, next_allowed_at: Any = None
    ) -> None:
        """:param next_allowed_at: when outside calling hours, the earliest allowed instant
        (a datetime; the problem document carries it in RFC 3339)."""
        extra: dict[str, Any] = {"reasons": reasons}
        if next_allowed_at is not None:
            extra["next_allowed_at"] = next_allowed_at.isoformat().replace("+00:00", "Z")
        super().__init__(detail or "outbound not allowed: " + ", ".join(reasons), **extra)
        self.reasons = reasons


class RateLimited(TrunklineError):
    """Our own rate limit (not the carrier's)."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail, retry_after=int(retry_after + 0.999))
        self.retry_after = retry_after


class Unauthorized(TrunklineError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


# The services' own refusals (campaigns, caller-ID verification): one hierarchy, one place.


class CallerIdNotFound(InvalidInput):
    """A campaign's caller ID that is no number of this workspace."""

    code = "caller_id_not_found"
    title = "Caller ID not in this workspace"


class CallerIdOutboundDisabled(Conflict):
    """A campaign's caller ID whose outbound calling is off."""

    code = "caller_id_outbound_disabled"
    title = "Caller ID not enabled for outbound"


class CallerIdNotAllowed(Conflict):
    """A campaign's caller ID neither hosted nor a verified caller ID."""

    code = "caller_id_not_allowed"
    title = "Caller ID neither hosted nor verified"


class NoCallerId(Conflict):
    """A test call from a campaign without a caller ID."""

    code = "campaign_has_no_caller_id"
    title = "Campaign has no caller ID"


class HostedNumber(Conflict):
    """A caller-ID verification asked for a number the carrier hosts."""

    code = "hosted_number"
    title = "Hosted numbers need no verification"


class NoPendingVerification(Conflict):
    """A code for a number with no verification pending (none started, or too many wrong codes)."""

    code = "no_pending_verification"
    title = "No verification to complete"
