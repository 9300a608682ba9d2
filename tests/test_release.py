"""Releasing: ``DELETE`` of a hosted number gives it back to its carrier first, and keeps the
row as ``released`` for the ledger and the audit trail; a carrier failure changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core import ProviderUnavailable, hookimpl
from core.purchases import accrue_rentals
from core.tables import utcnow
from tests.fakes import FakeCarrier

NUMBERS = "/settings/telephony/numbers"
PURCHASE = f"{NUMBERS}/purchase"


@pytest.fixture
def api(make_api: Any) -> Any:
    return make_api(plugins=["sandbox"])


def _buy(client: Any, e164: str, provider: str = "sandbox") -> dict[str, Any]:
    r = client.post(PURCHASE, json={"provider": provider, "e164": e164})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _campaign(client: Any, number: dict[str, Any], name: str = "spring") -> dict[str, Any]:
    bound = client.patch(f"{NUMBERS}/{number['id']}", json={"outbound_enabled": True})
    assert bound.status_code == 200, bound.text
    r = client.post("/campaigns", json={"name": name, "from_e164": number["phone_e164"]})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_deleting_a_hosted_number_releases_it_and_keeps_the_row(api: Any) -> None:
    """Hole 6: the carrier is told, the row stays as released, ledger and audit record it,
    and campaigns lose their caller ID with a caller_id_changed event each."""
    sandbox = api.host.pm.get_plugin("sandbox")
    n = _buy(api.client, "+14155550123")
    camps = [_campaign(api.client, n, "one"), _campaign(api.client, n, "two")]
    assert "+14155550123" in sandbox.sold

    r = api.client.delete(f"{NUMBERS}/{n['id']}")
    assert r.status_code == 204, r.text
    assert "+14155550123" not in sandbox.sold  # released at the carrier
    row = api.number(n["id"])
    assert row is not None and row["state"] == "released"
    assert row["outbound_enabled"] is False
    assert api.client.get(f"{NUMBERS}/{n['id']}").status_code == 404
    assert api.client.get(NUMBERS).json()["items"] == []
    check = api.client.post("/outbound/check", json={"from": "+14155550123"})
    assert check.status_code != 200 or check.json()["allowed"] is False
    (release,) = api.ledger(kind="release")
    assert release["number_id"] == n["id"] and release["amount_cents"] == 0
    assert release["metadata"]["provider_ref"] == row["provider_ref"]
    (event,) = api.audit(action="number_released")
    assert event["outcome"] == "ok" and event["subject_id"] == n["id"]
    for camp in camps:
        assert api.client.get(f"/campaigns/{camp['id']}").json()["from_number_id"] is None
    changed = api.audit(action="caller_id_changed", outcome="ok")
    dropped = [e for e in changed if e["detail"].get("reason") == "number_released"]
    assert sorted(e["subject_id"] for e in dropped) == sorted(c["id"] for c in camps)
    assert all(e["detail"]["after"] is None for e in dropped)


def test_a_released_number_may_be_bought_again_by_anyone(api: Any) -> None:
    n = _buy(api.client, "+14155550123")
    refused = api.client_b.post(PURCHASE, json={"provider": "sandbox", "e164": "+14155550123"})
    assert refused.status_code == 409 and refused.json()["code"] == "number_claimed"
    assert api.client.delete(f"{NUMBERS}/{n['id']}").status_code == 204
    bought = _buy(api.client_b, "+14155550123")
    assert bought["workspace_id"] == api.workspace_b_id
    # and the workspace that released it may take it back later, on a row of its own
    assert api.client.delete(f"{NUMBERS}/{bought['id']}").status_code == 404  # not A's
    assert api.client_b.delete(f"{NUMBERS}/{bought['id']}").status_code == 204
    again = _buy(api.client, "+14155550123")
    assert again["id"] != n["id"]
    assert len(api.ledger(kind="release")) == 2


def test_a_carrier_failure_changes_nothing(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"fail_operations": {"release_number": "unavailable"}}},
    )
    n = _buy(api.client, "+14155550123")
    camp = _campaign(api.client, n)
    before = api.number(n["id"])
    r = api.client.delete(f"{NUMBERS}/{n['id']}")
    assert r.status_code == 503 and r.json()["code"] == "provider_unavailable", r.text
    after = api.number(n["id"])
    assert after == before and after["state"] == "active" and after["hosted"] is True
    assert api.client.get(f"/campaigns/{camp['id']}").json()["from_number_id"] == n["id"]
    assert api.ledger(kind="release") == []
    (event,) = api.audit(action="number_released")
    assert event["outcome"] == "provider_unavailable"
    assert "+14155550123" in api.host.pm.get_plugin("sandbox").sold


def test_rentals_stop_from_the_period_after_the_release(api: Any) -> None:
    n = _buy(api.client, "+14155550123")
    assert api.client.delete(f"{NUMBERS}/{n['id']}").status_code == 204
    now = utcnow()
    this = f"{now.year:04d}-{now.month:02d}"
    following = f"{now.year + now.month // 12:04d}-{now.month % 12 + 1:02d}"

    async def accrue(period: str) -> int:
        async with api.runtime.sessionmaker() as session:
            return await accrue_rentals(session, period)

    assert api.run(accrue, this) == 1  # held during this period: its rental is due
    assert api.run(accrue, following) == 0
    assert [r["period"] for r in api.ledger(kind="rental")] == [this]


def test_deleting_a_byo_number_used_by_a_campaign_audits_the_caller_id_change(api: Any) -> None:
    n = api.add_number("+14155550100", "sandbox", verified_cli=True, verification_status="verified")
    camp = _campaign(api.client, {"id": n["id"], "phone_e164": "+14155550100"})
    assert api.client.delete(f"{NUMBERS}/{n['id']}").status_code == 204
    assert api.number(n["id"]) is None  # not hosted: nothing to release, the row goes
    (event,) = api.audit(action="caller_id_changed", subject_id=camp["id"], outcome="ok")[-1:]
    assert event["detail"]["reason"] == "number_deleted" and event["detail"]["after"] is None
    assert api.ledger(kind="release") == []


class NoRelease(FakeCarrier):
    """A carrier that cannot release numbers: it does not declare the capability."""

    @hookimpl
    def trunkline_register_providers(self, register: Any) -> None:
        def without_release(info: Any) -> None:
            register(info.model_copy(update={"capabilities": info.capabilities - {"release"}}))

        super().trunkline_register_providers(without_release)


def test_a_provider_that_cannot_release_keeps_its_number(make_api: Any) -> None:
    api = make_api(plugins=[], extra={"fake": NoRelease()})
    n = _buy(api.client, "+14155550123", "fake")
    r = api.client.delete(f"{NUMBERS}/{n['id']}")
    assert r.status_code == 422 and r.json()["code"] == "unsupported_operation"
    assert api.number(n["id"])["state"] == "active"


def test_the_hook_is_told_the_number_and_its_carrier_reference(make_api: Any) -> None:
    fake = FakeCarrier()
    api = make_api(plugins=[], extra={"fake": fake})
    n = _buy(api.client, "+14155550123", "fake")
    assert api.client.delete(f"{NUMBERS}/{n['id']}").status_code == 204
    (told,) = fake.released
    assert (told.id, told.phone_e164, told.hosted) == (n["id"], "+14155550123", True)
    assert told.provider_ref == "PN-+14155550123"
    assert told.workspace_id == api.workspace_id
    fake.fail["release_number"] = ProviderUnavailable("down", provider="fake")
    m = _buy(api.client, "+14155550124", "fake")
    assert api.client.delete(f"{NUMBERS}/{m['id']}").status_code == 503
    assert api.number(m["id"])["state"] == "active"
    assert api.ledger(kind="release", number_id=uuid.UUID(m["id"])) == []
