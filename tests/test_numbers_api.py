"""``/settings/telephony/numbers``: add, list, get, bind, delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes import FakeCarrier

BASE = "/settings/telephony/numbers"


@pytest.fixture
def api(make_api: Any) -> Any:
    return make_api(plugins=[], extra={"fake": FakeCarrier()})


def test_add_byo_number(api: Any) -> None:
    r = api.client.post(BASE, json={"e164": "+442079460000", "provider": "fake"})
    assert r.status_code == 201
    body = r.json()
    assert body["phone_e164"] == "+442079460000" and body["country_code"] == "GB"
    assert body["hosted"] is False and body["verified_cli"] is False
    assert body["outbound_enabled"] is False and body["verification_status"] == "none"
    assert body["caller_id_allowed"] is False
    assert [a["action"] for a in api.audit()] == ["number_added"]


@pytest.mark.parametrize(
    ("e164", "detail"),
    [
        ("4155550100", "is not an E.164 number"),
        ("+1415555010a", "is not an E.164 number"),
        ("+1415555", "is not a valid phone number"),
        ("+10000000000", "is not a valid phone number"),
    ],
)
def test_add_refuses_bad_numbers_naming_the_field(api: Any, e164: str, detail: str) -> None:
    r = api.client.post(BASE, json={"e164": e164, "provider": "fake"})
    assert r.status_code == 422
    problem = r.json()
    assert problem["code"] == "invalid_phone_number" and problem["field"] == "e164"
    assert detail in problem["detail"] and problem["detail"].startswith("e164:")
    assert api.numbers() == []


def test_add_refuses_unknown_provider_and_missing_fields(api: Any) -> None:
    r = api.client.post(BASE, json={"e164": "+14155550100", "provider": "nope"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_provider"
    r = api.client.post(BASE, json={"e164": "+14155550100"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "provider"
    assert api.numbers() == []


def test_duplicate_is_409_and_other_workspace_may_have_it(api: Any) -> None:
    body = {"e164": "+14155550100", "provider": "fake"}
    assert api.client.post(BASE, json=body).status_code == 201
    r = api.client.post(BASE, json=body)
    assert r.status_code == 409 and r.json()["code"] == "number_exists"
    assert api.client_b.post(BASE, json=body).status_code == 201


def test_list_paged_and_filtered(api: Any) -> None:
    api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    api.add_number("+14155550101", "fake", verified_cli=True, verification_status="verified")
    api.add_number("+14155550102", "fake")
    api.add_number("+14155550103", "fake", workspace="b")
    page = api.client.get(BASE, params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["limit"] == 2
    rest = api.client.get(BASE, params={"limit": 2, "offset": 2}).json()
    assert len(rest["items"]) == 1
    seen = {n["phone_e164"] for n in page["items"] + rest["items"]}
    assert seen == {"+14155550100", "+14155550101", "+14155550102"}

    def phones(**params: Any) -> set[str]:
        return {n["phone_e164"] for n in api.client.get(BASE, params=params).json()["items"]}

    assert phones(hosted="true") == {"+14155550100"}
    assert phones(verified="true") == {"+14155550101"}
    assert phones(outbound="true") == {"+14155550100"}
    assert phones(provider="other") == set()
    assert api.client.get(BASE, params={"limit": 0}).status_code == 422


def test_bind_hosted_number(api: Any) -> None:
    n = api.add_number("+14155550100", "fake", hosted=True)
    r = api.client.patch(
        f"{BASE}/{n['id']}",
        json={
            "outbound_enabled": True,
            "inbound_enabled": True,
            "outbound_agent_id": "agent-out-7",
            "inbound_agent_id": "agent-in-3",
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert body["outbound_enabled"] and body["inbound_enabled"]
    assert (body["outbound_agent_id"], body["inbound_agent_id"]) == ("agent-out-7", "agent-in-3")
    event = api.audit(action="binding_changed")[0]
    assert (
        event["outcome"] == "ok" and event["detail"]["after"]["outbound_agent_id"] == "agent-out-7"
    )


def test_enabling_outbound_on_unverified_byo_is_409_with_reasons(api: Any) -> None:
    n = api.add_number("+14155550100", "fake")
    r = api.client.patch(
        f"{BASE}/{n['id']}", json={"outbound_enabled": True, "outbound_agent_id": "a1"}
    )
    assert r.status_code == 409
    assert r.json()["code"] == "outbound_not_allowed"
    assert r.json()["reasons"] == ["caller_id_not_allowed"]
    row = api.number(n["id"])
    assert row["outbound_enabled"] is False and row["outbound_agent_id"] is None
    assert api.audit(action="binding_changed")[0]["outcome"] == "refused"
    # inbound alone is fine
    r = api.client.patch(f"{BASE}/{n['id']}", json={"inbound_enabled": True})
    assert r.status_code == 200 and r.json()["inbound_enabled"] is True


def test_verified_number_may_enable_outbound_unless_flag_off(make_api: Any) -> None:
    api = make_api(
        plugins=[],
        extra={"fake": FakeCarrier()},
        env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"},
    )
    n = api.add_number("+14155550100", "fake", verified_cli=True, verification_status="verified")
    r = api.client.patch(f"{BASE}/{n['id']}", json={"outbound_enabled": True})
    assert r.status_code == 409 and r.json()["reasons"] == ["caller_id_not_allowed"]


def test_get_and_delete(api: Any) -> None:
    n = api.add_number("+14155550100", "fake")
    assert api.client.get(f"{BASE}/{n['id']}").json()["id"] == n["id"]
    assert api.client.get(f"{BASE}/not-a-uuid").status_code == 404
    assert api.client.delete(f"{BASE}/{n['id']}").status_code == 204
    assert api.client.get(f"{BASE}/{n['id']}").status_code == 404
    assert api.numbers() == []
    assert api.audit(action="number_deleted")[0]["subject_id"] == n["id"]


def test_deleting_a_caller_id_clears_it_from_campaigns(api: Any) -> None:
    n = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    c = api.client.post("/campaigns", json={"name": "c", "from_e164": "+14155550100"}).json()
    assert c["from_number_id"] == n["id"]
    api.client.delete(f"{BASE}/{n['id']}")
    assert api.client.get(f"/campaigns/{c['id']}").json()["from_number_id"] is None
