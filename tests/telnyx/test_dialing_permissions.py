"""Telnyx's dialing permissions: the outbound voice profile's ``whitelisted_destinations``, read
through the SDK (respx on the wire), applied by the preflight; failures keep the last answer."""

from __future__ import annotations

from typing import Any

import httpx
import respx

from tests.telnyx.test_telnyx import KEY, V2, telnyx_api

PROFILE = {
    "data": {
        "id": "ovp-9",
        "record_type": "outbound_voice_profile",
        "name": "default",
        "whitelisted_destinations": ["US", "CA", "fr"],
        "traffic_type": "conversational",
        "service_plan": "global",
    }
}
APP = {
    "data": {
        "id": "conn-1",
        "record_type": "call_control_application",
        "outbound": {"outbound_voice_profile_id": "ovp-9"},
    }
}


def test_profile_of_the_connection_through_the_api(make_api: Any) -> None:
    api = telnyx_api(make_api)
    api.add_number("+14155550100", "telnyx", hosted=True, outbound_enabled=True)
    check = {"from": "+14155550100", "to": "+442079460000"}
    with respx.mock(assert_all_mocked=True) as mock:
        app = mock.get(f"{V2}/call_control_applications/conn-1").respond(json=APP)
        profile = mock.get(f"{V2}/outbound_voice_profiles/ovp-9").respond(json=PROFILE)
        [entry] = api.run(api.runtime.permissions.refresh_all)
    assert entry.state == "ok"
    assert app.call_count == 1 and profile.call_count == 1
    for route in (app, profile):
        request = route.calls[0].request
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.method == "GET" and not request.url.params
    assert api.client.post("/outbound/check", json=check).json()["reasons"] == [
        "carrier_country_disabled"
    ]
    for allowed in ("+12125550100", "+14165550100", "+33140000000"):
        assert api.client.post("/outbound/check", json={**check, "to": allowed}).json()["allowed"]
    assert "GB" in entry.as_dict()["disabled_countries"]


def test_a_configured_profile_id_is_read_directly(make_api: Any) -> None:
    api = telnyx_api(make_api, outbound_voice_profile_id="ovp-9")
    with respx.mock(assert_all_mocked=True) as mock:
        profile = mock.get(f"{V2}/outbound_voice_profiles/ovp-9").respond(json=PROFILE)
        [entry] = api.run(api.runtime.permissions.refresh_all)
    assert profile.call_count == 1 and entry.state == "ok"
    assert api.runtime.permissions.permission("telnyx", "FR").allowed is True
    assert api.runtime.permissions.permission("telnyx", "DE").allowed is False


def test_without_a_profile_nothing_is_known(make_api: Any) -> None:
    api = telnyx_api(make_api, connection_id=None)
    with respx.mock(assert_all_mocked=True) as mock:
        [entry] = api.run(api.runtime.permissions.refresh_all)
        assert not mock.calls
    assert entry.state == "ok" and entry.countries == {}


def test_a_failure_keeps_the_last_good_answer(make_api: Any) -> None:
    api = telnyx_api(make_api, outbound_voice_profile_id="ovp-9")
    with respx.mock() as mock:
        route = mock.get(f"{V2}/outbound_voice_profiles/ovp-9").respond(json=PROFILE)
        api.run(api.runtime.permissions.refresh_all)
        route.mock(return_value=httpx.Response(401, json={"errors": [{"detail": "bad key"}]}))
        [entry] = api.run(api.runtime.permissions.refresh_all)
    assert entry.state == "stale" and entry.error.startswith("provider_auth_failed")
    assert api.runtime.permissions.permission("telnyx", "GB").allowed is False
    detail = api.anon.get("/readyz").json()["checks"]["carrier_permissions"]["telnyx"]
    assert detail["state"] == "stale"
