"""What goes in and out of the HTTP API."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

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

from core.calls import normalise_status
from core.outbound_policy import normalise_countries
from core.tables import ApiKey, AuditEvent, Call, Campaign, LedgerEntry, Number

from .validation import Name, Reference, Text

T = TypeVar("T")


class In(BaseModel):
    """A request body: unknown fields refused, no coercion between types (``api.validation``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omittable(**constraints: Any) -> Any:
    """A PATCH field that may be left out but not set to null (its column has no "none")."""
    return Field(default=None, json_schema_extra=_no_default, **constraints)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    model_config = ConfigDict(extra="allow")


#: Marks a phone-number field or query parameter in the OpenAPI document (``x-phone``); every
#: one is read by ``core.phone.parse_e164`` (or ``parse_digit_filter`` for search fragments).
PHONE_SCHEMA: dict[str, Any] = {"x-phone": True}
PHONE_RULE = (
    "E.164: `+` and 7 to 15 ASCII digits, surrounding whitespace ignored; anything else, or "
    "more than 32 characters, is 422 `invalid_phone_number`."
)


def phone_field(default: Any = ..., *, alias: str | None = None) -> Any:
    """A phone-number field of a request body. No ``max_length`` here: the one parse refuses
    a too-long number as ``invalid_phone_number``, like any other malformed number."""
    return Field(
        default,
        alias=alias,
        description=PHONE_RULE,
        examples=["+14155550100"],
        json_schema_extra=PHONE_SCHEMA,
    )


def problems(*codes: int, body: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for problem documents, declared under the media type they are sent with
    (``application/problem+json``) as well as ``application/json``.

    Each operation lists the statuses it can answer; ``body=True`` adds what any JSON body
    can answer: 400 ``invalid_json``, 415 ``unsupported_media_type``, 422 ``validation_error``.
    """
    ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
    statuses = sorted({*codes, *((400, 415, 422) if body else ())})
    return {
        code: {"model": Problem, "content": {"application/problem+json": ref}} for code in statuses
    }


def drop_default_422(document: dict[str, Any]) -> dict[str, Any]:
    """Remove FastAPI's automatic 422 (its ``HTTPValidationError``, a shape this API never
    sends) from an OpenAPI document: an operation that can answer 422 declares it with
    :func:`problems`, as the problem document it is."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "HTTPValidationError" in str(answer.get("content", {})):
                del operation["responses"]["422"]
    schemas = document.get("components", {}).get("schemas", {})
    if "HTTPValidationError" not in str(document.get("paths")):
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    return document


def created(
    *codes: int, body: bool = False, links: dict[str, Any] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of an operation that answers 201 with the new object's ``Location``
    (and ``links`` to the operations on it)."""
    location = {
        "description": "The new object's URL.",
        "schema": {"type": "string", "format": "uri-reference"},
    }
    answer: dict[str, Any] = {"headers": {"Location": location}}
    if links:
        answer["links"] = links
    return {201: answer, **problems(*codes, body=body)}


def listed(*codes: int, links: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a list whose answer links to the operations on its first item."""
    return {200: {"links": links}, **problems(*codes)}


# -- numbers --------------------------------------------------------------------------------


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


class NumberOut(BaseModel):
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
        return cls(
            id=str(number.id),
            workspace_id=str(number.workspace_id),
            provider=number.provider,
            phone_e164=number.phone_e164,
            country_code=number.country_code,
            number_type=number.number_type,
            hosted=number.hosted,
            verified_cli=number.verified_cli,
            verification_status=number.verification_status,
            verification_ref=number.verification_ref,
            verified_at=number.verified_at,
            outbound_enabled=number.outbound_enabled,
            inbound_enabled=number.inbound_enabled,
            outbound_agent_id=number.outbound_agent_id,
            inbound_agent_id=number.inbound_agent_id,
            capabilities=list(number.capabilities or []),
            allowed_countries=list(number.allowed_countries or []),
            caller_id_allowed=caller_id_allowed,
            attestation=number.attestation_level,
            attestation_basis=number.attestation_basis,
            attestation_checked_at=number.attestation_checked_at,
            created_at=number.created_at,
        )


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


# -- outbound -------------------------------------------------------------------------------


#: An RFC 3339 instant with an offset, as a JSON body gives it.
_INSTANT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


def iso_date(value: Any) -> date | None:
    """A ``YYYY-MM-DD`` string as a date (parsed here: strict validation takes no string for a
    date); anything else is refused."""
    if value is not None and not (
        isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    ):
        raise ValueError("must be a date, YYYY-MM-DD")
    try:
        return date.fromisoformat(value) if value is not None else None
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None


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


# -- campaigns ------------------------------------------------------------------------------


class CampaignCreate(In):
    name: Name = Field(min_length=1, max_length=200)
    from_e164: str | None = phone_field(None)


class CampaignUpdate(In):
    name: str = Field(min_length=1, max_length=200)


class FromNumberIn(In):
    """``e164`` is the new caller ID, or ``null`` to clear it (the key is required)."""

    e164: str | None = phone_field()


class TestCallIn(In):
    """The preflight's ``to``, and its optional ``lookup`` and ``last_verified_date``: the test
    call is decided as ``POST /outbound/check`` would decide the same fields, now."""

    to: str = phone_field()
    #: Look the destination up (``None``: the workspace's ``lookup.enabled``).
    lookup: bool | None = Field(default=None, strict=True)
    #: With a lookup: refuse ``to`` when it was reassigned since this day.
    last_verified_date: date | None = Field(default=None, examples=["2026-01-15"])

    @field_validator("last_verified_date", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        return iso_date(value)


class CampaignWarning(BaseModel):
    """Something about a campaign that will make its calls fail: ``code`` is a policy reason."""

    code: str
    detail: str


class CampaignOut(BaseModel):
    id: str
    workspace_id: str
    name: str
    from_number_id: str | None
    from_e164: str | None
    warnings: list[CampaignWarning]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(
        cls,
        campaign: Campaign,
        from_e164: str | None,
        warnings: list[CampaignWarning] | None = None,
    ) -> CampaignOut:
        return cls(
            id=str(campaign.id),
            workspace_id=str(campaign.workspace_id),
            name=campaign.name,
            from_number_id=str(campaign.from_number_id) if campaign.from_number_id else None,
            from_e164=from_e164,
            warnings=warnings or [],
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )


CallStatus = Literal["queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer"]


class CallOut(BaseModel):
    """A call placed through Trunkline; ``status`` follows the carrier's events."""

    id: str
    campaign_id: str | None
    number_id: str | None
    provider: str
    from_e164: str
    to_e164: str
    provider_call_id: str | None
    status: CallStatus
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, call: Call) -> CallOut:
        return cls(
            id=str(call.id),
            campaign_id=str(call.campaign_id) if call.campaign_id else None,
            number_id=str(call.number_id) if call.number_id else None,
            provider=call.provider,
            from_e164=call.from_e164,
            to_e164=call.to_e164,
            provider_call_id=call.provider_call_id,
            # rows stored before statuses were normalised may hold a carrier's own word
            status=normalise_status(call.status) or "queued",  # type: ignore[arg-type]
            created_at=call.created_at,
            updated_at=call.updated_at,
        )


# -- ledger, audit --------------------------------------------------------------------------


class LedgerOut(BaseModel):
    id: str
    kind: str
    period: str | None
    number_id: str | None
    provider: str
    phone_e164: str
    amount_cents: int
    currency: str | None
    metadata: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerOut:
        return cls(
            id=str(e.id),
            kind=e.kind,
            period=e.period,
            number_id=str(e.number_id) if e.number_id else None,
            provider=e.provider,
            phone_e164=e.phone_e164,
            amount_cents=e.amount_cents,
            currency=e.currency,
            metadata=e.metadata_,
            created_at=e.created_at,
        )


class AuditOut(BaseModel):
    id: str
    actor: str
    action: str
    subject_type: str
    subject_id: str | None
    provider: str | None
    outcome: str
    detail: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: AuditEvent) -> AuditOut:
        return cls(
            id=str(e.id),
            actor=e.actor,
            action=e.action,
            subject_type=e.subject_type,
            subject_id=e.subject_id,
            provider=e.provider,
            outcome=e.outcome,
            detail=e.detail,
            created_at=e.created_at,
        )


# -- providers and catalog ------------------------------------------------------------------


class PermissionsOut(BaseModel):
    """A provider's dialing permissions as the core holds them."""

    state: Literal["ok", "stale", "failing", "pending", "unsupported"]
    fetched_at: datetime | None
    failed_at: datetime | None
    error: str | None
    disabled_countries: list[str]


class ProviderOut(BaseModel):
    name: str
    display_name: str
    plugin: str
    version: str | None
    capabilities: list[str]
    configured: bool
    detail: str | None
    permissions: PermissionsOut | None = None


class CallingRuleOut(BaseModel):
    """One rule of the bundled calling-hours pack."""

    rule: str
    title: str
    countries: list[str]
    regions: list[str] | None
    windows: list[dict[str, Any]]
    closed_on_public_holidays: bool
    source: str
    url: str | None = None


class ProviderFailure(BaseModel):
    provider: str
    code: str
    detail: str


class CatalogOut(BaseModel, Generic[T]):
    """Answers gathered from several providers; one's failure sits beside the others' items."""

    items: list[T]
    errors: list[ProviderFailure]


class PluginOut(BaseModel):
    name: str
    module: str
    distribution: str | None
    version: str | None
    bundled: bool
    enabled: bool
    status: Literal["loaded", "failed", "disabled"]
    error: str | None
    hooks: list[str]
    providers: list[str]


# -- API keys -------------------------------------------------------------------------------


class ApiKeyCreate(In):
    name: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="A label to tell keys apart (trimmed; no control characters).",
        examples=["dialer"],
    )

    @field_validator("name")
    @classmethod
    def _trimmed(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class ApiKeyOut(BaseModel):
    id: str
    name: str | None
    prefix: str = Field(description="The key's first characters, to recognise it.")
    user_id: str
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=str(key.id),
            name=key.name,
            prefix=key.prefix,
            user_id=str(key.user_id),
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            active=key.revoked_at is None,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The API key itself: shown in this answer only, never again.")
