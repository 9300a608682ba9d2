"""Calling hours in memory: each rule of the bundled pack at its edges (a minute before and after),
daylight-saving changes, a NANP area code split across zones, holidays, ``next_allowed_at``
across a weekend, the workspace's own windows, plugins' windows and the per-prefix caches."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
import pytest

from core import CallingWindow, hookimpl
from core.calling_hours import bundled_rule_ids, is_public_holiday, rule_pack
from core.destinations import place_key, place_of, region_from_description
from core.errors import PluginLoadError
from core.outbound_policy import (
    CallingHoursIn,
    CallingWindowIn,
    OutboundPolicySettings,
    compile_settings,
)
from core.plugins import PluginHost
from core.policy import OUTSIDE_CALLING_HOURS, OutboundPolicy

NY = "+12125550100"  # New York, America/New_York
MIAMI = "+13055550100"  # Florida
OKC = "+14055550100"  # Oklahoma, America/Chicago
SEATTLE = "+12065550100"  # Washington, America/Los_Angeles
CA_LA = "+12135550100"  # California: federal hours only
PARIS = "+33140000000"
PANHANDLE_EAST = "+18505550100"  # 850: Eastern where the data says nothing finer
PANHANDLE_WEST = "+18502001234"  # 850-200: an exchange in the Central part
IDAHO_SPLIT = "+12082001234"  # 208-2xx: Boise (Mountain) or Los Angeles (Pacific)


@dataclass
class Caller:
    provider: str = "sandbox"
    country_code: str = "US"
    hosted: bool = True
    verified_cli: bool = False
    outbound_enabled: bool = True
    allowed_countries: list[str] = field(default_factory=list)


def host(*plugins: object) -> PluginHost:
    h = PluginHost()
    h.load([], extra={f"p{i}": p for i, p in enumerate(plugins)})
    return h


def policy(h: PluginHost | None = None) -> OutboundPolicy:
    return OutboundPolicy(h or host(), verified_enabled=True, demo_mode=False)


def hours(rules: list[str] | None = None, windows: list[dict[str, Any]] | None = None) -> Any:
    spec: dict[str, Any] = {"windows": windows or []}
    if rules is not None:
        spec["rules"] = rules
    return compile_settings(OutboundPolicySettings(calling_hours=CallingHoursIn(**spec)))


ALL = hours()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def decide(dest: str, when: str, workspace: Any = ALL, p: OutboundPolicy | None = None, **kw: Any):
    return (p or policy()).evaluate(Caller(), dest, workspace=workspace, at=at(when), **kw)


def assert_allowed(dest: str, when: str, **kw: Any) -> None:
    decision = decide(dest, when, **kw)
    assert decision.allowed, (dest, when, decision)
    assert decision.next_allowed_at is None


def assert_outside(dest: str, when: str, next_at: str | None, **kw: Any) -> None:
    decision = decide(dest, when, **kw)
    assert decision.reasons == (OUTSIDE_CALLING_HOURS,), (dest, when, decision)
    assert decision.next_allowed_at == (at(next_at) if next_at else None)


# -- US federal, 08:00-21:00 local (47 CFR 64.1200(c)(1)) -------------------------------------


def test_us_federal_edges_in_summer_time() -> None:
    # 2026-07-15 is a Wednesday; New York is UTC-4.
    assert_outside(NY, "2026-07-15T11:59:00Z", "2026-07-15T12:00:00Z")  # 07:59
    assert_allowed(NY, "2026-07-15T12:00:00Z")  # 08:00
    assert_allowed(NY, "2026-07-16T00:59:00Z")  # 20:59
    assert_outside(NY, "2026-07-16T01:00:00Z", "2026-07-16T12:00:00Z")  # 21:00 is outside
    assert_allowed(CA_LA, "2026-07-15T15:00:00Z")  # 08:00 in Los Angeles
    assert_outside(CA_LA, "2026-07-15T14:59:00Z", "2026-07-15T15:00:00Z")


def test_us_federal_is_open_on_weekends_and_holidays() -> None:
    assert_allowed(NY, "2026-07-04T16:00:00Z")  # Saturday, Independence Day, noon


def test_daylight_saving_starts() -> None:
    # Clocks go forward on Sunday 2026-03-08 at 02:00 in New York (UTC-5 -> UTC-4).
    assert_outside(NY, "2026-03-07T12:59:00Z", "2026-03-07T13:00:00Z")  # 07:59 EST
    assert_allowed(NY, "2026-03-07T13:00:00Z")  # 08:00 EST
    assert_outside(NY, "2026-03-08T05:00:00Z", "2026-03-08T12:00:00Z")  # 08:00 EDT = 12:00Z
    assert_outside(NY, "2026-03-08T11:59:00Z", "2026-03-08T12:00:00Z")
    assert_allowed(NY, "2026-03-08T12:00:00Z")
    assert_allowed(NY, "2026-03-09T00:59:00Z")  # 20:59 EDT
    assert_outside(NY, "2026-03-09T01:00:00Z", "2026-03-09T12:00:00Z")


def test_daylight_saving_ends() -> None:
    # Clocks go back on Sunday 2026-11-01 at 02:00 in New York (UTC-4 -> UTC-5).
    assert_allowed(NY, "2026-11-01T00:59:00Z")  # Saturday 20:59 EDT
    assert_outside(NY, "2026-11-01T01:00:00Z", "2026-11-01T13:00:00Z")  # Sunday 08:00 EST
    assert_outside(NY, "2026-11-01T12:59:00Z", "2026-11-01T13:00:00Z")  # 07:59 EST
    assert_allowed(NY, "2026-11-02T01:59:00Z")  # Sunday 20:59 EST
    assert_outside(NY, "2026-11-02T02:00:00Z", "2026-11-02T13:00:00Z")


# -- US states, 08:00-20:00 local (FTSA, OTSA, RCW 80.36.390) --------------------------------


@pytest.mark.parametrize(
    ("dest", "offset_hours"), [(MIAMI, 4), (OKC, 5), (SEATTLE, 7)]
)  # summer offsets from UTC
def test_state_rules_end_at_eight_pm(dest: str, offset_hours: int) -> None:
    assert place_of(dest).region in {"FL", "OK", "WA"}

    def utc(hour: int, minute: int, day: int = 15) -> str:
        h = hour + offset_hours
        return f"2026-07-{day + h // 24:02d}T{h % 24:02d}:{minute:02d}:00Z"

    assert_outside(dest, utc(7, 59), utc(8, 0))
    assert_allowed(dest, utc(8, 0))
    assert_allowed(dest, utc(19, 59))
    assert_outside(dest, utc(20, 0), utc(8, 0, day=16))
    # without the state rules, 20:00 there is inside the federal window
    assert decide(dest, utc(20, 0), workspace=hours(["us_federal"])).allowed


def test_a_state_rule_applies_only_in_its_state() -> None:
    ny_20 = "2026-07-16T00:00:00Z"  # 20:00 in New York
    assert_allowed(NY, ny_20)
    assert_outside(MIAMI, ny_20, "2026-07-16T12:00:00Z")


# -- NANP area codes split across zones ----------------------------------------------------------


def test_nanp_exchange_resolves_to_its_own_zone() -> None:
    assert place_of(PANHANDLE_EAST).time_zones == ("America/New_York",)
    assert place_of(PANHANDLE_WEST).time_zones == ("America/Chicago",)
    # 08:30 in New York is 07:30 in Chicago: the same area code, two answers
    assert_allowed(PANHANDLE_EAST, "2026-07-15T12:30:00Z")
    assert_outside(PANHANDLE_WEST, "2026-07-15T12:30:00Z", "2026-07-15T13:00:00Z")


def test_every_candidate_zone_must_be_inside_the_window() -> None:
    zones = place_of(IDAHO_SPLIT).time_zones
    assert set(zones) == {"America/Boise", "America/Los_Angeles"}
    # 08:30 in Boise is 07:30 in Los Angeles: refused until 08:00 in Los Angeles
    assert_outside(IDAHO_SPLIT, "2026-07-15T14:30:00Z", "2026-07-15T15:00:00Z")
    assert_allowed(IDAHO_SPLIT, "2026-07-15T15:00:00Z")
    # 20:30 in Los Angeles is 21:30 in Boise: refused from 21:00 Boise time
    assert_allowed(IDAHO_SPLIT, "2026-07-16T02:59:00Z")
    assert_outside(IDAHO_SPLIT, "2026-07-16T03:00:00Z", "2026-07-16T15:00:00Z")


def test_the_time_zone_hint_wins() -> None:
    when = "2026-07-15T12:30:00Z"  # 08:30 in New York, 05:30 in Los Angeles
    assert_allowed(NY, when)
    assert_outside(NY, when, "2026-07-15T15:00:00Z", time_zone="America/Los_Angeles")
    # the hint also lets a split area code be decided in one zone
    assert_allowed(IDAHO_SPLIT, "2026-07-15T14:30:00Z", time_zone="America/Boise")


# -- France: Monday-Friday 10:00-13:00 and 14:00-20:00, not on public holidays ------------------


def test_france_edges_on_a_weekday() -> None:
    # Wednesday 2026-07-15, Paris is UTC+2
    assert_outside(PARIS, "2026-07-15T07:59:00Z", "2026-07-15T08:00:00Z")  # 09:59
    assert_allowed(PARIS, "2026-07-15T08:00:00Z")  # 10:00
    assert_allowed(PARIS, "2026-07-15T10:59:00Z")  # 12:59
    assert_outside(PARIS, "2026-07-15T11:00:00Z", "2026-07-15T12:00:00Z")  # 13:00 -> 14:00
    assert_outside(PARIS, "2026-07-15T11:59:00Z", "2026-07-15T12:00:00Z")  # 13:59
    assert_allowed(PARIS, "2026-07-15T12:00:00Z")  # 14:00
    assert_allowed(PARIS, "2026-07-15T17:59:00Z")  # 19:59
    assert_outside(PARIS, "2026-07-15T18:00:00Z", "2026-07-16T08:00:00Z")  # 20:00 -> Thu 10:00


def test_france_next_allowed_across_a_weekend() -> None:
    # Friday 2026-07-17 20:00 -> Monday 2026-07-20 10:00 (UTC+2)
    assert_outside(PARIS, "2026-07-17T18:00:00Z", "2026-07-20T08:00:00Z")
    assert_outside(PARIS, "2026-07-18T10:00:00Z", "2026-07-20T08:00:00Z")  # Saturday noon
    assert_outside(PARIS, "2026-07-19T21:59:00Z", "2026-07-20T08:00:00Z")  # Sunday 23:59
    assert_allowed(PARIS, "2026-07-20T08:00:00Z")


def test_france_public_holidays_are_closed() -> None:
    assert is_public_holiday("FR", datetime(2026, 7, 14).date())
    # Tuesday 14 July (fête nationale), 11:00 -> Wednesday 10:00
    assert_outside(PARIS, "2026-07-14T09:00:00Z", "2026-07-15T08:00:00Z")
    # Thursday 7 May 20:00 -> Friday 8 May (Victoire 1945), the weekend -> Monday 11 May 10:00
    assert_outside(PARIS, "2026-05-07T18:00:00Z", "2026-05-11T08:00:00Z")
    # the same weekday a week later is an ordinary day
    assert_allowed(PARIS, "2026-07-21T09:00:00Z")


def test_france_winter_time() -> None:
    # Monday 2026-12-07, Paris is UTC+1
    assert_outside(PARIS, "2026-12-07T08:59:00Z", "2026-12-07T09:00:00Z")
    assert_allowed(PARIS, "2026-12-07T09:00:00Z")
    # 2026-10-25: the change back to UTC+1 happens on a Sunday; Monday 10:00 is 09:00Z
    assert_outside(PARIS, "2026-10-23T18:00:00Z", "2026-10-26T09:00:00Z")


# -- the workspace's choices --------------------------------------------------------------------


def test_rules_the_workspace_did_not_choose_do_not_apply() -> None:
    assert decide(PARIS, "2026-07-18T10:00:00Z", workspace=hours(["us_federal"])).allowed
    assert decide(NY, "2026-07-15T11:00:00Z", workspace=hours(["fr"])).allowed
    assert decide(NY, "2026-07-15T11:00:00Z", workspace=hours([])).allowed


def test_workspace_windows_add_to_the_rules_and_apply_everywhere() -> None:
    office = hours(
        ["us_federal"],
        [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}],
    )
    # New York: federal 08-21 and the workspace's 09-17 -> 09-17
    assert decide(NY, "2026-07-15T12:30:00Z", workspace=office).next_allowed_at == at(
        "2026-07-15T13:00:00Z"
    )
    assert decide(NY, "2026-07-15T13:00:00Z", workspace=office).allowed
    assert not decide(NY, "2026-07-15T21:00:00Z", workspace=office).allowed  # 17:00
    # Friday 17:00 in New York -> Monday 09:00
    friday = decide(NY, "2026-07-17T21:00:00Z", workspace=office)
    assert friday.next_allowed_at == at("2026-07-20T13:00:00Z")
    # Germany has no bundled rule: only the workspace's window, in Berlin time
    assert decide("+493012345678", "2026-07-15T07:00:00Z", workspace=office).allowed  # 09:00
    assert not decide("+493012345678", "2026-07-15T06:59:00Z", workspace=office).allowed


def test_calling_hours_off_decide_nothing() -> None:
    none = compile_settings(OutboundPolicySettings())
    assert decide(NY, "2026-07-15T05:00:00Z", workspace=none).allowed
    assert decide(NY, "2026-07-15T05:00:00Z", workspace=None).allowed


def test_nothing_allowed_within_the_horizon_answers_no_next_instant() -> None:
    weekends_only = hours(["fr"], [{"days": ["sat", "sun"], "start": "10:00", "end": "12:00"}])
    decision = decide(PARIS, "2026-07-15T09:00:00Z", workspace=weekends_only)
    assert decision.reasons == (OUTSIDE_CALLING_HOURS,) and decision.next_allowed_at is None


def test_window_validation() -> None:
    with pytest.raises(ValueError, match="must end after it starts"):
        CallingWindowIn(days=["mon"], start="18:00", end="09:00")
    with pytest.raises(ValueError):
        CallingWindowIn(days=["mon"], start="9:00", end="18:00")
    with pytest.raises(ValueError, match="unknown rule 'de'"):
        CallingHoursIn(rules=["de"])
    assert CallingWindowIn(days=["fri", "mon", "fri"], start="00:00", end="24:00").days == [
        "mon",
        "fri",
    ]
    assert CallingHoursIn().rules == list(bundled_rule_ids()) == ["us_federal", "us_states", "fr"]


# -- plugins' windows ---------------------------------------------------------------------------


class LunchBreak:
    """A third party's rule pack: no calls to Spain during lunch."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    @hookimpl
    def calling_windows(self, country_code: str, region: str | None) -> list[CallingWindow]:
        self.asked.append((country_code, region))
        if country_code != "ES":
            return []
        days: Any = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        return [
            CallingWindow(rule="acme_es", days=days, start="09:00", end="14:00", source="acme"),
            CallingWindow(rule="acme_es", days=days, start="16:00", end="21:00", source="acme"),
        ]


def test_plugin_windows_apply_and_are_asked_once_per_destination_area() -> None:
    plugin = LunchBreak()
    p = policy(host(plugin))
    madrid = "+34912345678"  # Europe/Madrid, UTC+2 in July
    assert decide(madrid, "2026-07-15T11:59:00Z", p=p).allowed  # 13:59
    lunch = decide(madrid, "2026-07-15T12:00:00Z", p=p)
    assert lunch.next_allowed_at == at("2026-07-15T14:00:00Z")
    assert decide(madrid, "2026-07-15T14:00:00Z", p=p).allowed
    decide(NY, "2026-07-15T14:00:00Z", p=p)
    decide("+34912345679", "2026-07-15T14:00:00Z", p=p)
    assert plugin.asked == [("ES", None), ("US", "NY")]


def test_a_malformed_plugin_window_names_the_plugin() -> None:
    class Broken:
        @hookimpl
        def calling_windows(self, country_code: str) -> list[dict[str, Any]]:
            return [{"rule": "x", "days": ["mon"], "start": "25:00", "end": "26:00"}]

    with pytest.raises(PluginLoadError, match="p0"):
        decide(NY, "2026-07-15T14:00:00Z", p=policy(host(Broken())))


# -- where a destination is ----------------------------------------------------------------------


def test_regions_from_the_geocoder() -> None:
    assert region_from_description("Tallahassee, FL") == "FL"
    assert region_from_description("Florida") == "FL"
    assert region_from_description("Washington State") == "WA"
    assert region_from_description("Ontario") == "ON"
    assert region_from_description("Nova Scotia/Prince Edward Island") is None
    assert place_of(NY).region == "NY"
    assert place_of("+14165550100").region == "ON"
    assert place_of(PARIS).region is None


def test_places_are_cached_per_prefix_and_match_phonenumbers() -> None:
    from phonenumbers import timezone

    assert place_key(NY) == "+1212555" and place_key(PARIS) == "+33140000"
    rng = random.Random(16)
    checked = 0
    for region in ("US", "CA", "FR", "GB", "DE", "RU", "AU", "BR", "MX", "IN", "ID"):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for _ in range(40):
                e164 = f"+{example.country_code}{nsn[:-4]}{rng.randrange(10_000):04d}"
                parsed = phonenumbers.parse(e164)
                if not phonenumbers.is_valid_number(parsed):
                    continue
                want = tuple(
                    z for z in timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"
                )
                assert place_of(e164).time_zones == want, e164
                checked += 1
    assert checked > 500


def test_the_rule_pack_names_each_rules_source() -> None:
    for entry in rule_pack():
        assert entry["source"] and entry["windows"], entry["rule"]
    sources = " ".join(e["source"] for e in rule_pack())
    for cited in ("47 CFR 64.1200(c)(1)", "501.059", "775C", "80.36.390", "2022-1313"):
        assert cited in sources
