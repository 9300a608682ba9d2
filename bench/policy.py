"""Policy engine: decisions per second of ``enforce_outbound_policy`` with the country-rules
plugin loaded through pluggy, the carrier's dialing permissions, the workspace's and the number's
allow-lists and calling hours on (the bundled rules), against the same checks written inline
with no plugin machinery.

Targets: at most 1.5x the baseline's time per decision; 100,000 decisions for a campaign list
(one caller ID, 100,000 destinations across 50 countries) in under 0.3 s of CPU.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import phonenumbers

from core.calling_hours import (
    _day_intervals,
    bundled_windows,
    rules_from_windows,
)
from core.calling_hours import warm_up as warm_hours
from core.destinations import place_of
from core.destinations import warm_up as warm_destinations
from core.errors import PolicyDenied
from core.models import CountryPermission
from core.outbound_policy import CallingHoursIn, OutboundPolicySettings, compile_settings
from core.permissions import PermissionStore
from core.phone import _country_slow, country_of
from core.plugins import PluginHost
from core.policy import (
    ALLOWED,
    CALLER_ID_NOT_ALLOWED,
    CARRIER_COUNTRY_DISABLED,
    COUNTRY_BLOCKED,
    COUNTRY_NOT_ALLOWED,
    DEMO_MODE,
    OUTBOUND_DISABLED,
    OUTSIDE_CALLING_HOURS,
    OutboundPolicy,
    PolicyDecision,
)

#: 50 destination countries of a campaign list (several share a calling code: +1, +7, +44...).
COUNTRIES = (
    "US",
    "CA",
    "GB",
    "DE",
    "FR",
    "IT",
    "ES",
    "NL",
    "BE",
    "CH",
    "AT",
    "SE",
    "NO",
    "DK",
    "FI",
    "IE",
    "PT",
    "PL",
    "CZ",
    "HU",
    "RO",
    "GR",
    "TR",
    "RU",
    "UA",
    "IL",
    "AE",
    "SA",
    "IN",
    "PK",
    "BD",
    "CN",
    "JP",
    "KR",
    "SG",
    "MY",
    "TH",
    "VN",
    "PH",
    "ID",
    "AU",
    "NZ",
    "ZA",
    "NG",
    "KE",
    "EG",
    "MA",
    "BR",
    "MX",
    "AR",
)
RULES = {"blocked": ["KP", "IR", "SY", "CU"], "by_provider": {"telnyx": ["RU"]}}
#: The carrier account's dialing permissions: every campaign country allowed, high-risk
#: numbers not (so each destination's risk is looked at).
DISABLED: tuple[str, ...] = ()
#: The workspace's and the number's allow-lists: the campaign's 50 countries.
WORKSPACE_ALLOWED = COUNTRIES
#: When the campaign runs: Wednesday 2026-07-15 16:00 UTC (noon in New York, 18:00 in Paris).
AT = datetime(2026, 7, 15, 16, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class CallerId:
    provider: str = "twilio"
    country_code: str = "US"
    hosted: bool = True
    verified_cli: bool = False
    outbound_enabled: bool = True
    allowed_countries: frozenset[str] = field(default_factory=lambda: frozenset(COUNTRIES))


def permissions() -> list[CountryPermission]:
    return [
        CountryPermission(country_code=c, allowed=c not in DISABLED, high_risk_allowed=False)
        for c in COUNTRIES
    ]


WORKSPACE = compile_settings(
    OutboundPolicySettings(
        allowed_countries=list(WORKSPACE_ALLOWED), calling_hours=CallingHoursIn()
    )
)


def destinations(n: int, seed: int = 9) -> list[str]:
    """``n`` distinct destinations across the 50 countries (mobile and fixed-line shapes)."""
    rng = random.Random(seed)
    shapes = []
    for region in COUNTRIES:
        for kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
            ex = phonenumbers.example_number_for_type(region, kind)
            if ex is not None:
                shapes.append((ex.country_code, phonenumbers.national_significant_number(ex)))
    out: set[str] = set()
    while len(out) < n:
        cc, nsn = rng.choice(shapes)
        out.add(f"+{cc}{nsn[:-4]}{rng.randrange(10_000):04d}")
    result = sorted(out)
    rng.shuffle(result)
    return result


def plugin_policy() -> Callable[[Any, str], PolicyDecision]:
    """The real thing: PluginHost loads ``country_rules`` from its entry point via pluggy; the
    permissions are a ``PermissionStore`` holding a carrier's answer; the workspace's compiled
    policy has an allow-list and calling hours on."""
    host = PluginHost()
    host.load(["country_rules"], {"country_rules": RULES})
    asyncio.run(host.configure())
    store = PermissionStore(host)
    store.install("twilio", permissions(), AT)
    policy = OutboundPolicy(host, verified_enabled=True, demo_mode=False, permissions=store)
    return functools.partial(policy.enforce_outbound_policy, workspace=WORKSPACE, at=AT)


def baseline_policy() -> Callable[[Any, str], PolicyDecision]:
    """The same checks inline: frozensets and dicts instead of plugins, no host; the calling
    hours from the same per-prefix places and the same day intervals, kept in a plain dict."""
    blocked = frozenset(RULES["blocked"])
    by_provider = {p: frozenset(c) for p, c in RULES["by_provider"].items()}  # type: ignore[union-attr]
    allowed: frozenset[str] = frozenset()
    granted = {p.country_code: (p.allowed, p.high_risk_allowed) for p in permissions()}
    workspace_allowed = frozenset(WORKSPACE_ALLOWED)
    rules_by_area: dict[tuple[str, str | None], tuple[Any, ...]] = {}
    days: dict[tuple[Any, ...], tuple[tuple[float, float], ...]] = {}
    verified_enabled, demo_mode = True, False
    ts = AT.timestamp()
    day = int(ts // 86_400)

    def decide(number: Any, destination: str) -> PolicyDecision:
        reasons = []
        if demo_mode:
            reasons.append(DEMO_MODE)
        if not number.outbound_enabled:
            reasons.append(OUTBOUND_DISABLED)
        if not (number.hosted or (number.verified_cli and verified_enabled)):
            reasons.append(CALLER_ID_NOT_ALLOWED)
        extra = by_provider.get(number.provider, ())
        country = country_of(destination)
        for code in (number.country_code, country):
            if (
                code is None
                or code in blocked
                or (allowed and code not in allowed)
                or code in extra
            ):
                reasons.append(COUNTRY_BLOCKED)
                break
        if country is not None:
            place = place_of(destination)
            permission = granted.get(country)
            if permission is not None and (
                not permission[0] or (not permission[1] and place.high_risk)
            ):
                reasons.append(CARRIER_COUNTRY_DISABLED)
            if country not in number.allowed_countries or country not in workspace_allowed:
                reasons.append(COUNTRY_NOT_ALLOWED)
            area = (country, place.region)
            rules = rules_by_area.get(area)
            if rules is None:
                rules = rules_by_area[area] = tuple(
                    rules_from_windows(bundled_windows(country, place.region), country)
                )
            if rules:
                key = (area, place.time_zones, day)
                spans = days.get(key)
                if spans is None:
                    spans = days[key] = _day_intervals(rules, place.time_zones, day)
                if not any(start <= ts < end for start, end in spans):
                    reasons.append(OUTSIDE_CALLING_HOURS)
        if reasons:
            raise PolicyDenied(reasons)
        return ALLOWED

    return decide


def _run(decide: Callable[[Any, str], Any], number: Any, dests: list[str]) -> tuple[float, int]:
    denied = 0
    started = time.process_time()
    for dest in dests:
        try:
            decide(number, dest)
        except PolicyDenied:
            denied += 1
    return time.process_time() - started, denied


def run(quick: bool = False) -> dict[str, Any]:
    n = 10_000 if quick else 100_000
    dests = destinations(n)
    number = CallerId()
    real = plugin_policy()
    base = baseline_policy()
    # What a server has loaded before its first request (``Runtime.warm_up``): phonenumbers'
    # time-zone and geocoder data, the holidays package.
    warm_destinations()
    warm_hours()

    cold, denied = _run(real, number, dests)  # first use: builds the shared-code prefix tables
    repeats = 2 if quick else 5
    real_t = min(_run(real, number, dests)[0] for _ in range(repeats))
    base_t = min(_run(base, number, dests)[0] for _ in range(repeats))
    base_denied = _run(base, number, dests)[1]
    if base_denied != denied:  # the two must be the same checks
        raise AssertionError(f"policy denied {denied}, the inline baseline {base_denied}")
    sample = dests[: min(5_000, n)]
    started = time.process_time()
    for dest in sample:
        _country_slow.__wrapped__(dest)
    slow_per = (time.process_time() - started) / len(sample)

    scale = 100_000 / n
    result = {
        "decisions": n,
        "denied": denied,
        "policy_us": real_t / n * 1e6,
        "baseline_us": base_t / n * 1e6,
        "ratio": real_t / base_t,
        "campaign_cpu_s": real_t * scale,
        "campaign_cold_cpu_s": cold * scale,
        "phonenumbers_parse_us": slow_per * 1e6,
        "decisions_per_s": n / real_t,
    }
    print("== policy engine (enforce_outbound_policy, country_rules through pluggy)")
    print(
        "   with the carrier's permissions, the workspace's and the number's allow-lists and "
        "calling hours on (us_federal, us_states, fr)"
    )
    print(f"   {n:,} decisions, one caller ID, destinations in {len(COUNTRIES)} countries")
    print(f"   policy   {result['policy_us']:.2f} us/decision ({result['decisions_per_s']:,.0f}/s)")
    print(f"   baseline {result['baseline_us']:.2f} us/decision (inline checks, no plugins)")
    print(f"   ratio    {result['ratio']:.2f}x the baseline's time   (target <= 1.5)")
    print(
        f"   100,000-destination campaign list: {result['campaign_cpu_s']:.3f} s CPU warm, "
        f"{result['campaign_cold_cpu_s']:.3f} s cold (first use builds the prefix, time-zone "
        "and window tables) "
        "(target < 0.3)"
    )
    print(
        f"   for scale: phonenumbers.parse + region_code_for_number "
        f"{result['phonenumbers_parse_us']:.1f} us/number"
    )
    return result


if __name__ == "__main__":
    run()
