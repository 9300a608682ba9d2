"""Issue 13, hole 2, on every route: every phone-typed body field and query parameter of the
OpenAPI document refuses other scripts' digits, the full-width plus, inner spaces, letters,
control characters and over-long input with 422 ``invalid_phone_number`` naming the field, and
reads a number with surrounding whitespace as that number."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeCarrier

from .openapi_walk import (
    PHONE_NAME,
    Operation,
    body_for,
    operations,
    query_for,
    request_schemas,
    url_for,
)

CALLER = "+14155550100"
#: Valid numbers with surrounding whitespace: the same number, never a different verdict.
SPACED = [" +982123456789", "\t+963112345678", "\n+982123456789", " +5372345678"]


def _digits(zero: int, text: str) -> str:
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


HOSTILE_NUMBERS = {
    "arabic-indic digits": _digits(0x0660, CALLER),
    "devanagari digits": _digits(0x0966, CALLER),
    "full-width digits": "\uff0b" + _digits(0xFF10, CALLER[1:]),
    "full-width plus": "\uff0b" + CALLER[1:],
    "inner spaces": "+1 415 555 0100",
    "a letter": "+1415555O100",
    "a NUL": CALLER + "\x00",
    "a scheme": "tel:" + CALLER,
    "over 32 characters": " " * (33 - len(CALLER)) + CALLER,
    "an invalid number": "+98000000000",
}
HOSTILE_FILTERS = {
    "arabic-indic digits": _digits(0x0660, "415"),
    "full-width digits": _digits(0xFF10, "415"),
    "inner space": "41 5",
    "a letter": "41a",
    "over 32 characters": "4" * 33,
}


@pytest.fixture
def world(make_api: Any) -> Any:
    fake = FakeCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["IR", "SY", "CU", "KP"]}},
        extra={"fake": fake},
    )
    number = api.add_number(CALLER, "fake", hosted=True, outbound_enabled=True)
    campaign = api.client.post("/campaigns", json={"name": "c", "from_e164": CALLER}).json()
    ops = list(operations(api.app.openapi()))
    ids = {"number_id": number["id"], "cid": campaign["id"], "provider": "fake"}
    known = {"provider": "fake", "name": "n", "number_id": number["id"], "country": "US"}
    return api, fake, ops, ids, known


def _send(api: Any, op: Operation, ids: dict[str, str], **kw: Any) -> Any:
    return api.client.request(op.method.upper(), url_for(op, ids), **kw)


def test_every_phone_looking_input_is_marked_and_read_by_the_one_parse(world: Any) -> None:
    """A route that adds a phone input without the marker fails here (and so is not missed)."""
    api, _, ops, _, _ = world
    unmarked = []
    for schema_name, schema in request_schemas(api.app.openapi()).items():
        for name, prop in schema.get("properties", {}).items():
            if PHONE_NAME.search(name) and not prop.get("x-phone"):
                unmarked.append(f"{schema_name}.{name}")
    for op in ops:
        for param in op.query:
            if PHONE_NAME.search(param["name"]) and not param.get("schema", {}).get("x-phone"):
                unmarked.append(f"{op.label} query {param['name']}")
    assert unmarked == []
    marked = [(op.label, f) for op in ops for f in op.body_phone_fields + op.query_phone_params]
    assert len(marked) >= 9, marked  # from/to, e164 x3, from_e164, to, contains, area_code


@pytest.mark.parametrize("kind", sorted(HOSTILE_NUMBERS))
def test_every_phone_body_field_refuses_hostile_forms(world: Any, kind: str) -> None:
    api, fake, ops, ids, known = world
    value = HOSTILE_NUMBERS[kind]
    before = (api.numbers(), api.calls(), api.ledger())
    tried = []
    for op in ops:
        for name in op.body_phone_fields:
            body = body_for(op, known, CALLER)
            assert body is not None
            body[name] = value
            r = _send(api, op, ids, json=body, params=query_for(op, known))
            tried.append(op.label)
            assert r.status_code == 422, (op.label, name, r.text)
            assert r.json()["code"] == "invalid_phone_number", (op.label, name, r.text)
            assert r.json()["field"] == name, (op.label, name, r.text)
        for array, item, name in op.nested_phone_fields(api.app.openapi()):
            entry = {f: CALLER for f, prop in item["properties"].items() if prop.get("x-phone")}
            entry[name] = value
            r = _send(api, op, ids, json={array: [entry]}, params=query_for(op, known))
            tried.append(f"{op.label} {array}[].{name}")
            problem = r.json() if r.status_code == 422 else r.json()["results"][0]["error"]
            assert problem["code"] == "invalid_phone_number", (op.label, name, r.text)
            assert problem["field"] == name, (op.label, name, r.text)
    assert len(tried) >= 9  # the batch's from and to included
    assert (api.numbers(), api.calls(), api.ledger()) == before
    assert not {"purchase_number", "place_call", "verify_cli"} & set(fake.calls)


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILTERS))
def test_every_phone_query_parameter_refuses_hostile_forms(world: Any, kind: str) -> None:
    api, fake, ops, ids, known = world
    tried = []
    for op in ops:
        for name in op.query_phone_params:
            params = {**query_for(op, known), name: HOSTILE_FILTERS[kind]}
            body = body_for(op, known, CALLER)
            r = _send(api, op, ids, params=params, json=body)
            tried.append(name)
            assert r.status_code == 422, (op.label, name, r.text)
            assert r.json()["code"] == "invalid_phone_number" and r.json()["field"] == name
    assert len(tried) >= 2
    assert "search_numbers" not in fake.calls


@pytest.mark.parametrize("spaced", SPACED)
def test_surrounding_whitespace_never_changes_the_verdict(world: Any, spaced: str) -> None:
    """The same number with and without whitespace gets the same answer on every read-only
    phone input (the preflight, the test call); on the others it is never refused as invalid."""
    api, _, ops, ids, known = world
    compared = []
    for op in ops:
        for name in op.body_phone_fields:
            body = body_for(op, known, CALLER)
            assert body is not None
            answers = []
            for value in (spaced, spaced.strip()):
                r = _send(api, op, ids, json={**body, name: value}, params=query_for(op, known))
                assert r.status_code < 500, (op.label, r.text)
                answers.append((r.status_code, r.json().get("code"), r.json().get("reasons")))
            assert answers[0][1] != "invalid_phone_number", (op.label, name, answers)
            if op.path in ("/outbound/check", "/campaigns/{cid}/test-call") and name == "to":
                assert answers[0] == answers[1], (op.label, answers)
                assert answers[0][2] == ["country_blocked"], (op.label, answers)
                compared.append(op.label)
    assert sorted(compared) == ["POST /campaigns/{cid}/test-call", "POST /outbound/check"]
