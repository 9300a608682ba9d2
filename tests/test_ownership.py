"""One number, one owner: a number is hosted or a verified caller ID in at most one workspace.

Every test here crosses two workspaces (A and B) of one deployment: the carrier's account is
shared by both, so what one workspace proved or bought must never count for the other.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from tests.fakes import FakeCarrier, sign

NUMBERS = "/settings/telephony/numbers"
VERIFY = f"{NUMBERS}/verify-cli"
PURCHASE = f"{NUMBERS}/purchase"
AVAILABLE = f"{NUMBERS}/available"


def _add(client: Any, e164: str, provider: str) -> dict[str, Any]:
    r = client.post(NUMBERS, json={"e164": e164, "provider": provider})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _unchanged(api: Any, number_id: str) -> None:
    row = api.number(number_id)
    assert row["verified_cli"] is False and row["hosted"] is False
    assert row["verification_status"] != "verified"


# -- the sandbox's shared account ----------------------------------------------------------------


@pytest.fixture
def sandbox(make_api: Any) -> Any:
    return make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"verification_style": "sms", "webhook_secret": "ownership-secret"}},
    )


def _verify_by_sms(client: Any, number_id: str) -> dict[str, Any]:
    started = client.post(VERIFY, json={"number_id": number_id}).json()
    assert started["status"] == "pending" and started["next_step"] == "submit_code", started
    code = started["display_code"]
    done: dict[str, Any] = client.post(VERIFY, json={"number_id": number_id, "code": code}).json()
    return done


def test_a_number_verified_by_one_workspace_is_not_verified_for_another(sandbox: Any) -> None:
    """Hole 1: B adds A's verified number and asks to verify it, with no code and nobody
    answering. The sandbox account lists the number as verified; B must not be."""
    api = sandbox
    a = _add(api.client, "+14155550101", "sandbox")
    assert _verify_by_sms(api.client, a["id"])["verified_cli"] is True
    b = _add(api.client_b, "+14155550101", "sandbox")  # BYO in a second workspace: allowed
    r = api.client_b.post(VERIFY, json={"number_id": b["id"]})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "number_claimed"
    _unchanged(api, b["id"])
    assert api.number(b["id"])["verification_status"] == "none"
    # B's preflight and binding still refuse the number
    check = api.client_b.post("/outbound/check", json={"from": "+14155550101"}).json()
    assert check["allowed"] is False and "caller_id_not_allowed" in check["reasons"]
    bind = api.client_b.patch(f"{NUMBERS}/{b['id']}", json={"outbound_enabled": True})
    assert bind.status_code == 409
    (refused,) = api.audit(action="verification_error", workspace_id=uuid.UUID(api.workspace_b_id))
    assert refused["outcome"] == "number_claimed"


def test_an_orphaned_carrier_record_needs_the_full_flow(sandbox: Any) -> None:
    """Once A lets the number go, B may verify it, but only by receiving and submitting the
    code itself: the record A's verification left at the carrier proves nothing for B."""
    api = sandbox
    a = _add(api.client, "+14155550101", "sandbox")
    assert _verify_by_sms(api.client, a["id"])["verified_cli"] is True
    assert api.client.delete(f"{NUMBERS}/{a['id']}").status_code == 204
    b = _add(api.client_b, "+14155550101", "sandbox")
    started = api.client_b.post(VERIFY, json={"number_id": b["id"]})
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["verified_cli"] is False
    assert body["status"] == "pending" and body["next_step"] == "submit_code"
    _unchanged(api, b["id"])
    wrong = api.client_b.post(VERIFY, json={"number_id": b["id"], "code": "0"}).json()
    assert wrong["verified_cli"] is False
    code = body["display_code"]
    done = api.client_b.post(VERIFY, json={"number_id": b["id"], "code": code}).json()
    assert done["verified_cli"] is True


def test_an_orphaned_record_needs_the_call_again(make_api: Any) -> None:
    """Call style (Twilio's way): B is asked to answer a new call, not told it is verified."""
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"verification_style": "call", "callback_delay_seconds": 0.05}},
    )
    a = _add(api.client, "+14155550100", "sandbox")
    assert api.client.post(VERIFY, json={"number_id": a["id"]}).json()["status"] == "pending"
    for _ in range(100):  # the simulated call is answered, the callback arrives
        if api.number(a["id"])["verified_cli"]:
            break
        time.sleep(0.05)
    assert api.number(a["id"])["verified_cli"] is True
    assert api.client.delete(f"{NUMBERS}/{a['id']}").status_code == 204
    b = _add(api.client_b, "+14155550100", "sandbox")
    r = api.client_b.post(VERIFY, json={"number_id": b["id"]}).json()
    assert r["verified_cli"] is False and r["status"] == "pending"
    assert r["next_step"] == "answer_call_and_enter_code" and r["display_code"]
    assert api.number(b["id"])["verified_cli"] is False


# -- completing a verification another workspace won --------------------------------------------


@pytest.fixture
def fake() -> FakeCarrier:
    return FakeCarrier()


@pytest.fixture
def api(make_api: Any, fake: FakeCarrier) -> Any:
    return make_api(plugins=[], extra={"fake": fake})


def test_completing_a_verification_another_workspace_holds_is_409(api: Any) -> None:
    """B started first (nobody held the number); A verified meanwhile; B's right code now
    answers 409 number_claimed and changes nothing."""
    b = _add(api.client_b, "+14155550100", "fake")
    assert api.client_b.post(VERIFY, json={"number_id": b["id"]}).json()["status"] == "pending"
    a = _add(api.client, "+14155550100", "fake")
    api.client.post(VERIFY, json={"number_id": a["id"]})
    assert api.client.post(VERIFY, json={"number_id": a["id"], "code": "123456"}).json()[
        "verified_cli"
    ]
    before = api.number(b["id"])
    r = api.client_b.post(VERIFY, json={"number_id": b["id"], "code": "123456"})
    assert r.status_code == 409 and r.json()["code"] == "number_claimed", r.text
    after = api.number(b["id"])
    assert after["verified_cli"] is False
    assert after["verification_status"] == before["verification_status"] == "pending"
    ws_b = uuid.UUID(api.workspace_b_id)
    assert api.audit(action="verification_succeeded", workspace_id=ws_b) == []


def test_a_callback_cannot_verify_a_number_another_workspace_holds(make_api: Any) -> None:
    fake = FakeCarrier(style="call")
    api = make_api(plugins=[], extra={"fake": fake})
    b = _add(api.client_b, "+14155550100", "fake")
    assert api.client_b.post(VERIFY, json={"number_id": b["id"]}).json()["status"] == "pending"
    api.add_number("+14155550100", "fake", verified_cli=True, verification_status="verified")
    body = json.dumps(
        {"kind": "verification_succeeded", "phone": "+14155550100", "ref": "CA-call-1"}
    ).encode()
    r = api.anon.post("/webhooks/fake", content=body, headers={"x-fake-signature": sign(body)})
    assert r.status_code == 200, r.text
    assert r.json()["changed"] == 0
    _unchanged(api, b["id"])
    (refused,) = api.audit(action="verification_error")
    assert refused["outcome"] == "number_claimed" and refused["subject_id"] == b["id"]


def test_the_database_refuses_a_second_holder(api: Any) -> None:
    """The unique index is the final arbiter: a second active hosted-or-verified row for one
    number cannot be stored, whatever the code above it does; unverified copies can."""
    api.add_number("+14155550100", "fake", hosted=True)
    api.add_number("+14155550100", "fake", workspace="b")  # BYO, unverified: allowed
    api.add_number("+14155550199", "fake", verified_cli=True)
    with pytest.raises(IntegrityError):
        api.add_number("+14155550199", "fake", workspace="b", verified_cli=True)
    with pytest.raises(IntegrityError):
        api.add_number("+14155550100", "fake", workspace="b", hosted=True)
    with pytest.raises(IntegrityError):
        api.add_number("+14155550100", "fake", workspace="b", state="purchasing")


# -- purchases ----------------------------------------------------------------------------------


def test_buying_a_number_another_workspace_holds_is_409(sandbox: Any) -> None:
    """Hole 3: A buys through the sandbox; B buying the same number is refused before any
    carrier is asked, and leaves nothing behind."""
    api = sandbox
    plugin = api.host.pm.get_plugin("sandbox")
    found = api.client.get(AVAILABLE, params={"provider": "sandbox", "country": "US"}).json()
    e164 = found["items"][0]["phone_e164"]
    assert api.client.post(PURCHASE, json={"provider": "sandbox", "e164": e164}).status_code == 201
    r = api.client_b.post(PURCHASE, json={"provider": "sandbox", "e164": e164})
    assert r.status_code == 409 and r.json()["code"] == "number_claimed", r.text
    assert list(plugin.sold) == [e164]  # the carrier sold it once
    ws_b = uuid.UUID(api.workspace_b_id)
    assert api.numbers(workspace_id=ws_b) == [] and api.ledger(workspace_id=ws_b) == []
    assert len(api.ledger()) == 1
    # ... and the number is no longer offered, to anyone
    for client in (api.client, api.client_b):
        again = client.get(AVAILABLE, params={"provider": "sandbox", "country": "US"}).json()
        assert e164 not in {n["phone_e164"] for n in again["items"]}
        assert len(again["items"]) == len(found["items"])  # the sandbox offers another


def test_buying_a_verified_caller_id_of_another_workspace_is_409(
    api: Any, fake: FakeCarrier
) -> None:
    api.add_number("+14155550123", "fake", verified_cli=True, verification_status="verified")
    r = api.client_b.post(PURCHASE, json={"provider": "fake", "e164": "+14155550123"})
    assert r.status_code == 409 and r.json()["code"] == "number_claimed"
    assert "purchase_number" not in fake.calls
    assert api.ledger() == []


def test_buying_a_number_another_workspace_only_added_is_allowed(
    api: Any, fake: FakeCarrier
) -> None:
    """An unverified BYO number claims nothing: buying it elsewhere is allowed, and the
    unverified copy can then not be verified."""
    a = _add(api.client, "+14155550123", "fake")
    r = api.client_b.post(PURCHASE, json={"provider": "fake", "e164": "+14155550123"})
    assert r.status_code == 201, r.text
    assert fake.calls["purchase_number"] == 1
    refused = api.client.post(VERIFY, json={"number_id": a["id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "number_claimed"
    assert "verify_cli" not in fake.calls


def test_search_results_leave_out_claimed_numbers_whatever_the_carrier_offers(
    api: Any, fake: FakeCarrier
) -> None:
    """The fake carrier offers +14155550123 forever; the core stops listing it once held."""
    params = {"provider": "fake", "country": "US"}
    offered = api.client_b.get(AVAILABLE, params=params).json()["items"]
    assert [n["phone_e164"] for n in offered] == ["+14155550123"]
    assert (
        api.client.post(PURCHASE, json={"provider": "fake", "e164": "+14155550123"}).status_code
        == 201
    )
    assert api.client_b.get(AVAILABLE, params=params).json()["items"] == []
    assert api.client.get(AVAILABLE, params=params).json()["items"] == []
