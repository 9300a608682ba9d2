"""Every input answered: strict types, names, control characters, unreadable bodies, and what
the answers carry (``Allow``, ``Location``), on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from core.tables import Campaign
from tests.console.conftest import login

NUMBERS = "/settings/telephony/numbers"
#: The body that answered a 500 before (a boolean column set to null, integers as booleans).
THE_500 = {
    "inbound_agent_id": "",
    "inbound_enabled": 0,
    "outbound_agent_id": "",
    "outbound_enabled": None,
}


@pytest.fixture(params=["sqlite", "postgres"])
def api(request: pytest.FixtureRequest, make_api: Any) -> Any:
    """An app with the sandbox on each database."""
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    return make_api(plugins=["sandbox"], database_url=url)


def _number(api: Any, **fields: Any) -> dict[str, Any]:
    return api.add_number("+14155550100", "sandbox", **fields)


def _validation_error(r: Any, field: str | None) -> None:
    assert r.status_code == 422, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == "validation_error", body
    assert r.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in body["errors"]], body


def test_the_body_that_answered_500_is_refused_and_changes_nothing(api: Any) -> None:
    n = _number(api, inbound_agent_id="agent-1", inbound_enabled=True)
    r = api.client.patch(f"{NUMBERS}/{n['id']}", json=THE_500)
    _validation_error(r, "outbound_enabled")
    _validation_error(r, "inbound_enabled")
    row = api.number(n["id"])
    assert (row["inbound_agent_id"], row["inbound_enabled"]) == ("agent-1", True)
    assert api.audit(action="binding_changed") == []


def test_booleans_are_true_or_false_only(api: Any) -> None:
    n = _number(api, hosted=True)
    for value in ("yes", "true", 1, 0, None, "1"):
        r = api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": value})
        _validation_error(r, "outbound_enabled")
        assert api.number(n["id"])["outbound_enabled"] is False
    ok = api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": True})
    assert ok.status_code == 200 and ok.json()["outbound_enabled"] is True


def test_query_booleans_are_true_or_false_only(make_api: Any) -> None:
    api = make_api()
    _number(api, hosted=True)
    for value in ("1", "yes", "on", "True", ""):
        _validation_error(api.client.get(NUMBERS, params={"hosted": value}), "hosted")
    assert api.client.get(NUMBERS, params={"hosted": "true"}).json()["total"] == 1
    assert api.client.get(NUMBERS, params={"hosted": "false"}).json()["total"] == 0


def test_strings_are_strings(make_api: Any) -> None:
    api = make_api()
    _validation_error(api.client.post("/campaigns", json={"name": 7}), "name")
    _validation_error(
        api.client.post(NUMBERS, json={"e164": "+14155550100", "provider": ["sandbox"]}),
        "provider",
    )


def test_a_blank_campaign_name_is_refused(api: Any) -> None:
    for name in ("", "   ", "\u3000", " \u00a0 "):
        _validation_error(api.client.post("/campaigns", json={"name": name}), "name")
    assert api.client.get("/campaigns").json()["total"] == 0


def test_a_campaign_name_is_trimmed(api: Any) -> None:
    r = api.client.post("/campaigns", json={"name": "  Spring drive  "})
    assert r.status_code == 201 and r.json()["name"] == "Spring drive"


def test_blank_agent_ids_clear_the_binding(api: Any) -> None:
    n = _number(api, inbound_agent_id="agent-1", outbound_agent_id="agent-2")
    r = api.client.patch(
        f"{NUMBERS}/{n['id']}", json={"inbound_agent_id": "", "outbound_agent_id": "   "}
    )
    assert r.status_code == 200, r.text
    assert r.json()["inbound_agent_id"] is None and r.json()["outbound_agent_id"] is None
    row = api.number(n["id"])
    assert row["inbound_agent_id"] is None and row["outbound_agent_id"] is None
    trimmed = api.client.patch(f"{NUMBERS}/{n['id']}", json={"inbound_agent_id": " agent-9 "})
    assert trimmed.json()["inbound_agent_id"] == "agent-9"


NUL = "bad\x00value"


def _text_inputs(api: Any, number_id: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(method, url, request kwargs, the field the error names) for every free-text input."""
    return [
        ("POST", "/campaigns", {"json": {"name": NUL}}, "name"),
        (
            "PATCH",
            f"{NUMBERS}/{number_id}",
            {"json": {"inbound_agent_id": NUL}},
            "inbound_agent_id",
        ),
        (
            "PATCH",
            f"{NUMBERS}/{number_id}",
            {"json": {"outbound_agent_id": NUL}},
            "outbound_agent_id",
        ),
        ("GET", "/settings/telephony/audit", {"params": {"action": NUL}}, "action"),
        ("GET", "/settings/telephony/audit", {"params": {"subject_id": NUL}}, "subject_id"),
        ("GET", "/settings/telephony/audit", {"params": {"subject_type": NUL}}, "subject_type"),
        ("GET", NUMBERS, {"params": {"provider": NUL}}, "provider"),
        ("POST", NUMBERS, {"json": {"e164": "+14155550101", "provider": NUL}}, "provider"),
        (
            "POST",
            f"{NUMBERS}/purchase",
            {"json": {"e164": "+14155550101", "provider": NUL}},
            "provider",
        ),
        ("POST", f"{NUMBERS}/verify-cli", {"json": {"number_id": number_id, "code": NUL}}, "code"),
        ("POST", f"{NUMBERS}/verify-cli", {"json": {"number_id": NUL}}, "number_id"),
        ("POST", "/outbound/check", {"json": {"number_id": NUL}}, "number_id"),
        ("GET", f"{NUMBERS}/available", {"params": {"country": "US", "provider": NUL}}, "provider"),
        ("GET", "/settings/telephony/coverage", {"params": {"provider": NUL}}, "provider"),
        (
            "GET",
            "/settings/telephony/regulations",
            {"params": {"country": "US", "provider": NUL}},
            "provider",
        ),
    ]


def test_text_inputs_refuse_control_characters(api: Any, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    n = _number(api)
    before = len(api.audit())
    for method, url, kwargs, field in _text_inputs(api, n["id"]):
        r = api.client.request(method, url, **kwargs)
        _validation_error(r, field)
        assert "control characters" in str(r.json()["errors"]), r.json()
    for character in ("\x1b", "\n", "\x7f", "\x85"):
        r = api.client.post("/campaigns", json={"name": f"Spring{character}drive"})
        _validation_error(r, "name")
    assert api.client.get("/campaigns").json()["total"] == 0
    assert len(api.audit()) == before
    row = api.number(n["id"])
    assert row["inbound_agent_id"] is None and row["outbound_agent_id"] is None
    assert "\x00" not in caplog.text


def test_a_webhook_for_a_provider_name_with_nul_is_refused(api: Any) -> None:
    r = api.anon.post("/webhooks/sand%00box", content=b"{}")
    _validation_error(r, "provider")


def test_lone_surrogates_are_refused(api: Any) -> None:
    r = api.client.post(
        "/campaigns",
        content=b'{"name": "half \\ud800 a pair"}',
        headers={"content-type": "application/json"},
    )
    _validation_error(r, "name")


def test_the_openapi_document_states_the_text_rule(make_api: Any) -> None:
    document = make_api().client.get("/openapi.json").json()
    name = document["components"]["schemas"]["CampaignCreate"]["properties"]["name"]
    assert name["pattern"].startswith("^[^\\u0000-\\u001f")
    audit = document["paths"]["/settings/telephony/audit"]["get"]["parameters"]
    action = next(p for p in audit if p["name"] == "action")
    assert any("pattern" in s for s in action["schema"]["anyOf"])


def test_the_preflight_takes_from_or_number_id_not_both(api: Any) -> None:
    n = _number(api, hosted=True, outbound_enabled=True)
    both = api.client.post(
        "/outbound/check", json={"from": "+14155550100", "number_id": str(uuid.uuid4())}
    )
    assert both.status_code == 422 and both.json()["code"] == "invalid_input", both.text
    assert "not both" in both.json()["detail"]
    by_from = api.client.post("/outbound/check", json={"from": "+14155550100"})
    by_id = api.client.post("/outbound/check", json={"number_id": n["id"]})
    assert by_from.json() == by_id.json()
    assert (by_id.json()["allowed"], by_id.json()["number_id"]) == (True, n["id"])


def test_an_empty_patch_changes_nothing_and_audits_nothing(api: Any) -> None:
    n = _number(api, hosted=True, outbound_enabled=True, inbound_agent_id="agent-1")
    empty = api.client.patch(f"{NUMBERS}/{n['id']}", json={})
    assert empty.status_code == 200, empty.text
    assert (
        empty.json()["outbound_enabled"] is True and empty.json()["inbound_agent_id"] == "agent-1"
    )
    same = api.client.patch(
        f"{NUMBERS}/{n['id']}", json={"outbound_enabled": True, "inbound_agent_id": "agent-1"}
    )
    assert same.status_code == 200
    assert api.audit(action="binding_changed") == []
    changed = api.client.patch(
        f"{NUMBERS}/{n['id']}", json={"outbound_enabled": True, "inbound_agent_id": "agent-2"}
    )
    assert changed.status_code == 200
    [row] = api.audit(action="binding_changed")
    assert row["detail"] == {
        "before": {"inbound_agent_id": "agent-1"},
        "after": {"inbound_agent_id": "agent-2"},
    }


# -- bodies that cannot be read -------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"e164": "+1415555',
        b'{"e164": "+14155550100", "provider": "sandbox"',
        b"{'a': 1}",
        b"\xff\xfe{",
    ],
)
def test_a_body_that_is_not_json_is_400_invalid_json(make_api: Any, body: bytes) -> None:
    api = make_api()
    r = api.client.post(NUMBERS, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert problem["code"] == "invalid_json" and "not valid JSON" in problem["detail"]
    # no character offset passed off as a field name
    assert "field" not in problem and "errors" not in problem
    assert api.numbers() == []


def test_invalid_utf8_inside_json_is_400_invalid_json(make_api: Any) -> None:
    api = make_api()
    r = api.client.post(
        "/campaigns", content=b'{"name": "caf\xe9"}', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_json", r.text
    assert "UTF-8" in r.json()["detail"]


def test_truncated_json_says_where(make_api: Any) -> None:
    r = make_api().client.post(
        "/campaigns", content=b'{"name":\n "Spr', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert "line 2, column 2" in r.json()["detail"], r.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_of_another_content_type_is_415(make_api: Any, content_type: str | None) -> None:
    api = make_api()
    headers = {"content-type": content_type} if content_type else {}
    r = api.client.post("/campaigns", content=b'{"name": "Spring"}', headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in r.json()["detail"]
    assert api.client.get("/campaigns").json()["total"] == 0


# -- what answers carry -----------------------------------------------------------------------


def test_405_answers_carry_allow(make_api: Any) -> None:
    api = make_api()
    r = api.client.put(NUMBERS)
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, POST"
    r = api.client.post(f"{NUMBERS}/{uuid.uuid4()}")
    assert r.status_code == 405 and r.headers["allow"] == "GET, PATCH, DELETE"
    r = api.client.get("/outbound/check")
    assert r.status_code == 405 and r.headers["allow"] == "POST"


def test_201_answers_carry_the_new_objects_location(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    added = api.client.post(NUMBERS, json={"e164": "+14155550100", "provider": "sandbox"})
    assert added.status_code == 201
    assert api.client.get(added.headers["location"]).json() == added.json()
    campaign = api.client.post("/campaigns", json={"name": "Spring"})
    assert campaign.status_code == 201
    assert api.client.get(campaign.headers["location"]).json() == campaign.json()
    offer = api.client.get(f"{NUMBERS}/available", params={"country": "US"}).json()["items"][0]
    bought = api.client.post(
        f"{NUMBERS}/purchase", json={"provider": "sandbox", "e164": offer["phone_e164"]}
    )
    assert bought.status_code == 201, bought.text
    assert bought.headers["location"] == f"{NUMBERS}/{bought.json()['id']}"
    document = api.client.get("/openapi.json").json()
    # a test call is created at the campaign; it gets its Location with GET /calls/{call_id}
    no_url = set() if "/calls/{call_id}" in document["paths"] else {"/campaigns/{cid}/test-call"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "201" in operation["responses"] and path not in no_url:
                assert "Location" in operation["responses"]["201"].get("headers", {}), (
                    method,
                    path,
                )


# -- PostgreSQL never sees a NUL, and its errors keep parameters out of the logs ------------------


@pytest.mark.postgres
def test_database_errors_do_not_carry_statement_parameters(make_api: Any, pg_url: str) -> None:
    """Should a value get past the API (a service called directly), the failing statement's
    message, which is what reaches a log, holds no parameter values."""
    api = make_api(database_url=pg_url)

    async def insert() -> str:
        async with api.runtime.sessionmaker() as session:
            session.add(Campaign(workspace_id=uuid.UUID(api.workspace_id), name="secret-\x00-name"))
            try:
                await session.commit()
            except Exception as exc:
                return str(exc)
            return ""

    message = api.run(insert)
    assert message, "PostgreSQL accepted a NUL"
    assert "secret-" not in message and "hidden" in message.lower(), message


# -- the console never writes a raw control character into a page --------------------------------


def test_the_console_shows_no_raw_nul(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"])
    ws = uuid.UUID(api.workspace_id)

    async def insert() -> None:  # a row stored before input was checked (SQLite keeps a NUL)
        async with api.runtime.sessionmaker() as session:
            session.add(Campaign(workspace_id=ws, name="Spring\x00drive\x1b"))
            await session.commit()

    api.run(insert)
    api.add_number("+14155550100", "sandbox", inbound_agent_id="agent\x00one")
    assert login(api).status_code == 303
    for url in ("/console/campaigns", "/console/numbers", "/console"):
        page = api.testclient.get(url)
        assert page.status_code == 200, (url, page.text[:300])
        assert "\x00" not in page.text and "\x1b" not in page.text, url
    assert "Spring\ufffddrive\ufffd" in api.testclient.get("/console/campaigns").text
