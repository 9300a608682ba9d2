"""Numbers: creating, binding, verifying, purchasing, and the number as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, Field, field_validator

from core.numbers import NumberFilter
from core.outbound_policy import normalise_countries
from core.tables import Number

from ..validation import QueryBool, Reference, Text
from .common import In, RowOut, omittable, phone_field

if TYPE_CHECKING:
    from core.runtime import Runtime


class NumberQuery(NumberFilter):
    """The filters of ``GET /settings/telephony/numbers``, as its query string states them."""

    provider: Annotated[Text | None, Field(max_length=32)] = None
    hosted: QueryBool = None
    verified: QueryBool = None
    outbound: QueryBool = None


class NumberCreate(In):
    e164: str = phone_field()
    provider: Text = Field(max_length=32, examples=["sandbox"])


class NumberBinding(In):
    """A PATCH: the fields given change, the others stay. A boolean may not be null; an agent
    id that is null or blank clears the binding (stored as null)."""

    outbound_enabled: bool = omittable()
    inbound_enabled: bool = omittable()
    outbound_agent_id: Reference = Field(default=None, max_length=200)
    inbound_agent_id: Reference = Field(default=None, max_length=200)
    #: The countries this number may call (ISO 3166 alpha-2); ``[]``: every country.
    allowed_countries: list[str] = omittable(max_length=300, examples=[["US"]])

    @field_validator("allowed_countries")
    @classmethod
    def _countries(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_countries(value)


class NumberOut(RowOut):
    id: str
    workspace_id: str
    provider: str
    phone_e164: str
    country_code: str
    number_type: str | None
    hosted: bool
    verified_cli: bool
    verification_status: str
    verification_ref: str | None
    verified_at: datetime | None
    outbound_enabled: bool
    inbound_enabled: bool
    outbound_agent_id: str | None
    inbound_agent_id: str | None
    capabilities: list[str]
    allowed_countries: list[str] = Field(default_factory=list)
    caller_id_allowed: bool
    #: Expected SHAKEN/STIR attestation (``A``, ``B``, ``C``, ``unknown``; ``None``: not asked).
    attestation: str | None = None
    attestation_basis: str | None = None
    attestation_checked_at: datetime | None = None
    created_at: datetime

    @classmethod
    def of(cls, number: Number, caller_id_allowed: bool) -> NumberOut:
        return cls.from_row(
            number,
            capabilities=list(number.capabilities or []),
            allowed_countries=list(number.allowed_countries or []),
            caller_id_allowed=caller_id_allowed,
            attestation=number.attestation_level,
        )


def number_out(rt: Runtime, number: Number) -> NumberOut:
    """The one presenter of a number (the API's answers and the console's views): its fields,
    and whether the outbound policy lets it be a caller ID."""
    return NumberOut.of(number, rt.policy.caller_id_allowed(number))


class VerifyIn(In):
    number_id: Text = Field(max_length=64)
    code: Text | None = Field(default=None, min_length=1, max_length=16)


class VerifyOut(BaseModel):
    ok: bool
    number_id: str
    verified_cli: bool
    status: str
    next_step: str
    display_code: str | None
    detail: str | None
    attempts_left: int | None = Field(
        description="Codes that may still be submitted to this verification: null when none "
        "is under way, 0 once it failed (start a new one)."
    )


class PurchaseIn(In):
    provider: Text = Field(max_length=32)
    e164: str = phone_field()
