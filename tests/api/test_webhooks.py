"""``POST /webhooks/{provider}``: signature first, then verification and call events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core import ProviderEvent, WebhookRequest, hookimpl
from tests.fakes import FakeCarrier, sign

BASE_URL = "https://tl.example"
CALLER = "+14155550100"


class CapturingCarrier(FakeCarrier):
    """Keeps every ``WebhookRequest`` it was handed."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.requests: list[WebhookRequest] = []

    @hookimpl
    def parse_webhook(self, request: WebhookRequest) -> list[ProviderEvent]:
        self.requests.append(request)
        return super().parse_webhook(request)


@pytest.fixture
def env(make_api: Any) -> tuple[Any, CapturingCarrier]:
    fake = CapturingCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake},
        env={"TRUNKLINE_PUBLIC_BASE_URL": BASE_URL + "/"},
    )
    return api, fake


def payload(kind: str, phone: str | None = None, ref: str | None = None, **data: Any) -> bytes:
    return json.dumps({"kind": kind, "phone": phone, "ref": ref, "data": data}).encode()


def post(
    api: Any, body: bytes, signature: str | None = "good", path: str = "/webhooks/fake"
) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Fake-Signature"] = sign(body) if signature == "good" else signature
    return api.anon.post(path, content=body, headers=headers)


def pending(api: Any, e164: str = CALLER, ref: str | None = "VN-7", **kw: Any) -> dict[str, Any]:
    fields = {"verification_status": "pending", "verification_ref": ref, **kw}
    return api.add_number(e164, "fake", **fields)


def test_parse_webhook_gets_public_url_lowercase_headers_and_raw_body(env: Any) -> None:
    api, fake = env
    body = b'{"kind":  "call_status",   "ref": "none", "data": {}}\n'
    r = api.anon.post(
        "/webhooks/fake?attempt=2&x=y",
        content=body,
        headers={"X-Fake-Signature": sign(body), "X-Custom-Thing": "Mixed-Case"},
    )
    assert r.status_code == 200, r.text
    (request,) = fake.requests
    assert request.url == f"{BASE_URL}/webhooks/fake?attempt=2&x=y"
    assert request.method == "POST"
    assert request.body == body
    assert request.headers["x-fake-signature"] == sign(body)
    assert request.headers["x-custom-thing"] == "Mixed-Case"
    assert all(name == name.lower() for name in request.headers)
    assert r.json() == {"ok": True, "events": 1, "changed": 0}


def test_the_url_follows_the_configured_public_base_url(make_api: Any) -> None:
    fake = CapturingCarrier()
    api = make_api(
        plugins=[],
        extra={"fake": fake},
        env={"TRUNKLINE_PUBLIC_BASE_URL": "https://hooks.example.org/tl"},
    )
    assert post(api, payload("call_status", ref="x")).status_code == 200
    assert fake.requests[0].url == "https://hooks.example.org/tl/webhooks/fake"


@pytest.mark.parametrize("signature", ["bad", "", None])
def test_bad_signature_is_403_and_changes_nothing(env: Any, signature: str | None) -> None:
    api, fake = env
    n = pending(api)
    before = api.number(n["id"])
    audit_before = api.audit()
    r = post(api, payload("verification_succeeded", ref="VN-7"), signature=signature)
    assert r.status_code == 403 and r.json()["code"] == "webhook_signature_invalid"
    assert fake.calls["parse_webhook"] == 1
    assert api.number(n["id"]) == before
    assert api.audit() == audit_before


def test_signed_event_verifies_a_pending_number_by_reference(env: Any) -> None:
    api, _ = env
    n = pending(api)
    other = pending(api, "+14155550101", ref="VN-8")
    r = post(api, payload("verification_succeeded", ref="VN-7"))
    assert r.status_code == 200 and r.json() == {"ok": True, "events": 1, "changed": 1}
    row = api.number(n["id"])
    assert row["verified_cli"] is True and row["verification_status"] == "verified"
    assert row["verified_at"] is not None
    assert api.number(other["id"])["verification_status"] == "pending"
    hook, verified = api.audit()
    assert hook["action"] == "webhook_received" and hook["outcome"] == "accepted"
    assert hook["actor"] == "carrier:fake" and hook["detail"]["events"] == [
        "verification_succeeded"
    ]
    assert verified["action"] == "verification_succeeded" and verified["outcome"] == "verified"
    assert verified["subject_id"] == n["id"] and verified["workspace_id"] == api.workspace_id
    # the same callback again changes nothing more
    r = post(api, payload("verification_succeeded", ref="VN-7"))
    assert r.json()["changed"] == 0
    assert len(api.audit(action="verification_succeeded")) == 1


def test_signed_event_verifies_a_pending_number_by_phone(env: Any) -> None:
    api, _ = env
    n = pending(api, ref=None)
    idle = api.add_number("+14155550101", "fake")  # never started: not matched by phone
    r = post(api, payload("verification_succeeded", phone=CALLER, ref="CA-unknown"))
    assert r.json()["changed"] == 1
    assert api.number(n["id"])["verified_cli"] is True
    assert api.number(n["id"])["verification_ref"] == "CA-unknown"
    r = post(api, payload("verification_succeeded", phone="+14155550101"))
    assert r.json()["changed"] == 0
    assert api.number(idle["id"])["verification_status"] == "none"


def test_events_of_one_provider_leave_other_providers_numbers_alone(make_api: Any) -> None:
    api = make_api(plugins=[], extra={"fake": FakeCarrier(), "other": FakeCarrier(name="other")})
    mine = api.add_number(CALLER, "fake", verification_status="pending", verification_ref="R1")
    theirs = api.add_number(
        CALLER, "other", workspace="b", verification_status="pending", verification_ref="R1"
    )
    r = post(api, payload("verification_succeeded", phone=CALLER, ref="R1"))
    assert r.json()["changed"] == 1
    assert api.number(mine["id"])["verified_cli"] is True
    assert api.number(theirs["id"])["verified_cli"] is False


def test_verification_failed_removes_the_outbound_binding(env: Any) -> None:
    api, _ = env
    n = api.add_number(
        CALLER,
        "fake",
        verified_cli=True,
        verification_status="verified",
        verification_ref="VN-7",
        outbound_enabled=True,
        outbound_agent_id="agent-1",
    )
    c = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()
    r = post(api, payload("verification_failed", ref="VN-7", detail="revoked by carrier"))
    assert r.json()["changed"] == 1
    row = api.number(n["id"])
    assert row["verification_status"] == "failed" and row["verified_cli"] is False
    assert row["outbound_enabled"] is False
    assert row["verification_detail"] == "revoked by carrier"
    (event,) = api.audit(action="verification_failed")
    assert event["outcome"] == "failed" and event["subject_id"] == n["id"]
    assert event["detail"]["outbound_enabled"] is False and event["detail"]["verified_cli"] is False
    # the campaign's test call is now refused by the policy
    r = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+12125550123"})
    assert r.status_code == 409
    assert r.json()["reasons"] == ["outbound_disabled", "caller_id_not_allowed"]


def test_verification_failed_on_a_pending_number(env: Any) -> None:
    api, _ = env
    n = pending(api)
    r = post(api, payload("verification_failed", phone=CALLER))
    assert r.json()["changed"] == 1
    row = api.number(n["id"])
    assert row["verification_status"] == "failed" and row["outbound_enabled"] is False
    assert row["verification_detail"] == "verification failed"


def test_verification_events_do_not_touch_hosted_numbers(env: Any) -> None:
    api, _ = env
    n = api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True, verification_ref="VN-7")
    before = api.number(n["id"])
    r = post(api, payload("verification_failed", ref="VN-7"))
    assert r.status_code == 200 and r.json()["changed"] == 0
    assert api.number(n["id"]) == before
    assert api.audit(action="verification_failed") == []


def test_call_status_updates_the_call(env: Any) -> None:
    api, _ = env
    api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    c = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()
    call = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+12125550123"}).json()
    assert call["status"] == "queued"
    r = post(api, payload("call_status", ref="CALL-1", status="ringing"))
    assert r.json()["changed"] == 1
    r = post(api, payload("call_status", ref="CALL-1", status="completed"))
    assert r.json()["changed"] == 1
    (row,) = api.calls()
    assert row["status"] == "completed"
    events = api.audit(action="call_status")
    assert [e["outcome"] for e in events] == ["ringing", "completed"]
    assert {e["subject_id"] for e in events} == {call["id"]}
    # a repeated status, or one for a call we never placed, changes nothing
    assert (
        post(api, payload("call_status", ref="CALL-1", status="completed")).json()["changed"] == 0
    )
    assert post(api, payload("call_status", ref="CALL-404", status="busy")).json()["changed"] == 0
    assert api.calls()[0]["status"] == "completed"


def test_webhook_needs_no_api_key_and_unknown_provider_is_a_problem(env: Any) -> None:
    api, fake = env
    r = post(api, payload("call_status", ref="x"), path="/webhooks/nope")
    assert r.status_code == 422 and r.json()["code"] == "unknown_provider"
    assert "parse_webhook" not in fake.calls
    assert post(api, payload("call_status", ref="x")).status_code == 200
