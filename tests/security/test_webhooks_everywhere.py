"""Issue 13, holes 4, 5 and 7, on every webhook route of the OpenAPI document and every
provider that takes webhooks: forged, signed-but-malformed, deep, huge and undecodable bodies
are 4xx problems with a stable code (never a 5xx, never blamed on the carrier), and a signed
event naming only a phone number never changes a verified number."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from nacl.signing import SigningKey

from tests.fakes import FakeCarrier, sign
from tests.twilio.fake_twilio import twilio_signature

from .openapi_walk import operations

PUBLIC = "https://tl.example.com"
SANDBOX_SECRET = b"security-sandbox-secret"
TW_TOKEN = "security-twilio-token-42"
TX_SIGNER = SigningKey.generate()
#: The sandbox's former default secret, shipped in the source.
SHIPPED_SECRET = b"sandbox-webhook-secret"
#: What a refused webhook may answer; anything else (a 5xx, 502 provider_*) is a hole.
REFUSALS = {
    403: {"webhook_signature_invalid"},
    413: {"webhook_too_large"},
    422: {"webhook_malformed"},
}
VERIFIED = "+14155550102"

Signer = Callable[[str, bytes], tuple[str, dict[str, str]]]


def _sandbox(path: str, body: bytes) -> tuple[str, dict[str, str]]:
    digest = hmac.new(SANDBOX_SECRET, body, hashlib.sha256).hexdigest()
    return path, {"content-type": "application/json", "x-sandbox-signature": digest}


def _twilio(path: str, body: bytes) -> tuple[str, dict[str, str]]:
    """JSON bodies as Twilio signs them (``bodySHA256`` in the URL); form bodies otherwise."""
    if body[:1] in (b"{", b"[", b'"'):
        path = f"{path}?bodySHA256={hashlib.sha256(body).hexdigest()}"
        sig = twilio_signature(TW_TOKEN, PUBLIC + path, {})
        return path, {"content-type": "application/json", "x-twilio-signature": sig}
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    sig = twilio_signature(TW_TOKEN, PUBLIC + path, params)
    return path, {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": sig,
    }


def _telnyx(path: str, body: bytes) -> tuple[str, dict[str, str]]:
    stamp = str(int(time.time()))
    signature = TX_SIGNER.sign(stamp.encode() + b"|" + body).signature
    return path, {
        "content-type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": stamp,
    }


def _fake(path: str, body: bytes) -> tuple[str, dict[str, str]]:
    return path, {"content-type": "application/json", "x-fake-signature": sign(body)}


SIGNERS: dict[str, Signer] = {
    "sandbox": _sandbox,
    "twilio": _twilio,
    "telnyx": _telnyx,
    "fake": _fake,
}
MALFORMED = {
    "not json": b"this is not json",
    "a json array": b"[1, 2, 3]",
    "an unknown kind": b'{"kind": "nonsense"}',
    "a json string": b'"verification_succeeded"',
    "undecodable bytes": b"\xff\xfe\xfa\x00{",
    "100,000 levels deep": b"[" * 100_000 + b"]" * 100_000,
    "deep objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "too large": b'{"kind": "call_status", "pad": "' + b"x" * 400_000 + b'"}',
}


@pytest.fixture
def world(make_api: Any) -> Any:
    api = make_api(
        plugins=["sandbox", "twilio", "telnyx"],
        tables={
            "sandbox": {"webhook_secret": {"env": "SB_SECRET"}},
            "twilio": {"account_sid": "AC" + "c" * 32, "auth_token": {"env": "TW_TOKEN"}},
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
    routes = [op.path for op in operations(api.app.openapi()) if op.path.startswith("/webhooks/")]
    assert routes == ["/webhooks/{provider}"]
    providers = [
        p["name"]
        for p in api.client.get("/settings/telephony/providers").json()
        if "webhooks" in p["capabilities"]
    ]
    assert sorted(providers) == sorted(SIGNERS)  # a new provider needs its signer here
    return api, routes, providers


def _assert_refused(r: Any, what: str) -> None:
    assert r.status_code in REFUSALS, (what, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/problem+json"), what
    assert r.json()["code"] in REFUSALS[r.status_code], (what, r.text[:300])
    assert "Input should be" not in r.text and "pydantic" not in r.text, what


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_signed_malformed_bodies_are_4xx_problems_everywhere(world: Any, kind: str) -> None:
    api, routes, providers = world
    body = MALFORMED[kind]
    for route in routes:
        for provider in providers:
            path, headers = SIGNERS[provider](route.replace("{provider}", provider), body)
            r = api.anon.post(path, content=body, headers=headers)
            if r.status_code == 200:
                # Twilio's callbacks are forms: any body is a form, of fields nobody acts on
                assert provider == "twilio", (provider, kind, r.text)
                assert r.json()["events"] == 0 and r.json()["changed"] == 0, (kind, r.text)
                continue
            _assert_refused(r, f"{provider}: {kind}")
    assert api.audit(action="webhook_received") == [] or all(
        e["provider"] == "twilio" for e in api.audit(action="webhook_received")
    )


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_unsigned_bodies_are_4xx_problems_everywhere(world: Any, kind: str) -> None:
    api, routes, providers = world
    body = MALFORMED[kind]
    for route in routes:
        for provider in providers:
            for content_type in ("application/json", "application/x-www-form-urlencoded", None):
                headers = {"content-type": content_type} if content_type else {}
                r = api.anon.post(
                    route.replace("{provider}", provider), content=body, headers=headers
                )
                _assert_refused(r, f"{provider} {content_type}: {kind}")
    assert api.audit(action="webhook_received") == []


def test_the_shipped_sandbox_secret_signs_nothing(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    n = api.add_number(
        VERIFIED,
        "sandbox",
        verified_cli=True,
        verification_status="verified",
        outbound_enabled=True,
    )
    body = json.dumps({"kind": "verification_failed", "phone_e164": VERIFIED}).encode()
    forged = hmac.new(SHIPPED_SECRET, body, hashlib.sha256).hexdigest()
    r = api.anon.post("/webhooks/sandbox", content=body, headers={"x-sandbox-signature": forged})
    _assert_refused(r, "sandbox without a secret")
    assert r.status_code == 403
    assert api.number(n["id"])["verified_cli"] is True


def _phone_only_failure(provider: str, phone: str) -> bytes:
    if provider == "twilio":
        return urlencode({"VerificationStatus": "failed", "To": phone}).encode()
    if provider == "fake":
        return json.dumps({"kind": "verification_failed", "phone": phone}).encode()
    return json.dumps({"kind": "verification_failed", "phone_e164": phone}).encode()


def test_a_signed_phone_only_failure_never_unverifies_a_number(world: Any) -> None:
    """Every provider whose callbacks can name a verification by phone alone, in either
    workspace: a verified number stays verified."""
    api, routes, providers = world
    tried = []
    for i, provider in enumerate(p for p in providers if p != "telnyx"):  # Telnyx: calls only
        for workspace in ("a", "b"):
            phone = f"+1415555012{2 * i + (workspace == 'b')}"
            n = api.add_number(
                phone,
                provider,
                workspace=workspace,
                verified_cli=True,
                verification_status="verified",
                verification_ref=f"REF-{provider}-{workspace}",
                outbound_enabled=True,
            )
            before = api.number(n["id"])
            body = _phone_only_failure(provider, phone)
            for route in routes:
                path, headers = SIGNERS[provider](route.replace("{provider}", provider), body)
                r = api.anon.post(path, content=body, headers=headers)
                assert r.status_code == 200 and r.json()["changed"] == 0, (provider, r.text)
            assert api.number(n["id"]) == before
            tried.append(provider)
    assert sorted(set(tried)) == ["fake", "sandbox", "twilio"]
    assert api.audit(action="verification_failed") == []
