"""The Telnyx plugin called directly (no API): every Telnyx call on the wire with respx, every
error mapping, the SDK's retries, webhook signatures and the shipped data."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
import typer
from nacl.signing import SigningKey
from pydantic import SecretStr
from typer.testing import CliRunner

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
    Requirement,
    WebhookMalformed,
    WebhookRequest,
    WebhookSignatureError,
)
from plugins.telnyx import datafiles
from plugins.telnyx.plugin import TelnyxPlugin
from plugins.telnyx.settings import TelnyxSettings

KEY = "KEYunit-telnyx-secret-0123456789"
V2 = "https://api.telnyx.com/v2"
PHONE = "+14155550100"
PHONE_RE = r"(%2B|\+)14155550100"
SIGNER = SigningKey.generate()
PUBLIC_KEY = base64.b64encode(bytes(SIGNER.verify_key)).decode()
DATA = Path(datafiles.__file__).parent / "data"


def _settings(**over: Any) -> TelnyxSettings:
    values: dict[str, Any] = {
        "api_key": SecretStr(KEY),
        "public_key": SecretStr(PUBLIC_KEY),
        "connection_id": "conn-1",
        "max_retries": 0,
        "order_poll_interval_seconds": 0,
        **over,
    }
    return TelnyxSettings(**values)


async def _plugin(**over: Any) -> TelnyxPlugin:
    plugin = TelnyxPlugin()
    missing = over.pop("missing_env", {})
    plugin.trunkline_configure(
        _settings(**over),
        PluginContext(
            plugin_name="telnyx", public_base_url="https://tl.example.com", missing_env=missing
        ),
    )
    return plugin


@pytest.fixture
async def plugin() -> AsyncIterator[TelnyxPlugin]:
    p = await _plugin()
    yield p
    await p.trunkline_shutdown()


#: The reference this number's own completed verification stored (verified_at 2026-01-01).
OURS = f"{PHONE}@2026-01-01T00:00:00Z"


def _number(**kw: Any) -> NumberRef:
    return NumberRef(
        id="n1", workspace_id="w1", phone_e164=PHONE, country_code="US", provider="telnyx", **kw
    )


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def _authed(route: respx.Route) -> None:
    for call in route.calls:
        assert call.request.headers["authorization"] == f"Bearer {KEY}"


def _err(status: int, code: str, detail: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "title": "t", "detail": detail}]}


# -- registration, settings, lifecycle ------------------------------------------------------


def test_registers_telnyx_with_all_capabilities() -> None:
    from core.plugins import PluginHost

    host = PluginHost(strict=True)  # capabilities come from the hooks the plugin implements
    host.load([], {}, extra={"p": TelnyxPlugin()}, candidates={})
    (info,) = host.providers.values()
    assert info.name == "telnyx" and info.display_name == "Telnyx"
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
    assert info.settings_model is TelnyxSettings


def test_settings_defaults_and_refusals() -> None:
    s = TelnyxSettings()
    assert s.api_key is None and s.public_key is None and s.verification_method == "sms"
    assert s.max_retries == 2 and s.timeout_seconds > 0
    with pytest.raises(ValueError):
        TelnyxSettings(verification_method="email")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        TelnyxSettings(unknown_key=1)  # type: ignore[call-arg]
    assert KEY not in repr(_settings())


async def test_settings_from_env_through_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.plugins import PluginHost

    monkeypatch.setenv("TX_UNIT_KEY", KEY)
    host = PluginHost()
    host.load(
        ["telnyx"],
        {"telnyx": {"api_key": {"env": "TX_UNIT_KEY"}, "public_key": {"env": "TX_UNSET_PUB"}}},
    )
    await host.configure()
    plugin = host.pm.get_plugin("telnyx")
    assert plugin.settings.api_key.get_secret_value() == KEY
    assert plugin.settings.public_key is None
    assert host.records["telnyx"].settings["api_key"] != KEY
    status = plugin.trunkline_provider_status()
    assert status["configured"] is True and "public_key" in status["detail"]
    assert plugin.client is None  # created by the first carrier operation, not by configure
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").respond(200, json={"data": []})
        query = NumberSearch(country="US")
        assert await host.call_provider("search_numbers", "telnyx", query=query) == []
    client = plugin.client
    assert client is not None and not client.is_closed()
    await host.aclose()
    assert client.is_closed()


async def test_missing_key_loads_but_every_operation_refuses() -> None:
    plugin = await _plugin(api_key=None, missing_env={"api_key": "TELNYX_API_KEY"})
    assert plugin.client is None
    assert plugin.trunkline_provider_status() == {
        "configured": False,
        "detail": "set TELNYX_API_KEY",
    }
    with respx.mock() as mock:  # nothing may reach the network
        for call in (
            plugin.verify_cli(_number(), None),
            plugin.search_numbers(NumberSearch(country="US")),
            plugin.purchase_number("+12125550123"),
            plugin.place_call("+12125550123", PHONE, CallOptions()),
        ):
            with pytest.raises(ProviderNotConfigured) as info:
                await call
            assert "TELNYX_API_KEY" in info.value.detail
        assert not mock.calls
    # static data needs no key
    assert plugin.list_coverage("US")
    assert plugin.fetch_regulations("DE", None, None)
    await plugin.trunkline_shutdown()  # no client: nothing to close, no error


async def test_shutdown_closes_the_one_client(plugin: TelnyxPlugin) -> None:
    assert plugin.client is None  # nothing created until a carrier operation needs it
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").respond(200, json={"data": []})
        await plugin.search_numbers(NumberSearch(country="US"))
        client = plugin.client
        assert client is not None and not client.is_closed()
        await plugin.search_numbers(NumberSearch(country="US"))
    assert plugin.client is client and route.call_count == 2  # one client, reused
    _authed(route)
    await plugin.trunkline_shutdown()
    assert client.is_closed()


async def test_shutdown_without_any_operation_creates_no_client(plugin: TelnyxPlugin) -> None:
    await plugin.trunkline_shutdown()
    assert plugin.client is None


async def test_base_url_replaces_the_telnyx_host() -> None:
    plugin = await _plugin(base_url="http://127.0.0.1:4010/v2")
    with respx.mock() as mock:
        route = mock.get(url__regex=r"^http://127\.0\.0\.1:4010/v2/verified_numbers/").respond(
            200, json={"data": {"phone_number": PHONE, "verified_at": "2026-01-01T00:00:00Z"}}
        )
        result = await plugin.verify_cli(_number(verification_ref=OURS), None)
    assert result.status == "verified" and route.call_count == 1
    _authed(route)
    await plugin.trunkline_shutdown()


# -- verify_cli -----------------------------------------------------------------------------


async def test_start_when_not_verified_sends_a_code(plugin: TelnyxPlugin) -> None:
    with respx.mock(assert_all_called=True) as mock:
        lookup = mock.get(url__regex=rf"^{V2}/verified_numbers/{PHONE_RE}$").respond(
            200, json={"data": {"phone_number": PHONE, "verified_at": None}}
        )
        create = mock.post(f"{V2}/verified_numbers").respond(
            200, json={"phone_number": PHONE, "verification_method": "sms"}
        )
        result = await plugin.verify_cli(_number(), None)
    assert result.status == "pending" and result.next_step == "submit_code"
    assert result.provider_ref == PHONE and result.display_code is None
    assert lookup.calls[0].request.method == "GET"
    assert _body(create.calls[0].request) == {"phone_number": PHONE, "verification_method": "sms"}
    _authed(lookup)
    _authed(create)


OTHER = "+14155550199"


@pytest.mark.parametrize("where", ["lookup", "create"])
async def test_an_answer_about_another_number_is_refused(plugin: TelnyxPlugin, where: str) -> None:
    """Whether the lookup or the new verification names another number, nothing is trusted."""
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=rf"^{V2}/verified_numbers/{PHONE_RE}$").respond(
            200,
            json={"data": {"phone_number": OTHER if where == "lookup" else PHONE}},
        )
        create = mock.post(f"{V2}/verified_numbers").respond(
            200, json={"phone_number": OTHER, "verification_method": "sms"}
        )
        with pytest.raises(ProviderError) as info:
            await plugin.verify_cli(_number(), None)
    assert type(info.value) is ProviderError
    assert info.value.provider_detail == f"asked {PHONE}, answered {OTHER}"
    assert create.called is (where == "create")


async def test_an_already_verified_other_number_is_not_ours(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(url__regex=rf"^{V2}/verified_numbers/{PHONE_RE}$").respond(
            200, json={"data": {"phone_number": OTHER, "verified_at": "2026-01-01T00:00:00Z"}}
        )
        with pytest.raises(ProviderError, match="not for"):
            await plugin.verify_cli(_number(), None)


async def test_start_with_call_method() -> None:
    plugin = await _plugin(verification_method="call")
    with respx.mock() as mock:
        mock.get(url__regex=rf"{V2}/verified_numbers/").respond(404, json=_err(404, "10005", "x"))
        create = mock.post(f"{V2}/verified_numbers").respond(200, json={})
        result = await plugin.verify_cli(_number(), None)
    assert result.status == "pending"
    assert _body(create.calls[0].request)["verification_method"] == "call"
    await plugin.trunkline_shutdown()


async def test_verified_by_this_numbers_own_verification_sends_nothing(
    plugin: TelnyxPlugin,
) -> None:
    """The record's verified_at is the one this number's verification stored: verified."""
    with respx.mock(assert_all_called=False) as mock:
        mock.get(url__regex=rf"{V2}/verified_numbers/").respond(
            200, json={"data": {"phone_number": PHONE, "verified_at": "2026-01-01T00:00:00Z"}}
        )
        create = mock.post(f"{V2}/verified_numbers").respond(200, json={})
        result = await plugin.verify_cli(_number(verification_ref=OURS), None)
    assert result.status == "verified" and result.provider_ref == OURS
    assert create.call_count == 0


@pytest.mark.parametrize("ref", [None, PHONE, f"{PHONE}@2025-12-31T00:00:00Z"])
async def test_verified_by_another_verification_is_deleted_and_sent_again(
    plugin: TelnyxPlugin, ref: str | None
) -> None:
    """Telnyx's verified numbers are shared by every workspace: a record this number's own
    verification did not make proves nothing; it is deleted and a code sent to this number."""
    with respx.mock(assert_all_called=True) as mock:
        mock.get(url__regex=rf"^{V2}/verified_numbers/{PHONE_RE}$").respond(
            200, json={"data": {"phone_number": PHONE, "verified_at": "2026-01-01T00:00:00Z"}}
        )
        deleted = mock.delete(url__regex=rf"^{V2}/verified_numbers/{PHONE_RE}$").respond(
            200, json={"data": {"phone_number": PHONE}}
        )
        create = mock.post(f"{V2}/verified_numbers").respond(
            200, json={"phone_number": PHONE, "verification_method": "sms"}
        )
        result = await plugin.verify_cli(_number(verification_ref=ref), None)
    assert result.status == "pending" and result.next_step == "submit_code"
    assert deleted.call_count == 1 and create.call_count == 1
    _authed(deleted)


async def test_submit_code_right_wrong_and_retry(plugin: TelnyxPlugin) -> None:
    path = rf"^{V2}/verified_numbers/{PHONE_RE}/actions/verify$"
    number = _number(verification_status="pending", verification_ref=PHONE)
    with respx.mock() as mock:
        route = mock.post(url__regex=path).mock(
            side_effect=[
                httpx.Response(400, json=_err(400, "10015", "The verification code is wrong")),
                httpx.Response(
                    200,
                    json={"data": {"phone_number": PHONE, "verified_at": "2026-11-25T07:00:00Z"}},
                ),
            ]
        )
        wrong = await plugin.verify_cli(number, "000000")
        right = await plugin.verify_cli(number, "123456")
    assert wrong.status == "failed" and "The verification code is wrong" in (wrong.detail or "")
    assert right.status == "verified" and right.provider_ref == f"{PHONE}@2026-11-25T07:00:00Z"
    assert [_body(c.request) for c in route.calls] == [
        {"verification_code": "000000"},
        {"verification_code": "123456"},
    ]
    _authed(route)


@pytest.mark.parametrize("status", [404, 422])
async def test_refused_codes_are_failed_not_errors(plugin: TelnyxPlugin, status: int) -> None:
    with respx.mock() as mock:
        mock.post(url__regex=r"/actions/verify$").respond(
            status, json=_err(status, "10010", "Verification expired")
        )
        result = await plugin.verify_cli(_number(), "111111")
    assert result.status == "failed" and "Verification expired" in (result.detail or "")


@pytest.mark.parametrize(
    ("status", "expected"), [(401, ProviderAuthError), (500, ProviderUnavailable)]
)
async def test_submit_code_carrier_failures_raise(
    plugin: TelnyxPlugin, status: int, expected: type[Exception]
) -> None:
    with respx.mock() as mock:
        mock.post(url__regex=r"/actions/verify$").respond(status, json=_err(status, "1", "no"))
        with pytest.raises(expected):
            await plugin.verify_cli(_number(), "111111")


# -- error mapping (one place: plugins/telnyx/errors.py) --------------------------------------

ERROR_CASES = [
    (400, "10015", {}, ProviderRejected),
    (401, "10009", {}, ProviderAuthError),
    (403, "10010", {}, ProviderAuthError),
    (404, "10005", {}, ProviderRejected),
    (422, "10002", {}, ProviderRejected),
    (429, "10011", {"Retry-After": "7"}, ProviderRateLimited),
    (500, "10007", {}, ProviderUnavailable),
    (502, "10007", {}, ProviderUnavailable),
    (503, "10007", {}, ProviderUnavailable),
]


@pytest.mark.parametrize(("status", "code", "headers", "expected"), ERROR_CASES)
async def test_status_mapping(
    plugin: TelnyxPlugin,
    status: int,
    code: str,
    headers: dict[str, str],
    expected: type[ProviderError],
) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").respond(
            status, json=_err(status, code, f"detail of {status}"), headers=headers
        )
        with pytest.raises(ProviderError) as info:
            await plugin.search_numbers(NumberSearch(country="US"))
    exc = info.value
    assert type(exc) is expected
    assert route.call_count == 1  # max_retries=0
    assert exc.provider == "telnyx"
    assert exc.provider_code == code and exc.provider_detail == f"detail of {status}"
    if expected is ProviderRateLimited:
        assert isinstance(exc, ProviderRateLimited) and exc.retry_after == 7.0
    assert KEY not in str(exc) and KEY not in json.dumps(exc.extra)


async def test_rate_limit_without_retry_after(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").respond(429, json=_err(429, "10011", "slow"))
        with pytest.raises(ProviderRateLimited) as info:
            await plugin.search_numbers(NumberSearch(country="US"))
    assert info.value.retry_after is None


async def test_error_body_not_in_telnyx_form_keeps_the_status(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").respond(502, text="<html>Bad gateway</html>")
        with pytest.raises(ProviderUnavailable) as info:
            await plugin.search_numbers(NumberSearch(country="US"))
    assert info.value.provider_code == "502"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, content=b"{not json", headers={"content-type": "application/json"}),
        httpx.Response(200, json=[1, 2, 3]),
        httpx.Response(200, json={"data": "not a list"}),
    ],
)
async def test_malformed_bodies_are_unavailable(
    plugin: TelnyxPlugin, response: httpx.Response
) -> None:
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").mock(return_value=response)
        with pytest.raises(ProviderUnavailable):
            await plugin.search_numbers(NumberSearch(country="US"))


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["connect", "timeout"],
)
async def test_network_failures_are_unavailable(plugin: TelnyxPlugin, failure: Exception) -> None:
    with respx.mock() as mock:
        route = mock.get(url__regex=rf"{V2}/verified_numbers/").mock(side_effect=failure)
        with pytest.raises(ProviderUnavailable):
            await plugin.verify_cli(_number(), None)
    assert route.call_count == 1


async def test_sdk_retries_up_to_max_retries() -> None:
    plugin = await _plugin(max_retries=2)
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").respond(
            503, json=_err(503, "10007", "down"), headers={"retry-after-ms": "1"}
        )
        with pytest.raises(ProviderUnavailable):
            await plugin.search_numbers(NumberSearch(country="US"))
    assert route.call_count == 3
    await plugin.trunkline_shutdown()


async def test_a_retried_rate_limit_can_succeed() -> None:
    plugin = await _plugin(max_retries=1)
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").mock(
            side_effect=[
                httpx.Response(
                    429, json=_err(429, "10011", "slow"), headers={"retry-after-ms": "1"}
                ),
                httpx.Response(200, json={"data": []}),
            ]
        )
        assert await plugin.search_numbers(NumberSearch(country="US")) == []
    assert route.call_count == 2
    await plugin.trunkline_shutdown()


# -- search, purchase, calls ----------------------------------------------------------------


async def test_search_sends_every_filter_and_keeps_costs(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").respond(
            json={
                "data": [
                    {
                        "phone_number": "+12125550123",
                        "record_type": "available_phone_number",
                        "features": [{"name": "voice"}, {"name": "sms"}, {"name": "emergency"}],
                        "region_information": [
                            {"region_type": "rate_center", "region_name": "NWYRCYZN01"},
                            {"region_type": "state", "region_name": "NY"},
                        ],
                        "cost_information": {
                            "monthly_cost": "1.10",
                            "upfront_cost": "0.35",
                            "currency": "USD",
                        },
                    },
                    {"phone_number": "+12125550124", "features": []},
                ]
            }
        )
        found = await plugin.search_numbers(
            NumberSearch(
                country="US",
                number_type="local",
                contains="555",
                area_code="212",
                locality="New York",
                features={"sms", "voice"},
                limit=5,
            )
        )
    request = route.calls[0].request
    assert request.method == "GET"
    params = request.url.params
    assert params["filter[country_code]"] == "US"
    assert params["filter[phone_number_type]"] == "local"
    assert params["filter[locality]"] == "New York"
    assert params["filter[national_destination_code]"] == "212"
    assert params["filter[phone_number][contains]"] == "555"
    assert params["filter[limit]"] == "5"
    assert params["filter[features]"] == "sms,voice"  # the SDK's array format
    _authed(route)
    first, second = found
    assert first.monthly_cost == Decimal("1.10") and first.upfront_cost == Decimal("0.35")
    assert isinstance(first.monthly_cost, Decimal) and first.currency == "USD"
    assert first.features == {"voice", "sms"} and first.country_code == "US"
    assert first.locality == "NWYRCYZN01" and first.region == "NY"
    assert second.monthly_cost is None and second.currency is None
    assert second.features == {"voice"}  # Telnyx listed none: a number at least takes calls


def _order(status: str, number_status: str, requirements: str = "approved") -> dict[str, Any]:
    return {
        "data": {
            "id": "order-9",
            "status": status,
            "requirements_met": requirements == "approved",
            "phone_numbers": [
                {
                    "id": "num-1",
                    "phone_number": "+442071234567",
                    "status": number_status,
                    "country_code": "GB",
                    "phone_number_type": "local",
                    "requirements_status": requirements,
                }
            ],
        }
    }


async def test_purchase_follows_a_pending_order(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        create = mock.post(f"{V2}/number_orders").respond(json=_order("pending", "pending"))
        follow = mock.get(f"{V2}/number_orders/order-9").mock(
            side_effect=[
                httpx.Response(200, json=_order("pending", "pending")),
                httpx.Response(200, json=_order("success", "success")),
            ]
        )
        bought = await plugin.purchase_number("+442071234567")
    assert create.calls[0].request.method == "POST"
    assert _body(create.calls[0].request) == {
        "phone_numbers": [{"phone_number": "+442071234567"}],
        "connection_id": "conn-1",
    }
    _authed(create)
    _authed(follow)
    assert follow.call_count == 2
    assert bought.provider_ref == "order-9" and bought.country_code == "GB"
    assert bought.number_type == "local"
    assert bought.monthly_cost is None and bought.currency is None  # no prior search


async def test_purchase_uses_costs_from_a_prior_search(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").respond(
            json={
                "data": [
                    {
                        "phone_number": "+442071234567",
                        "features": [{"name": "voice"}],
                        "cost_information": {
                            "monthly_cost": "2.00",
                            "upfront_cost": "1.00",
                            "currency": "GBP",
                        },
                    }
                ]
            }
        )
        mock.post(f"{V2}/number_orders").respond(json=_order("success", "success"))
        await plugin.search_numbers(NumberSearch(country="GB"))
        bought = await plugin.purchase_number("+442071234567")
    assert bought.monthly_cost == Decimal("2.00") and bought.upfront_cost == Decimal("1.00")
    assert bought.currency == "GBP"


async def test_purchase_polling_is_bounded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugin = await _plugin(order_poll_attempts=3)
    plugin.context.logger = logging.getLogger("trunkline.plugins.telnyx.unit")
    with respx.mock() as mock, caplog.at_level(logging.WARNING):
        mock.post(f"{V2}/number_orders").respond(
            json=_order("pending", "pending", "requirement-info-pending")
        )
        follow = mock.get(f"{V2}/number_orders/order-9").respond(
            json=_order("pending", "pending", "requirement-info-pending")
        )
        bought = await plugin.purchase_number("+442071234567")
    assert follow.call_count == 3
    assert bought.provider_ref == "order-9"
    assert "still pending" in caplog.text and "requirement-info-pending" in caplog.text
    await plugin.trunkline_shutdown()


@pytest.mark.parametrize(
    ("order_status", "number_status"), [("failure", "failure"), ("success", "failure")]
)
async def test_failed_order_is_rejected(
    plugin: TelnyxPlugin, order_status: str, number_status: str
) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(
            json=_order(order_status, number_status, "requirement-info-exception")
        )
        with pytest.raises(ProviderRejected) as info:
            await plugin.purchase_number("+442071234567")
    assert "requirement-info-exception" in (info.value.provider_detail or "")


async def test_purchase_without_details_derives_the_country(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(
            json={"data": {"id": "order-3", "status": "success", "phone_numbers": []}}
        )
        bought = await plugin.purchase_number("+33142685300")
    assert bought.country_code == "FR" and bought.provider_ref == "order-3"


async def test_an_order_for_another_number_is_refused(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(json=_order("success", "success"))
        with pytest.raises(ProviderError) as info:
            await plugin.purchase_number("+33142685300")
    assert info.value.provider_detail == "asked +33142685300, answered +442071234567"


async def test_order_without_id_is_unavailable(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(json={"data": {"status": "pending"}})
        with pytest.raises(ProviderUnavailable):
            await plugin.purchase_number("+33142685300")


async def test_order_refused_by_telnyx(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(
            422, json=_err(422, "10015", "Number not available")
        )
        with pytest.raises(ProviderRejected) as info:
            await plugin.purchase_number("+442071234567")
    assert info.value.provider_detail == "Number not available"


async def test_place_call_dials_with_call_control(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        dial = mock.post(f"{V2}/calls").respond(
            json={"data": {"call_control_id": "v3:ctl-1", "call_leg_id": "leg", "is_alive": True}}
        )
        placed = await plugin.place_call(
            "+12125550123", PHONE, CallOptions(timeout_seconds=25, metadata={"k": "v"})
        )
    assert placed.provider == "telnyx" and placed.provider_call_id == "v3:ctl-1"
    assert dial.calls[0].request.method == "POST"
    assert _body(dial.calls[0].request) == {
        "connection_id": "conn-1",
        "from": "+12125550123",
        "to": PHONE,
        "webhook_url": "https://tl.example.com/webhooks/telnyx",
        "timeout_secs": 25,
    }
    _authed(dial)


async def test_place_call_needs_a_connection() -> None:
    plugin = await _plugin(connection_id=None)
    assert "connection_id" in plugin.trunkline_provider_status()["detail"]
    with respx.mock() as mock:
        with pytest.raises(ProviderNotConfigured):
            await plugin.place_call("+12125550123", PHONE, CallOptions())
        assert not mock.calls
    await plugin.trunkline_shutdown()


async def test_dial_answer_without_id_is_unavailable(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/calls").respond(json={"data": {}})
        with pytest.raises(ProviderUnavailable):
            await plugin.place_call("+12125550123", PHONE, CallOptions())


# -- webhooks ---------------------------------------------------------------------------------


def _event(event_type: str, **payload: Any) -> bytes:
    body = {
        "data": {
            "event_type": event_type,
            "id": "ev-1",
            "occurred_at": "2026-11-25T07:00:00Z",
            "record_type": "event",
            "payload": {"call_control_id": "v3:ctl-1", "to": PHONE, **payload},
        },
        "meta": {"attempt": 1},
    }
    return json.dumps(body, separators=(", ", ": ")).encode()


def _signed(body: bytes, *, ts: int | None = None, signer: SigningKey = SIGNER) -> WebhookRequest:
    stamp = str(int(time.time()) if ts is None else ts)
    # What Telnyx signs (and the SDK checks): "{timestamp}|{raw body}", Ed25519, base64.
    signature = signer.sign(stamp.encode() + b"|" + body).signature
    return WebhookRequest(
        url="https://tl.example.com/webhooks/telnyx",
        headers={
            "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
            "telnyx-timestamp": stamp,
            "content-type": "application/json",
        },
        body=body,
    )


@pytest.mark.parametrize(
    ("event_type", "status"),
    [
        ("call.initiated", "initiated"),
        ("call.answered", "in-progress"),
        ("call.hangup", "completed"),
    ],
)
async def test_signed_call_events(plugin: TelnyxPlugin, event_type: str, status: str) -> None:
    events = plugin.parse_webhook(_signed(_event(event_type, hangup_cause="normal_clearing")))
    (event,) = events
    assert event.kind == "call_status" and event.provider == "telnyx"
    assert event.provider_ref == "v3:ctl-1" and event.data["status"] == status
    assert event.data["event_type"] == event_type


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("normal_clearing", "completed"),
        ("user_busy", "busy"),
        ("timeout", "no-answer"),
        ("originator_cancel", "no-answer"),
        ("call_rejected", "failed"),
    ],
)
async def test_a_hangup_says_how_the_call_ended(
    plugin: TelnyxPlugin, cause: str, status: str
) -> None:
    (event,) = plugin.parse_webhook(_signed(_event("call.hangup", hangup_cause=cause)))
    assert event.data["status"] == status and event.data["hangup_cause"] == cause


async def test_signature_ok_at_the_edge_of_the_window(plugin: TelnyxPlugin) -> None:
    assert plugin.parse_webhook(_signed(_event("call.hangup"), ts=int(time.time()) - 290))


def _tampered() -> WebhookRequest:
    req = _signed(_event("call.hangup"))
    req.body = req.body.replace(b"call.hangup", b"call.answered")
    return req


def _without(header: str) -> WebhookRequest:
    req = _signed(_event("call.hangup"))
    del req.headers[header]
    return req


def _garbled() -> WebhookRequest:
    req = _signed(_event("call.hangup"))
    req.headers["telnyx-signature-ed25519"] = "%%%not-base64%%%"
    return req


@pytest.mark.parametrize(
    "make",
    [
        _tampered,
        lambda: _signed(_event("call.hangup"), ts=int(time.time()) - 301),
        lambda: _signed(_event("call.hangup"), ts=int(time.time()) + 400),
        lambda: _without("telnyx-signature-ed25519"),
        lambda: _without("telnyx-timestamp"),
        lambda: _signed(_event("call.hangup"), signer=SigningKey.generate()),
        _garbled,
        lambda: _signed(b"\xff\xfe not utf-8", signer=SigningKey.generate()),
        lambda: _signed(b"\xff\xfe not utf-8", ts=int(time.time()) - 301),
    ],
    ids=[
        "tampered",
        "stale",
        "future",
        "no-signature",
        "no-timestamp",
        "other-key",
        "garbled",
        "binary-other-key",
        "binary-stale",
    ],
)
async def test_refused_signatures(plugin: TelnyxPlugin, make: Any) -> None:
    with pytest.raises(WebhookSignatureError):
        plugin.parse_webhook(make())


async def test_no_public_key_refuses_every_webhook() -> None:
    plugin = await _plugin(public_key=None)
    with pytest.raises(WebhookSignatureError, match="public_key"):
        plugin.parse_webhook(_signed(_event("call.hangup")))
    await plugin.trunkline_shutdown()


async def test_signed_but_uninteresting_bodies_give_no_event(plugin: TelnyxPlugin) -> None:
    assert plugin.parse_webhook(_signed(_event("message.sent"))) == []
    assert plugin.parse_webhook(_signed(b'{"data": {"event_type": "call.hangup"}}')) == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"data": 1}', b'{"data": {"payload": []}}', b"\xff\xfe not utf-8"],
)
async def test_signed_bodies_that_are_not_events_are_malformed(
    plugin: TelnyxPlugin, body: bytes
) -> None:
    with pytest.raises(WebhookMalformed):
        plugin.parse_webhook(_signed(body))


# -- static data --------------------------------------------------------------------------------


def test_shipped_schemas_are_generated_from_the_models() -> None:
    for name, schema in datafiles.SCHEMAS.items():
        assert json.loads((DATA / name).read_text()) == json.loads(json.dumps(schema())), name


def test_shipped_data_is_plausible_and_valid() -> None:
    cov = datafiles.CoverageFile.model_validate_json((DATA / "coverage.json").read_text())
    regs = datafiles.RegulationsFile.model_validate_json((DATA / "regulations.json").read_text())
    assert len(cov.countries) >= 28 and {"US", "CA", "GB", "DE", "FR", "AU"} <= set(cov.countries)
    assert all(types for types in cov.countries.values())
    assert len(regs.countries) >= 10 and sum(bool(i) for i in regs.countries.values()) >= 8
    assert regs.countries["US"] == []  # listed with no requirement, not unknown
    for country, items in regs.countries.items():
        for item in items:  # each entry is a core Requirement once provider/country are added
            Requirement(provider="telnyx", country_code=country, **item.model_dump())


def test_regulations_file_refuses_bad_entries() -> None:
    with pytest.raises(ValueError):
        datafiles.RegulationsFile.model_validate(
            {
                "generated": "2026-01-01",
                "countries": {
                    "DE": [
                        {
                            "number_type": "local",
                            "end_user_type": "any",
                            "name": "x",
                            "kind": "passport",
                        }
                    ]
                },
            }
        )


def test_coverage_is_read_once_and_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    real = datafiles._read
    monkeypatch.setattr(datafiles, "_read", lambda name: reads.append(name) or real(name))
    datafiles.coverage.cache_clear()
    try:
        plugin = TelnyxPlugin()
        de = plugin.list_coverage("DE")
        us = plugin.list_coverage("us")
        every = plugin.list_coverage(None)
        assert plugin.list_coverage("ZZ") == []
    finally:
        datafiles.coverage.cache_clear()
    assert reads == ["coverage.json"]
    assert {e.number_type for e in de} and all(e.country_code == "DE" for e in de)
    assert all(e.source == "static" and str(e.as_of) for e in every)
    assert us[0].country_code == "US" and us[0].as_of == datafiles.coverage().generated
    assert len({e.country_code for e in every}) >= 28
    assert isinstance(datafiles.coverage().countries, dict)


def test_regulations_filters() -> None:
    plugin = TelnyxPlugin()
    everything = plugin.fetch_regulations("DE", None, None)
    business = plugin.fetch_regulations("DE", "local", "business")
    assert business and len(business) < len(everything)
    assert all(r.number_type == "local" for r in business)
    assert all(r.end_user_type in ("business", "any") for r in business)
    assert plugin.fetch_regulations("ZZ", None, None) == []


# -- the CLI ----------------------------------------------------------------------------------


COVERAGE_ANSWER = {
    "data": {
        "Germany": {
            "code": "DE",
            "features": ["voice", "sms"],
            "local": {"features": ["voice"], "reservable": True},
            "mobile": {"features": ["voice", "sms"]},
            "toll_free": {},
            "national": {},
        },
        "Japan": {"code": "JP", "local": {}, "toll_free": {}},
    }
}


def _root_app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command so that groups are routed by name
        typer.echo("0")

    TelnyxPlugin().trunkline_cli(app)
    return app


def test_refresh_coverage_through_the_cli_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    out = tmp_path / "coverage.json"
    with respx.mock() as mock:
        route = mock.get(f"{V2}/country_coverage").respond(json=COVERAGE_ANSWER)
        result = CliRunner().invoke(
            _root_app(), ["telnyx", "refresh-coverage", "--output", str(out)]
        )
    assert result.exit_code == 0, result.output
    assert route.calls[0].request.method == "GET"
    _authed(route)
    written = datafiles.CoverageFile.model_validate_json(out.read_text())
    assert written.countries == {"DE": {"local": ["voice"], "mobile": ["sms", "voice"]}}
    assert "wrote 1 countries" in result.output


def test_refresh_coverage_base_url_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    monkeypatch.setenv("TELNYX_BASE_URL", "http://127.0.0.1:4010/v2")
    out = tmp_path / "coverage.json"
    with respx.mock() as mock:
        route = mock.get("http://127.0.0.1:4010/v2/country_coverage").respond(
            401, json=_err(401, "10009", "Authentication failed")
        )
        result = CliRunner().invoke(
            _root_app(), ["telnyx", "refresh-coverage", "--output", str(out)]
        )
    assert route.call_count >= 1
    assert result.exit_code == 1 and "Authentication failed" in result.output
    assert KEY not in result.output and not out.exists()


def test_refresh_coverage_uses_the_plugins_toml_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trunkline_cli`` hands the plugin its validated [plugins.telnyx] table: the command
    uses its api_key and base_url, with no TELNYX_* variable set."""
    from core.plugins import PluginHost

    monkeypatch.delenv("TELNYX_API_KEY", raising=False)
    monkeypatch.delenv("TELNYX_BASE_URL", raising=False)
    host = PluginHost(strict=True)
    table = {"api_key": "KEYfrom-plugins-toml-0123456789", "base_url": "http://127.0.0.1:4011/v2"}
    host.load([], {"telnyx": table}, extra={"telnyx": TelnyxPlugin()}, candidates={})
    app = typer.Typer()

    @app.command()
    def version() -> None:
        typer.echo("0")

    host.add_cli_commands(app)
    out = tmp_path / "coverage.json"
    try:
        with respx.mock() as mock:
            route = mock.get("http://127.0.0.1:4011/v2/country_coverage").respond(
                json=COVERAGE_ANSWER
            )
            result = CliRunner().invoke(app, ["telnyx", "refresh-coverage", "--output", str(out)])
    finally:
        from plugins.telnyx import cli

        cli.use_settings(None)
    assert result.exit_code == 0, result.output
    assert route.calls[0].request.headers["authorization"] == (
        "Bearer KEYfrom-plugins-toml-0123456789"
    )


def test_cli_group_is_named_telnyx() -> None:
    result = CliRunner().invoke(_root_app(), ["telnyx", "--help"])
    assert result.exit_code == 0 and "refresh-coverage" in result.output
    assert re.search(
        r"--output",
        CliRunner().invoke(_root_app(), ["telnyx", "refresh-coverage", "--help"]).output,
    )


async def test_release_finds_the_number_by_its_digits_and_deletes_it(plugin: TelnyxPlugin) -> None:
    number = _number(hosted=True, provider_ref="order-1")
    listing = {"data": [{"id": "pn-1", "phone_number": PHONE}], "meta": {}}
    with respx.mock(assert_all_called=True) as mock:
        listed = mock.get(f"{V2}/phone_numbers").respond(200, json=listing)
        deleted = mock.delete(f"{V2}/phone_numbers/pn-1").respond(
            200, json={"data": {"id": "pn-1", "phone_number": PHONE}}
        )
        assert await plugin.release_number(number) is None
    assert listed.calls[0].request.url.params["filter[phone_number]"] == PHONE.lstrip("+")
    _authed(listed)
    _authed(deleted)


async def test_release_of_a_number_telnyx_no_longer_has_is_done(plugin: TelnyxPlugin) -> None:
    number = _number(hosted=True)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{V2}/phone_numbers").respond(200, json={"data": [], "meta": {}})
        assert await plugin.release_number(number) is None
    with respx.mock() as mock:
        mock.get(f"{V2}/phone_numbers").respond(
            200, json={"data": [{"id": "pn-1", "phone_number": PHONE}], "meta": {}}
        )
        mock.delete(f"{V2}/phone_numbers/pn-1").respond(404, json=_err(404, "10005", "gone"))
        assert await plugin.release_number(number) is None
        mock.delete(f"{V2}/phone_numbers/pn-1").respond(401, json=_err(401, "10009", "auth"))
        with pytest.raises(ProviderAuthError):
            await plugin.release_number(number)
