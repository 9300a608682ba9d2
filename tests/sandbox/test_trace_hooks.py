"""TRUNKLINE_TRACE_HOOKS=1 logs every hook call (plugin, arguments, result, duration) on the
logger ``trunkline.trace``, and no secret from settings or arguments ever appears in it."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

SETTINGS_SECRET = "sandbox-trace-secret-0xC0FFEE"
HEADER_SECRET = "bearer-trace-token-0xBEEF"


def _api(make_api: Any, trace: bool) -> Any:
    env = {"SB_WEBHOOK_SECRET": SETTINGS_SECRET}
    if trace:
        env["TRUNKLINE_TRACE_HOOKS"] = "1"
    return make_api(
        plugins=["sandbox", "country_rules"],
        tables={
            "sandbox": {
                "verification_style": "sms",
                "webhook_secret": {"env": "SB_WEBHOOK_SECRET"},
                "callback_delay_seconds": 60,
            },
            "country_rules": {"blocked": ["KP"]},
        },
        env=env,
    )


def _exercise(api: Any) -> dict[str, Any]:
    n = api.client.post(
        "/settings/telephony/numbers", json={"e164": "+14155550111", "provider": "sandbox"}
    ).json()
    started = api.client.post(
        "/settings/telephony/numbers/verify-cli", json={"number_id": n["id"]}
    ).json()
    assert started["status"] == "pending"
    body = json.dumps({"kind": "verification_succeeded", "phone_e164": "+14155550111"}).encode()
    signature = hmac.new(SETTINGS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    hook = api.anon.post(
        "/webhooks/sandbox",
        content=body,
        headers={"x-sandbox-signature": signature, "authorization": f"Bearer {HEADER_SECRET}"},
    )
    assert hook.status_code == 200, hook.text
    check = api.client.post("/outbound/check", json={"number_id": n["id"], "to": "+85023812222"})
    assert check.status_code == 200 and "country_blocked" in check.json()["reasons"]
    return dict(n)


def test_every_hook_call_is_traced_without_secrets(
    make_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api = _api(make_api, trace=True)
    with caplog.at_level("DEBUG"):
        _exercise(api)
    trace = [r.getMessage() for r in caplog.records if r.name == "trunkline.trace"]
    verify = next(line for line in trace if line.startswith("hook verify_cli "))
    assert "plugin=sandbox" in verify and "'phone_e164': '+14155550111'" in verify
    assert "outcome=ok" in verify and "'status': 'pending'" in verify and "duration_ms=" in verify
    webhook = next(line for line in trace if line.startswith("hook parse_webhook "))
    assert "x-sandbox-signature" in webhook and "'authorization': '**********'" in webhook
    assert "'kind': 'verification_succeeded'" in webhook
    assert any(
        line.startswith("hook is_country_outbound_blocked") and "'country_code': 'KP'" in line
        for line in trace
    )
    everything = caplog.text + "\n".join(trace)
    assert SETTINGS_SECRET not in everything
    assert HEADER_SECRET not in everything


def test_no_trace_unless_asked(make_api: Any, caplog: pytest.LogCaptureFixture) -> None:
    api = _api(make_api, trace=False)
    with caplog.at_level("DEBUG"):
        _exercise(api)
    assert not [r for r in caplog.records if r.name == "trunkline.trace"]


def test_verification_codes_are_redacted_from_the_trace(
    make_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The code a user submits (Telnyx's style) and the code shown to type into a call
    (Twilio's ``display_code``) are redacted from traced arguments and results alike."""
    from tests.fakes import FakeCarrier

    caller = FakeCarrier(name="caller", style="call")  # answers display_code "012345"
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"verification_style": "sms", "fixed_code": "482913"}},
        extra={"caller": caller},
        env={"TRUNKLINE_TRACE_HOOKS": "1"},
    )
    texted = api.client.post(
        "/settings/telephony/numbers", json={"e164": "+14155550111", "provider": "sandbox"}
    ).json()
    called = api.add_number("+14155550122", "caller")
    url = "/settings/telephony/numbers/verify-cli"
    with caplog.at_level("DEBUG"):
        sms = api.client.post(url, json={"number_id": texted["id"]}).json()
        wrong = api.client.post(url, json={"number_id": texted["id"], "code": "777123"})
        right = api.client.post(url, json={"number_id": texted["id"], "code": "482913"})
        call = api.client.post(url, json={"number_id": called["id"]}).json()
    assert sms["display_code"] == "482913" and call["display_code"] == "012345"
    assert wrong.json()["status"] == "pending" and right.json()["verified_cli"] is True
    trace = [r.getMessage() for r in caplog.records if r.name == "trunkline.trace"]
    verifies = [line for line in trace if line.startswith("hook verify_cli ")]
    assert len(verifies) == 4
    assert sum("'code': '**********'" in line for line in verifies) == 2
    assert sum("'display_code': '**********'" in line for line in verifies) == 2
    text = "\n".join(trace)
    for code in ("482913", "777123", "012345"):
        assert code not in text, code
