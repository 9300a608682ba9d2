"""The sandbox carrier through the HTTP API: both verification styles, catalogue, calls, faults."""

from __future__ import annotations

import json
import time
from typing import Any

import phonenumbers
import pytest

VERIFY = "/settings/telephony/numbers/verify-cli"


@pytest.fixture
def api(make_api: Any) -> Any:
    return make_api(
        plugins=["sandbox", "country_rules"],
        tables={
            "sandbox": {"callback_delay_seconds": 0.1, "webhook_secret": {"env": "SB_SECRET"}},
            "country_rules": {"blocked": ["KP"]},
        },
        env={"SB_SECRET": "sandbox-test-secret"},
    )


def _add(api: Any, e164: str) -> dict[str, Any]:
    r = api.client.post("/settings/telephony/numbers", json={"e164": e164, "provider": "sandbox"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _wait_for(api: Any, number_id: str, status: str) -> dict[str, Any]:
    for _ in range(50):
        row = api.client.get(f"/settings/telephony/numbers/{number_id}").json()
        if row["verification_status"] == status:
            return dict(row)
        time.sleep(0.05)
    raise AssertionError(f"number never reached {status}: {row}")


def test_call_style_confirmed_by_simulated_callback(api: Any) -> None:
    n = _add(api, "+14155550100")  # even last digit: call style
    r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert r["next_step"] == "answer_call_and_enter_code"
    assert len(r["display_code"]) == 6 and r["display_code"].isdigit()
    row = _wait_for(api, n["id"], "verified")
    assert row["verified_cli"] is True
    events = [(e["action"], e["actor"]) for e in api.audit()]
    assert ("verification_succeeded", "carrier:sandbox") in events


def test_sms_style_code_submitted(api: Any) -> None:
    n = _add(api, "+14155550101")  # odd: sms style
    r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert r["next_step"] == "submit_code"
    code = r["display_code"]  # the simulated SMS, shown where a trial user looks
    assert code and code.isdigit() and code not in r["detail"]
    wrong_code = "000000" if code != "000000" else "111111"
    wrong = api.client.post(VERIFY, json={"number_id": n["id"], "code": wrong_code}).json()
    assert wrong["status"] == "pending" and "not the one sent" in wrong["detail"]
    assert wrong["attempts_left"] == 4 and wrong["display_code"] == code
    right = api.client.post(VERIFY, json={"number_id": n["id"], "code": code}).json()
    assert right["verified_cli"] is True and right["status"] == "verified"
    # neither the code sent nor the one typed is in the audit trail
    trail = json.dumps([e["detail"] for e in api.audit()])
    assert code not in trail and wrong_code not in trail
    shown = json.dumps(api.client.get("/settings/telephony/audit").json())
    assert code not in shown and wrong_code not in shown


def test_sms_code_is_logged_by_the_server(api: Any, caplog: Any) -> None:
    n = _add(api, "+14155550103")
    with caplog.at_level("INFO", logger="trunkline.plugins.sandbox"):
        r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    code = r["display_code"]
    assert f"verification code for +14155550103 is {code}" in caplog.text


def test_coverage_regulations_and_search(api: Any) -> None:
    cov = api.client.get("/settings/telephony/coverage", params={"country": "GB"}).json()
    assert {e["number_type"] for e in cov["items"]} == {"local", "mobile", "national"}
    assert all(e["source"] == "static" for e in cov["items"])
    regs = api.client.get(
        "/settings/telephony/regulations", params={"country": "DE", "end_user_type": "business"}
    ).json()["items"]
    assert {r["name"] for r in regs} == {"Address in the local area", "Commercial register extract"}
    found = api.client.get(
        "/settings/telephony/numbers/available",
        params={"country": "US", "area_code": "212", "contains": "55", "limit": 5},
    ).json()["items"]
    assert len(found) == 5
    for item in found:
        parsed = phonenumbers.parse(item["phone_e164"])
        assert phonenumbers.is_valid_number(parsed)
        assert item["phone_e164"].startswith("+1212") and "55" in item["phone_e164"]
        assert item["monthly_cost"] == "1.15" and item["currency"] == "USD"
    mobiles = api.client.get(
        "/settings/telephony/numbers/available", params={"country": "DE", "number_type": "mobile"}
    ).json()["items"]
    assert mobiles and all(
        phonenumbers.number_type(phonenumbers.parse(m["phone_e164"]))
        == phonenumbers.PhoneNumberType.MOBILE
        for m in mobiles
    )
    none = api.client.get("/settings/telephony/numbers/available", params={"country": "JP"}).json()
    assert none == {"items": [], "errors": []}


def test_purchase_then_test_call_completes(api: Any) -> None:
    found = api.client.get(
        "/settings/telephony/numbers/available", params={"country": "US", "limit": 1}
    ).json()["items"][0]
    bought = api.client.post(
        "/settings/telephony/numbers/purchase",
        json={"provider": "sandbox", "e164": found["phone_e164"]},
    )
    assert bought.status_code == 201 and bought.json()["hosted"] is True
    entry = api.ledger()[0]
    assert entry["amount_cents"] == 0 and entry["metadata"]["carrier_monthly_cost"] == "1.15"
    n = bought.json()
    api.client.patch(f"/settings/telephony/numbers/{n['id']}", json={"outbound_enabled": True})
    c = api.client.post("/campaigns", json={"name": "Try", "from_e164": n["phone_e164"]}).json()
    call = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+442079460000"})
    assert call.status_code == 201 and call.json()["status"] == "queued"
    for _ in range(50):
        if api.calls()[0]["status"] == "completed":
            break
        time.sleep(0.05)
    assert api.calls()[0]["status"] == "completed"


def test_signed_callback_accepted_forged_refused(api: Any) -> None:
    n = _add(api, "+14155550105")
    r = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
    assert r["status"] == "pending"
    plugin = api.host.pm.get_plugin("sandbox")
    body = json.dumps({"kind": "verification_succeeded", "phone_e164": "+14155550105"}).encode()
    forged = api.anon.post(
        "/webhooks/sandbox", content=body, headers={"x-sandbox-signature": "0" * 64}
    )
    assert forged.status_code == 403 and forged.json()["code"] == "webhook_signature_invalid"
    missing = api.anon.post("/webhooks/sandbox", content=body)
    assert missing.status_code == 403
    assert api.number(n["id"])["verified_cli"] is False
    ok = api.anon.post(
        "/webhooks/sandbox", content=body, headers={"x-sandbox-signature": plugin.sign(body)}
    )
    assert ok.status_code == 200 and ok.json()["changed"] == 1
    assert api.number(n["id"])["verified_cli"] is True


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("unavailable", 503, "provider_unavailable"),
        ("rate_limited", 429, "provider_rate_limited"),
        ("rejected", 502, "provider_rejected"),
        ("auth", 502, "provider_auth_failed"),
    ],
)
def test_simulated_faults(make_api: Any, fault: str, status: int, code: str) -> None:
    api = make_api(
        plugins=["sandbox"], tables={"sandbox": {"fail_operations": {"verify_cli": fault}}}
    )
    n = _add(api, "+14155550107")
    r = api.client.post(VERIFY, json={"number_id": n["id"]})
    assert r.status_code == status and r.json()["code"] == code
    assert api.number(n["id"])["verification_status"] == "none"


def test_unknown_setting_is_refused(make_api: Any) -> None:
    from core import PluginLoadError

    with pytest.raises(
        PluginLoadError, match="plugin 'sandbox': invalid settings: setting 'colour'"
    ):
        make_api(plugins=["sandbox"], tables={"sandbox": {"colour": "blue"}})
