"""Campaigns changed after creation: renamed, deleted, caller ID cleared, and the warning on a
campaign whose caller ID the policy no longer allows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AuthedClient
from tests.fakes import FakeCarrier

HOSTED = "+14155550100"
VERIFIED = "+14155550101"
NUMBERS = "/settings/telephony/numbers"


@pytest.fixture
def api(make_api: Any) -> Any:
    api = make_api(plugins=["country_rules"], extra={"fake": FakeCarrier()})
    api.extra["hosted"] = api.add_number(HOSTED, "fake", hosted=True, outbound_enabled=True)
    api.extra["verified"] = api.add_number(
        VERIFIED, "fake", verified_cli=True, verification_status="verified", outbound_enabled=True
    )
    return api


def create(api: Any, name: str = "Spring", from_e164: str | None = HOSTED) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if from_e164:
        body["from_e164"] = from_e164
    r = api.client.post("/campaigns", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def test_rename_is_audited_and_validated(api: Any) -> None:
    c = create(api)
    r = api.client.patch(f"/campaigns/{c['id']}", json={"name": "Summer"})
    assert r.status_code == 200 and r.json()["name"] == "Summer"
    assert r.json()["from_e164"] == HOSTED
    assert api.client.get(f"/campaigns/{c['id']}").json()["name"] == "Summer"
    rows = api.audit(action="campaign_updated")
    assert len(rows) == 1 and rows[0]["outcome"] == "ok"
    assert rows[0]["detail"] == {"before": {"name": "Spring"}, "after": {"name": "Summer"}}
    for body in ({"name": ""}, {}, {"name": "x", "from_e164": HOSTED}, {"name": "x" * 201}):
        bad = api.client.patch(f"/campaigns/{c['id']}", json=body)
        assert bad.status_code == 422 and bad.json()["code"] == "validation_error", body
    assert api.client.get(f"/campaigns/{c['id']}").json()["name"] == "Summer"
    # another workspace's campaign is not found, and nothing changes
    other = api.client_b.patch(f"/campaigns/{c['id']}", json={"name": "Theirs"})
    assert other.status_code == 404 and other.json()["code"] == "not_found"
    assert api.client.get(f"/campaigns/{c['id']}").json()["name"] == "Summer"


def test_delete_is_audited_and_keeps_the_calls(api: Any) -> None:
    c = create(api)
    call = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+12125550123"})
    assert call.status_code == 201, call.text
    assert api.client_b.delete(f"/campaigns/{c['id']}").status_code == 404
    r = api.client.delete(f"/campaigns/{c['id']}")
    assert r.status_code == 204 and r.content == b""
    assert api.client.get(f"/campaigns/{c['id']}").status_code == 404
    assert api.client.delete(f"/campaigns/{c['id']}").status_code == 404
    assert api.client.get("/campaigns").json()["total"] == 0
    rows = api.audit(action="campaign_deleted")
    assert len(rows) == 1 and rows[0]["detail"] == {"name": "Spring"}
    assert rows[0]["subject_id"] == c["id"]
    # the call stays, without its campaign
    calls = api.client.get("/calls").json()["items"]
    assert [x["id"] for x in calls] == [call.json()["id"]] and calls[0]["campaign_id"] is None


def test_null_clears_the_caller_id(api: Any) -> None:
    c = create(api)
    r = api.client.patch(f"/campaigns/{c['id']}/from_number", json={"e164": None})
    assert r.status_code == 200, r.text
    assert r.json()["from_e164"] is None and r.json()["from_number_id"] is None
    assert api.client.get(f"/campaigns/{c['id']}").json()["from_e164"] is None
    rows = api.audit(action="caller_id_changed")
    assert rows[-1]["outcome"] == "ok"
    assert rows[-1]["detail"] == {"before": HOSTED, "after": None}
    # a campaign without a caller ID places no call
    refused = api.client.post(f"/campaigns/{c['id']}/test-call", json={"to": "+12125550123"})
    assert refused.status_code == 409 and refused.json()["code"] == "campaign_has_no_caller_id"
    # the key is still required: an empty body is not a clearing
    missing = api.client.patch(f"/campaigns/{c['id']}/from_number", json={})
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"
    # and it can be set again
    again = api.client.patch(f"/campaigns/{c['id']}/from_number", json={"e164": VERIFIED})
    assert again.status_code == 200 and again.json()["from_e164"] == VERIFIED
    assert api.audit(action="caller_id_changed")[-1]["detail"] == {
        "before": None,
        "after": VERIFIED,
    }


def test_a_caller_id_the_policy_no_longer_allows_is_warned_about(make_api: Any) -> None:
    # verified caller IDs switched off after the campaign was made with one
    fake = FakeCarrier()
    api = make_api(plugins=[], extra={"fake": fake})
    api.add_number(
        VERIFIED, "fake", verified_cli=True, verification_status="verified", outbound_enabled=True
    )
    c = create(api, from_e164=VERIFIED)
    assert c["warnings"] == []
    later = make_api(
        plugins=[],
        extra={"fake": FakeCarrier()},
        env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"},
        database_url=str(api.runtime.settings.database_url),
    )
    mine = AuthedClient(later.testclient, api.client.key)
    got = mine.get(f"/campaigns/{c['id']}").json()
    assert [w["code"] for w in got["warnings"]] == ["caller_id_not_allowed"]
    assert got["warnings"][0]["detail"] == "The number is neither hosted nor a verified caller ID."
    assert mine.get("/campaigns").json()["items"][0]["warnings"] == got["warnings"]


def test_outbound_turned_off_and_a_blocked_country_are_warned_about(make_api: Any) -> None:
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["GB"]}},
        extra={"fake": FakeCarrier()},
    )
    n = api.add_number(HOSTED, "fake", hosted=True, outbound_enabled=True)
    uk = api.add_number("+442071838750", "fake", hosted=True, outbound_enabled=True)
    c = create(api)
    assert c["warnings"] == []
    assert (
        api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": False}).status_code
        == 200
    )
    got = api.client.get(f"/campaigns/{c['id']}").json()
    assert [w["code"] for w in got["warnings"]] == ["outbound_disabled"]
    # the country is checked per call, not when the caller ID is chosen: a caller ID of a
    # blocked country is taken, and warned about
    changed = api.client.patch(f"/campaigns/{c['id']}/from_number", json={"e164": uk["phone_e164"]})
    assert changed.status_code == 200
    assert [w["code"] for w in changed.json()["warnings"]] == ["country_blocked"]
