"""The Twilio plugin's expected attestation (Trust Hub v1) and destination lookups (Lookup v2),
on the wire with respx: each request checked against Twilio's OpenAPI descriptions, each line
type mapped, the reassigned answers, the faults."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from core import (
    LINE_TYPES,
    NumberRef,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
)
from plugins.twilio.plugin import TwilioPlugin
from plugins.twilio.trust import LINE_TYPES as TWILIO_LINE_TYPES
from tests.twilio.test_plugin import API, BASIC, SID, _plugin

TRUST = "https://trusthub.twilio.com/v1/TrustProducts"
LOOKUP = "https://lookups.twilio.com/v2/PhoneNumbers"
SHAKEN = "RN7a97559effdf62d00f4298208492a5ea"
OTHER_POLICY = "RN" + "e" * 32
PN = "PN" + "1" * 32
PRODUCT = "BU" + "2" * 32
PRODUCT_2 = "BU" + "3" * 32
PHONE = "+14155550100"
DEST = "+14155550123"
WIRE = Path(__file__).with_name("twilio_trust_wire_fields.json")


@pytest.fixture
async def plugin() -> AsyncIterator[TwilioPlugin]:
    p = await _plugin()
    yield p
    await p.trunkline_shutdown()


def _number(**over: Any) -> NumberRef:
    values: dict[str, Any] = {
        "id": "n1",
        "workspace_id": "w1",
        "phone_e164": PHONE,
        "country_code": "US",
        "provider": "twilio",
        **over,
    }
    return NumberRef(**values)


def _results(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"results": rows, "meta": {"key": "results", "next_page_url": None, "page": 0}}


def _product(sid: str = PRODUCT, policy: str = SHAKEN, status: str = "twilio-approved") -> Any:
    return {"sid": sid, "policy_sid": policy, "status": status, "account_sid": SID}


def _trust_hub(
    mock: respx.MockRouter, products: list[dict[str, Any]], assigned: dict[str, list[str]]
) -> None:
    mock.get(TRUST).respond(json=_results(products))
    for sid in {p["sid"] for p in products}:
        mock.get(f"{TRUST}/{sid}/ChannelEndpointAssignments").mock(
            side_effect=lambda request, sid=sid: httpx.Response(
                200,
                json=_results(
                    [
                        {"channel_endpoint_sid": pn, "trust_product_sid": sid}
                        for pn in assigned.get(sid, [])
                        if pn == request.url.params.get("ChannelEndpointSid")
                    ]
                ),
            )
        )


# -- attestation ----------------------------------------------------------------------------------


async def test_hosted_number_in_an_approved_shaken_product_is_a(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        _trust_hub(mock, [_product(PRODUCT_2), _product()], {PRODUCT: [PN]})
        estimate = await plugin.expected_attestation(_number(hosted=True, provider_ref=PN))
        listed = [c.request for c in mock.calls if c.request.url.path == "/v1/TrustProducts"]
    assert estimate.level == "A" and PRODUCT in estimate.basis
    assert listed[0].url.params["PolicySid"] == SHAKEN
    assert listed[0].url.params["Status"] == "twilio-approved"
    assert all(c.request.headers["authorization"] == BASIC for c in mock.calls)


@pytest.mark.parametrize(
    ("products", "assigned", "why"),
    [
        ([_product()], {}, "in no product"),
        ([_product()], {PRODUCT: ["PN" + "9" * 32]}, "another number assigned"),
        ([_product(policy=OTHER_POLICY)], {PRODUCT: [PN]}, "a product of another policy"),
        ([_product(status="in-review")], {PRODUCT: [PN]}, "a product not approved yet"),
        ([], {}, "no product at all"),
    ],
)
async def test_hosted_number_otherwise_is_b(
    plugin: TwilioPlugin, products: list[Any], assigned: dict[str, list[str]], why: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        _trust_hub(mock, products, assigned)
        estimate = await plugin.expected_attestation(_number(hosted=True, provider_ref=PN))
    assert estimate.level == "B", why
    assert "no approved SHAKEN/STIR Trust Product" in estimate.basis


async def test_hosted_number_without_its_sid_is_found_by_phone(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        incoming = mock.get(f"{API}/IncomingPhoneNumbers.json").respond(
            json={"incoming_phone_numbers": [{"sid": PN, "phone_number": PHONE}], "uri": "/x"}
        )
        _trust_hub(mock, [_product()], {PRODUCT: [PN]})
        estimate = await plugin.expected_attestation(_number(hosted=True))
    assert estimate.level == "A"
    assert incoming.calls.last.request.url.params["PhoneNumber"] == PHONE

    with respx.mock() as mock:
        mock.get(f"{API}/IncomingPhoneNumbers.json").respond(
            json={"incoming_phone_numbers": [], "uri": "/x"}
        )
        estimate = await plugin.expected_attestation(_number(hosted=True))
    assert estimate.level == "unknown" and "does not list" in estimate.basis


async def test_verified_caller_id_is_b_at_most_without_a_request(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:  # any request would fail: none is mocked
        verified = await plugin.expected_attestation(_number(verified_cli=True))
        neither = await plugin.expected_attestation(_number())
        assert not mock.calls
    assert verified.level == "B" and "B at most" in verified.basis
    assert neither.level == "unknown"


# -- lookups ---------------------------------------------------------------------------------------


def _lookup_route(mock: respx.MockRouter, body: dict[str, Any]) -> respx.Route:
    """Lookup v2 answering ``body`` about the number asked."""
    return mock.get(re.compile(rf"{re.escape(LOOKUP)}/.*")).mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"phone_number": request.url.path.rsplit("/", 1)[1], "valid": True, **body},
        )
    )


def test_every_twilio_line_type_maps_onto_the_core_vocabulary() -> None:
    assert set(TWILIO_LINE_TYPES.values()) <= set(LINE_TYPES)
    # every core type Twilio can say is reached (the rest are unknown)
    assert set(TWILIO_LINE_TYPES.values()) == set(LINE_TYPES)


@pytest.mark.parametrize(("theirs", "ours"), sorted(TWILIO_LINE_TYPES.items()))
async def test_line_type_mapping(plugin: TwilioPlugin, theirs: str, ours: str) -> None:
    with respx.mock() as mock:
        route = _lookup_route(
            mock, {"line_type_intelligence": {"type": theirs, "carrier_name": "Acme Tel"}}
        )
        intel = await plugin.lookup_number(DEST, {"line_type"}, None)
    assert intel.line_type == ours and intel.carrier_name == "Acme Tel"
    assert intel.reassigned == "unsupported" and intel.phone_e164 == DEST
    request = route.calls.last.request
    assert request.url.path == f"/v2/PhoneNumbers/{DEST}"
    assert dict(request.url.params) == {"Fields": "line_type_intelligence"}


async def test_an_unknown_or_failed_line_type_is_unknown(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        _lookup_route(mock, {"line_type_intelligence": {"type": "satellite"}})
        assert (await plugin.lookup_number(DEST, {"line_type"}, None)).line_type == "unknown"
    with respx.mock() as mock:
        _lookup_route(mock, {"line_type_intelligence": {"type": "mobile", "error_code": 60600}})
        assert (await plugin.lookup_number(DEST, {"line_type"}, None)).line_type == "unknown"


@pytest.mark.parametrize(
    ("said", "ours"), [("yes", "yes"), ("no", "no"), ("no_data_available", "unknown")]
)
async def test_reassigned_answers(plugin: TwilioPlugin, said: str, ours: str) -> None:
    with respx.mock() as mock:
        route = _lookup_route(
            mock,
            {
                "line_type_intelligence": {"type": "mobile"},
                "reassigned_number": {
                    "last_verified_date": "2026-01-15",
                    "is_number_reassigned": said,
                    "error_code": None,
                },
            },
        )
        intel = await plugin.lookup_number(DEST, {"line_type", "reassigned"}, date(2026, 1, 15))
    assert intel.reassigned == ours and intel.line_type == "mobile"
    params = route.calls.last.request.url.params
    assert params["Fields"] == "line_type_intelligence,reassigned_number"
    assert params["LastVerifiedDate"] == "20260115"


async def test_reassigned_is_us_only_and_needs_a_date(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = _lookup_route(mock, {"line_type_intelligence": {"type": "mobile"}})
        uk = await plugin.lookup_number("+447700900123", {"line_type", "reassigned"}, date.today())
        undated = await plugin.lookup_number(DEST, {"line_type", "reassigned"}, None)
        for call in route.calls:
            assert dict(call.request.url.params) == {"Fields": "line_type_intelligence"}
    assert uk.reassigned == "unsupported" and undated.reassigned == "unsupported"
    with respx.mock() as mock:  # nothing Twilio can answer is asked: no request at all
        only = await plugin.lookup_number("+447700900123", {"reassigned"}, date.today())
        assert not mock.calls
    assert only.reassigned == "unsupported"


async def test_an_answer_about_another_number_is_refused(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.get(re.compile(rf"{re.escape(LOOKUP)}/.*")).respond(
            json={"phone_number": "+14155550199", "valid": True}
        )
        with pytest.raises(ProviderError, match="not for"):
            await plugin.lookup_number(DEST, {"line_type"}, None)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("timeout", ProviderUnavailable),
        ("429", ProviderRateLimited),
        ("503", ProviderUnavailable),
    ],
)
async def test_lookup_faults_are_mapped(
    plugin: TwilioPlugin, fault: str, error: type[Exception]
) -> None:
    with respx.mock() as mock:
        route = mock.get(re.compile(rf"{re.escape(LOOKUP)}/.*"))
        if fault == "timeout":
            route.mock(side_effect=httpx.ReadTimeout("slow"))
        else:
            route.respond(int(fault), json={"code": 20429 if fault == "429" else 0, "message": "x"})
        with pytest.raises(error):
            await plugin.lookup_number(DEST, {"line_type"}, None)


# -- the wire format against Twilio's own OpenAPI descriptions -------------------------------------


def _matches(value: str, schema: dict[str, Any]) -> bool:
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "pattern" in schema and not re.fullmatch(schema["pattern"].strip("^$"), value):
        return False
    if schema.get("type") == "integer":
        number = int(value)
        return schema.get("minimum", number) <= number <= schema.get("maximum", number)
    return True


async def test_every_request_is_in_twilios_openapi(plugin: TwilioPlugin) -> None:
    operations = json.loads(WIRE.read_text())["operations"]
    with respx.mock() as mock:
        mock.get(f"{API}/IncomingPhoneNumbers.json").respond(
            json={"incoming_phone_numbers": [{"sid": PN, "phone_number": PHONE}], "uri": "/x"}
        )
        _trust_hub(mock, [_product()], {PRODUCT: [PN]})
        _lookup_route(mock, {"line_type_intelligence": {"type": "mobile"}})
        await plugin.expected_attestation(_number(hosted=True))
        await plugin.lookup_number(DEST, {"line_type", "reassigned"}, date(2025, 12, 31))
        calls = [c.request for c in mock.calls]
    exercised = set()
    for request in calls:
        path = request.url.path.replace(f"/Accounts/{SID}", "/Accounts/{AccountSid}")
        path = re.sub(r"/TrustProducts/BU[0-9a-f]{32}/", "/TrustProducts/{TrustProductSid}/", path)
        path = path.replace(f"/PhoneNumbers/{DEST}", "/PhoneNumbers/{PhoneNumber}")
        key = f"{request.method} {path}"
        spec = operations[key]
        assert request.url.host == spec["host"], key
        for name, value in request.url.params.items():
            assert name in spec["query"], (key, name)
            assert _matches(value, spec["query"][name]), (key, name, value)
        if "LastVerifiedDate" in request.url.params:  # the reference's examples: YYYYMMDD
            assert re.fullmatch(r"[0-9]{8}", request.url.params["LastVerifiedDate"])
        exercised.add(key)
    assert exercised == set(operations)
