"""Twilio's dialing permissions (Voice v1 ``DialingPermissions/Countries``) on the wire with respx:
every page read, each field mapped, the query checked against Twilio's OpenAPI description, a
failure mapped and kept out of the preflight, and the answer applied by the preflight."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from core import CountryPermission, ProviderAuthError, ProviderUnavailable
from tests.twilio.test_api import twilio_api
from tests.twilio.test_plugin import BASIC, VOICE_COUNTRIES, _plugin, _voice_page

WIRE = json.loads(Path(__file__).with_name("twilio_wire_fields.json").read_text())["operations"]
OPERATION = WIRE["GET /v1/DialingPermissions/Countries"]
NEXT = f"{VOICE_COUNTRIES}?PageSize=1000&Page=1&PageToken=PA2"


def country(iso: str, codes: list[str], low: bool, special: bool, name: str = "") -> dict[str, Any]:
    return {
        "iso_code": iso,
        "name": name or iso,
        "country_codes": codes,
        "continent": "EUROPE",
        "low_risk_numbers_enabled": low,
        "high_risk_special_numbers_enabled": special,
        "high_risk_tollfraud_numbers_enabled": False,
        "url": f"{VOICE_COUNTRIES}/{iso}",
        "links": {},
    }


PAGE_1 = [
    country("US", ["+1"], True, False, "United States/Canada"),
    country("JM", ["+1"], False, False, "Jamaica"),
    country("GB", ["+44"], False, False),
]
PAGE_2 = [country("FR", ["+33"], True, True), country("XK", ["+383"], True, True)]


def serve_pages(request: httpx.Request) -> httpx.Response:
    if request.url.params.get("PageToken") == "PA2":
        return httpx.Response(200, json=_voice_page(PAGE_2, None))
    return httpx.Response(200, json=_voice_page(PAGE_1, NEXT))


async def test_every_page_is_read_and_each_field_mapped() -> None:
    plugin = await _plugin()
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get(VOICE_COUNTRIES).mock(side_effect=serve_pages)
        answer = await plugin.fetch_outbound_permissions()
    await plugin.trunkline_shutdown()
    assert route.call_count == 2
    first, second = (c.request for c in route.calls)
    assert first.headers["authorization"] == BASIC
    assert dict(first.url.params) == {"PageSize": "1000"}
    assert second.url.params["PageToken"] == "PA2"
    for request in (first, second):
        assert set(request.url.params) <= set(OPERATION["query"])
    by = {p.country_code: p for p in answer}
    assert by["US"] == CountryPermission(country_code="US", allowed=True, high_risk_allowed=False)
    assert by["FR"] == CountryPermission(country_code="FR", allowed=True, high_risk_allowed=True)
    assert by["GB"].allowed is False
    assert by["JM"].allowed is False  # its own entry, not the US one
    assert by["CA"].allowed is True  # "United States/Canada": US lends its answer to CA
    assert "XK" in by  # Kosovo (+383) is a phonenumbers region too
    assert by["GG"].allowed is False  # +44's other regions follow GB, the code's main region


async def test_failures_are_mapped() -> None:
    plugin = await _plugin()
    with respx.mock() as mock:
        mock.get(VOICE_COUNTRIES).respond(401, json={"code": 20003, "message": "Authenticate"})
        with pytest.raises(ProviderAuthError):
            await plugin.fetch_outbound_permissions()
        mock.get(VOICE_COUNTRIES).respond(503, json={"code": 20500, "message": "down"})
        with pytest.raises(ProviderUnavailable):
            await plugin.fetch_outbound_permissions()
    await plugin.trunkline_shutdown()


async def test_base_url_replaces_the_voice_host() -> None:
    plugin = await _plugin(base_url="http://127.0.0.1:4010/")
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get("http://127.0.0.1:4010/v1/DialingPermissions/Countries").respond(
            json=_voice_page([], None)
        )
        assert await plugin.fetch_outbound_permissions() == []
    assert route.called
    await plugin.trunkline_shutdown()


def test_the_preflight_applies_twilios_permissions(make_api: Any) -> None:
    api = twilio_api(make_api)
    api.add_number("+14155550100", "twilio", hosted=True, outbound_enabled=True)
    check = {"from": "+14155550100", "to": "+442079460000"}
    with respx.mock(assert_all_mocked=True) as mock:
        route = mock.get(VOICE_COUNTRIES).mock(side_effect=serve_pages)
        assert api.client.post("/outbound/check", json=check).json()["allowed"] is True
        assert route.call_count == 0  # the preflight never asks Twilio
        api.run(api.runtime.permissions.refresh_all)
        assert route.call_count == 2
        out = api.client.post("/outbound/check", json=check).json()
        assert out["reasons"] == ["carrier_country_disabled"]
        paris = api.client.post("/outbound/check", json={**check, "to": "+33140000000"})
        assert paris.json()["allowed"] is True
        # a French premium-rate number is high risk: allowed by FR's high-risk permission
        premium = api.client.post("/outbound/check", json={**check, "to": "+33891234567"})
        assert premium.json()["allowed"] is True
        # a US premium-rate (900) number is refused: US high-risk numbers are not enabled
        us_premium = api.client.post("/outbound/check", json={**check, "to": "+19002345678"})
        assert us_premium.json()["reasons"] == ["carrier_country_disabled"]
        assert api.client.post("/outbound/check", json={**check, "to": "+12125550100"}).json()[
            "allowed"
        ]
        # Twilio fails: the last good answer stays, and the providers list says so
        route.mock(return_value=httpx.Response(500, json={"code": 20500, "message": "x"}))
        [entry] = api.run(api.runtime.permissions.refresh_all)
    assert entry.state == "stale"
    assert api.client.post("/outbound/check", json=check).json()["reasons"] == [
        "carrier_country_disabled"
    ]
    [provider] = [
        p for p in api.client.get("/settings/telephony/providers").json() if p["name"] == "twilio"
    ]
    assert provider["permissions"]["state"] == "stale"
    assert provider["permissions"]["error"].startswith("provider_unavailable")


def test_an_unconfigured_twilio_blocks_nothing(make_api: Any) -> None:
    api = make_api(plugins=["twilio"])
    [entry] = api.run(api.runtime.permissions.refresh_all)
    assert entry.state == "failing" and entry.error.startswith("provider_not_configured")
    assert api.runtime.permissions.permission("twilio", "GB") is None
