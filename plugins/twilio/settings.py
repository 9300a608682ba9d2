"""``[plugins.twilio]`` settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class TwilioSettings(BaseModel):
    """Credentials come from the environment (``{ env = "TWILIO_AUTH_TOKEN" }``)."""

    model_config = ConfigDict(extra="forbid")

    account_sid: str | None = Field(default=None, pattern=r"^AC[0-9a-fA-F]{32}$")
    auth_token: SecretStr | None = None
    #: Replaces the host of every Twilio API called (api, numbers, pricing, trusthub, lookups):
    #: a regional edge or a local test double, e.g. ``http://127.0.0.1:4010``.
    base_url: str | None = None
    #: Path of the status callback under ``TRUNKLINE_PUBLIC_BASE_URL``.
    status_callback_path: str = "/webhooks/twilio"
    timeout_seconds: float = Field(default=10.0, gt=0)
    #: Retries after a 429 (Twilio 20429) or a 5xx answer; other errors are never retried.
    max_retries: int = Field(default=2, ge=0, le=5)
    #: First backoff; doubles on each retry.
    retry_backoff_seconds: float = Field(default=0.5, ge=0)
    #: Cap on any single wait, ``Retry-After`` included: a request never sleeps longer.
    retry_max_wait_seconds: float = Field(default=5.0, ge=0)
    #: Lifetime of the cached country list and of the cached monthly prices.
    coverage_ttl_seconds: int = Field(default=3600, ge=0)
    regulations_ttl_seconds: int = Field(default=86400, ge=0)
    #: The Trust Hub policy of SHAKEN/STIR Trust Products (the same for every Twilio account):
    #: a hosted number assigned to an approved product of this policy is signed A.
    shaken_stir_policy_sid: str = Field(
        default="RN7a97559effdf62d00f4298208492a5ea", pattern=r"^RN[0-9a-fA-F]{32}$"
    )
    #: What a test call plays: inline TwiML, or a URL Twilio fetches TwiML from.
    call_twiml: str = "<Response><Say>This is a Trunkline test call.</Say></Response>"
    call_url: str | None = None
