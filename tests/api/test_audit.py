"""The audit trail: every action is recorded, listed per workspace, and never rewritten."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from core.purchases import accrue_rentals
from tests.fakes import FakeCarrier, sign

ROOT = Path(__file__).resolve().parents[2]
AUDIT = "/settings/telephony/audit"
NUMBERS = "/settings/telephony/numbers"


@pytest.fixture
def env(make_api: Any) -> tuple[Any, FakeCarrier]:
    fake = FakeCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake},
    )
    return api, fake


def webhook(api: Any, **data: Any) -> Any:
    body = json.dumps(data).encode()
    return api.anon.post("/webhooks/fake", content=body, headers={"x-fake-signature": sign(body)})


def everything(api: Any) -> dict[str, str]:
    """Do one of every audited thing in workspace A; return the ids involved."""
    byo = api.client.post(NUMBERS, json={"e164": "+14155550100", "provider": "fake"}).json()
    started = api.client.post(f"{NUMBERS}/verify-cli", json={"number_id": byo["id"]})
    assert started.json()["status"] == "pending"
    wrong = api.client.post(
        f"{NUMBERS}/verify-cli", json={"number_id": byo["id"], "code": "000000"}
    )
    assert wrong.json()["status"] == "pending" and wrong.json()["attempts_left"] == 4
    done = api.client.post(f"{NUMBERS}/verify-cli", json={"number_id": byo["id"], "code": "123456"})
    assert done.json()["verified_cli"] is True
    assert (
        api.client.patch(f"{NUMBERS}/{byo['id']}", json={"outbound_enabled": True}).status_code
        == 200
    )
    bought = api.client.post(
        f"{NUMBERS}/purchase", json={"provider": "fake", "e164": "+14155550123"}
    ).json()
    api.client.patch(f"{NUMBERS}/{bought['id']}", json={"outbound_enabled": True})
    c = api.client.post("/campaigns", json={"name": "c"}).json()
    api.client.patch(f"/campaigns/{c['id']}/from_number", json={"e164": "+14155550123"})
    call = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+12125550123"}).json()
    api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+85023812222"})

    async def accrue() -> int:
        async with api.runtime.sessionmaker() as session:
            return await accrue_rentals(session, "2099-01")

    assert api.run(accrue) == 1
    # a second BYO number, verified through the carrier's callback, then revoked
    other = api.client.post(NUMBERS, json={"e164": "+14155550101", "provider": "fake"}).json()
    api.client.post(f"{NUMBERS}/verify-cli", json={"number_id": other["id"]})
    assert webhook(api, kind="verification_succeeded", ref="VN-1").json()["changed"] >= 1
    # revoked by the carrier: matched by its reference (a phone number alone revokes nothing)
    assert webhook(api, kind="verification_failed", ref="VN-1").json()["changed"] >= 1
    webhook(api, kind="call_status", ref="CALL-1", data={"status": "completed"})
    return {"byo": byo["id"], "bought": bought["id"], "campaign": c["id"], "call": call["id"]}


def listed(api: Any, client: Any = None, **params: Any) -> list[dict[str, Any]]:
    """Every page of the audit listing."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = (
            (client or api.client)
            .get(AUDIT, params={**params, "limit": 7, "offset": offset})
            .json()
        )
        out += page["items"]
        offset += 7
        if offset >= page["total"]:
            assert len(out) == page["total"]
            return out


def test_every_action_is_an_audit_event(env: Any) -> None:
    api, _ = env
    ids = everything(api)
    rows = api.audit()
    actions = {r["action"] for r in rows}
    assert actions >= {
        "number_added",
        "verification_started",
        "verification_code_rejected",
        "verification_failed",
        "verification_succeeded",
        "binding_changed",
        "number_purchased",
        "campaign_created",
        "caller_id_changed",
        "test_call",
        "rental_accrued",
        "webhook_received",
        "call_status",
    }
    for r in rows:
        assert r["actor"] and r["outcome"] and r["created_at"] is not None
    outcomes = {(r["action"], r["outcome"]) for r in rows}
    assert ("test_call", "placed") in outcomes and ("test_call", "refused") in outcomes
    assert ("verification_code_rejected", "rejected") in outcomes  # the wrong code
    assert ("verification_failed", "failed") in outcomes  # the callback
    by_subject = {r["action"]: r for r in rows if r["subject_id"] == ids["bought"]}
    assert by_subject["number_purchased"]["provider"] == "fake"
    assert by_subject["rental_accrued"]["actor"] == "system:ledger"
    callback = [r for r in rows if r["actor"] == "carrier:fake"]
    assert {r["action"] for r in callback} == {
        "webhook_received",
        "verification_succeeded",
        "verification_failed",
        "call_status",
    }


def test_audit_listing_is_paged_filtered_and_scoped(env: Any) -> None:
    api, _ = env
    ids = everything(api)
    api.client_b.post(NUMBERS, json={"e164": "+14155550100", "provider": "fake"})
    mine = listed(api)
    stored_a = [r for r in api.audit() if r["workspace_id"] == api.workspace_id]
    assert sorted(e["id"] for e in mine) == sorted(r["id"] for r in stored_a)
    assert len(mine) >= 15
    stamps = [e["created_at"] for e in mine]
    assert stamps == sorted(stamps, reverse=True)  # newest first

    page = api.client.get(AUDIT, params={"limit": 3}).json()
    assert set(page) == {"items", "total", "limit", "offset"} and len(page["items"]) == 3
    assert page["total"] == len(mine)
    assert set(page["items"][0]) >= {
        "id",
        "actor",
        "action",
        "subject_type",
        "subject_id",
        "provider",
        "outcome",
        "detail",
        "created_at",
    }

    purchases = listed(api, action="number_purchased")
    assert [e["subject_id"] for e in purchases] == [ids["bought"]]
    calls = listed(api, subject_type="call")
    assert {e["action"] for e in calls} == {"test_call", "call_status"}
    assert {e["subject_id"] for e in calls} == {ids["call"]}
    campaign = listed(api, subject_type="campaign", subject_id=ids["campaign"])
    assert {e["action"] for e in campaign} == {"campaign_created", "caller_id_changed", "test_call"}
    assert listed(api, action="test_call", subject_type="call")[0]["outcome"] == "placed"
    assert listed(api, action="no_such_action") == []

    theirs = listed(api, client=api.client_b)
    assert [e["action"] for e in theirs] == ["number_added"]
    assert listed(api, client=api.client_b, subject_id=ids["bought"]) == []
    assert api.anon.get(AUDIT).status_code == 401
    assert api.client.get(AUDIT, params={"limit": 0}).status_code == 422


def test_refusals_and_failures_are_audited_too(env: Any) -> None:
    api, fake = env
    from core import ProviderUnavailable

    n = api.add_number("+14155550100", "fake")
    r = api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": True})
    assert r.status_code == 409
    fake.fail["verify_cli"] = ProviderUnavailable("down", provider="fake")
    assert api.client.post(f"{NUMBERS}/verify-cli", json={"number_id": n["id"]}).status_code == 503
    fake.fail["purchase_number"] = ProviderUnavailable("down", provider="fake")
    r = api.client.post(f"{NUMBERS}/purchase", json={"provider": "fake", "e164": "+14155550123"})
    assert r.status_code == 503
    outcomes = {(e["action"], e["outcome"]) for e in listed(api)}
    assert ("binding_changed", "refused") in outcomes
    assert ("verification_error", "provider_unavailable") in outcomes
    assert ("number_purchased", "provider_unavailable") in outcomes


# -- append-only ---------------------------------------------------------------------------


SOURCES = [
    p
    for folder in ("core", "api", "plugins")
    for p in (ROOT / folder).rglob("*.py")
    if "migrations" not in p.parts
]
FORBIDDEN = re.compile(
    r"(update|delete)\(\s*(AuditEvent|LedgerEntry)\b"
    r"|(AuditEvent|LedgerEntry)\b[^\n]*\.(update|delete)\("
    r"|(UPDATE|DELETE\s+FROM)\s+(audit_events|ledger_entries)\b",
    re.IGNORECASE,
)


def test_sources_are_found() -> None:
    names = {p.name for p in SOURCES}
    assert {"audit.py", "purchases.py", "events.py", "campaigns.py"} <= names


def test_the_pattern_catches_what_it_should() -> None:
    for bad in (
        "await session.execute(update(AuditEvent).values(outcome='x'))",
        "delete(LedgerEntry).where(LedgerEntry.id == i)",
        "session.query(AuditEvent).filter_by(id=1).delete()",
        'text("DELETE FROM ledger_entries")',
        'text("update audit_events set outcome = 1")',
    ):
        assert FORBIDDEN.search(bad), bad
    assert not FORBIDDEN.search("delete(Number).where(Number.id == claim.id)")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_code_updates_or_deletes_audit_or_ledger_rows(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = FORBIDDEN.search(text)
    assert found is None, f"{path.relative_to(ROOT)}: {found.group(0) if found else ''}"
    # nor through the ORM: an audit or ledger object is never passed to session.delete
    assert not re.search(r"session\.delete\(\s*(event|entry|audit|ledger)", text)


def test_no_statement_rewrites_audit_or_ledger_rows_at_run_time(env: Any) -> None:
    api, _ = env
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()).upper())

    engine = api.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        everything(api)
        # deleting a number keeps its ledger and audit rows
        bought = api.numbers(phone_e164="+14155550123")[0]
        assert api.client.delete(f"{NUMBERS}/{bought['id']}").status_code == 204
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert any(s.startswith("INSERT INTO AUDIT_EVENTS") for s in statements)
    assert any(s.startswith("INSERT INTO LEDGER_ENTRIES") for s in statements)
    for table in ("AUDIT_EVENTS", "LEDGER_ENTRIES"):
        rewrites = [
            s for s in statements if s.startswith((f"UPDATE {table}", f"DELETE FROM {table}"))
        ]
        assert rewrites == []
    kept = api.ledger(number_id=uuid.UUID(bought["id"]))
    assert {e["kind"] for e in kept} == {"purchase", "rental", "release"}
    assert api.audit(subject_id=bought["id"])
