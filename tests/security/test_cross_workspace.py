"""Workspace B against workspace A's objects, on every route of the OpenAPI document: every
path id, every ``number_id`` in a body and every phone field naming A's numbers. B gets a 404
(or the problem a number it does not hold gets) and A's objects stay exactly as they were."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeCarrier

from .openapi_walk import body_for, operations, query_for, url_for

HOSTED = "+14155550100"
VERIFIED = "+14155550102"
CALLER_ID_REFUSALS = {"caller_id_not_found", "caller_id_outbound_disabled", "caller_id_not_allowed"}


@pytest.fixture
def world(make_api: Any) -> Any:
    fake = FakeCarrier()
    api = make_api(plugins=[], extra={"fake": fake})
    hosted = api.add_number(HOSTED, "fake", hosted=True, outbound_enabled=True)
    verified = api.add_number(
        VERIFIED,
        "fake",
        verified_cli=True,
        verification_status="verified",
        verification_ref="VN-A",
        outbound_enabled=True,
    )
    campaign = api.client.post("/campaigns", json={"name": "A's", "from_e164": HOSTED}).json()
    ops = list(operations(api.app.openapi()))
    return api, fake, ops, hosted, verified, campaign


def _a_state(api: Any) -> Any:
    def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(
            (r for r in rows if r["workspace_id"] == api.workspace_id), key=lambda r: r["id"]
        )

    from core.tables import Campaign

    return mine(api.numbers()), mine(api._all(Campaign)), mine(api.calls())


def test_b_cannot_reach_as_objects_through_any_path(world: Any) -> None:
    api, fake, ops, hosted, verified, campaign = world
    before = _a_state(api)
    tried = []
    for op in ops:
        if not {"number_id", "cid"} & set(op.path_params):
            continue
        for number in (hosted, verified):
            ids = {"number_id": number["id"], "cid": campaign["id"]}
            known = {"provider": "fake", "name": "b", "number_id": number["id"]}
            body = body_for(op, known, HOSTED)
            if op.path.endswith("/{number_id}") and op.method == "patch":
                body = {"outbound_enabled": False, "outbound_agent_id": "b-agent"}
            r = api.client_b.request(
                op.method.upper(), url_for(op, ids), json=body, params=query_for(op, known)
            )
            tried.append(op.label)
            assert r.status_code == 404 and r.json()["code"] == "not_found", (op.label, r.text)
    assert len(set(tried)) >= 6
    assert _a_state(api) == before
    assert "place_call" not in fake.calls


def test_b_cannot_use_as_number_ids_in_bodies(world: Any) -> None:
    api, fake, ops, hosted, verified, _ = world
    before = _a_state(api)
    tried = []
    for op in ops:
        props = (op.body_schema or {}).get("properties", {})
        if "number_id" not in props or op.path_params:
            continue
        for number in (hosted, verified):
            known = {"provider": "fake", "name": "b", "number_id": number["id"]}
            body = body_for(op, known, HOSTED)
            assert body is not None
            body["number_id"] = number["id"]
            body = {k: v for k, v in body.items() if k not in ("from",)}
            r = api.client_b.request(op.method.upper(), op.path, json=body)
            tried.append(op.label)
            assert r.status_code == 404 and r.json()["code"] == "not_found", (op.label, r.text)
    assert len(set(tried)) >= 2  # verify-cli, the preflight
    assert _a_state(api) == before
    assert "verify_cli" not in fake.calls


def test_b_cannot_use_as_numbers_as_caller_ids(world: Any) -> None:
    """Every phone field naming one of A's numbers, sent by B: A's objects never change, and B
    never gets a caller ID, a preflight ``allowed`` or a call from A's number."""
    api, fake, ops, _hosted, _verified, _ = world
    b_campaign = api.client_b.post("/campaigns", json={"name": "B's"}).json()
    before = _a_state(api)
    for op in ops:
        for name in op.body_phone_fields:
            for phone in (HOSTED, VERIFIED):
                known = {"provider": "fake", "name": "b", "number_id": "x"}
                body = body_for(op, known, phone)
                assert body is not None
                body[name] = phone
                ids = {"cid": b_campaign["id"], "number_id": "x", "provider": "fake"}
                r = api.client_b.request(
                    op.method.upper(), url_for(op, ids), json=body, params=query_for(op, known)
                )
                assert r.status_code < 500, (op.label, r.text)
                if op.path == "/outbound/check":
                    assert r.status_code == 404, r.text
                if op.path in ("/campaigns", "/campaigns/{cid}/from_number"):
                    # not found, or (once B added the number as its own BYO) not B's caller ID
                    assert r.json()["code"] in CALLER_ID_REFUSALS, (op.label, r.text)
                if op.path.endswith("/test-call"):  # B's campaign has no caller ID
                    assert r.json()["code"] == "campaign_has_no_caller_id", r.text
    assert _a_state(api) == before
    assert "place_call" not in fake.calls
    assert api.client_b.get(f"/campaigns/{b_campaign['id']}").json()["from_number_id"] is None


def test_b_cannot_take_over_as_numbers(world: Any) -> None:
    """Issue 13, holes 1 and 3, on every route: every phone field naming one of A's hosted or
    verified numbers, sent by B, then B's verify-cli on its own copy (the carrier's account
    lists the number as verified): B never holds A's number hosted or verified."""
    api, fake, ops, _, _, _ = world
    fake.already_verified.update({HOSTED, VERIFIED})  # the shared carrier account's record
    before = _a_state(api)
    for op in ops:
        for name in op.body_phone_fields:
            for phone in (HOSTED, VERIFIED):
                known = {"provider": "fake", "name": "b", "number_id": "x"}
                body = body_for(op, known, phone)
                assert body is not None
                body[name] = phone
                ids = {"cid": "x", "number_id": "x", "provider": "fake"}
                r = api.client_b.request(
                    op.method.upper(), url_for(op, ids), json=body, params=query_for(op, known)
                )
                assert r.status_code < 500, (op.label, r.text)
    for row in [r for r in api.numbers() if r["workspace_id"] == api.workspace_b_id]:
        r = api.client_b.post(
            "/settings/telephony/numbers/verify-cli", json={"number_id": row["id"]}
        )
        assert r.status_code < 500, r.text
        assert not (r.status_code == 200 and r.json()["verified_cli"]), r.text
    claimed = [
        (r["phone_e164"], r["hosted"], r["verified_cli"])
        for r in api.numbers()
        if r["workspace_id"] == api.workspace_b_id and (r["hosted"] or r["verified_cli"])
    ]
    assert claimed == []
    assert _a_state(api) == before
