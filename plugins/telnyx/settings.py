"""``[plugins.telnyx]`` settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class TelnyxSettings(BaseModel):
    """Keys come from the environment (``{ env = "TELNYX_API_KEY" }``)."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    #: Base64 Ed25519 public key from Mission Control, for webhook signatures.
    public_key: SecretStr | None = None
    #: The Call Control application used for test calls.
    connection_id: str | None = None
    #: The outbound voice profile whose ``whitelisted_destinations`` are the account's dialing
    #: permissions; unset: the profile of the ``connection_id`` application.
    outbound_voice_profile_id: str | None = None
    verification_method: Literal["sms", "call"] = "sms"
    #: Replaces ``https://api.telnyx.com/v2`` (a regional edge, or a local test double).
    base_url: str | None = None
    timeout_seconds: float = Field(default=10.0, gt=0)
    #: The SDK retries 408/409/429/5xx and connection errors this many times.
    max_retries: int = Field(default=2, ge=0, le=5)
    #: How often and how many times a number order is polled until it leaves ``pending``.
    order_poll_interval_seconds: float = Field(default=1.0, ge=0)
    order_poll_attempts: int = Field(default=5, ge=0)
