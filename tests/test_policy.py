"""The outbound policy with every combination of its inputs, in memory and over HTTP."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from core.errors import PolicyDenied
from core.plugins import PluginHost
from core.policy import OutboundPolicy
from plugins.country_rules.plugin import CountryRulesPlugin, CountryRulesSettings


@dataclass
class N:
    hosted: bool
    verified_cli: bool
    outbound_enabled: bool
    country_code: str = "US"
    provider: str = "fake"


def rules(**settings: Any) -> PluginHost:
    host = PluginHost()
    host.load([], {"country_rules": settings}, extra={"country_rules": CountryRulesPlugin()})
    import asyncio

    asyncio.run(host.configure())
    return host


def expected(
    hosted: bool, verified: bool, outbound: bool, flag: bool, demo: bool, blocked: bool
) -> list[str]:
    reasons = []
    if demo:
        reasons.append("demo_mode")
    if not outbound:
        reasons.append("outbound_disabled")
    if not (hosted or (verified and flag)):
        reasons.append("caller_id_not_allowed")
    if blocked:
        reasons.append("country_blocked")
    return reasons


HOST = rules(blocked=["KP"], by_provider={"fake": ["RU"]})
#: Destinations the policy refuses whatever the caller: a blocked country, and numbers whose
#: country is unknown (international freephone +800, an unassigned code): no rule can clear them.
BLOCKED_DESTINATIONS = ("+8502381234", "+80012345678", "+99912345678")


@pytest.mark.parametrize(
    ("hosted", "verified", "outbound", "flag", "demo", "destination"),
    list(
        itertools.product(
            [False, True],
            [False, True],
            [False, True],
            [False, True],
            [False, True],
            [None, "+442079460000", *BLOCKED_DESTINATIONS],
        )
    ),
)
def test_policy_matrix(
    hosted: bool, verified: bool, outbound: bool, flag: bool, demo: bool, destination: str | None
) -> None:
    policy = OutboundPolicy(HOST, verified_enabled=flag, demo_mode=demo)
    number = N(hosted, verified, outbound)
    want = expected(hosted, verified, outbound, flag, demo, destination in BLOCKED_DESTINATIONS)
    decision = policy.evaluate(number, destination)
    assert list(decision.reasons) == want
    assert decision.allowed is (want == [])
    if want:
        with pytest.raises(PolicyDenied) as err:
            policy.enforce_outbound_policy(number, destination)
        assert err.value.reasons == want
    else:
        assert policy.enforce_outbound_policy(number, destination).allowed


def test_caller_id_country_and_provider_rules() -> None:
    policy = OutboundPolicy(HOST, verified_enabled=True, demo_mode=False)
    ok = N(True, False, True)
    assert policy.evaluate(N(True, False, True, country_code="KP")).reasons == ("country_blocked",)
    assert policy.evaluate(ok, "+74951234567").reasons == ("country_blocked",)  # RU for fake
    other = N(True, False, True, provider="other")
    assert policy.evaluate(other, "+74951234567").allowed


def test_allowed_list_blocks_everything_else() -> None:
    policy = OutboundPolicy(rules(allowed=["US", "GB"]), verified_enabled=True, demo_mode=False)
    n = N(True, False, True)
    assert policy.evaluate(n, "+442079460000").allowed
    assert policy.evaluate(n, "+33142685300").reasons == ("country_blocked",)


def test_country_rules_validate_iso_codes() -> None:
    with pytest.raises(ValueError, match="'UK' is not an ISO 3166 alpha-2 country code"):
        CountryRulesSettings(blocked=["UK"])
    with pytest.raises(ValueError, match="by_provider.telnyx"):
        CountryRulesSettings(by_provider={"telnyx": ["XX"]})
    assert CountryRulesSettings(blocked=["kp"]).blocked == ["KP"]


def test_country_answers_are_cached_per_country_and_provider() -> None:
    calls = []

    class Counting(CountryRulesPlugin):
        def is_country_outbound_blocked(self, country_code: str, provider: str) -> bool:
            calls.append((country_code, provider))
            return super().is_country_outbound_blocked(country_code, provider)

    from core import hookimpl

    Counting.is_country_outbound_blocked = hookimpl(Counting.is_country_outbound_blocked)
    host = PluginHost()
    host.load([], extra={"country_rules": Counting()})
    for _ in range(3):
        host.is_country_blocked("FR", "fake")
    host.is_country_blocked("FR", "other")
    assert calls == [("FR", "fake"), ("FR", "other")]


def test_outbound_check_over_http(make_api: Any) -> None:
    from tests.fakes import FakeCarrier

    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": FakeCarrier()},
    )
    hosted = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    byo = api.add_number("+14155550101", "fake")
    r = api.client.post("/outbound/check", json={"from": "+14155550100", "to": "+442079460000"})
    assert r.json() == {
        "allowed": True,
        "reasons": [],
        "number_id": hosted["id"],
        "next_allowed_at": None,
        "destination": {
            "country_code": "GB",
            "region": None,
            "time_zones": ["Europe/London"],
            "line_type": None,
        },
        "attestation": None,  # added directly: never asked of its carrier
        "lookup": None,
    }
    r = api.client.post("/outbound/check", json={"number_id": byo["id"], "to": "+85023812222"})
    assert r.json()["reasons"] == ["outbound_disabled", "caller_id_not_allowed", "country_blocked"]
    assert api.client.post("/outbound/check", json={"from": "+14155550199"}).status_code == 404
    bad = api.client.post("/outbound/check", json={"from": "+14155550100", "to": "12"})
    assert bad.status_code == 422 and bad.json()["field"] == "to"
    none = api.client.post("/outbound/check", json={"to": "+442079460000"})
    assert none.status_code == 422
    # another workspace's number is not found
    assert api.client_b.post("/outbound/check", json={"from": "+14155550100"}).status_code == 404


def test_flag_off_denies_verified_over_http(make_api: Any) -> None:
    from tests.fakes import FakeCarrier

    api = make_api(
        plugins=[],
        extra={"fake": FakeCarrier()},
        env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"},
    )
    api.add_number(
        "+14155550100",
        "fake",
        verified_cli=True,
        verification_status="verified",
        outbound_enabled=True,
    )
    r = api.client.post("/outbound/check", json={"from": "+14155550100"})
    assert r.json()["reasons"] == ["caller_id_not_allowed"]


def test_demo_mode_over_http(make_api: Any) -> None:
    from tests.fakes import FakeCarrier

    api = make_api(plugins=[], extra={"fake": FakeCarrier()}, env={"DEMO_MODE": "true"})
    api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    r = api.client.post("/outbound/check", json={"from": "+14155550100"})
    assert r.json()["reasons"] == ["demo_mode"]
