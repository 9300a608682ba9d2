"""The outbound preflight: one check, a batch, and what each answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic_core import to_json

from ..validation import Text
from .common import In, Problem, iso_date, phone_field

#: An RFC 3339 instant with an offset, as a JSON body gives it.
_INSTANT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


class OutboundCheckIn(In):
    from_: str | None = phone_field(None, alias="from")
    number_id: Text | None = Field(default=None, max_length=64)
    to: str | None = phone_field(None)
    #: When the call would be placed (RFC 3339 with an offset); default now.
    at: AwareDatetime | None = None
    #: The callee's IANA time zone, when known better than the number's prefix tells.
    time_zone: str | None = Field(default=None, max_length=64, examples=["America/Chicago"])
    #: Look the destination up at the caller ID's carrier (costs money); default: the
    #: workspace's outbound policy (``lookup.enabled``).
    lookup: bool | None = Field(default=None, strict=True)
    #: The day the callee was last known reachable at ``to`` (the consent's date): with a
    #: lookup, the destination is checked for reassignment since then.
    last_verified_date: date | None = Field(default=None, examples=["2026-01-15"])
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("last_verified_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return iso_date(value)

    @field_validator("at", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        # A batch item is validated from Python objects, where strict mode takes no string for
        # a datetime: parse the string as the JSON body's own parse would (RFC 3339).
        if isinstance(value, str):
            try:
                return _INSTANT.validate_json(to_json(value))
            except ValidationError:
                raise ValueError("must be an RFC 3339 date and time with an offset") from None
        return value


class LookupOut(BaseModel):
    """What the destination lookup of a preflight told.

    ``status``: ``ok`` (the carrier answered now), ``cached`` (answered from the cache),
    ``failed`` (the carrier failed: ``error`` is its problem code; the preflight answered what
    it could decide without it), ``unsupported`` (the caller ID's provider offers no lookup).
    """

    status: str
    line_type: str | None = None
    reassigned: str | None = None
    carrier_name: str | None = None
    error: str | None = None


class DestinationOut(BaseModel):
    """Where the destination is: country, region (US state, CA province), candidate zones, and
    its line type when a lookup told it (``None``: not looked up, or the lookup failed)."""

    country_code: str | None
    region: str | None
    time_zones: list[str]
    line_type: str | None = None


class OutboundCheckOut(BaseModel):
    allowed: bool
    reasons: list[str]
    number_id: str | None = None
    #: When ``outside_calling_hours``: the earliest instant that would be allowed.
    next_allowed_at: datetime | None = None
    destination: DestinationOut | None = None
    #: The caller ID's expected SHAKEN/STIR attestation (``None``: never asked).
    attestation: str | None = None
    #: The destination lookup, when one was made.
    lookup: LookupOut | None = None


#: Most checks one ``POST /outbound/check/batch`` request may carry.
BATCH_MAX_CHECKS = 1_000


#: A batch item: validated as a ``POST /outbound/check`` body in the same pass as the batch
#: (from the raw JSON, as the single route validates its body); an item that is not a valid
#: body stays as it was sent, and the batch validates it again on its own for its problem.
BatchItem = Annotated[OutboundCheckIn | Any, Field(union_mode="left_to_right")]


class OutboundBatchIn(In):
    checks: list[BatchItem] = Field(
        max_length=BATCH_MAX_CHECKS,
        description="Up to 1,000 `POST /outbound/check` bodies; each is validated on its own.",
        json_schema_extra={"items": {"$ref": "#/components/schemas/OutboundCheckIn"}},
    )


class OutboundCheckError(BaseModel):
    """An item that could not be checked: the problem its own preflight would answer."""

    error: Problem


class OutboundBatchOut(BaseModel):
    results: list[OutboundCheckOut | OutboundCheckError]
