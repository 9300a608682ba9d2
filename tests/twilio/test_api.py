"""The Twilio plugin through the HTTP API: exact wire format (respx), error mapping onto problem
responses, signed status callbacks, and the local fake Twilio end to end. Nothing here reaches
the internet. Callback signatures are computed by ``fake_twilio.twilio_signature``, written
from Twilio's algorithm independently of the SDK's ``RequestValidator``."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
import respx

from tests.twilio.fake_twilio import FakeTwilio, twilio_signature

SID = "AC" + "a" * 32
TOKEN = "twilio-test-token-0123456789"
API = f"https://api.twilio.com/2010-04-01/Accounts/{SID}"
PUBLIC = "https://tl.example.com"
BASIC = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
VERIFY = "/settings/telephony/numbers/verify-cli"


def twilio_api(make_api: Any, **settings: Any) -> Any:
    return make_api(
        plugins=["twilio", "country_rules"],
        tables={
            "twilio": {
                "account_sid": SID,
                "auth_token": {"env": "TW_TOKEN"},
                "retry_backoff_seconds": 0,
                "retry_max_wait_seconds": 0,
                **settings,
            },
            "country_rules": {"blocked": ["KP"]},
        },
        env={"TW_TOKEN": TOKEN, "TRUNKLINE_PUBLIC_BASE_URL": PUBLIC},
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def page(key: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: rows, "page": 0, "page_size": 50, "next_page_uri": None, "uri": "/x"}


@pytest.fixture
def api(make_api: Any) -> Any:
    return twilio_api(make_api)


def _byo(api: Any, e164: str = "+14155550100") -> dict[str, Any]:
    r = api.client.post("/settings/telephony/numbers", json={"e164": e164, "provider": "twilio"})
    assert r.status_code == 201
    body: dict[str, Any] = r.json()
    return body


# -- verify_cli -----------------------------------------------------------------------------------


def test_verify_starts_a_validation_request(api: Any) -> None:
    n = _byo(api)
    with respx.mock(assert_all_called=True) as mock:
        listed = mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=page("outgoing_caller_ids", [])
        )
        created = mock.post(f"{API}/OutgoingCallerIds.json").respond(
            200,
            json={
                "account_sid": SID,
                "call_sid": "CA" + "1" * 32,
                "phone_number": "+14155550100",
                "validation_code": "012345",
                "friendly_name": "x",
            },
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["display_code"] == "012345"
    assert r.json()["next_step"] == "answer_call_and_enter_code"
    get = listed.calls[0].request
    assert get.url.params["PhoneNumber"] == "+14155550100" and get.url.params["PageSize"] == "1"
    assert get.headers["authorization"] == BASIC
    post = created.calls[0].request
    assert post.headers["authorization"] == BASIC
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form(post) == {
        "PhoneNumber": "+14155550100",
        "FriendlyName": f"Trunkline {n['id']}",
        "StatusCallback": f"{PUBLIC}/webhooks/twilio",
    }
    assert api.number(n["id"])["verification_ref"] == "CA" + "1" * 32


VALIDATION = {
    "account_sid": SID,
    "call_sid": "CA" + "2" * 32,
    "phone_number": "+14155550100",
    "validation_code": "654321",
}


def test_a_caller_id_this_numbers_validation_made_is_verified_without_a_request(api: Any) -> None:
    n = _byo(api)
    mine = {
        "sid": "PN" + "9" * 32,
        "phone_number": "+14155550100",
        "friendly_name": f"Trunkline {n['id']}",
    }
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=page("outgoing_caller_ids", [mine]))
        r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert r["verified_cli"] is True
    assert api.number(n["id"])["verification_ref"] == "PN" + "9" * 32


@pytest.mark.parametrize("friendly_name", ["+14155550100", "Trunkline 0b1c", None])
def test_a_caller_id_listed_by_another_verification_proves_nothing(
    api: Any, friendly_name: str | None
) -> None:
    """The account's Outgoing Caller IDs are shared by every workspace: a record this number's
    own validation did not make is orphaned, deleted, and the number validated again."""
    n = _byo(api)
    theirs = {"sid": "PN" + "9" * 32, "phone_number": "+14155550100"}
    if friendly_name is not None:
        theirs["friendly_name"] = friendly_name
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(
            json=page("outgoing_caller_ids", [theirs])
        )
        deleted = mock.delete(f"{API}/OutgoingCallerIds/{'PN' + '9' * 32}.json").respond(204)
        created = mock.post(f"{API}/OutgoingCallerIds.json").respond(200, json=VALIDATION)
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified_cli"] is False and body["status"] == "pending"
    assert body["next_step"] == "answer_call_and_enter_code" and body["display_code"] == "654321"
    assert deleted.calls[0].request.headers["authorization"] == BASIC
    assert form(created.calls[0].request)["FriendlyName"] == f"Trunkline {n['id']}"
    row = api.number(n["id"])
    assert row["verified_cli"] is False and row["verification_ref"] == "CA" + "2" * 32


def test_error_21450_is_no_proof_unless_the_record_is_this_numbers(api: Any) -> None:
    """21450 (verified meanwhile) counts only when the record that appeared is this number's."""
    n = _byo(api)
    mine = {
        "sid": "PN" + "8" * 32,
        "phone_number": "+14155550100",
        "friendly_name": f"Trunkline {n['id']}",
    }
    already = {"code": 21450, "message": "Phone number already verified", "status": 400}
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(400, json=already)
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 502 and r.json()["provider_code"] == "21450"
    assert api.number(n["id"])["verified_cli"] is False
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").mock(
            side_effect=[
                httpx.Response(200, json=page("outgoing_caller_ids", [])),
                httpx.Response(200, json=page("outgoing_caller_ids", [mine])),
            ]
        )
        mock.post(f"{API}/OutgoingCallerIds.json").respond(400, json=already)
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 200 and r.json()["verified_cli"] is True


def _callback(api: Any, params: dict[str, str], signature: str | None = None) -> Any:
    url = f"{PUBLIC}/webhooks/twilio"
    sig = signature if signature is not None else twilio_signature(TOKEN, url, params)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if sig:
        headers["x-twilio-signature"] = sig
    return api.anon.post("/webhooks/twilio", content=urlencode(params), headers=headers)


def test_whole_verify_flow_with_signed_callback(api: Any) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(
            200,
            json={
                "call_sid": "CA" + "1" * 32,
                "phone_number": "+14155550100",
                "validation_code": "004711",
            },
        )
        started = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert started["display_code"] == "004711"
    params = {
        "AccountSid": SID,
        "CallSid": "CA" + "1" * 32,
        "To": "+14155550100",
        "VerificationStatus": "success",
        "OutgoingCallerIdSid": "PN" + "5" * 32,
    }
    before, audit_before = api.number(n["id"]), api.audit()
    forged = _callback(api, params, signature=twilio_signature("guessed-token", PUBLIC, params))
    assert forged.status_code == 403 and forged.json()["code"] == "webhook_signature_invalid"
    missing = _callback(api, params, signature="")
    assert missing.status_code == 403
    other_url = twilio_signature(TOKEN, "https://evil.example/webhooks/twilio", params)
    assert _callback(api, params, signature=other_url).status_code == 403
    assert api.number(n["id"]) == before and before["verification_status"] == "pending"
    assert api.audit() == audit_before
    assert TOKEN not in forged.text
    ok = _callback(api, params)
    assert ok.status_code == 200 and ok.json()["changed"] == 1
    row = api.number(n["id"])
    assert row["verified_cli"] is True and row["verification_status"] == "verified"
    actions = [a["action"] for a in api.audit()]
    assert "webhook_received" in actions and "verification_succeeded" in actions
    # and the number is now a caller ID the policy allows
    api.client.patch(f"/settings/telephony/numbers/{n['id']}", json={"outbound_enabled": True})
    check = api.client.post("/outbound/check", json={"from": "+14155550100", "to": "+14155550111"})
    assert check.json()["allowed"] is True


def test_failed_callback_marks_failed(api: Any) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(json=page("outgoing_caller_ids", []))
        mock.post(f"{API}/OutgoingCallerIds.json").respond(
            200, json={"call_sid": "CA" + "1" * 32, "validation_code": "111111"}
        )
        api.client.post(VERIFY, json={"number_id": n["id"]})
    r = _callback(
        api, {"CallSid": "CA" + "1" * 32, "To": "+14155550100", "VerificationStatus": "failed"}
    )
    assert r.status_code == 200
    assert api.number(n["id"])["verification_status"] == "failed"


# -- error mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "headers", "want_status", "code", "provider_code"),
    [
        (401, {"code": 20003, "message": "Authenticate"}, {}, 502, "provider_auth_failed", "20003"),
        (
            429,
            {"code": 20429, "message": "Too Many Requests"},
            {"Retry-After": "3"},
            429,
            "provider_rate_limited",
            "20429",
        ),
        (400, {"code": 21211, "message": "Invalid 'To'"}, {}, 502, "provider_rejected", "21211"),
        (400, {"code": 21212, "message": "Invalid 'From'"}, {}, 502, "provider_rejected", "21212"),
        (400, {"code": 21210, "message": "unverified"}, {}, 502, "provider_rejected", "21210"),
        (400, {"code": 21215, "message": "geo"}, {}, 502, "provider_rejected", "21215"),
        (400, {"code": 13227, "message": "geo"}, {}, 502, "provider_rejected", "13227"),
        (500, {"message": "oops"}, {}, 503, "provider_unavailable", "500"),
        (503, {"message": "down"}, {}, 503, "provider_unavailable", "503"),
    ],
)
def test_error_mapping(
    api: Any,
    status: int,
    body: dict[str, Any],
    headers: dict[str, str],
    want_status: int,
    code: str,
    provider_code: str,
) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        route = mock.get(f"{API}/OutgoingCallerIds.json").respond(
            status, json=body, headers=headers
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    problem = r.json()
    assert r.status_code == want_status and problem["code"] == code, problem
    assert problem["provider_code"] == provider_code
    if status == 429:
        assert r.headers["retry-after"] == "3"
    # 429 and 5xx are retried twice (three requests), others never
    assert route.call_count == (3 if status == 429 or status >= 500 else 1)
    assert api.number(n["id"])["verification_status"] == "none"
    assert TOKEN not in r.text


def test_retry_then_success(api: Any) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").mock(
            side_effect=[
                httpx.Response(503, json={"message": "down"}),
                httpx.Response(
                    200,
                    json=page(
                        "outgoing_caller_ids",
                        [
                            {
                                "sid": "PN" + "1" * 32,
                                "phone_number": "+14155550100",
                                "friendly_name": f"Trunkline {n['id']}",
                            }
                        ],
                    ),
                ),
            ]
        )
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.json()["verified_cli"] is True


def test_timeout_and_malformed_body(api: Any) -> None:
    n = _byo(api)
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").mock(side_effect=httpx.ReadTimeout("slow"))
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and "did not answer" in r.json()["detail"]
    with respx.mock() as mock:
        mock.get(f"{API}/OutgoingCallerIds.json").respond(200, text="<html>not json")
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and "unusable" in r.json()["detail"]
    assert api.number(n["id"])["verification_status"] == "none"
    assert len(api.audit(action="verification_error")) == 2


# -- catalogue, purchase, call --------------------------------------------------------------------


def test_coverage_is_live_and_cached(api: Any) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers.json").respond(
            json={
                "countries": [
                    {"country_code": "US", "subresource_uris": {"local": "/l", "toll_free": "/t"}},
                    {"country_code": "GB", "subresource_uris": {"local": "/l", "mobile": "/m"}},
                ],
                "uri": "/x",
            }
        )
        first = api.client.get("/settings/telephony/coverage", params={"provider": "twilio"})
        second = api.client.get(
            "/settings/telephony/coverage", params={"provider": "twilio", "country": "GB"}
        )
    assert route.call_count == 1
    assert {(e["country_code"], e["number_type"]) for e in first.json()["items"]} == {
        ("US", "local"),
        ("US", "toll_free"),
        ("GB", "local"),
        ("GB", "mobile"),
    }
    assert all(e["source"] == "live" for e in first.json()["items"])
    assert {e["number_type"] for e in second.json()["items"]} == {"local", "mobile"}


def test_search_sends_filters(api: Any) -> None:
    with respx.mock() as mock:
        route = mock.get(f"{API}/AvailablePhoneNumbers/US/Local.json").respond(
            json={
                "available_phone_numbers": [
                    {
                        "phone_number": "+12125550123",
                        "locality": "NYC",
                        "region": "NY",
                        "capabilities": {"voice": True, "SMS": True},
                    }
                ],
                "uri": "/x",
            }
        )
        mock.get("https://pricing.twilio.com/v1/PhoneNumbers/Countries/US").respond(
            json={
                "iso_country": "US",
                "price_unit": "USD",
                "phone_number_prices": [{"number_type": "local", "current_price": "1.15"}],
            }
        )
        r = api.client.get(
            "/settings/telephony/numbers/available",
            params={
                "provider": "twilio",
                "country": "US",
                "area_code": "212",
                "contains": "555",
                "limit": 5,
            },
        )
    params = route.calls[0].request.url.params
    assert params["AreaCode"] == "212" and params["Contains"] == "555"
    assert params["PageSize"] == "5"
    item = r.json()["items"][0]
    assert item["phone_e164"] == "+12125550123" and item["monthly_cost"] == "1.15"
    assert set(item["features"]) == {"voice", "sms"}


def test_regulations_normalised_with_groups(api: Any) -> None:
    with respx.mock() as mock:
        route = mock.get("https://numbers.twilio.com/v2/RegulatoryCompliance/Regulations").respond(
            json={
                "results": [
                    {
                        "iso_country": "GB",
                        "number_type": "local",
                        "end_user_type": "business",
                        "requirements": {
                            "end_user": [
                                {
                                    "name": "Business",
                                    "type": "business",
                                    "fields": ["business_name"],
                                }
                            ],
                            "supporting_document": [
                                [
                                    {
                                        "name": "Proof of address",
                                        "type": "document",
                                        "accepted_documents": [{"name": "Utility bill"}],
                                    },
                                    {"name": "Business registration", "type": "document"},
                                ]
                            ],
                        },
                    }
                ],
                "meta": {"key": "results", "next_page_url": None, "page": 0, "page_size": 50},
            }
        )
        r = api.client.get(
            "/settings/telephony/regulations",
            params={
                "provider": "twilio",
                "country": "GB",
                "number_type": "local",
                "end_user_type": "business",
            },
        )
    params = route.calls[0].request.url.params
    assert params["IsoCountry"] == "GB" and params["NumberType"] == "local"
    assert params["EndUserType"] == "business" and params["IncludeConstraints"] == "true"
    items = r.json()["items"]
    assert [(i["name"], i["kind"], i["group"]) for i in items] == [
        ("Business", "identity", "end_user"),
        ("Proof of address", "address", "supporting_document_1"),
        ("Business registration", "document", "supporting_document_1"),
    ]
    assert "Utility bill" in items[1]["description"]


def test_purchase_and_call_wire_format(api: Any) -> None:
    with respx.mock() as mock:
        buy = mock.post(f"{API}/IncomingPhoneNumbers.json").respond(
            201,
            json={
                "sid": "PN" + "2" * 32,
                "phone_number": "+12125550123",
                "capabilities": {"voice": True, "sms": True},
            },
        )
        mock.get("https://pricing.twilio.com/v1/PhoneNumbers/Countries/US").respond(
            json={
                "price_unit": "USD",
                "phone_number_prices": [{"number_type": "local", "current_price": "1.15"}],
            }
        )
        call = mock.post(f"{API}/Calls.json").respond(
            201, json={"sid": "CA" + "3" * 32, "status": "queued"}
        )
        # the new number's attestation: in no approved SHAKEN/STIR Trust Product yet
        trust = mock.get("https://trusthub.twilio.com/v1/TrustProducts").respond(
            json={"results": [], "meta": {"key": "results", "next_page_url": None}}
        )
        r = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550123"},
        )
        assert r.status_code == 201, r.text
        n = r.json()
        assert trust.called
        assert api.number(n["id"])["attestation_level"] == "B"
        api.client.patch(f"/settings/telephony/numbers/{n['id']}", json={"outbound_enabled": True})
        c = api.client.post("/campaigns", json={"name": "c", "from_e164": "+12125550123"}).json()
        placed = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+14155550111"})
    assert form(buy.calls[0].request) == {"PhoneNumber": "+12125550123"}
    entry = api.ledger()[0]
    assert entry["amount_cents"] == 0 and entry["metadata"]["pass_through"] is True
    assert entry["metadata"]["carrier_monthly_cost"] == "1.15" and entry["currency"] == "USD"
    assert placed.status_code == 201 and placed.json()["provider_call_id"] == "CA" + "3" * 32
    sent = form(call.calls[0].request)
    assert sent["From"] == "+12125550123" and sent["To"] == "+14155550111"
    assert sent["StatusCallback"] == f"{PUBLIC}/webhooks/twilio" and "<Say>" in sent["Twiml"]


def test_call_status_callback_moves_the_call(api: Any) -> None:
    api.add_number("+12125550123", "twilio", hosted=True, outbound_enabled=True)
    c = api.client.post("/campaigns", json={"name": "c", "from_e164": "+12125550123"}).json()
    with respx.mock() as mock:
        mock.post(f"{API}/Calls.json").respond(
            201, json={"sid": "CA" + "7" * 32, "status": "queued"}
        )
        api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+14155550111"})
    r = _callback(api, {"CallSid": "CA" + "7" * 32, "CallStatus": "completed"})
    assert r.status_code == 200 and api.calls()[0]["status"] == "completed"


def test_not_configured(make_api: Any) -> None:
    api = make_api(
        plugins=["twilio"],
        tables={
            "twilio": {
                "account_sid": {"env": "TWILIO_ACCOUNT_SID"},
                "auth_token": {"env": "TWILIO_AUTH_TOKEN"},
            }
        },
    )
    providers = api.client.get("/settings/telephony/providers").json()
    assert providers[0]["configured"] is False
    assert providers[0]["detail"] == "set TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN"
    n = _byo(api)
    r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == 503 and r.json()["code"] == "provider_not_configured"
    assert "TWILIO_AUTH_TOKEN" in r.json()["detail"]


def test_operator_settings_are_not_shown_to_a_workspace(make_api: Any) -> None:
    """/plugins and the providers list show names, versions, status and capabilities; the
    operator's settings (account SID, base URLs, Telnyx connection) stay out of them."""
    api = make_api(
        plugins=["twilio", "telnyx"],
        tables={
            "twilio": {
                "account_sid": SID,
                "auth_token": {"env": "TW_TOKEN"},
                "base_url": "http://127.0.0.1:4010",
            },
            "telnyx": {
                "api_key": {"env": "TX_KEY"},
                "connection_id": "conn-4242-operator",
                "base_url": "http://127.0.0.1:4011/v2",
            },
        },
        env={"TW_TOKEN": TOKEN, "TX_KEY": "KEY-telnyx-operator-secret"},
    )
    plugins = {p["name"]: p for p in api.client.get("/plugins").json()}
    assert plugins["twilio"]["status"] == "loaded" and plugins["twilio"]["version"]
    assert plugins["twilio"]["providers"] == ["twilio"] and "settings" not in plugins["twilio"]
    providers = api.client.get("/settings/telephony/providers").json()
    assert {p["name"] for p in providers} == {"twilio", "telnyx"}
    assert all(p["capabilities"] and p["configured"] for p in providers)
    shown = json.dumps([plugins, providers])
    for value in (SID, TOKEN, "conn-4242-operator", "127.0.0.1:4010", "127.0.0.1:4011"):
        assert value not in shown, value
    assert "KEY-telnyx-operator-secret" not in shown
    # the OpenAPI document promises no settings either
    schema = api.anon.get("/openapi.json").json()["components"]["schemas"]["PluginOut"]
    assert "settings" not in schema["properties"]


# -- a local fake Twilio, end to end --------------------------------------------------------------


def test_end_to_end_against_a_local_fake(make_api: Any) -> None:
    """Coverage, search, regulations, verification, purchase and a test call through the HTTP
    API, with ``base_url`` pointed at the fake Twilio on 127.0.0.1."""
    acct = f"/2010-04-01/Accounts/{SID}"
    with FakeTwilio(SID, TOKEN) as fake:
        api = twilio_api(make_api, base_url=fake.url)
        c = api.client
        cov = c.get("/settings/telephony/coverage", params={"provider": "twilio"})
        assert cov.status_code == 200, cov.text
        assert {(e["country_code"], e["number_type"]) for e in cov.json()["items"]} == {
            ("US", "local"),
            ("US", "toll_free"),
            ("GB", "local"),
            ("GB", "mobile"),
        }
        found = c.get(
            "/settings/telephony/numbers/available",
            params={"provider": "twilio", "country": "US", "area_code": "212"},
        ).json()["items"]
        assert [n["phone_e164"] for n in found] == ["+12125550123", "+12125550187"]
        assert found[0]["monthly_cost"] == "1.15" and found[0]["currency"] == "USD"
        assert fake.seen("GET", f"{acct}/AvailablePhoneNumbers/US/Local.json")[0].params == {
            "AreaCode": "212",
            "PageSize": "20",
        }
        regs = c.get(
            "/settings/telephony/regulations",
            params={"provider": "twilio", "country": "GB", "end_user_type": "business"},
        ).json()["items"]
        assert [(r["kind"], r["group"]) for r in regs] == [
            ("identity", "end_user"),
            ("address", "supporting_document_1"),
            ("document", "supporting_document_2"),
            ("document", "supporting_document_2"),
        ]

        # verification: start, the code shown, the user answers, Twilio calls back (signed)
        n = _byo(api)
        started = c.post(VERIFY, json={"number_id": n["id"]}).json()
        validation = fake.validations["+14155550100"]
        assert started["display_code"] == validation["validation_code"]
        assert started["next_step"] == "answer_call_and_enter_code"
        assert validation["status_callback"] == f"{PUBLIC}/webhooks/twilio"
        again = c.post(VERIFY, json={"number_id": n["id"]}).json()  # a double click
        assert again["display_code"] == started["display_code"]
        assert len(fake.seen("POST", f"{acct}/OutgoingCallerIds.json")) == 1
        params = fake.complete_validation("+14155550100")
        forged = _callback(api, params, signature=twilio_signature("nope", PUBLIC, params))
        assert forged.status_code == 403 and api.number(n["id"])["verified_cli"] is False
        assert _callback(api, params).status_code == 200
        row = api.number(n["id"])
        assert row["verified_cli"] is True and row["verification_status"] == "verified"
        done = c.post(VERIFY, json={"number_id": n["id"]}).json()
        assert done["verified_cli"] is True

        # purchase: the carrier's price in the ledger at zero markup
        bought = c.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550123"},
        )
        assert bought.status_code == 201, bought.text
        assert bought.json()["hosted"] is True
        assert fake.owned["+12125550123"]
        (entry,) = api.ledger()
        assert entry["amount_cents"] == 0 and entry["metadata"]["carrier_monthly_cost"] == "1.15"
        again_bought = c.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550123"},
        )
        assert again_bought.status_code == 409
        gone = c.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+13125550199"},
        )
        assert gone.status_code == 502 and gone.json()["provider_code"] == "21422"

        # a test call from the bought number, then its status callback
        nid = bought.json()["id"]
        c.patch(f"/settings/telephony/numbers/{nid}", json={"outbound_enabled": True})
        camp = c.post("/campaigns", json={"name": "e2e", "from_e164": "+12125550123"}).json()
        call = c.post(f"/campaigns/{camp['id']}/test-call", json={"to": "+14155550111"})
        assert call.status_code == 201, call.text
        assert call.json()["status"] == "queued"
        sid = call.json()["provider_call_id"]
        assert fake.calls[sid]["From"] == "+12125550123" and "Twiml" in fake.calls[sid]
        assert _callback(api, fake.call_status(sid, "completed")).status_code == 200
        assert api.calls()[0]["status"] == "completed"

        assert all(r.auth_ok for r in fake.requests)
        assert {r.path for r in fake.requests} >= {
            f"{acct}/AvailablePhoneNumbers.json",
            "/v2/RegulatoryCompliance/Regulations",
            "/v1/PhoneNumbers/Countries/US",
            f"{acct}/IncomingPhoneNumbers.json",
            f"{acct}/Calls.json",
        }


def test_carrier_outage_against_the_fake_is_a_503_and_stores_nothing(make_api: Any) -> None:
    with FakeTwilio(SID, TOKEN) as fake:
        api = twilio_api(make_api, base_url=fake.url, max_retries=1)
        n = _byo(api)
        fake.fail("/OutgoingCallerIds.json", 503, times=2)
        r = api.client.post(VERIFY, json={"number_id": n["id"]})
        assert r.status_code == 503 and r.json()["code"] == "provider_unavailable"
        assert len(fake.seen("GET", "/OutgoingCallerIds.json")) == 2  # one retry, no more
        assert api.number(n["id"])["verification_status"] == "none"
        fake.fail("/IncomingPhoneNumbers.json", 400, code=21215, message="geo permissions")
        r = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550187"},
        )
        assert r.status_code == 502 and r.json()["provider_code"] == "21215"
        assert api.ledger() == [] and len(api.numbers()) == 1
        # pricing down: the purchase (done at Twilio) still stands, its cost unknown
        fake.pricing_available = False
        r = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550187"},
        )
        assert r.status_code == 201, r.text
        (entry,) = api.ledger()
        assert entry["metadata"]["carrier_monthly_cost"] is None and entry["amount_cents"] == 0


def test_a_caller_id_verified_by_one_workspace_is_not_taken_over_by_another(
    make_api: Any,
) -> None:
    """Hole 1 against the fake Twilio: A verifies its number; B adds the same number and asks
    to verify it with nobody answering. Twilio's account lists it, but B is not verified: while
    A holds it B is refused before Twilio is asked; once A lets it go, B must answer a new call."""
    acct = f"/2010-04-01/Accounts/{SID}"
    with FakeTwilio(SID, TOKEN) as fake:
        api = twilio_api(make_api, base_url=fake.url)
        a = _byo(api)
        api.client.post(VERIFY, json={"number_id": a["id"]})
        assert _callback(api, fake.complete_validation("+14155550100")).status_code == 200
        assert api.number(a["id"])["verified_cli"] is True
        a_record = fake.verified["+14155550100"]

        r = api.client_b.post(
            "/settings/telephony/numbers", json={"e164": "+14155550100", "provider": "twilio"}
        )
        assert r.status_code == 201, r.text
        b = r.json()
        refused = api.client_b.post(VERIFY, json={"number_id": b["id"]})
        assert refused.status_code == 409 and refused.json()["code"] == "number_claimed"
        assert api.number(b["id"])["verified_cli"] is False
        assert fake.verified["+14155550100"] == a_record  # A's caller ID left alone
        assert len(fake.seen("GET", f"{acct}/OutgoingCallerIds.json")) == 1  # A's start only

        assert api.client.delete(f"/settings/telephony/numbers/{a['id']}").status_code == 204
        started = api.client_b.post(VERIFY, json={"number_id": b["id"]})
        assert started.status_code == 200, started.text
        body = started.json()
        assert body["verified_cli"] is False and body["status"] == "pending"
        assert body["next_step"] == "answer_call_and_enter_code"
        assert [r.path for r in fake.seen("DELETE", ".json")] == [
            f"{acct}/OutgoingCallerIds/{a_record}.json"
        ]
        assert fake.validations["+14155550100"]["friendly_name"] == f"Trunkline {b['id']}"
        assert api.number(b["id"])["verified_cli"] is False
        # B's person answers B's call: now B is verified, by its own validation
        assert _callback(api, fake.complete_validation("+14155550100")).status_code == 200
        assert api.number(b["id"])["verified_cli"] is True


# -- release_number -------------------------------------------------------------------------------


def test_deleting_a_bought_number_releases_it_at_twilio(make_api: Any) -> None:
    """Hole 6 against the fake Twilio: the IncomingPhoneNumber is deleted (by the purchase's
    SID); a Twilio failure leaves the number as it was."""
    acct = f"/2010-04-01/Accounts/{SID}"
    with FakeTwilio(SID, TOKEN) as fake:
        api = twilio_api(make_api, base_url=fake.url)
        bought = api.client.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550123"},
        )
        assert bought.status_code == 201, bought.text
        number = bought.json()
        sid = fake.owned["+12125550123"]

        fake.fail(f"/IncomingPhoneNumbers/{sid}.json", 500, times=5)
        failed = api.client.delete(f"/settings/telephony/numbers/{number['id']}")
        assert failed.status_code == 503 and failed.json()["code"] == "provider_unavailable"
        assert fake.owned["+12125550123"] == sid
        assert api.number(number["id"])["state"] == "active"
        fake._faults.clear()

        done = api.client.delete(f"/settings/telephony/numbers/{number['id']}")
        assert done.status_code == 204, done.text
        assert "+12125550123" not in fake.owned
        (gone,) = [r for r in fake.seen("DELETE", ".json") if r.path.endswith(f"{sid}.json")][-1:]
        assert gone.path == f"{acct}/IncomingPhoneNumbers/{sid}.json" and gone.auth_ok
        assert api.number(number["id"])["state"] == "released"
        # Twilio sells it again; so does Trunkline, to anyone
        again = api.client_b.post(
            "/settings/telephony/numbers/purchase",
            json={"provider": "twilio", "e164": "+12125550123"},
        )
        assert again.status_code == 201, again.text
