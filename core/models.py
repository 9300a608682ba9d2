"""The pydantic models that hooks exchange with the core.

These are part of the public surface re-exported by ``core``. Their fields may grow, never
shrink or change meaning: a plugin written against an older Trunkline keeps working.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_validator, model_validator

from . import hookspecs

#: A capability names one provider hook (see ``hookspecs.provider_hook``).
Capability = str
CAPABILITIES: frozenset[str] = hookspecs.CAPABILITIES
NumberType = Literal["local", "mobile", "toll_free", "national"]
NUMBER_TYPES: tuple[str, ...] = ("local", "mobile", "toll_free", "national")
Feature = Literal["voice", "sms", "mms", "fax"]
#: Features in this order when serialised (a set's own order changes from process to process).
FEATURE_ORDER: tuple[str, ...] = ("voice", "sms", "mms", "fax")


def _ordered_features(features: set[str]) -> list[str]:
    return sorted(features, key=lambda f: (FEATURE_ORDER.index(f) if f in FEATURE_ORDER else 99, f))


#: A set of features, serialised as a list in :data:`FEATURE_ORDER`.
FeatureSet = Annotated[
    set[Feature], PlainSerializer(_ordered_features, return_type=list[Feature], when_used="always")
]
VerificationStatus = Literal["none", "pending", "verified", "failed"]
NextStep = Literal["none", "answer_call_and_enter_code", "submit_code"]
EndUserType = Literal["individual", "business", "any"]
RequirementKind = Literal["document", "address", "textual", "identity"]
EventKind = Literal["verification_succeeded", "verification_failed", "call_status"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: ``HH:MM`` on a 24-hour clock; ``24:00`` ends a window at midnight.
CLOCK_PATTERN = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
AttestationLevel = Literal["A", "B", "C", "unknown"]
#: SHAKEN/STIR levels from the most trusted down (``unknown`` ranks below ``C``).
ATTESTATION_LEVELS: tuple[str, ...] = get_args(AttestationLevel)
LineType = Literal[
    "mobile",
    "landline",
    "fixed_voip",
    "non_fixed_voip",
    "toll_free",
    "premium",
    "shared_cost",
    "voicemail",
    "pager",
    "unknown",
]
LINE_TYPES: tuple[str, ...] = get_args(LineType)
Reassigned = Literal["yes", "no", "unknown", "unsupported"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ProviderInfo(BaseModel):
    """What a carrier plugin registers through ``trunkline_register_providers``."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")
    display_name: str
    #: Left out, the host fills it with the capabilities of the provider hooks the plugin
    #: implements; given, it may only narrow them (an implemented hook not declared is refused
    #: with ``UnsupportedOperation``).
    capabilities: set[Capability] = Field(default_factory=set)
    settings_model: type[BaseModel] | None = None

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, value: set[str]) -> set[str]:
        unknown = sorted(value - CAPABILITIES)
        if unknown:
            raise ValueError(
                f"unknown capabilities {unknown}; known: {', '.join(sorted(CAPABILITIES))}"
            )
        return value


class NumberRef(_Model):
    """What a hook is told about a stored number."""

    id: str
    workspace_id: str
    phone_e164: str
    country_code: str
    provider: str
    hosted: bool = False
    verified_cli: bool = False
    verification_status: VerificationStatus = "none"
    verification_ref: str | None = None
    allowed_countries: list[str] = Field(default_factory=list)
    #: The carrier's own id of a hosted number (Twilio ``PN...``, a Telnyx order id), if known.
    provider_ref: str | None = None


class VerificationResult(_Model):
    """A carrier's answer to ``verify_cli``.

    ``display_code`` is a code shown to the user: the one to type into the carrier's
    verification call (Twilio's style), or, for a simulated carrier, the code its simulated
    message carried. It reaches the API answer and the console only: the core never writes it
    to the audit trail nor to a trace. ``next_step`` tells the client what the user does next.
    """

    status: Literal["pending", "verified", "failed"]
    next_step: NextStep = "none"
    display_code: str | None = None
    provider_ref: str | None = None
    detail: str | None = None


class CoverageEntry(_Model):
    provider: str
    country_code: str
    number_type: NumberType
    features: FeatureSet = Field(default_factory=set)
    source: Literal["live", "static"]
    as_of: date | datetime | None = None


class Requirement(_Model):
    """One regulatory requirement to hold a number of a type in a country."""

    provider: str
    country_code: str
    number_type: NumberType
    end_user_type: EndUserType
    name: str
    kind: RequirementKind
    description: str = ""
    group: str | None = None


class NumberSearch(_Model):
    """What ``search_numbers`` is asked for. Unset filters do not filter."""

    country: str
    number_type: NumberType = "local"
    contains: str | None = None
    area_code: str | None = None
    locality: str | None = None
    features: set[Feature] = Field(default_factory=set)
    limit: int = Field(default=20, ge=1, le=100)


class _PricedNumber(_Model):
    """A carrier's number and its price: what a search offers and a purchase buys."""

    provider: str
    phone_e164: str
    country_code: str
    number_type: NumberType
    features: FeatureSet = Field(default_factory=set)
    monthly_cost: Decimal | None = None
    upfront_cost: Decimal | None = None
    currency: str | None = None


class AvailableNumber(_PricedNumber):
    locality: str | None = None
    region: str | None = None


class PurchasedNumber(_PricedNumber):
    provider_ref: str


class CallOptions(_Model):
    """Options for ``place_call``: all optional, a plugin uses what it understands."""

    twiml: str | None = None
    url: str | None = None
    timeout_seconds: int | None = None
    metadata: dict[str, str] = Field(default_factory=dict)


class PlacedCall(_Model):
    provider: str
    provider_call_id: str
    status: str


class WebhookRequest(_Model):
    """What ``parse_webhook`` receives, free of any web framework.

    ``url`` is the public URL the carrier called (built from ``TRUNKLINE_PUBLIC_BASE_URL``),
    ``headers`` have lower-case names, ``body`` is the raw bytes as received.
    """

    url: str
    method: str = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""


class ProviderEvent(_Model):
    """A fact a carrier reported, which the core applies to its numbers and calls."""

    provider: str
    kind: EventKind
    phone_e164: str | None = None
    provider_ref: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class CountryPermission(_Model):
    """A carrier account's own outbound permission for one destination country
    (``fetch_outbound_permissions``).

    ``allowed``: ordinary (low-risk) numbers of the country may be called;
    ``high_risk_allowed``: its high-risk numbers (premium-rate, special services) may too.
    """

    country_code: str = Field(pattern=r"^[A-Z]{2}$")
    allowed: bool
    high_risk_allowed: bool = False


class CallingWindow(_Model):
    """One window of a calling-hours rule, in the callee's local time (``calling_windows``).

    ``start`` is inclusive and ``end`` exclusive (``08:00``-``21:00`` allows 20:59, not 21:00).
    Windows sharing a ``rule`` id add up (a call is inside the rule when it is inside any of
    them); separate rules all apply (the strictest wins). ``closed_on_public_holidays`` closes
    the rule on the destination country's public holidays.
    """

    rule: str = Field(pattern=r"^[a-z0-9_.:-]{1,64}$")
    days: list[Day] = Field(min_length=1)
    start: str = Field(pattern=CLOCK_PATTERN)
    end: str = Field(pattern=CLOCK_PATTERN)
    closed_on_public_holidays: bool = False
    source: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> CallingWindow:
        if self.start >= self.end:
            raise ValueError(f"a window ends after it starts ({self.start}-{self.end})")
        return self


class AttestationEstimate(_Model):
    """The SHAKEN/STIR attestation a carrier is expected to sign calls from a number with.

    ``A``: the carrier knows the caller and that it may use the number (a number it hosts);
    ``B``: it knows the caller but not the number's right of use (a verified caller ID);
    ``C``: it knows neither; ``unknown``: it cannot tell. ``basis`` says why, in words.
    """

    level: AttestationLevel
    basis: str = ""


class NumberIntel(_Model):
    """A carrier's answer about a destination number (``lookup_number``).

    ``line_type`` is normalised onto :data:`LINE_TYPES`; ``reassigned`` is ``yes`` or ``no``
    when asked and known, ``unknown`` when the carrier has no data, ``unsupported`` when the
    carrier cannot tell for this number (or was not asked). ``cost`` is what the carrier
    charged for this lookup, in ``currency``, when it says.
    """

    provider: str
    phone_e164: str
    valid: bool = True
    line_type: LineType = "unknown"
    carrier_name: str | None = None
    reassigned: Reassigned = "unsupported"
    cost: Decimal | None = None
    currency: str | None = None
