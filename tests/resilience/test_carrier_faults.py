"""Carrier faults for each carrier plugin, injected at the HTTP level with respx and seen
through the API: the right problem response, the number and the ledger unchanged, a failure
audit event, and no secret in any response or log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from api.logging import JsonFormatter, ScrubFilter

TW_SID = "AC" + "b" * 32
TW_TOKEN = "tw-fault-token-5f1e2d3c4b5a69788796a5b4"
TX_KEY = "KEY0123456789ABCDEF_fault_secret_telnyx"
PHONE = "+14155550100"
OTHER = "+14155559999"
BUY = "+14155550123"
VERIFY = "/settings/telephony/numbers/verify-cli"
PURCHASE = "/settings/telephony/numbers/purchase"
STATE = ("verified_cli", "verification_status", "verification_ref", "outbound_enabled", "hosted")


def _another_number(request: httpx.Request) -> httpx.Response:
    """A well-formed answer about a different phone number, whatever was asked."""
    path = request.url.path
    if "twilio.com" in request.url.host:
        if request.method == "GET":
            key = "outgoing_caller_ids" if "OutgoingCallerIds" in path else "incoming_phone_numbers"
            row = {"phone_number": OTHER, "sid": "PN" + "c" * 32, "friendly_name": OTHER}
            return httpx.Response(
                200,
                json={key: [row], "page": 0, "page_size": 50, "next_page_uri": None, "uri": path},
            )
        if "OutgoingCallerIds" in path:
            return httpx.Response(
                200,
                json={
                    "phone_number": OTHER,
                    "validation_code": "123456",
                    "call_sid": "CA" + "d" * 32,
                    "account_sid": TW_SID,
                },
            )
        return httpx.Response(
            201,
            json={
                "phone_number": OTHER,
                "sid": "PN" + "e" * 32,
                "account_sid": TW_SID,
                "capabilities": {"voice": True},
            },
        )
    if "number_orders" in path:
        return httpx.Response(
            200,
            json={
                "data": {
                    "id": "order-1",
                    "status": "success",
                    "phone_numbers": [{"phone_number": OTHER, "status": "success", "id": "n1"}],
                }
            },
        )
    return httpx.Response(
        200,
        json={
            "data": {
                "phone_number": OTHER,
                "record_type": "verified_number",
                "verified_at": "2026-01-01T00:00:00Z",
                "verification_method": "sms",
            }
        },
    )


FAULTS: dict[str, tuple[Callable[[httpx.Request], httpx.Response], int, set[str]]] = {
    "connection_refused": (
        lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
        503,
        {"provider_unavailable"},
    ),
    "timeout": (
        lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
        503,
        {"provider_unavailable"},
    ),
    "429_retry_after": (
        lambda r: httpx.Response(
            429,
            headers={"Retry-After": "7"},
            json={
                "code": 20429,
                "message": "Too Many Requests",
                "errors": [{"code": "10011", "detail": "slow down"}],
            },
        ),
        429,
        {"provider_rate_limited"},
    ),
    "500": (
        lambda r: httpx.Response(500, json={"message": "boom", "errors": [{"detail": "boom"}]}),
        503,
        {"provider_unavailable"},
    ),
    "503": (
        lambda r: httpx.Response(503, text="Service Unavailable"),
        503,
        {"provider_unavailable"},
    ),
    # both plugins answer an unreadable body as "unavailable" (503); a 502 would do as well
    "malformed_body": (
        lambda r: httpx.Response(
            200, text="{not json", headers={"Content-Type": "application/json"}
        ),
        0,
        {"provider_error", "provider_unavailable"},
    ),
    "another_number": (_another_number, 502, {"provider_error", "provider_rejected"}),
}


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """The JSON log handler's output (plus caplog), scrubbing the configured secrets."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter([TW_TOKEN, TX_KEY]))
    handler.addFilter(ScrubFilter([TW_TOKEN, TX_KEY]))
    root = logging.getLogger("trunkline")
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def _api(make_api: Any, provider: str) -> Any:
    if provider == "twilio":
        return make_api(
            plugins=["twilio"],
            tables={
                "twilio": {
                    "account_sid": TW_SID,
                    "auth_token": {"env": "TW_TOKEN"},
                    "max_retries": 0,
                    "retry_backoff_seconds": 0,
                }
            },
            env={"TW_TOKEN": TW_TOKEN, "TRUNKLINE_PUBLIC_BASE_URL": "https://tl.example.com"},
        )
    return make_api(
        plugins=["telnyx"],
        tables={
            "telnyx": {
                "api_key": {"env": "TX_KEY"},
                "connection_id": "conn-1",
                "max_retries": 0,
                "order_poll_interval_seconds": 0,
            }
        },
        env={"TX_KEY": TX_KEY, "TRUNKLINE_PUBLIC_BASE_URL": "https://tl.example.com"},
    )


def _carrier_routes(
    mock: respx.MockRouter, provider: str, fault: Callable[[httpx.Request], httpx.Response]
) -> respx.Route:
    pattern = (
        r"^https://[a-z0-9.-]*twilio\.com/"
        if provider == "twilio"
        else r"^https://api\.telnyx\.com/"
    )
    return mock.route(url__regex=pattern).mock(side_effect=fault)


@pytest.mark.parametrize("provider", ["twilio", "telnyx"])
@pytest.mark.parametrize(
    "fault",
    list(FAULTS),
)
@pytest.mark.parametrize("operation", ["verify_cli", "purchase"])
def test_carrier_fault(
    request: pytest.FixtureRequest,
    make_api: Any,
    captured_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    provider: str,
    fault: str,
    operation: str,
) -> None:
    api = _api(make_api, provider)
    byo = api.client.post("/settings/telephony/numbers", json={"e164": PHONE, "provider": provider})
    assert byo.status_code == 201, byo.text
    number_id = byo.json()["id"]
    before = {k: api.number(number_id)[k] for k in STATE}
    numbers_before = len(api.numbers())
    respond, status, codes = FAULTS[fault]

    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        route = _carrier_routes(mock, provider, respond)
        if operation == "verify_cli":
            r = api.client.post(VERIFY, json={"number_id": number_id})
        else:
            r = api.client.post(PURCHASE, json={"provider": provider, "e164": BUY})
    assert route.call_count >= 1  # the fault was met at the carrier's door

    problem = r.json()
    assert r.status_code >= 400, (r.status_code, problem)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.status_code == status or (not status and r.status_code in (502, 503)), problem
    assert problem["code"] in codes, problem
    if fault == "429_retry_after":  # the carrier's own wait, exactly, in header and body
        assert r.headers["Retry-After"] == "7" and problem["retry_after"] == 7, problem
    # nothing changed
    assert {k: api.number(number_id)[k] for k in STATE} == before
    assert len(api.numbers()) == numbers_before
    assert api.ledger() == []
    # a failure audit event for this attempt
    action = "verification_error" if operation == "verify_cli" else "number_purchased"
    failures = [e for e in api.audit(action=action) if e["outcome"] != "ok"]
    assert len(failures) == 1 and failures[0]["outcome"] == problem["code"], api.audit()
    assert failures[0]["provider"] == provider
    # no secret anywhere
    everything = "\n".join(
        [r.text, json.dumps(api.audit(), default=str), captured_logs.getvalue()]
        + [rec.getMessage() for rec in caplog.records]
        + [str(rec.exc_info) for rec in caplog.records if rec.exc_info]
    )
    for secret in (TW_TOKEN, TX_KEY, api.client.key):
        assert secret not in everything
