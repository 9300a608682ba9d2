"""The Telnyx plugin: wire format and error mapping with respx, the two-step verification and
Ed25519 webhooks through the API, and the shipped data. Nothing here reaches the internet."""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from nacl.signing import SigningKey

from plugins.telnyx import datafiles
from plugins.telnyx.cli import coverage_from_api

KEY = "KEYtelnyx-test-api-key-0123456789"
V2 = "https://api.telnyx.com/v2"
PHONE = "+14155550100"
PHONE_PATH = re.compile(r"https://api\.telnyx\.com/v2/verified_numbers/(%2B|\+)14155550100$")
VERIFY = "/settings/telephony/numbers/verify-cli"
SIGNER = SigningKey.generate()
PUBLIC_KEY = base64.b64encode(bytes(SIGNER.verify_key)).decode()


def telnyx_api(make_api: Any, **settings: Any) -> Any:
    return make_api(
        plugins=["telnyx"],
        tables={
            "telnyx": {
                "api_key": {"env": "TX_KEY"},
                "public_key": {"env": "TX_PUB"},
                "connection_id": "conn-1",
                "max_retries": 0,
                "order_poll_interval_seconds": 0,
                **settings,
            }
        },
        env={
            "TX_KEY": KEY,
            "TX_PUB": PUBLIC_KEY,
            "TRUNKLINE_PUBLIC_BASE_URL": "https://tl.example.com",
        },
    )


@pytest.fixture
def api(make_api: Any) -> Any:
    return telnyx_api(make_api)


def _byo(api: Any) -> dict[str, Any]:
    r = api.client.post("/settings/telephony/numbers", json={"e164": PHONE, "provider": "telnyx"})
    assert r.status_code == 201
    body: dict[str, Any] = r.json()
    return body


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_two_step_verification_through_the_api(api: Any) -> None:
    n = _byo(api)
    with respx.mock(assert_all_called=True) as mock:
        lookup = mock.get(PHONE_PATH).respond(
            404,
            json={
                "errors": [
                    {"code": "10005", "title": "Resource not found", "detail": "not verified"}
                ]
            },
        )
        create = mock.post(f"{V2}/verified_numbers").respond(
            200, json={"phone_number": PHONE, "verification_method": "sms"}
        )
        started = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert started["status"] == "pending" and started["next_step"] == "submit_code"
    assert lookup.calls[0].request.headers["authorization"] == f"Bearer {KEY}"
    assert _json(create.calls[0].request) == {"phone_number": PHONE, "verification_method": "sms"}
    assert create.calls[0].request.headers["authorization"] == f"Bearer {KEY}"

    verify_path = re.compile(PHONE_PATH.pattern[:-1] + "/actions/verify$")
    with respx.mock() as mock:
        wrong = mock.post(verify_path).respond(
            400,
            json={
                "errors": [
                    {"code": "10015", "title": "Invalid code", "detail": "The code is incorrect"}
                ]
            },
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"], "code": "000000"}).json()
    assert r["status"] == "pending" and "The code is incorrect" in r["detail"]
    assert r["attempts_left"] == 4
    assert _json(wrong.calls[0].request) == {"verification_code": "000000"}
    assert api.number(n["id"])["verified_cli"] is False

    with respx.mock() as mock:
        mock.post(verify_path).respond(
            200,
            json={
                "data": {
                    "phone_number": PHONE,
                    "record_type": "verified_number",
                    "verified_at": "2026-11-25T07:00:00Z",
                }
            },
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"], "code": "123456"}).json()
    assert r["status"] == "verified" and r["verified_cli"] is True
    actions = [a["action"] for a in api.audit()]
    assert actions[-3:] == [
        "verification_started",
        "verification_code_rejected",
        "verification_succeeded",
    ]
    assert "000000" not in json.dumps([a["detail"] for a in api.audit()])


VERIFIED_AT = "2026-01-01T00:00:00Z"
RECORD = {"data": {"phone_number": PHONE, "verified_at": VERIFIED_AT}}
VERIFY_PATH = re.compile(PHONE_PATH.pattern[:-1] + "/actions/verify$")


def test_a_number_verified_by_one_workspace_is_not_taken_over_by_another(api: Any) -> None:
    """Hole 1: A verifies with the code it received. Telnyx then lists the number as verified
    (``verified_at``) for the whole account; B adding it and asking without a code is not
    verified: refused while A holds it, and once A lets it go B must receive a code itself."""
    a = _byo(api)
    with respx.mock() as mock:
        mock.get(PHONE_PATH).respond(404, json={"errors": [{"code": "10005", "detail": "no"}]})
        mock.post(f"{V2}/verified_numbers").respond(200, json={"phone_number": PHONE})
        assert api.client.post(VERIFY, json={"number_id": a["id"]}).json()["status"] == "pending"
    with respx.mock() as mock:
        mock.post(VERIFY_PATH).respond(200, json=RECORD)
        done = api.client.post(VERIFY, json={"number_id": a["id"], "code": "123456"}).json()
    assert done["verified_cli"] is True

    r = api.client_b.post("/settings/telephony/numbers", json={"e164": PHONE, "provider": "telnyx"})
    assert r.status_code == 201
    b = r.json()
    with respx.mock(assert_all_mocked=True) as mock:  # Telnyx must not even be asked
        refused = api.client_b.post(VERIFY, json={"number_id": b["id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "number_claimed"
    assert api.number(b["id"])["verified_cli"] is False

    assert api.client.delete(f"/settings/telephony/numbers/{a['id']}").status_code == 204
    with respx.mock(assert_all_called=True) as mock:
        mock.get(PHONE_PATH).respond(200, json=RECORD)  # A's record is still there
        deleted = mock.delete(PHONE_PATH).respond(200, json=RECORD)
        sent = mock.post(f"{V2}/verified_numbers").respond(200, json={"phone_number": PHONE})
        started = api.client_b.post(VERIFY, json={"number_id": b["id"]})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["verified_cli"] is False and body["status"] == "pending"
    assert body["next_step"] == "submit_code"
    assert deleted.call_count == 1 and sent.call_count == 1
    assert api.number(b["id"])["verified_cli"] is False
    with respx.mock() as mock:
        mock.post(VERIFY_PATH).respond(
            200, json={"data": {"phone_number": PHONE, "verified_at": "2026-11-30T10:00:00Z"}}
        )
        done = api.client_b.post(VERIFY, json={"number_id": b["id"], "code": "654321"}).json()
    assert done["verified_cli"] is True
    assert api.number(b["id"])["verification_ref"] == f"{PHONE}@2026-11-30T10:00:00Z"


def test_call_method_from_settings(make_api: Any) -> None:
    api = telnyx_api(make_api, verification_method="call")
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(PHONE_PATH).respond(404, json={"errors": [{"code": "10005", "detail": "no"}]})
        create = mock.post(f"{V2}/verified_numbers").respond(200, json={})
        r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert _json(create.calls[0].request)["verification_method"] == "call"
    assert "by a call" in r["detail"]


@pytest.mark.parametrize(
    ("status", "body", "headers", "want", "code", "provider_code"),
    [
        (
            401,
            {"errors": [{"code": "10009", "detail": "Authentication failed"}]},
            {},
            502,
            "provider_auth_failed",
            "10009",
        ),
        (
            422,
            {"errors": [{"code": "10002", "detail": "Invalid phone number"}]},
            {},
            502,
            "provider_rejected",
            "10002",
        ),
        (
            429,
            {"errors": [{"code": "10011", "detail": "Too many requests"}]},
            {"Retry-After": "9"},
            429,
            "provider_rate_limited",
            "10011",
        ),
        (
            500,
            {"errors": [{"code": "10007", "detail": "Unexpected error"}]},
            {},
            503,
            "provider_unavailable",
            "10007",
        ),
        (503, {"errors": []}, {}, 503, "provider_unavailable", "503"),
    ],
)
def test_error_mapping(
    api: Any,
    status: int,
    body: Any,
    headers: dict[str, str],
    want: int,
    code: str,
    provider_code: str,
) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(PHONE_PATH).respond(status, json=body, headers=headers)
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    problem = r.json()
    assert r.status_code == want and problem["code"] == code, problem
    assert problem["provider_code"] == provider_code
    if status == 429:
        assert r.headers["retry-after"] == "9"
    assert api.number(n["id"])["verification_status"] == "none"
    assert KEY not in r.text
    assert api.audit(action="verification_error")[0]["outcome"] == code


def test_timeout_is_unavailable(api: Any) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(PHONE_PATH).mock(side_effect=httpx.ReadTimeout("slow"))
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and r.json()["code"] == "provider_unavailable"


def test_sdk_retries_up_to_max_retries(make_api: Any) -> None:
    api = telnyx_api(make_api, max_retries=2)
    n = _byo(api)
    with respx.mock() as mock:
        route = mock.get(PHONE_PATH).respond(
            500, json={"errors": [{"detail": "x"}]}, headers={"retry-after-ms": "1"}
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and route.call_count == 3


def test_search_keeps_cost_information(api: Any) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{V2}/available_phone_numbers").respond(
            json={
                "data": [
                    {
                        "phone_number": "+12125550123",
                        "record_type": "available_phone_number",
                        "features": [{"name": "voice"}, {"name": "sms"}],
                        "cost_information": {
                            "monthly_cost": "1.00",
                            "upfront_cost": "1.00",
                            "currency": "USD",
                        },
                    }
                ]
            }
        )
        r = api.client.get(
            "/settings/telephony/numbers/available",
            params={
                "provider": "telnyx",
                "country": "US",
                "area_code": "212",
                "contains": "555",
                "limit": 3,
            },
        )
    params = route.calls[0].request.url.params
    assert params["filter[country_code]"] == "US"
    assert params["filter[phone_number_type]"] == "local"
    assert params["filter[national_destination_code]"] == "212"
    assert params["filter[phone_number][contains]"] == "555"
    assert params["filter[limit]"] == "3"
    item = r.json()["items"][0]
    assert item["monthly_cost"] == "1.00" and item["currency"] == "USD"
    assert set(item["features"]) == {"voice", "sms"}


def test_purchase_follows_the_order_and_records_cost(api: Any) -> None:
    with respx.mock() as mock:
        mock.get(f"{V2}/available_phone_numbers").respond(
            json={
                "data": [
                    {
                        "phone_number": "+12125550123",
                        "features": [{"name": "voice"}],
                        "cost_information": {
                            "monthly_cost": "1.00",
                            "upfront_cost": "0.50",
                            "currency": "USD",
                        },
                    }
                ]
            }
        )
        create = mock.post(f"{V2}/number_orders").respond(
            200,
            json={
                "data": {
                    "id": "order-1",
                    "status": "pending",
                    "phone_numbers": [{"phone_number": "+12125550123", "status": "pending"}],
                }
            },
        )
        follow = mock.get(f"{V2}/number_orders/order-1").respond(
            200,
            json={
                "data": {
                    "id": "order-1",
                    "status": "success",
                    "phone_numbers": [
                        {
                            "phone_number": "+12125550123",
                            "status": "success",
                            "country_code": "US",
                            "phone_number_type": "local",
                            "requirements_status": "approved",
                        }
                    ],
                }
            },
        )
        api.client.get(
            "/settings/telephony/numbers/available", params={"provider": "telnyx", "country": "US"}
        )
        r = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "telnyx", "e164": "+12125550123"},
        )
    assert r.status_code == 201, r.text
    assert _json(create.calls[0].request) == {
        "phone_numbers": [{"phone_number": "+12125550123"}],
        "connection_id": "conn-1",
    }
    assert follow.call_count == 1
    entry = api.ledger()[0]
    assert entry["amount_cents"] == 0 and entry["metadata"]["carrier_monthly_cost"] == "1.00"
    assert entry["metadata"]["carrier_upfront_cost"] == "0.50"
    assert entry["metadata"]["provider_ref"] == "order-1"


def test_failed_order_leaves_nothing(api: Any) -> None:
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(
            200, json={"data": {"id": "order-2", "status": "failure", "phone_numbers": []}}
        )
        r = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "telnyx", "e164": "+12125550123"},
        )
    assert r.status_code == 502 and r.json()["code"] == "provider_rejected"
    assert api.numbers() == [] and api.ledger() == []
    assert api.audit(action="number_purchased")[0]["outcome"] == "provider_rejected"


def test_test_call_dials_with_connection(api: Any) -> None:
    api.add_number("+12125550123", "telnyx", hosted=True, outbound_enabled=True)
    camp = api.client.post("/campaigns", json={"name": "c", "from_e164": "+12125550123"}).json()
    with respx.mock() as mock:
        dial = mock.post(f"{V2}/calls").respond(
            200,
            json={
                "data": {
                    "call_control_id": "v3:abc",
                    "call_leg_id": "leg",
                    "call_session_id": "s",
                    "is_alive": False,
                    "record_type": "call",
                }
            },
        )
        r = api.client.post(f"/campaigns/{camp['id']}/test-call", json={"to": "+14155550111"})
    assert r.status_code == 201 and r.json()["provider_call_id"] == "v3:abc"
    sent = _json(dial.calls[0].request)
    assert sent["connection_id"] == "conn-1" and sent["from"] == "+12125550123"
    assert sent["to"] == "+14155550111"
    assert sent["webhook_url"] == "https://tl.example.com/webhooks/telnyx"


# -- webhooks ---------------------------------------------------------------------------------------


def _event(call_id: str = "v3:abc", event: str = "call.hangup") -> bytes:
    return json.dumps(
        {
            "data": {
                "event_type": event,
                "id": "e1",
                "record_type": "event",
                "payload": {"call_control_id": call_id, "to": "+14155550111"},
            }
        }
    ).encode()


def _signed(body: bytes, ts: int | None = None) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    signature = SIGNER.sign(f"{stamp}|{body.decode()}".encode()).signature
    return {
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": stamp,
        "content-type": "application/json",
    }


def test_webhooks_valid_tampered_stale_missing(api: Any) -> None:
    api.add_number("+12125550123", "telnyx", hosted=True, outbound_enabled=True)
    camp = api.client.post("/campaigns", json={"name": "c", "from_e164": "+12125550123"}).json()
    with respx.mock() as mock:
        mock.post(f"{V2}/calls").respond(200, json={"data": {"call_control_id": "v3:abc"}})
        api.client.post(f"/campaigns/{camp['id']}/test-call", json={"to": "+14155550111"})
    body = _event()
    tampered = api.anon.post(
        "/webhooks/telnyx", content=body.replace(b"hangup", b"answer"), headers=_signed(body)
    )
    stale = api.anon.post(
        "/webhooks/telnyx", content=body, headers=_signed(body, int(time.time()) - 301)
    )
    missing = api.anon.post(
        "/webhooks/telnyx", content=body, headers={"content-type": "application/json"}
    )
    for r in (tampered, stale, missing):
        assert r.status_code == 403 and r.json()["code"] == "webhook_signature_invalid"
    assert api.calls()[0]["status"] == "queued"  # Telnyx's "initiated", in Trunkline's words
    assert api.audit(action="webhook_received") == []
    ok = api.anon.post("/webhooks/telnyx", content=body, headers=_signed(body))
    assert ok.status_code == 200 and ok.json()["changed"] == 1
    assert api.calls()[0]["status"] == "completed"


def test_not_configured(make_api: Any) -> None:
    api = make_api(plugins=["telnyx"], tables={"telnyx": {"api_key": {"env": "TELNYX_API_KEY"}}})
    p = api.client.get("/settings/telephony/providers").json()[0]
    assert p["configured"] is False and p["detail"] == "set TELNYX_API_KEY"
    n = _byo(api)
    r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and r.json()["code"] == "provider_not_configured"
    # coverage is static: it works without a key
    cov = api.client.get(
        "/settings/telephony/coverage", params={"provider": "telnyx", "country": "DE"}
    ).json()
    assert {e["number_type"] for e in cov["items"]} == {"local", "mobile", "national", "toll_free"}


# -- shipped data -------------------------------------------------------------------------------------


def test_shipped_data_validates_against_its_schemas() -> None:
    root = Path(datafiles.__file__).parent / "data"
    cov = datafiles.CoverageFile.model_validate_json((root / "coverage.json").read_text())
    regs = datafiles.RegulationsFile.model_validate_json((root / "regulations.json").read_text())
    assert len(cov.countries) >= 30 and "US" in cov.countries
    assert regs.countries["DE"]
    schema = json.loads((root / "coverage.schema.json").read_text())
    assert schema == json.loads(json.dumps(datafiles.coverage_schema()))


def test_a_bad_file_is_refused() -> None:
    with pytest.raises(ValueError, match="not an ISO 3166 alpha-2"):
        datafiles.CoverageFile.model_validate(
            {"generated": "2026-01-01", "countries": {"Germany": {"local": ["voice"]}}}
        )
    with pytest.raises(ValueError):
        datafiles.CoverageFile.model_validate(
            {"generated": "2026-01-01", "countries": {"DE": {"landline": ["voice"]}}}
        )


def test_coverage_answered_from_the_in_memory_index(api: Any, monkeypatch: Any) -> None:
    datafiles.coverage()  # loaded at start-up
    reads: list[str] = []
    real = datafiles._read
    monkeypatch.setattr(datafiles, "_read", lambda name: reads.append(name) or real(name))
    for _ in range(3):
        r = api.client.get(
            "/settings/telephony/coverage", params={"provider": "telnyx", "country": "GB"}
        )
        assert {e["number_type"] for e in r.json()["items"]} == {
            "local",
            "mobile",
            "national",
            "toll_free",
        }
    assert reads == []


def test_regulations_filtered(api: Any) -> None:
    r = api.client.get(
        "/settings/telephony/regulations",
        params={
            "provider": "telnyx",
            "country": "DE",
            "number_type": "local",
            "end_user_type": "business",
        },
    ).json()["items"]
    assert {i["name"] for i in r} == {"Address in the local area", "Commercial register extract"}
    assert all(i["provider"] == "telnyx" and i["country_code"] == "DE" for i in r)


def test_refresh_coverage_command(tmp_path: Path, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from plugins.telnyx.cli import telnyx_app

    answer = {
        "data": {
            "Germany": {
                "code": "DE",
                "features": ["voice", "sms"],
                "local": {"features": ["voice"]},
                "mobile": {"features": ["voice", "sms"]},
                "toll_free": {},
            },
            "United States": {
                "code": "US",
                "features": ["voice", "sms", "mms"],
                "local": {"x": 1},
                "toll_free": {"features": ["voice"]},
            },
            "Nowhere": {"code": "XZ", "local": {}},
        }
    }
    monkeypatch.setenv("TELNYX_API_KEY", KEY)
    out = tmp_path / "coverage.json"
    with respx.mock() as mock:
        route = mock.get(f"{V2}/country_coverage").respond(json=answer)
        result = CliRunner().invoke(telnyx_app, ["refresh-coverage", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert route.calls[0].request.headers["authorization"] == f"Bearer {KEY}"
    written = datafiles.CoverageFile.model_validate_json(out.read_text())
    assert written.countries == {
        "DE": {"local": ["voice"], "mobile": ["sms", "voice"]},
        "US": {"local": ["mms", "sms", "voice"], "toll_free": ["voice"]},
    }
    assert coverage_from_api(answer).countries == written.countries
    monkeypatch.delenv("TELNYX_API_KEY")
    result = CliRunner().invoke(telnyx_app, ["refresh-coverage", "--output", str(out)])
    assert result.exit_code == 2 and "TELNYX_API_KEY" in result.output


def test_after_a_wrong_code_the_user_may_start_again(api: Any) -> None:
    n = _byo(api)
    verify_path = re.compile(PHONE_PATH.pattern[:-1] + "/actions/verify$")
    with respx.mock(assert_all_called=False) as mock:
        mock.get(PHONE_PATH).respond(404, json={"errors": [{"code": "10005", "detail": "no"}]})
        create = mock.post(f"{V2}/verified_numbers").respond(200, json={})
        mock.post(verify_path).respond(
            422, json={"errors": [{"code": "10015", "detail": "Code expired"}]}
        )
        first = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
        failed = api.client.post(VERIFY, json={"number_id": n["id"], "code": "999999"}).json()
        again = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert first["status"] == "pending" and failed["status"] == "pending"
    assert "Code expired" in failed["detail"] and failed["attempts_left"] == 4
    assert again["status"] == "pending" and again["next_step"] == "submit_code"
    assert again["attempts_left"] == 5  # a new code, a new count
    assert create.call_count == 2  # a new code was sent
    assert api.number(n["id"])["verified_cli"] is False


def test_webhooks_refused_without_a_public_key(make_api: Any) -> None:
    api = make_api(
        plugins=["telnyx"],
        tables={"telnyx": {"api_key": {"env": "TX_KEY"}, "public_key": {"env": "TX_PUB"}}},
        env={"TX_KEY": KEY},
    )
    body = _event()
    r = api.anon.post("/webhooks/telnyx", content=body, headers=_signed(body))
    assert r.status_code == 403 and r.json()["code"] == "webhook_signature_invalid"
    provider = api.client.get("/settings/telephony/providers").json()[0]
    assert provider["configured"] is True and "public_key" in provider["detail"]


# -- release_number -------------------------------------------------------------------------------


def test_deleting_a_bought_number_releases_it_at_telnyx(api: Any) -> None:
    """The phone number is found by its digits and deleted; a Telnyx failure changes nothing."""
    e164 = "+12125550123"
    with respx.mock() as mock:
        mock.post(f"{V2}/number_orders").respond(
            200,
            json={
                "data": {
                    "id": "order-9",
                    "status": "success",
                    "phone_numbers": [{"phone_number": e164, "status": "success"}],
                }
            },
        )
        bought = api.client.post(
            "/settings/telephony/numbers/purchase", json={"provider": "telnyx", "e164": e164}
        )
    assert bought.status_code == 201, bought.text
    number = bought.json()
    url = f"/settings/telephony/numbers/{number['id']}"
    listing = {"data": [{"id": "1293384261075731499", "phone_number": e164}], "meta": {}}
    with respx.mock() as mock:
        mock.get(f"{V2}/phone_numbers").respond(200, json=listing)
        mock.delete(f"{V2}/phone_numbers/1293384261075731499").respond(
            500, json={"errors": [{"code": "10007", "detail": "unexpected"}]}
        )
        failed = api.client.delete(url)
    assert failed.status_code == 503 and failed.json()["code"] == "provider_unavailable"
    assert api.number(number["id"])["state"] == "active"
    with respx.mock(assert_all_called=True) as mock:
        listed = mock.get(f"{V2}/phone_numbers").respond(200, json=listing)
        deleted = mock.delete(f"{V2}/phone_numbers/1293384261075731499").respond(
            200, json={"data": {"id": "1293384261075731499", "phone_number": e164}}
        )
        done = api.client.delete(url)
    assert done.status_code == 204, done.text
    assert listed.calls[0].request.url.params["filter[phone_number]"] == "12125550123"
    assert deleted.calls[0].request.headers["authorization"] == f"Bearer {KEY}"
    assert api.number(number["id"])["state"] == "released"
