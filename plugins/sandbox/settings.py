"""``[plugins.sandbox]`` settings: every key has a default, so the table may be empty."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from trunkline import LineType


class SandboxLookupSettings(BaseModel):
    """``[plugins.sandbox.lookup]``: what the simulated destination lookup answers."""

    model_config = ConfigDict(extra="forbid")

    #: ``{ "+E164" = "landline", ... }``; every other number is ``mobile``.
    line_types: dict[str, LineType] = Field(default_factory=dict)
    #: Numbers reassigned since any consent date; every other number is not.
    reassigned: list[str] = Field(default_factory=list)
    #: What each lookup costs, in the sandbox's ``currency``.
    cost: Decimal = Field(default=Decimal("0.005"), ge=0)


class SandboxSettings(BaseModel):
    """``[plugins.sandbox]``; every key has a default, so the table may be empty."""

    model_config = ConfigDict(extra="forbid")

    verification_style: Literal["by_number", "call", "sms"] = "by_number"
    callback_delay_seconds: float = Field(default=3.0, ge=0)
    #: Signs callbacks to ``/webhooks/sandbox``. No default secret: unset (empty), every signed
    #: sandbox event is refused (a secret shipped in the source would let anyone forge one).
    #: Not a credential: the sandbox works without it, only its webhook route does not.
    webhook_secret: SecretStr = SecretStr("")
    monthly_cost: Decimal = Decimal("1.15")
    upfront_cost: Decimal = Decimal("0.00")
    currency: str = "USD"
    #: A fixed code for the sms style (demos and tests); random when unset.
    fixed_code: str | None = Field(default=None, pattern=r"^[0-9]{4,8}$")
    fail_operations: dict[str, Literal["unavailable", "rate_limited", "rejected", "auth"]] = Field(
        default_factory=dict
    )
    #: The simulated account's dialing permissions: destination countries it may not call.
    disabled_countries: list[str] = Field(default_factory=list)

    @field_validator("disabled_countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        out = []
        for code in value:
            if code.upper() not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
            out.append(code.upper())
        return sorted(set(out))

    lookup: SandboxLookupSettings = Field(default_factory=SandboxLookupSettings)
