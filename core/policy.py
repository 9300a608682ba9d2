"""The outbound policy: the one gate before any outbound call.

``(hosted) OR (verified CLI and TELEPHONY_OUTBOUND_VERIFIED_ENABLED)``, under DEMO_MODE, the
number's outbound binding and the country rules. The decision is pure and in memory: no carrier
call and no query beyond loading the number, because a dialer asks before every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .errors import PolicyDenied
from .phone import country_of

DEMO_MODE = "demo_mode"
OUTBOUND_DISABLED = "outbound_disabled"
CALLER_ID_NOT_ALLOWED = "caller_id_not_allowed"
COUNTRY_BLOCKED = "country_blocked"
LINE_TYPE_NOT_ALLOWED = "line_type_not_allowed"
NUMBER_REASSIGNED = "number_reassigned"
#: Every reason, in the order a decision lists them.
REASONS: tuple[str, ...] = (
    DEMO_MODE,
    OUTBOUND_DISABLED,
    CALLER_ID_NOT_ALLOWED,
    COUNTRY_BLOCKED,
    LINE_TYPE_NOT_ALLOWED,
    NUMBER_REASSIGNED,
)

REASON_TEXT: dict[str, str] = {
    DEMO_MODE: "Demo mode is on: telephony is off.",
    OUTBOUND_DISABLED: "The number is not enabled for outbound calls.",
    CALLER_ID_NOT_ALLOWED: "The number is neither hosted nor a verified caller ID.",
    COUNTRY_BLOCKED: "Calls to or from this country are blocked.",
    LINE_TYPE_NOT_ALLOWED: "The destination's line type is one the workspace refuses.",
    NUMBER_REASSIGNED: "The destination was reassigned since the consent was given.",
}


class PolicyNumber(Protocol):
    """What the policy reads of a number (a stored row or a ``NumberRef`` both fit)."""

    provider: str
    country_code: str
    hosted: bool
    verified_cli: bool
    outbound_enabled: bool


class CountryRules(Protocol):
    def is_country_blocked(self, country_code: str, provider: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    allowed: bool
    reasons: tuple[str, ...]


ALLOWED = PolicyDecision(True, ())


class OutboundPolicy:
    """Decides whether a number may present itself as caller ID, optionally to a destination."""

    __slots__ = ("_blocked", "_rules", "demo_mode", "verified_enabled")

    def __init__(self, rules: CountryRules, *, verified_enabled: bool, demo_mode: bool) -> None:
        self._rules = rules
        self._blocked = rules.is_country_blocked  # bound once: this is the hot path
        self.verified_enabled = verified_enabled
        self.demo_mode = demo_mode

    def caller_id_allowed(self, number: PolicyNumber) -> bool:
        """Hosted, or a verified CLI while verified CLIs are enabled."""
        return number.hosted or (number.verified_cli and self.verified_enabled)

    def evaluate(
        self,
        number: PolicyNumber,
        destination: str | None = None,
        *,
        destination_country: str | None = None,
        check_binding: bool = True,
    ) -> PolicyDecision:
        """Every reason that applies, in order; never raises for a denial.

        :param destination: E.164 of the callee; its country is checked against the rules.
        :param destination_country: the callee's ISO country when the caller already knows it.
        :param check_binding: False to ask only "may this number be a caller ID" (binding checks).
        """
        reasons: list[str] = []
        if self.demo_mode:
            reasons.append(DEMO_MODE)
        if check_binding and not number.outbound_enabled:
            reasons.append(OUTBOUND_DISABLED)
        if not (number.hosted or (number.verified_cli and self.verified_enabled)):
            reasons.append(CALLER_ID_NOT_ALLOWED)
        provider = number.provider
        blocked = self._blocked(number.country_code, provider)
        if not blocked and (destination is not None or destination_country is not None):
            country = destination_country or country_of(destination or "")
            blocked = country is None or self._blocked(country, provider)
        if blocked:
            reasons.append(COUNTRY_BLOCKED)
        if not reasons:
            return ALLOWED
        return PolicyDecision(False, tuple(reasons))

    def enforce_outbound_policy(
        self, number: PolicyNumber, destination: str | None = None
    ) -> PolicyDecision:
        """The gate: the decision when allowed, ``PolicyDenied`` with every reason otherwise."""
        # Fast path for the common answer (allowed), with the same checks as ``evaluate``;
        # anything else goes through ``evaluate`` for the full list of reasons.
        if (
            not self.demo_mode
            and number.outbound_enabled
            and (number.hosted or (number.verified_cli and self.verified_enabled))
        ):
            blocked = self._blocked
            provider = number.provider
            if not blocked(number.country_code, provider):
                if destination is None:
                    return ALLOWED
                country = country_of(destination)
                if country is not None and not blocked(country, provider):
                    return ALLOWED
        decision = self.evaluate(number, destination)
        if not decision.allowed:
            raise PolicyDenied(list(decision.reasons))
        return decision


class LookupAnswer(Protocol):
    """What a destination lookup told (``core.lookups.LookupOutcome`` fits)."""

    @property
    def line_type(self) -> str | None: ...

    @property
    def reassigned(self) -> str | None: ...


def lookup_reasons(
    lookup: LookupAnswer | None, deny_line_types: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The reasons a destination lookup adds, in order, after every other reason: a refused
    line type, a number reassigned since the consent. A lookup that failed adds none."""
    if lookup is None:
        return ()
    found: list[str] = []
    if lookup.line_type is not None and lookup.line_type in deny_line_types:
        found.append(LINE_TYPE_NOT_ALLOWED)
    if lookup.reassigned == "yes":
        found.append(NUMBER_REASSIGNED)
    return tuple(found)
