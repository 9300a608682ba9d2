"""The outbound policy: the one gate before any outbound call.

``(hosted) OR (verified CLI and TELEPHONY_OUTBOUND_VERIFIED_ENABLED)``, under DEMO_MODE, the
number's outbound binding and the country rules; then, for a destination, the carrier
account's own dialing permissions, the number's and the workspace's country allow-lists and
the calling hours in the callee's local time. The decision is pure and in memory: no carrier
call and no query beyond loading the number (and its workspace's policy), because a dialer asks
before every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from .calling_hours import Rule, RuleSet, as_datetime, bundled_windows, rules_from_windows
from .destinations import place_of
from .errors import PolicyDenied
from .models import ATTESTATION_LEVELS, CountryPermission
from .outbound_policy import ATTESTATION_COUNTRIES, CompiledHours, CompiledPolicy
from .phone import country_of

DEMO_MODE = "demo_mode"
OUTBOUND_DISABLED = "outbound_disabled"
CALLER_ID_NOT_ALLOWED = "caller_id_not_allowed"
COUNTRY_BLOCKED = "country_blocked"
CARRIER_COUNTRY_DISABLED = "carrier_country_disabled"
COUNTRY_NOT_ALLOWED = "country_not_allowed"
OUTSIDE_CALLING_HOURS = "outside_calling_hours"
ATTESTATION_BELOW_MINIMUM = "attestation_below_minimum"
LINE_TYPE_NOT_ALLOWED = "line_type_not_allowed"
NUMBER_REASSIGNED = "number_reassigned"
#: Every reason, in the order a decision lists them.
REASONS: tuple[str, ...] = (
    DEMO_MODE,
    OUTBOUND_DISABLED,
    CALLER_ID_NOT_ALLOWED,
    COUNTRY_BLOCKED,
    CARRIER_COUNTRY_DISABLED,
    COUNTRY_NOT_ALLOWED,
    OUTSIDE_CALLING_HOURS,
    ATTESTATION_BELOW_MINIMUM,
    LINE_TYPE_NOT_ALLOWED,
    NUMBER_REASSIGNED,
)

REASON_TEXT: dict[str, str] = {
    DEMO_MODE: "Demo mode is on: telephony is off.",
    OUTBOUND_DISABLED: "The number is not enabled for outbound calls.",
    CALLER_ID_NOT_ALLOWED: "The number is neither hosted nor a verified caller ID.",
    COUNTRY_BLOCKED: "Calls to or from this country are blocked.",
    CARRIER_COUNTRY_DISABLED: "The carrier account's dialing permissions refuse this country.",
    COUNTRY_NOT_ALLOWED: "The destination's country is not in the number's or the "
    "workspace's allow-list.",
    OUTSIDE_CALLING_HOURS: "The call would fall outside the calling hours in the callee's "
    "local time.",
    ATTESTATION_BELOW_MINIMUM: "The caller ID's expected SHAKEN/STIR attestation is below the "
    "workspace's minimum for US and Canadian destinations.",
    LINE_TYPE_NOT_ALLOWED: "The destination's line type is one the workspace refuses.",
    NUMBER_REASSIGNED: "The destination was reassigned since the consent was given.",
}


class PolicyNumber(Protocol):
    """What the policy reads of a number (a stored row or a ``NumberRef`` both fit).

    ``allowed_countries`` (optional) is the number's own country allow-list;
    ``attestation_level`` (optional) its stored expected attestation (absent or ``None``:
    never asked, which counts as ``unknown``).
    """

    provider: str
    country_code: str
    hosted: bool
    verified_cli: bool
    outbound_enabled: bool


class CountryRules(Protocol):
    def is_country_blocked(self, country_code: str, provider: str) -> bool: ...

    def calling_rules(self, country_code: str, region: str | None) -> tuple[Rule, ...]: ...


class PermissionLookup(Protocol):
    """Each provider's permissions by destination country (``PermissionStore``)."""

    lookup: dict[str, dict[str, CountryPermission]]


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a destination is: its country, region (US state, CA province) and candidate
    time zones (the caller's ``time_zone`` hint when given)."""

    country_code: str | None
    region: str | None
    time_zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    allowed: bool
    reasons: tuple[str, ...]
    #: When outside calling hours: the earliest instant that would be allowed (None: none
    #: within the horizon, or the destination's time zone is unknown).
    next_allowed_at: datetime | None = None


ALLOWED = PolicyDecision(True, ())
_UNKNOWN = RuleSet(())  # a cache miss (never a real rule set)


def now() -> datetime:
    """The current instant (one place, so tests can fix the clock)."""
    return datetime.now(UTC)


def attestation_rank(level: str | None) -> int:
    """0 for ``A`` up to 3 for ``unknown``; a number never asked ranks as ``unknown``."""
    try:
        return ATTESTATION_LEVELS.index(level or "unknown")
    except ValueError:
        return len(ATTESTATION_LEVELS) - 1


def attestation_below(level: str | None, minimum: str | None) -> bool:
    """True when ``level`` is less trusted than ``minimum`` (``None``: no minimum)."""
    return minimum is not None and attestation_rank(level) > attestation_rank(minimum)


@lru_cache(maxsize=65_536)
def describe_destination(e164: str, time_zone: str | None = None) -> Destination:
    """The destination part of a preflight answer (from the per-prefix caches; the answer
    itself cached per number and hint, as a batch asks it once per check)."""
    place = place_of(e164)
    zones = (time_zone,) if time_zone else place.time_zones
    return Destination(country_of(e164), place.region, zones)


class OutboundPolicy:
    """Decides whether a number may present itself as caller ID, optionally to a destination."""

    __slots__ = (
        "_blocked",
        "_blocked_answers",
        "_bundled",
        "_last_at",
        "_permission",
        "_rules",
        "_rulesets",
        "demo_mode",
        "verified_enabled",
    )

    def __init__(
        self,
        rules: CountryRules,
        *,
        verified_enabled: bool,
        demo_mode: bool,
        permissions: PermissionLookup | None = None,
    ) -> None:
        self._rules = rules
        self._blocked = rules.is_country_blocked  # bound once: this is the hot path
        #: The rules' own cache of answers, read without a call when they expose it (a
        #: ``PluginHost``); asked through ``is_country_blocked`` on a miss.
        self._blocked_answers: dict[tuple[str, str], bool] = getattr(rules, "country_answers", {})
        self._last_at: tuple[datetime | None, float] = (None, 0.0)
        self._permission = permissions.lookup if permissions is not None else None
        #: (country, region, workspace hours) -> the rule set, or None when no rule applies.
        self._rulesets: dict[tuple[str, str | None, CompiledHours], RuleSet | None] = {}
        self._bundled: dict[tuple[str, str | None], tuple[Rule, ...]] = {}
        self.verified_enabled = verified_enabled
        self.demo_mode = demo_mode

    def caller_id_allowed(self, number: PolicyNumber) -> bool:
        """Hosted, or a verified CLI while verified CLIs are enabled."""
        return number.hosted or (number.verified_cli and self.verified_enabled)

    def ruleset(self, country: str, region: str | None, hours: CompiledHours) -> RuleSet | None:
        """The calling-hours rules for a destination under a workspace's setting (cached):
        the bundled rules it selected, every plugin's ``calling_windows``, its own windows."""
        key = (country, region, hours)
        try:
            return self._rulesets[key]
        except KeyError:
            pass
        bundled = self._bundled.get((country, region))
        if bundled is None:
            bundled = self._bundled[(country, region)] = tuple(
                rules_from_windows(bundled_windows(country, region), country)
            )
        rules = [r for r in bundled if r.id in hours.rules]
        plugin_rules = getattr(self._rules, "calling_rules", None)
        if plugin_rules is not None:
            rules.extend(plugin_rules(country, region))
        if hours.own is not None:
            rules.append(hours.own)
        found = RuleSet(tuple(rules)) if rules else None
        if len(self._rulesets) >= 50_000:
            self._rulesets.clear()
        self._rulesets[key] = found
        return found

    def evaluate(
        self,
        number: PolicyNumber,
        destination: str | None = None,
        *,
        destination_country: str | None = None,
        check_binding: bool = True,
        workspace: CompiledPolicy | None = None,
        at: datetime | None = None,
        time_zone: str | None = None,
    ) -> PolicyDecision:
        """Every reason that applies, in order; never raises for a denial.

        :param destination: E.164 of the callee; its country is checked against the rules,
            the carrier's permissions and the allow-lists, its local time against the calling
            hours.
        :param destination_country: the callee's ISO country when the caller already knows it.
        :param check_binding: False to ask only "may this number be a caller ID" (binding checks).
        :param workspace: the workspace's compiled outbound policy (allow-list, calling hours,
            the minimum attestation for US and CA destinations).
        :param at: when the call would be placed (aware); default now.
        :param time_zone: the callee's IANA time zone, when the caller knows it better than
            the number's prefix does.
        """
        reasons: list[str] = []
        if self.demo_mode:
            reasons.append(DEMO_MODE)
        if check_binding and not number.outbound_enabled:
            reasons.append(OUTBOUND_DISABLED)
        if not (number.hosted or (number.verified_cli and self.verified_enabled)):
            reasons.append(CALLER_ID_NOT_ALLOWED)
        provider = number.provider
        answers = self._blocked_answers
        key = (number.country_code, provider)
        blocked = answers.get(key)
        if blocked is None:
            blocked = self._blocked(*key)
        if destination is None and destination_country is None:
            if blocked:
                reasons.append(COUNTRY_BLOCKED)
            return PolicyDecision(False, tuple(reasons)) if reasons else ALLOWED
        country = destination_country or country_of(destination or "")
        if not blocked:
            if country is None:
                blocked = True
            else:
                blocked = answers.get((country, provider))
                if blocked is None:
                    blocked = self._blocked(country, provider)
        if blocked:
            reasons.append(COUNTRY_BLOCKED)
        next_at = None
        if country is not None:
            place = None  # looked up once, only when a check needs it
            by_provider = self._permission
            countries = by_provider.get(provider) if by_provider is not None else None
            if countries:
                granted = countries.get(country)
                if granted is not None:
                    if not granted.allowed:
                        reasons.append(CARRIER_COUNTRY_DISABLED)
                    elif not granted.high_risk_allowed and destination is not None:
                        place = place_of(destination)
                        if place.high_risk:
                            reasons.append(CARRIER_COUNTRY_DISABLED)
            own = getattr(number, "allowed_countries", None)
            if (own and country not in own) or (
                workspace is not None
                and workspace.allowed_countries
                and country not in workspace.allowed_countries
            ):
                reasons.append(COUNTRY_NOT_ALLOWED)
            hours = workspace.calling_hours if workspace is not None else None
            if hours is not None and destination is not None:
                if place is None:
                    place = place_of(destination)
                ruleset = self._rulesets.get((country, place.region, hours), _UNKNOWN)
                if ruleset is _UNKNOWN:
                    ruleset = self.ruleset(country, place.region, hours)
                if ruleset is not None:
                    zones = (time_zone,) if time_zone else place.time_zones
                    if at is None:
                        ts = now().timestamp()
                    else:
                        last = self._last_at  # a campaign's checks share one instant
                        if last[0] is at:
                            ts = last[1]
                        else:
                            ts = at.timestamp()
                            self._last_at = (at, ts)
                    if not zones:
                        reasons.append(OUTSIDE_CALLING_HOURS)  # nowhere to tell the time
                    elif not ruleset.allows(zones, ts):
                        reasons.append(OUTSIDE_CALLING_HOURS)
                        found = ruleset.next_allowed(zones, ts)
                        next_at = as_datetime(found) if found is not None else None
            minimum = workspace.min_attestation if workspace is not None else None
            if (
                minimum is not None
                and country in ATTESTATION_COUNTRIES
                and attestation_below(getattr(number, "attestation_level", None), minimum)
            ):
                reasons.append(ATTESTATION_BELOW_MINIMUM)
        if not reasons:
            return ALLOWED
        return PolicyDecision(False, tuple(reasons), next_at)

    def enforce_outbound_policy(
        self,
        number: PolicyNumber,
        destination: str | None = None,
        *,
        workspace: CompiledPolicy | None = None,
        at: datetime | None = None,
        time_zone: str | None = None,
    ) -> PolicyDecision:
        """The gate: the decision when allowed, ``PolicyDenied`` with every reason otherwise."""
        decision = self.evaluate(
            number, destination, workspace=workspace, at=at, time_zone=time_zone
        )
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
