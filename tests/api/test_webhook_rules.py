"""Issue 13, holes 4, 5 and 7: no default sandbox secret, events matched by reference first
(a phone number alone only completes or fails one workspace's pending verification), and every
malformed webhook body a 4xx problem with a stable code, refused early when huge or deep."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import time
from typing import Any

import pytest
from nacl.signing import SigningKey

from core import ProviderEvent, WebhookRequest, hookimpl
from tests.fakes import FakeCarrier, sign
from tests.twilio.fake_twilio import twilio_signature

CALLER = "+14155550100"
PUBLIC = "https://tl.example.com"
TW_SID = "AC" + "b" * 32
TW_TOKEN = "twilio-test-token-9876543210"
TX_SIGNER = SigningKey.generate()
#: The constant the sandbox shipped as its default webhook secret before issue 13.
OLD_DEFAULT_SECRET = b"sandbox-webhook-secret"
DEEP = b"[" * 100_000 + b"]" * 100_000


def fake_payload(kind: str, phone: str | None = None, ref: str | None = None, **data: Any) -> bytes:
    return json.dumps({"kind": kind, "phone": phone, "ref": ref, "data": data}).encode()


def post_fake(api: Any, body: bytes) -> Any:
    return api.anon.post(
        "/webhooks/fake",
        content=body,
        headers={"content-type": "application/json", "x-fake-signature": sign(body)},
    )


@pytest.fixture
def fake_api(make_api: Any) -> Any:
    return make_api(plugins=[], extra={"fake": FakeCarrier()})


# -- hole 5: events matched by phone ----------------------------------------------------------


def test_a_phone_only_failure_never_unverifies_a_verified_number(fake_api: Any) -> None:
    api = fake_api
    n = api.add_number(
        CALLER,
        "fake",
        verified_cli=True,
        verification_status="verified",
        verification_ref="VN-A",
        outbound_enabled=True,
    )
    before = api.number(n["id"])
    r = post_fake(api, fake_payload("verification_failed", phone=CALLER))
    assert r.status_code == 200 and r.json()["changed"] == 0
    assert api.number(n["id"]) == before
    assert api.audit(action="verification_failed") == []
    # with a reference that is not this number's, neither
    r = post_fake(api, fake_payload("verification_failed", phone=CALLER, ref="VN-other"))
    assert r.json()["changed"] == 0 and api.number(n["id"]) == before


def test_a_phone_only_event_never_touches_another_workspaces_verified_number(
    fake_api: Any,
) -> None:
    api = fake_api
    a = api.add_number(
        CALLER, "fake", verified_cli=True, verification_status="verified", verification_ref="VN-A"
    )
    b = api.add_number(CALLER, "fake", workspace="b", verification_status="pending")
    r = post_fake(api, fake_payload("verification_failed", phone=CALLER))
    assert r.json()["changed"] == 1
    assert api.number(a["id"])["verified_cli"] is True  # A's verified number is left alone
    assert api.number(b["id"])["verification_status"] == "failed"  # B started this one
    (event,) = api.audit(action="verification_failed")
    assert event["workspace_id"] == api.workspace_b_id


def test_a_phone_only_event_matching_two_workspaces_changes_neither(fake_api: Any) -> None:
    api = fake_api
    a = api.add_number(CALLER, "fake", verification_status="pending")
    b = api.add_number(CALLER, "fake", workspace="b", verification_status="pending")
    for kind in ("verification_succeeded", "verification_failed"):
        r = post_fake(api, fake_payload(kind, phone=CALLER))
        assert r.status_code == 200 and r.json()["changed"] == 0
    for n in (a, b):
        row = api.number(n["id"])
        assert row["verification_status"] == "pending" and row["verified_cli"] is False


def test_a_phone_event_naming_another_reference_leaves_a_pending_number(fake_api: Any) -> None:
    api = fake_api
    n = api.add_number(CALLER, "fake", verification_status="pending", verification_ref="VN-7")
    r = post_fake(api, fake_payload("verification_succeeded", phone=CALLER, ref="VN-forged"))
    assert r.json()["changed"] == 0
    assert api.number(n["id"])["verified_cli"] is False
    r = post_fake(api, fake_payload("verification_succeeded", phone=CALLER, ref="VN-7"))
    assert r.json()["changed"] == 1 and api.number(n["id"])["verified_cli"] is True


# -- hole 4: the sandbox has no default webhook secret ----------------------------------------


def _sandbox_body(number: dict[str, Any], kind: str) -> bytes:
    return json.dumps(
        {"kind": kind, "phone_e164": number["phone_e164"], "provider_ref": None}
    ).encode()


def test_without_a_configured_secret_sandbox_webhooks_are_refused(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    pending = api.add_number("+14155550101", "sandbox", verification_status="pending")
    verified = api.add_number(
        "+14155550102",
        "sandbox",
        verified_cli=True,
        verification_status="verified",
        outbound_enabled=True,
    )
    for number, kind in ((pending, "verification_succeeded"), (verified, "verification_failed")):
        body = _sandbox_body(number, kind)
        forged = hmac.new(OLD_DEFAULT_SECRET, body, hashlib.sha256).hexdigest()
        r = api.anon.post(
            "/webhooks/sandbox", content=body, headers={"x-sandbox-signature": forged}
        )
        assert r.status_code == 403 and r.json()["code"] == "webhook_signature_invalid"
    assert api.number(pending["id"])["verification_status"] == "pending"
    assert api.number(verified["id"])["verified_cli"] is True
    assert api.audit(action="webhook_received") == []
    (status,) = api.client.get("/settings/telephony/providers").json()
    assert "no webhook_secret" in status["detail"]


def test_a_configured_secret_signs_sandbox_webhooks(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"webhook_secret": {"env": "SB_SECRET"}}},
        env={"SB_SECRET": "a-secret-of-this-deployment"},
    )
    n = api.add_number("+14155550101", "sandbox", verification_status="pending")
    body = _sandbox_body(n, "verification_succeeded")
    good = hmac.new(b"a-secret-of-this-deployment", body, hashlib.sha256).hexdigest()
    old = hmac.new(OLD_DEFAULT_SECRET, body, hashlib.sha256).hexdigest()
    r = api.anon.post("/webhooks/sandbox", content=body, headers={"x-sandbox-signature": old})
    assert r.status_code == 403
    r = api.anon.post("/webhooks/sandbox", content=body, headers={"x-sandbox-signature": good})
    assert r.status_code == 200 and r.json()["changed"] == 1


# -- hole 7: malformed bodies are 4xx problems -------------------------------------------------

SANDBOX_SECRET = b"sandbox-test-secret"


@pytest.fixture
def carriers(make_api: Any) -> Any:
    """Sandbox (with a secret), Twilio and Telnyx (configured) and the fake, in one app."""
    return make_api(
        plugins=["sandbox", "twilio", "telnyx"],
        tables={
            "sandbox": {"webhook_secret": {"env": "SB_SECRET"}},
            "twilio": {"account_sid": TW_SID, "auth_token": {"env": "TW_TOKEN"}},
            "telnyx": {"api_key": {"env": "TX_KEY"}, "public_key": {"env": "TX_PUB"}},
        },
        env={
            "SB_SECRET": SANDBOX_SECRET.decode(),
            "TW_TOKEN": TW_TOKEN,
            "TX_KEY": "KEY-test",
            "TX_PUB": base64.b64encode(bytes(TX_SIGNER.verify_key)).decode(),
            "TRUNKLINE_PUBLIC_BASE_URL": PUBLIC,
        },
        extra={"fake": FakeCarrier()},
    )


def signed_sandbox(body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "x-sandbox-signature": hmac.new(SANDBOX_SECRET, body, hashlib.sha256).hexdigest(),
    }


def signed_twilio_json(body: bytes) -> tuple[str, dict[str, str]]:
    """A JSON callback signed as Twilio does: ``bodySHA256`` in the URL, the URL signed."""
    query = f"bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = twilio_signature(TW_TOKEN, f"{PUBLIC}/webhooks/twilio?{query}", {})
    return f"/webhooks/twilio?{query}", {
        "content-type": "application/json",
        "x-twilio-signature": signature,
    }


def signed_telnyx(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = TX_SIGNER.sign(stamp.encode() + b"|" + body).signature
    return {
        "content-type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": stamp,
    }


def assert_problem(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["code"] == code, problem
    # never a raw pydantic dump, never blamed on the carrier
    assert "pydantic" not in r.text and "Input should be" not in r.text
    assert "provider" not in problem or problem["code"] != "provider_rejected"


def test_signed_sandbox_bodies_that_are_not_events_are_422(carriers: Any) -> None:
    api = carriers
    for body in (
        b'{"kind": "nonsense"}',
        b"not json",
        b"[]",
        b'{"kind": "verification_succeeded", "phone_e164": 5}',
        b'{"kind": "call_status", "data": "x"}',
        b"\xff\xfe\x00",
    ):
        r = api.anon.post("/webhooks/sandbox", content=body, headers=signed_sandbox(body))
        assert_problem(r, 422, "webhook_malformed")
    assert api.audit(action="webhook_received") == []


def test_a_json_body_to_the_twilio_webhook_is_a_4xx(carriers: Any) -> None:
    api = carriers
    body = b'{"VerificationStatus": "success", "To": "+14155550100"}'
    # unsigned, or signed as a form although it is JSON: the signature cannot hold
    for signature in ("x", twilio_signature(TW_TOKEN, f"{PUBLIC}/webhooks/twilio", {})):
        r = api.anon.post(
            "/webhooks/twilio",
            content=body,
            headers={"content-type": "application/json", "x-twilio-signature": signature},
        )
        assert_problem(r, 403, "webhook_signature_invalid")
    # signed the way Twilio signs JSON, but not JSON or not an object
    for bad in (b"{not json", b"[1, 2]"):
        path, headers = signed_twilio_json(bad)
        assert_problem(api.anon.post(path, content=bad, headers=headers), 422, "webhook_malformed")
    path, headers = signed_twilio_json(body)
    r = api.anon.post(path, content=body, headers=headers)
    assert r.status_code == 200, r.text


def test_signed_telnyx_garbage_is_422(carriers: Any) -> None:
    api = carriers
    for body in (b"garbage", b"[]", b'{"data": "x"}', b'{"data": {"payload": 7}}', b"{}"):
        r = api.anon.post("/webhooks/telnyx", content=body, headers=signed_telnyx(body))
        assert_problem(r, 422, "webhook_malformed")
    unknown = b'{"data": {"event_type": "number_order.complete", "payload": {}}}'
    r = api.anon.post("/webhooks/telnyx", content=unknown, headers=signed_telnyx(unknown))
    assert r.status_code == 200 and r.json()["events"] == 0


@pytest.mark.parametrize("provider", ["sandbox", "twilio", "telnyx", "fake"])
def test_a_deep_body_is_refused_before_any_plugin_parses_it(carriers: Any, provider: str) -> None:
    api = carriers
    headers = {
        "sandbox": signed_sandbox(DEEP),
        "telnyx": signed_telnyx(DEEP),
        "fake": {"content-type": "application/json", "x-fake-signature": sign(DEEP)},
    }.get(provider)
    path = f"/webhooks/{provider}"
    if provider == "twilio":
        path, headers = signed_twilio_json(DEEP)
    r = api.anon.post(path, content=DEEP, headers=headers)
    assert_problem(r, 422, "webhook_malformed")
    assert "nests deeper" in r.json()["detail"]
    fake = api.host.pm.get_plugin("fake")
    assert "parse_webhook" not in fake.calls


def test_brackets_inside_json_strings_are_text(carriers: Any) -> None:
    api = carriers
    body = json.dumps({"kind": "call_status", "provider_ref": "[" * 500, "data": {}}).encode()
    r = api.anon.post("/webhooks/sandbox", content=body, headers=signed_sandbox(body))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("provider", ["sandbox", "twilio", "telnyx", "fake"])
def test_a_huge_body_is_413(carriers: Any, provider: str) -> None:
    api = carriers
    body = b'{"kind": "call_status", "data": {"pad": "' + b"x" * 300_000 + b'"}}'
    r = api.anon.post(f"/webhooks/{provider}", content=body, headers=signed_sandbox(body))
    assert_problem(r, 413, "webhook_too_large")

    def chunks() -> Any:  # no Content-Length: refused while reading
        for _ in range(40):
            yield b"x" * 10_000

    r = api.anon.post(f"/webhooks/{provider}", content=chunks())
    assert_problem(r, 413, "webhook_too_large")


class LeakyCarrier(FakeCarrier):
    """A plugin that lets its parser's errors escape (it should raise WebhookMalformed)."""

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        data = json.loads(request.body)
        return [ProviderEvent(provider=self.name, kind=data["kind"])]


def test_a_plugin_error_on_a_body_is_422_not_500(make_api: Any, caplog: Any) -> None:
    api = make_api(plugins=[], extra={"leaky": LeakyCarrier(name="leaky")})
    caplog.set_level(logging.WARNING, logger="trunkline")
    for body in (b"{}", b"nope", b'{"kind": "other"}'):
        r = api.anon.post("/webhooks/leaky", content=body)
        assert_problem(r, 422, "webhook_malformed")
    assert any("could not read the body" in rec.getMessage() for rec in caplog.records)


# -- every 500 carries the request id ----------------------------------------------------------


def test_an_unhandled_error_answers_and_logs_its_request_id(make_api: Any) -> None:
    from api.logging import JsonFormatter

    fake = FakeCarrier()
    fake.fail["place_call"] = RuntimeError("a bug in a plugin")
    api = make_api(plugins=[], extra={"fake": fake})
    api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    cid = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()["id"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("trunkline")
    root.addHandler(handler)
    try:
        answers = [
            api.client.post(f"/campaigns/{cid}/test-call", json={"to": "+12125550123"}, headers=h)
            for h in ({"X-Request-ID": "req-500-check"}, {})
        ]
    finally:
        root.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    logged = [line for line in lines if "unhandled error" in line["message"]]
    assert len(logged) == 2
    for r, line in zip(answers, logged, strict=True):
        assert r.status_code == 500 and r.json()["code"] == "internal_error"
        rid = r.headers["X-Request-ID"]
        assert r.json()["request_id"] == rid
        assert line["request_id"] == rid and rid in line["message"]
        assert "a bug in a plugin" in line["exception"]
    assert answers[0].headers["X-Request-ID"] == "req-500-check"
    assert len(answers[1].headers["X-Request-ID"]) == 32
