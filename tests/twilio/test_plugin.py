"""The Twilio plugin called directly (no API): every Twilio call on the wire with respx (method,
path, form fields, basic auth), every error mapping and the bounded retries, signed callbacks,
caching, and the whole plugin against the local fake Twilio. Nothing here reaches the internet."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
import respx
from pydantic import SecretStr, ValidationError
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from core import (
    CallOptions,
    NumberRef,
    NumberSearch,
    PluginContext,
    ProviderAuthError,
    ProviderError,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
    WebhookMalformed,
    WebhookRequest,
    WebhookSignatureError,
)
from core.cache import MemoryCache
from plugins.twilio.plugin import TwilioPlugin
from plugins.twilio.settings import TwilioSettings
from plugins.twilio.transport import HttpxAsyncHttpClient, RetryPolicy
from tests.twilio.fake_twilio import FakeTwilio, twilio_signature

SID = "AC" + "c" * 32
TOKEN = "unit-twilio-token-do-not-leak-42"
API = f"https://api.twilio.com/2010-04-01/Accounts/{SID}"
NUMBERS = "https://numbers.twilio.com/v2/RegulatoryCompliance/Regulations"
PRICING = "https://pricing.twilio.com/v1/PhoneNumbers/Countries"
VOICE_COUNTRIES = "https://voice.twilio.com/v1/DialingPermissions/Countries"
PUBLIC = "https://tl.example.com"
CALLBACK = f"{PUBLIC}/webhooks/twilio"
BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
PHONE = "+14155550100"
FORM = "application/x-www-form-urlencoded"


def _settings(**over: Any) -> TwilioSettings:
    values: dict[str, Any] = {
        "account_sid": SID,
        "auth_token": SecretStr(TOKEN),
        "retry_backoff_seconds": 0,
        "retry_max_wait_seconds": 0,
        **over,
    }
    return TwilioSettings(**values)


async def _plugin(
    cache: Any = None, missing_env: dict[str, str] | None = None, **over: Any
) -> TwilioPlugin:
    plugin = TwilioPlugin()
    await plugin.trunkline_configure(
        _settings(**over),
        PluginContext(
            plugin_name="twilio",
            public_base_url=PUBLIC,
            cache=cache or MemoryCache(),
            missing_env=missing_env or {},
            logger=logging.getLogger("trunkline.plugins.twilio"),
        ),
    )
    return plugin


@pytest.fixture
async def plugin() -> AsyncIterator[TwilioPlugin]:
    p = await _plugin()
    yield p
    await p.trunkline_shutdown()


#: The FriendlyName the validation of ``_number()`` gives the caller ID it creates.
MINE = {"friendly_name": "Trunkline n1"}


def _number(phone: str = PHONE) -> NumberRef:
    return NumberRef(
        id="n1", workspace_id="w1", phone_e164=phone, country_code="US", provider="twilio"
    )


def _form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == FORM
    return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}


def _page(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: rows, "page": 0, "page_size": 50, "next_page_uri": None, "uri": "/x"}


def _meta() -> dict[str, Any]:
    return {"key": "results", "next_page_url": None, "page": 0, "page_size": 50}


def _voice_page(rows: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    """A Voice v1 list page, as Twilio's OpenAPI description shapes it."""
    return {
        "content": rows,
        "meta": {
            "key": "content",
            "next_page_url": next_url,
            "page": 0,
            "page_size": 1000,
            "first_page_url": VOICE_COUNTRIES,
            "previous_page_url": None,
            "url": VOICE_COUNTRIES,
        },
    }


def _authed(route: respx.Route) -> None:
    for call in route.calls:
        assert call.request.headers["authorization"] == BASIC


PRICES_US = {
    "iso_country": "US",
    "price_unit": "USD",
    "phone_number_prices": [
        {"number_type": "local", "base_price": "1.15", "current_price": "1.15"},
        {"number_type": "toll free", "base_price": "2.15", "current_price": "2.00"},
    ],
}


# -- registration, settings, lifecycle ---------------------------------------------------------


def test_registers_all_eight_capabilities() -> None:
    from core.plugins import PluginHost

    host = PluginHost(strict=True)  # capabilities come from the hooks the plugin implements
    host.load([], {}, extra={"p": TwilioPlugin()}, candidates={})
    (info,) = host.providers.values()
    assert (info.name, info.display_name, info.settings_model) == (
        "twilio",
        "Twilio",
        TwilioSettings,
    )
    assert info.capabilities == {
        "verify_cli",
        "coverage",
        "regulations",
        "search",
        "purchase",
        "release",
        "calls",
        "webhooks",
        "attestation",
        "dialing_permissions",
        "lookup",
    }


def test_settings_defaults_and_validation() -> None:
    s = TwilioSettings()
    assert s.account_sid is None and s.auth_token is None and s.base_url is None
    assert s.status_callback_path == "/webhooks/twilio"
    assert s.max_retries == 2 and s.timeout_seconds == 10
    assert TOKEN not in repr(_settings())
    with pytest.raises(ValidationError):
        TwilioSettings(account_sid="not-a-sid")
    with pytest.raises(ValidationError):
        TwilioSettings(max_retries=50)
    with pytest.raises(ValidationError):
        TwilioSettings(surprise=1)  # type: ignore[call-arg]


async def test_not_configured_names_the_variables_and_refuses_everything() -> None:
    plugin = TwilioPlugin()
    await plugin.trunkline_configure(
        TwilioSettings(),
        PluginContext(
            plugin_name="twilio",
            missing_env={"account_sid": "TWILIO_ACCOUNT_SID", "auth_token": "TWILIO_AUTH_TOKEN"},
        ),
    )
    assert plugin.trunkline_provider_status() == {
        "configured": False,
        "detail": "set TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN",
    }
    with respx.mock(assert_all_mocked=True) as mock:  # nothing may go out
        operations = [
            plugin.verify_cli(_number()),
            plugin.list_coverage(None),
            plugin.search_numbers(NumberSearch(country="US")),
            plugin.fetch_regulations("GB", None, None),
            plugin.purchase_number("+12125550123"),
            plugin.place_call(PHONE, "+14155550111", CallOptions()),
        ]
        for op in operations:
            with pytest.raises(ProviderNotConfigured) as info:
                await op
            assert "TWILIO_AUTH_TOKEN" in str(info.value)
        assert mock.calls.call_count == 0
    with pytest.raises(WebhookSignatureError):
        plugin.parse_webhook(WebhookRequest(url=CALLBACK, headers={"x-twilio-signature": "x"}))


async def test_status_names_only_what_is_missing() -> None:
    plugin = await _plugin(auth_token=None, missing_env={"auth_token": "TW_TOKEN"})
    assert plugin.trunkline_provider_status() == {"configured": False, "detail": "set TW_TOKEN"}
    bare = await _plugin(account_sid=None, auth_token=None)
    assert (
        bare.trunkline_provider_status()["detail"] == "set TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN"
    )
    ok = await _plugin()
    assert ok.trunkline_provider_status()["configured"] is True
    await ok.trunkline_shutdown()


async def test_shutdown_closes_the_pooled_client() -> None:
    plugin = await _plugin()
    assert plugin.http is not None
    pool = plugin.http.client
    assert isinstance(pool, httpx.AsyncClient) and pool.timeout.read == 10
    await plugin.trunkline_shutdown()
    assert pool.is_closed
    with pytest.raises(ProviderNotConfigured):
        await plugin.list_coverage(None)


async def test_one_pooled_client_for_every_request(plugin: TwilioPlugin) -> None:
    assert plugin.http is not None
    assert plugin.client is not None and plugin.client.http_client is plugin.http
    pool = plugin.http.client
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=_page("outgoing_caller_ids", [{"sid": "PN1", "phone_number": PHONE, **MINE}])
        )
        await plugin.verify_cli(_number())
        await plugin.verify_cli(_number())
    assert plugin.http.client is pool and not pool.is_closed


# -- verify_cli ---------------------------------------------------------------------------------


async def test_verify_listed_number_is_verified_without_a_validation_call(
    plugin: TwilioPlugin,
) -> None:
    """Listed, with the FriendlyName this number's own validation gave it: verified."""
    with respx.mock(assert_all_called=True) as mock:
        listed = mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=_page(
                "outgoing_caller_ids", [{"sid": "PN" + "9" * 32, "phone_number": PHONE, **MINE}]
            )
        )
        result = await plugin.verify_cli(_number())
        assert mock.calls.call_count == 1
    assert result.status == "verified" and result.provider_ref == "PN" + "9" * 32
    request = listed.calls[0].request
    assert request.method == "GET"
    assert dict(request.url.params) == {"PhoneNumber": PHONE, "PageSize": "1"}
    _authed(listed)


async def test_verify_starts_a_validation_request(plugin: TwilioPlugin) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=_page("outgoing_caller_ids", []))
        created = mock.post(f"{API}/OutgoingCallerIds.json").respond(
            200,
            json={
                "account_sid": SID,
                "call_sid": "CA" + "1" * 32,
                "phone_number": PHONE,
                "friendly_name": PHONE,
                "validation_code": "000123",
            },
        )
        result = await plugin.verify_cli(_number())
    assert result.status == "pending"
    assert result.next_step == "answer_call_and_enter_code"
    assert result.display_code == "000123"  # a string: leading zeros kept
    assert result.provider_ref == "CA" + "1" * 32
    assert _form(created.calls[0].request) == {
        "PhoneNumber": PHONE,
        "FriendlyName": "Trunkline n1",
        "StatusCallback": CALLBACK,
    }
    _authed(created)


async def test_verify_custom_callback_path() -> None:
    plugin = await _plugin(status_callback_path="/hooks/tw")
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=_page("outgoing_caller_ids", []))
        created = mock.post(f"{API}/OutgoingCallerIds.json").respond(
            json={"call_sid": "CA1", "validation_code": "654321"}
        )
        await plugin.verify_cli(_number())
    assert _form(created.calls[0].request)["StatusCallback"] == f"{PUBLIC}/hooks/tw"
    await plugin.trunkline_shutdown()


async def test_verify_listed_by_its_stored_reference_is_verified(plugin: TwilioPlugin) -> None:
    """A caller ID whose sid is the number's stored ``verification_ref`` is its own too."""
    number = _number().model_copy(update={"verification_ref": "PN" + "7" * 32})
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=_page("outgoing_caller_ids", [{"sid": "PN" + "7" * 32, "phone_number": PHONE}])
        )
        result = await plugin.verify_cli(number)
    assert result.status == "verified" and result.provider_ref == "PN" + "7" * 32


async def test_verify_already_verified_21450_is_not_proof(plugin: TwilioPlugin) -> None:
    """21450 says *somebody* verified the number: without this number's record listed, the
    carrier's refusal is the answer."""
    with respx.mock() as mock:
        listed = mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=_page("outgoing_caller_ids", [])
        )
        created = mock.post(f"{API}/OutgoingCallerIds.json").respond(
            400, json={"code": 21450, "message": "Phone number is already verified.", "status": 400}
        )
        with pytest.raises(ProviderRejected) as raised:
            await plugin.verify_cli(_number())
    assert raised.value.provider_code == "21450"
    assert created.call_count == 1 and listed.call_count == 2


async def test_verify_without_a_code_is_unusable(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=_page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(json={"call_sid": "CA1"})
        with pytest.raises(ProviderUnavailable, match="validation_code"):
            await plugin.verify_cli(_number())


async def test_verify_other_refusal_is_raised(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=_page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(
            400, json={"code": 21212, "message": "Invalid phone number", "status": 400}
        )
        with pytest.raises(ProviderRejected) as info:
            await plugin.verify_cli(_number())
    assert info.value.provider_code == "21212"
    assert info.value.provider_detail == "Invalid phone number"


# -- parse_webhook -------------------------------------------------------------------------------


def _signed(params: dict[str, str], *, token: str = TOKEN, url: str = CALLBACK) -> WebhookRequest:
    return WebhookRequest(
        url=CALLBACK,
        body=urlencode(params).encode(),
        headers={"content-type": FORM, "x-twilio-signature": twilio_signature(token, url, params)},
    )


VALIDATION = {
    "AccountSid": SID,
    "CallSid": "CA" + "1" * 32,
    "Called": PHONE,
    "To": PHONE,
    "OutgoingCallerIdSid": "PN" + "5" * 32,
    "VerificationStatus": "success",
}


def test_our_signer_agrees_with_the_sdk() -> None:
    assert twilio_signature(TOKEN, CALLBACK, VALIDATION) == RequestValidator(
        TOKEN
    ).compute_signature(CALLBACK, VALIDATION)


def test_webhook_verification_success(plugin: TwilioPlugin) -> None:
    (event,) = plugin.parse_webhook(_signed(VALIDATION))
    assert event.kind == "verification_succeeded" and event.provider == "twilio"
    assert event.phone_e164 == PHONE and event.provider_ref == "CA" + "1" * 32
    assert event.data["outgoing_caller_id_sid"] == "PN" + "5" * 32


def test_webhook_verification_failed_with_called_only(plugin: TwilioPlugin) -> None:
    params = {"CallSid": "CA2", "Called": PHONE, "VerificationStatus": "failed"}
    (event,) = plugin.parse_webhook(_signed(params))
    assert (event.kind, event.phone_e164, event.provider_ref) == (
        "verification_failed",
        PHONE,
        "CA2",
    )


def test_webhook_call_status(plugin: TwilioPlugin) -> None:
    params = {"CallSid": "CA3", "CallStatus": "completed", "CallDuration": "12", "To": PHONE}
    (event,) = plugin.parse_webhook(_signed(params))
    assert event.kind == "call_status" and event.provider_ref == "CA3"
    assert event.data == {"status": "completed", "duration": "12"}


def test_webhook_without_an_event(plugin: TwilioPlugin) -> None:
    assert plugin.parse_webhook(_signed({"SmsSid": "SM1", "Body": "hi"})) == []


def _tampered() -> WebhookRequest:
    """Signed for a failed verification, then the body changed to say success."""
    signed = _signed({**VALIDATION, "VerificationStatus": "failed"})
    return signed.model_copy(update={"body": urlencode(VALIDATION).encode()})


@pytest.mark.parametrize(
    "request_",
    [
        _signed(VALIDATION, token="another-token"),
        _signed(VALIDATION, url="https://elsewhere.example/webhooks/twilio"),
        _tampered(),
        WebhookRequest(url=CALLBACK, body=urlencode(VALIDATION).encode(), headers={}),
        WebhookRequest(
            url=CALLBACK,
            body=urlencode(VALIDATION).encode(),
            headers={"x-twilio-signature": ""},
        ),
    ],
    ids=["forged", "other-url", "tampered", "missing", "empty"],
)
def test_webhook_bad_signature_is_refused(plugin: TwilioPlugin, request_: WebhookRequest) -> None:
    with pytest.raises(WebhookSignatureError):
        plugin.parse_webhook(request_)


def test_webhook_json_body_signed_with_body_sha256(plugin: TwilioPlugin) -> None:
    body = b'{"CallSid": "CA9", "CallStatus": "ringing"}'
    url = f"{CALLBACK}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    good = WebhookRequest(
        url=url,
        body=body,
        headers={
            "content-type": "application/json",
            "x-twilio-signature": twilio_signature(TOKEN, url, {}),
        },
    )
    (event,) = plugin.parse_webhook(good)
    assert event.kind == "call_status" and event.data == {"status": "ringing"}
    bad = good.model_copy(update={"body": b'{"CallSid": "CA9", "CallStatus": "completed"}'})
    with pytest.raises(WebhookSignatureError):
        plugin.parse_webhook(bad)


def test_webhook_json_body_not_utf8_signed_is_malformed(plugin: TwilioPlugin) -> None:
    """``bodySHA256`` is the hash of the raw bytes: a signed body that is not UTF-8 is
    malformed (422), not a bad signature."""
    body = b'\xff\xfe{"CallSid": "CA9"}'
    url = f"{CALLBACK}?bodySHA256={hashlib.sha256(body).hexdigest()}"
    headers = {"content-type": "application/json"}
    signed = WebhookRequest(
        url=url,
        body=body,
        headers={**headers, "x-twilio-signature": twilio_signature(TOKEN, url, {})},
    )
    with pytest.raises(WebhookMalformed, match="not UTF-8 JSON"):
        plugin.parse_webhook(signed)
    other = f"{CALLBACK}?bodySHA256={hashlib.sha256(body + b' ').hexdigest()}"
    forged = WebhookRequest(
        url=other,
        body=body,
        headers={**headers, "x-twilio-signature": twilio_signature(TOKEN, other, {})},
    )
    with pytest.raises(WebhookSignatureError):
        plugin.parse_webhook(forged)


# -- coverage, search, regulations ---------------------------------------------------------------

COUNTRIES = {
    "countries": [
        {
            "country_code": "US",
            "country": "United States",
            "subresource_uris": {"local": "/l", "toll_free": "/t"},
        },
        {
            "country_code": "GB",
            "country": "United Kingdom",
            "subresource_uris": {"local": "/l", "mobile": "/m", "national": "/n"},
        },
    ],
    "uri": "/x",
}


async def test_coverage_is_live_and_cached_in_the_shared_cache() -> None:
    shared = MemoryCache()
    first, second = await _plugin(cache=shared), await _plugin(cache=shared)
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(json=COUNTRIES)
        everything = await first.list_coverage(None)
        gb = await second.list_coverage("gb")  # another worker: served by the shared cache
    assert route.call_count == 1
    _authed(route)
    assert {(e.country_code, e.number_type) for e in everything} == {
        ("US", "local"),
        ("US", "toll_free"),
        ("GB", "local"),
        ("GB", "mobile"),
        ("GB", "national"),
    }
    assert all(e.source == "live" and e.features == {"voice", "sms"} for e in everything)
    assert {e.number_type for e in gb} == {"local", "mobile", "national"}
    assert await first.list_coverage("FR") == []
    for p in (first, second):
        await p.trunkline_shutdown()


async def test_coverage_ttl_expires() -> None:
    plugin = await _plugin(coverage_ttl_seconds=0)
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(json=COUNTRIES)
        await plugin.list_coverage(None)
        await plugin.list_coverage(None)
    assert route.call_count == 2
    await plugin.trunkline_shutdown()


@pytest.mark.parametrize(
    ("number_type", "path"),
    [("local", "Local"), ("mobile", "Mobile"), ("toll_free", "TollFree"), ("national", "National")],
)
async def test_search_paths_and_filters(plugin: TwilioPlugin, number_type: str, path: str) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers/US/{path}.json").respond(
            json={
                "available_phone_numbers": [
                    {
                        "phone_number": "+12125550123",
                        "locality": "New York",
                        "region": "NY",
                        "iso_country": "US",
                        "capabilities": {"voice": True, "SMS": True, "MMS": False, "fax": False},
                    }
                ],
                "uri": "/x",
            }
        )
        prices = mock.get(f"{PRICING}/US").respond(json=PRICES_US)
        found = await plugin.search_numbers(
            NumberSearch(
                country="us",
                number_type=number_type,  # type: ignore[arg-type]
                area_code="212",
                contains="555",
                locality="New York",
                features={"voice", "sms"},
                limit=7,
            )
        )
    request = route.calls[0].request
    assert request.method == "GET"
    assert dict(request.url.params) == {
        "AreaCode": "212",
        "Contains": "555",
        "InLocality": "New York",
        "SmsEnabled": "true",
        "VoiceEnabled": "true",
        "PageSize": "7",
    }
    _authed(route)
    _authed(prices)
    (n,) = found
    assert (n.phone_e164, n.country_code, n.number_type) == ("+12125550123", "US", number_type)
    assert n.features == {"voice", "sms"} and (n.locality, n.region) == ("New York", "NY")
    expected = {"local": Decimal("1.15"), "toll_free": Decimal("2.00")}.get(number_type)
    assert n.monthly_cost == expected and n.currency == ("USD" if expected else None)


async def test_search_minimal_query_and_cached_prices(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers/US/Local.json").respond(
            json={"available_phone_numbers": [], "uri": "/x"}
        )
        prices = mock.get(f"{PRICING}/US").respond(json=PRICES_US)
        assert await plugin.search_numbers(NumberSearch(country="US")) == []
        await plugin.search_numbers(NumberSearch(country="US"))
    assert dict(route.calls[0].request.url.params) == {"PageSize": "20"}
    assert prices.call_count == 1  # prices are cached


async def test_regulations_wire_format_normalisation_and_cache(plugin: TwilioPlugin) -> None:
    answer = {
        "results": [
            {
                "sid": "RN" + "a" * 32,
                "iso_country": "AU",
                "number_type": "local",
                "end_user_type": "individual",
                "requirements": {
                    "end_user": [
                        {
                            "name": "Individual",
                            "type": "individual",
                            "requirement_name": "individual_info",
                            "fields": ["first_name", "last_name"],
                            "detailed_fields": [
                                {"machine_name": "first_name", "friendly_name": "First Name"},
                                {"machine_name": "last_name", "friendly_name": "Last Name"},
                            ],
                        }
                    ],
                    "supporting_document": [
                        [
                            {
                                "name": "Address",
                                "type": "document",
                                "requirement_name": "proof_of_address",
                                "description": "Within the number's locality.",
                                "accepted_documents": [
                                    {"name": "Address Validation", "type": "address"}
                                ],
                            }
                        ],
                        [
                            {
                                "name": "Passport",
                                "type": "document",
                                "requirement_name": "proof_of_identity",
                                "accepted_documents": [{"name": "Passport", "type": "passport"}],
                            },
                            {"name": "Driving licence", "type": "document"},
                        ],
                    ],
                },
            }
        ],
        "meta": _meta(),
    }
    with respx.mock() as mock:
        route = mock.get(NUMBERS).respond(json=answer)
        reqs = await plugin.fetch_regulations("au", "local", "individual")
        again = await plugin.fetch_regulations("AU", "local", "individual")
    assert route.call_count == 1 and again == reqs
    _authed(route)
    assert dict(route.calls[0].request.url.params) == {
        "IsoCountry": "AU",
        "NumberType": "local",
        "EndUserType": "individual",
        "IncludeConstraints": "true",
    }
    assert [(r.name, r.kind, r.group) for r in reqs] == [
        ("Individual", "identity", "end_user"),
        ("Address", "address", "supporting_document_1"),
        ("Passport", "document", "supporting_document_2"),
        ("Driving licence", "document", "supporting_document_2"),
    ]
    assert all(
        (r.provider, r.country_code, r.number_type, r.end_user_type)
        == ("twilio", "AU", "local", "individual")
        for r in reqs
    )
    assert reqs[0].description == "Fields: First Name, Last Name."
    assert reqs[1].description == "Within the number's locality. Accepted: Address Validation."


async def test_regulations_without_filters(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = mock.get(NUMBERS).respond(
            json={
                "results": [
                    {
                        "number_type": "toll free",
                        "end_user_type": "business",
                        "requirements": {"end_user": [{"name": "Business", "type": "business"}]},
                    }
                ],
                "meta": _meta(),
            }
        )
        (req,) = await plugin.fetch_regulations("DE", None, "any")
    assert dict(route.calls[0].request.url.params) == {
        "IsoCountry": "DE",
        "IncludeConstraints": "true",
    }
    assert (req.number_type, req.end_user_type, req.kind) == ("toll_free", "business", "identity")


# -- purchase and calls --------------------------------------------------------------------------


async def test_purchase_wire_format_and_monthly_price(plugin: TwilioPlugin) -> None:
    with respx.mock(assert_all_called=True) as mock:
        buy = mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201,
            json={
                "sid": "PN" + "2" * 32,
                "phone_number": "+12125550123",
                "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            },
        )
        prices = mock.get(f"{PRICING}/US").respond(json=PRICES_US)
        bought = await plugin.purchase_number("+12125550123")
    assert buy.calls[0].request.method == "POST"
    assert _form(buy.calls[0].request) == {"PhoneNumber": "+12125550123"}
    _authed(buy)
    _authed(prices)
    assert bought.provider_ref == "PN" + "2" * 32
    assert (bought.country_code, bought.number_type) == ("US", "local")
    assert bought.monthly_cost == Decimal("1.15") and bought.currency == "USD"
    assert bought.features == {"voice", "sms", "mms"}


async def test_purchase_of_a_gb_mobile_prices_the_mobile_type(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN3", "phone_number": "+447400123456"}
        )
        mock.get(f"{PRICING}/GB").respond(
            json={
                "price_unit": "GBP",
                "phone_number_prices": [
                    {"number_type": "local", "current_price": "1.00"},
                    {"number_type": "mobile", "current_price": "4.00"},
                ],
            }
        )
        bought = await plugin.purchase_number("+447400123456")
    assert (bought.country_code, bought.number_type) == ("GB", "mobile")
    assert bought.monthly_cost == Decimal("4.00") and bought.currency == "GBP"


@pytest.mark.parametrize(
    "pricing",
    [
        httpx.Response(500, json={"message": "down"}),
        httpx.Response(403, json={"code": 20003, "message": "no pricing access"}),
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"price_unit": "USD", "phone_number_prices": "odd"}),
    ],
    ids=["5xx", "refused", "not-json", "odd-shape"],
)
async def test_purchase_succeeds_without_a_price_when_pricing_fails(
    plugin: TwilioPlugin, pricing: httpx.Response
) -> None:
    with respx.mock() as mock:
        mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN4", "phone_number": "+12125550123"}
        )
        mock.get(f"{PRICING}/US").mock(return_value=pricing)
        bought = await plugin.purchase_number("+12125550123")
    assert bought.provider_ref == "PN4"
    assert bought.monthly_cost is None and bought.currency is None


async def test_purchase_refused(plugin: TwilioPlugin) -> None:
    with respx.mock(assert_all_called=False) as mock:
        mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            400, json={"code": 21422, "message": "not available", "status": 400}
        )
        prices = mock.get(f"{PRICING}/US").respond(json=PRICES_US)
        with pytest.raises(ProviderRejected) as info:
            await plugin.purchase_number("+12125550123")
    assert info.value.provider_code == "21422" and prices.call_count == 0


async def test_place_call_with_the_settings_twiml(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{API}/Calls.json").respond(
            201, json={"sid": "CA" + "3" * 32, "status": "queued"}
        )
        placed = await plugin.place_call("+12125550123", "+14155550111", CallOptions())
    assert (placed.provider, placed.provider_call_id, placed.status) == (
        "twilio",
        "CA" + "3" * 32,
        "queued",
    )
    _authed(route)
    assert _form(route.calls[0].request) == {
        "From": "+12125550123",
        "To": "+14155550111",
        "Twiml": TwilioSettings().call_twiml,
        "StatusCallback": CALLBACK,
        "StatusCallbackMethod": "POST",
    }


@pytest.mark.parametrize(
    ("settings", "options", "expected"),
    [
        ({"call_url": "https://tw.example/a.xml"}, {}, {"Url": "https://tw.example/a.xml"}),
        (
            {"call_url": "https://tw.example/a.xml"},
            {"twiml": "<Response/>"},
            {"Twiml": "<Response/>"},
        ),
        ({}, {"url": "https://tw.example/b.xml"}, {"Url": "https://tw.example/b.xml"}),
        (
            {"call_twiml": "<Response><Hangup/></Response>"},
            {"timeout_seconds": 15},
            {"Twiml": "<Response><Hangup/></Response>", "Timeout": "15"},
        ),
    ],
    ids=["settings-url", "options-twiml-wins", "options-url", "timeout"],
)
async def test_place_call_what_to_play(
    settings: dict[str, Any], options: dict[str, Any], expected: dict[str, str]
) -> None:
    plugin = await _plugin(**settings)
    with respx.mock() as mock:
        route = mock.post(f"{API}/Calls.json").respond(201, json={"sid": "CA4", "status": "queued"})
        await plugin.place_call("+12125550123", "+14155550111", CallOptions(**options))
    sent = _form(route.calls[0].request)
    assert {k: v for k, v in sent.items() if k in ("Url", "Twiml", "Timeout")} == expected
    await plugin.trunkline_shutdown()


async def test_base_url_replaces_every_twilio_host() -> None:
    plugin = await _plugin(base_url="http://127.0.0.1:4010/")
    local = "http://127.0.0.1:4010"
    with respx.mock(assert_all_mocked=True) as mock:
        cov = mock.get(f"{local}/2010-04-01/Accounts/{SID}/AvailablePhoneNumbers.json").respond(
            json=COUNTRIES
        )
        regs = mock.get(f"{local}/v2/RegulatoryCompliance/Regulations").respond(
            json={"results": [], "meta": _meta()}
        )
        prices = mock.get(f"{local}/v1/PhoneNumbers/Countries/US").respond(json=PRICES_US)
        buy = mock.post(f"{local}/2010-04-01/Accounts/{SID}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN5", "phone_number": "+12125550123"}
        )
        await plugin.list_coverage(None)
        assert await plugin.fetch_regulations("US", None, None) == []
        bought = await plugin.purchase_number("+12125550123")
    assert cov.called and regs.called and prices.called and buy.called
    assert bought.monthly_cost == Decimal("1.15")
    await plugin.trunkline_shutdown()


async def test_environment_edge_does_not_rewrite_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    plugin = await _plugin()
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(json=COUNTRIES)
        await plugin.list_coverage(None)
    assert route.called
    await plugin.trunkline_shutdown()


# -- error mapping and retries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "code"),
    [
        (401, {"code": 20003, "message": "Authenticate"}, ProviderAuthError, "20003"),
        (403, {"code": 20005, "message": "Account not active"}, ProviderAuthError, "20005"),
        (400, {"code": 21211, "message": "Invalid 'To' Phone Number"}, ProviderRejected, "21211"),
        (400, {"code": 21212, "message": "Invalid 'From' Number"}, ProviderRejected, "21212"),
        (400, {"code": 21210, "message": "'From' not verified"}, ProviderRejected, "21210"),
        (400, {"code": 21215, "message": "Geo permission"}, ProviderRejected, "21215"),
        (400, {"code": 13227, "message": "No international"}, ProviderRejected, "13227"),
        (404, {"code": 20404, "message": "Not found"}, ProviderRejected, "20404"),
        (400, {"message": "no code"}, ProviderRejected, "400"),
    ],
)
async def test_4xx_mapped_and_never_retried(
    status: int, body: dict[str, Any], error: type[ProviderError], code: str
) -> None:
    plugin = await _plugin(max_retries=3)
    with respx.mock() as mock:
        route = mock.post(f"{API}/Calls.json").respond(status, json={**body, "status": status})
        with pytest.raises(error) as info:
            await plugin.place_call("+12125550123", "+14155550111", CallOptions())
    assert type(info.value) is error
    assert route.call_count == 1
    assert info.value.provider == "twilio" and info.value.provider_code == code
    assert info.value.provider_detail == body["message"]
    assert body["message"] in str(info.value)
    await plugin.trunkline_shutdown()


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize(
    ("status", "error"),
    [(429, ProviderRateLimited), (500, ProviderUnavailable), (503, ProviderUnavailable)],
)
async def test_429_and_5xx_retried_a_bounded_number_of_times(
    max_retries: int, status: int, error: type[ProviderError]
) -> None:
    plugin = await _plugin(max_retries=max_retries)
    body = {"code": 20429 if status == 429 else None, "message": "busy", "status": status}
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(
            status, json=body, headers={"Retry-After": "7"}
        )
        with pytest.raises(error) as info:
            await plugin.list_coverage(None)
    assert route.call_count == max_retries + 1
    assert info.value.provider_code == ("20429" if status == 429 else str(status))
    if status == 429:
        assert isinstance(info.value, ProviderRateLimited) and info.value.retry_after == 7.0
    await plugin.trunkline_shutdown()


async def test_rate_limited_without_retry_after(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/AvailablePhoneNumbers.json").respond(
            429, json={"code": 20429, "message": "x"}
        )
        with pytest.raises(ProviderRateLimited) as info:
            await plugin.list_coverage(None)
    assert info.value.retry_after is None


async def test_retry_then_success(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = mock.post(f"{API}/Calls.json").mock(
            side_effect=[
                httpx.Response(503, json={"message": "down"}),
                httpx.Response(429, json={"code": 20429, "message": "slow down"}),
                httpx.Response(201, json={"sid": "CA5", "status": "queued"}),
            ]
        )
        placed = await plugin.place_call("+12125550123", "+14155550111", CallOptions())
    assert placed.provider_call_id == "CA5" and route.call_count == 3
    # the retried request is the same request
    assert len({call.request.content for call in route.calls}) == 1


async def test_backoff_is_exponential_capped_and_honours_retry_after() -> None:
    policy = RetryPolicy(max_retries=4, backoff=0.5, max_wait=3.0)
    busy, down, bad = httpx.Response(429), httpx.Response(502), httpx.Response(400)
    assert [policy.wait(a, down) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, None]
    assert policy.wait(0, httpx.Response(429, headers={"Retry-After": "2"})) == 2.0
    assert policy.wait(0, httpx.Response(429, headers={"Retry-After": "60"})) == 3.0
    assert policy.wait(0, httpx.Response(429, headers={"Retry-After": "soon"})) == 0.5
    assert policy.wait(0, busy) == 0.5 and policy.wait(0, bad) is None


async def test_backoff_actually_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("plugins.twilio.transport.asyncio.sleep", sleep)
    plugin = await _plugin(max_retries=2, retry_backoff_seconds=0.25, retry_max_wait_seconds=5)
    with respx.mock() as mock:
        mock.get(f"{API}/AvailablePhoneNumbers.json").respond(500, json={"message": "x"})
        with pytest.raises(ProviderUnavailable):
            await plugin.list_coverage(None)
    assert waits == [0.25, 0.5]
    await plugin.trunkline_shutdown()


@pytest.mark.parametrize(
    ("side_effect", "text"),
    [
        (httpx.ReadTimeout("slow"), "ReadTimeout"),
        (httpx.ConnectTimeout("slow"), "ConnectTimeout"),
        (httpx.ConnectError("refused"), "ConnectError"),
        (httpx.RemoteProtocolError("closed"), "RemoteProtocolError"),
    ],
)
async def test_transport_failures_are_unavailable(
    plugin: TwilioPlugin, side_effect: Exception, text: str
) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").mock(side_effect=side_effect)
        with pytest.raises(ProviderUnavailable, match=text):
            await plugin.list_coverage(None)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, text=""),
    ],
    ids=["html", "list", "empty"],
)
async def test_malformed_bodies_are_unavailable(
    plugin: TwilioPlugin, response: httpx.Response
) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/AvailablePhoneNumbers.json").mock(return_value=response)
        mock.post(f"{API}/Calls.json").mock(return_value=response)
        with pytest.raises(ProviderUnavailable, match="unusable"):
            await plugin.list_coverage(None)
        with pytest.raises(ProviderUnavailable, match="unusable"):
            await plugin.place_call("+12125550123", "+14155550111", CallOptions())


async def test_5xx_with_an_html_body(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{API}/AvailablePhoneNumbers.json").respond(502, text="<html>bad gateway</html>")
        with pytest.raises(ProviderUnavailable) as info:
            await plugin.list_coverage(None)
    assert info.value.provider_code == "502"


async def test_redirect_is_not_followed_and_is_mapped(plugin: TwilioPlugin) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(
            302, headers={"Location": "https://evil.example/"}
        )
        with pytest.raises(ProviderError):
            await plugin.list_coverage(None)
    assert route.call_count == 1


async def test_the_token_never_reaches_an_error_or_a_log(
    plugin: TwilioPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raised: list[BaseException] = []
    with respx.mock() as mock:
        mock.get(f"{API}/AvailablePhoneNumbers.json").mock(
            side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(503)]
        )
        mock.post(f"{API}/Calls.json").respond(401, json={"code": 20003, "message": "Authenticate"})
        mock.get(f"{API}/OutgoingCallerIds.json").mock(side_effect=httpx.ConnectError("refused"))
        for op in (
            plugin.list_coverage(None),
            plugin.place_call("+12125550123", "+14155550111", CallOptions()),
            plugin.verify_cli(_number()),
        ):
            with pytest.raises(ProviderError) as info:
                await op
            raised.append(info.value)
    assert caplog.records, "retries are logged"
    for exc in raised:
        assert exc.__cause__ is None
        everything = f"{exc} {exc!r} {getattr(exc, 'extra', {})} {exc.__context__!r}"
        assert TOKEN not in everything and BASIC.split()[1] not in everything
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in logged and BASIC.split()[1] not in logged


# -- the HTTP client under the SDK ----------------------------------------------------------------


async def test_http_client_same_wire_retries_and_errors() -> None:
    http = HttpxAsyncHttpClient(max_retries=1, backoff=0, max_wait=0)
    client = Client(SID, TOKEN, http_client=http, environment={})
    with respx.mock() as mock:
        route = mock.get(f"{API}/OutgoingCallerIds.json").mock(
            side_effect=[
                httpx.Response(500),
                httpx.Response(
                    200, json=_page("outgoing_caller_ids", [{"sid": "PN1", "phone_number": PHONE}])
                ),
            ]
        )
        (listed,) = await client.outgoing_caller_ids.list_async(phone_number=PHONE, limit=1)
        assert listed.sid == "PN1" and route.call_count == 2
        _authed(route)
        mock.post(f"{API}/Calls.json").respond(400, json={"code": 21215, "message": "geo"})
        with pytest.raises(ProviderRejected) as info:
            await client.calls.create_async(
                to="+14155550111", from_="+12125550123", twiml="<Response/>"
            )
    assert info.value.provider_code == "21215"
    await http.aclose()
    assert http.client.is_closed


async def test_async_http_client_is_async() -> None:
    http = HttpxAsyncHttpClient(timeout=3)
    assert http.is_async and http.timeout == 3 and http.client.timeout.connect == 3
    await http.aclose()


# -- the whole plugin against the local fake Twilio ------------------------------------------


async def test_plugin_end_to_end_against_the_fake() -> None:
    with FakeTwilio(SID, TOKEN) as fake:
        plugin = await _plugin(base_url=fake.url)
        try:
            coverage = await plugin.list_coverage(None)
            assert {(c.country_code, c.number_type) for c in coverage} == {
                ("US", "local"),
                ("US", "toll_free"),
                ("GB", "local"),
                ("GB", "mobile"),
            }
            found = await plugin.search_numbers(NumberSearch(country="US", area_code="212"))
            assert [n.phone_e164 for n in found] == ["+12125550123", "+12125550187"]
            assert found[0].monthly_cost == Decimal("1.15") and found[0].currency == "USD"
            mobiles = await plugin.search_numbers(NumberSearch(country="GB", number_type="mobile"))
            assert [n.phone_e164 for n in mobiles] == ["+447400123456"]

            regs = await plugin.fetch_regulations("GB", "local", "business")
            assert [(r.name, r.kind, r.group) for r in regs] == [
                ("Business", "identity", "end_user"),
                ("Address", "address", "supporting_document_1"),
                ("Business registration", "document", "supporting_document_2"),
                ("Trade license", "document", "supporting_document_2"),
            ]
            assert await plugin.fetch_regulations("GB", "mobile", "individual") == []

            started = await plugin.verify_cli(_number())
            assert started.status == "pending" and started.display_code is not None
            assert len(started.display_code) == 6 and started.display_code.isdigit()
            assert fake.validations[PHONE]["status_callback"] == CALLBACK
            assert started.display_code == fake.validations[PHONE]["validation_code"]
            params = fake.complete_validation(PHONE)
            (event,) = plugin.parse_webhook(_signed(params))
            assert (
                event.kind == "verification_succeeded"
                and event.provider_ref == started.provider_ref
            )
            again = await plugin.verify_cli(_number())
            assert again.status == "verified" and again.provider_ref == fake.verified[PHONE]

            bought = await plugin.purchase_number("+12125550123")
            assert bought.provider_ref == fake.owned["+12125550123"]
            assert bought.monthly_cost == Decimal("1.15")
            with pytest.raises(ProviderRejected) as info:
                await plugin.purchase_number("+12125550123")
            assert info.value.provider_code == "21422"

            fake.fail("/Calls.json", 503, times=1)  # one blip: retried
            placed = await plugin.place_call("+12125550123", "+14155550111", CallOptions())
            assert placed.status == "queued" and placed.provider_call_id in fake.calls
            assert fake.calls[placed.provider_call_id]["StatusCallback"] == CALLBACK
            (status,) = plugin.parse_webhook(
                _signed(fake.call_status(placed.provider_call_id, "completed"))
            )
            assert status.kind == "call_status" and status.data["status"] == "completed"
            with pytest.raises(ProviderRejected) as info:
                await plugin.place_call("+19998887777", "+14155550111", CallOptions())
            assert info.value.provider_code == "21210"

            assert len(fake.seen("POST", "/Calls.json")) == 3
            assert all(r.auth_ok for r in fake.requests)
        finally:
            await plugin.trunkline_shutdown()


async def test_plugin_against_the_fake_errors() -> None:
    with FakeTwilio(SID, "the-real-token") as fake:
        wrong = await _plugin(base_url=fake.url)  # TOKEN is not the fake's token
        with pytest.raises(ProviderAuthError) as info:
            await wrong.list_coverage(None)
        assert info.value.provider_code == "20003" and len(fake.requests) == 1
        await wrong.trunkline_shutdown()

        fake.token = TOKEN
        fake.requests.clear()
        plugin = await _plugin(base_url=fake.url, max_retries=2)
        fake.fail(
            "/AvailablePhoneNumbers.json", 429, code=20429, headers={"Retry-After": "1"}, times=5
        )
        with pytest.raises(ProviderRateLimited) as limited:
            await plugin.list_coverage(None)
        assert limited.value.retry_after == 1.0
        assert len(fake.seen("GET", "/AvailablePhoneNumbers.json")) == 3

        fake.pricing_available = False
        bought = await plugin.purchase_number("+18005550199")
        assert bought.number_type == "toll_free" and bought.monthly_cost is None
        await plugin.trunkline_shutdown()

    # the fake is gone: connection refused
    plugin = await _plugin(base_url=fake.url, timeout_seconds=1)
    with pytest.raises(ProviderUnavailable, match="did not answer"):
        await plugin.list_coverage(None)
    await plugin.trunkline_shutdown()


# -- the wire format against Twilio's own OpenAPI descriptions -------------------------------------

#: The query parameters and form fields of each operation the plugin calls, extracted from
#: Twilio's OpenAPI descriptions (twilio_api_v2010.json, twilio_numbers_v2.json).
WIRE = Path(__file__).with_name("twilio_wire_fields.json")


async def test_every_field_sent_is_in_twilios_openapi(plugin: TwilioPlugin) -> None:
    operations = json.loads(WIRE.read_text())["operations"]
    acct = "/2010-04-01/Accounts/{AccountSid}"
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=_page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(
            json={"call_sid": "CA1", "validation_code": "123456"}
        )
        mock.get(f"{API}/AvailablePhoneNumbers.json").respond(json=COUNTRIES)
        for kind in ("Local", "Mobile", "TollFree", "National"):
            mock.get(f"{API}/AvailablePhoneNumbers/US/{kind}.json").respond(
                json={"available_phone_numbers": [], "uri": "/x"}
            )
        mock.get(NUMBERS).respond(json={"results": [], "meta": _meta()})
        mock.get(f"{PRICING}/US").respond(json=PRICES_US)
        mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN1", "phone_number": "+12125550123"}
        )
        mock.post(f"{API}/Calls.json").respond(201, json={"sid": "CA2", "status": "queued"})
        mock.get(VOICE_COUNTRIES).respond(json=_voice_page([], None))
        await plugin.verify_cli(_number())
        await plugin.list_coverage(None)
        for kind in ("local", "mobile", "toll_free", "national"):
            await plugin.search_numbers(
                NumberSearch(
                    country="US",
                    number_type=kind,  # type: ignore[arg-type]
                    area_code="212",
                    contains="5",
                    locality="X",
                    features={"voice", "sms", "mms", "fax"},
                )
            )
        await plugin.fetch_regulations("US", "local", "business")
        await plugin.purchase_number("+12125550123")
        await plugin.place_call("+12125550123", "+14155550111", CallOptions(timeout_seconds=9))
        await plugin.place_call("+12125550123", "+14155550111", CallOptions(url="https://x/y"))
        await plugin.fetch_outbound_permissions()
        calls = list(mock.calls)
    exercised = set()
    for call in calls:
        request = call.request
        path = request.url.path
        if request.url.host == "pricing.twilio.com":  # no OpenAPI here: no parameters at all
            assert path == "/v1/PhoneNumbers/Countries/US" and not request.url.params
            continue
        path = path.replace(f"/Accounts/{SID}", "/Accounts/{AccountSid}").replace(
            "/AvailablePhoneNumbers/US/", "/AvailablePhoneNumbers/{CountryCode}/"
        )
        assert path.startswith(acct) or request.url.host in (
            "numbers.twilio.com",
            "voice.twilio.com",
        )
        key = f"{request.method} {path}"
        spec = operations[key]
        assert set(request.url.params) <= set(spec["query"]), (key, request.url.params)
        if request.method == "POST":
            assert set(_form(request)) <= set(spec["form"]), (key, _form(request))
        exercised.add(key)
    assert exercised == set(operations)


async def test_an_answer_about_another_number_is_refused(
    plugin: TwilioPlugin, caplog: pytest.LogCaptureFixture
) -> None:
    other = "+14155550199"
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=_page("outgoing_caller_ids", [{"sid": "PN7", "phone_number": other}])
        )
        mock.post(f"{API}/OutgoingCallerIds.json").respond(
            json={"call_sid": "CA7", "phone_number": other, "validation_code": "123456"}
        )
        with pytest.raises(ProviderError) as info:
            await plugin.verify_cli(_number())
        assert type(info.value) is ProviderError and other in str(info.value)
        mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201, json={"sid": "PN8", "phone_number": other}
        )
        with pytest.raises(ProviderError) as info:
            await plugin.purchase_number("+12125550123")
    assert type(info.value) is ProviderError and info.value.status == 502
    assert any("PN8" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


# -- release_number -------------------------------------------------------------------------------


async def test_release_deletes_the_incoming_phone_number(plugin: TwilioPlugin) -> None:
    number = _number().model_copy(update={"hosted": True, "provider_ref": "PN" + "4" * 32})
    with respx.mock(assert_all_called=True) as mock:
        deleted = mock.delete(f"{API}/IncomingPhoneNumbers/{'PN' + '4' * 32}.json").respond(204)
        assert await plugin.release_number(number) is None
    _authed(deleted)


async def test_release_without_a_sid_looks_the_number_up(plugin: TwilioPlugin) -> None:
    number = _number().model_copy(update={"hosted": True})
    with respx.mock(assert_all_called=True) as mock:
        listed = mock.get(f"{API}/IncomingPhoneNumbers.json").respond(
            json=_page("incoming_phone_numbers", [{"sid": "PN" + "5" * 32, "phone_number": PHONE}])
        )
        mock.delete(f"{API}/IncomingPhoneNumbers/{'PN' + '5' * 32}.json").respond(204)
        await plugin.release_number(number)
    assert dict(listed.calls[0].request.url.params) == {"PhoneNumber": PHONE, "PageSize": "1"}


async def test_release_of_a_number_twilio_no_longer_has_is_done(plugin: TwilioPlugin) -> None:
    number = _number().model_copy(update={"hosted": True, "provider_ref": "PN" + "6" * 32})
    with respx.mock() as mock:
        mock.delete(f"{API}/IncomingPhoneNumbers/{'PN' + '6' * 32}.json").respond(
            404, json={"code": 20404, "message": "not found", "status": 404}
        )
        assert await plugin.release_number(number) is None
        mock.delete(f"{API}/IncomingPhoneNumbers/{'PN' + '6' * 32}.json").respond(
            403, json={"code": 20003, "message": "Authenticate", "status": 403}
        )
        with pytest.raises(ProviderAuthError):
            await plugin.release_number(number)
