"""Campaigns: create, list, caller-ID validation (``PATCH .../from_number``) and test calls."""

from __future__ import annotations

from typing import Any

import phonenumbers
import pytest

from core import CallOptions, PlacedCall, ProviderRejected, ProviderUnavailable, hookimpl
from tests.fakes import FakeCarrier

NUMBERS = "/settings/telephony/numbers"
#: A number phonenumbers considers valid for North Korea (blocked by country_rules below).
KP_NUMBER = "+85023812222"
US_CALLER = "+14155550100"
US_CALLEE = "+12125550123"


class RecordingCarrier(FakeCarrier):
    """The fake carrier, remembering what ``place_call`` was asked."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.placed: list[tuple[str, str, CallOptions]] = []
        self.pool: Any = None  # the app's connection pool, when a test wants it watched
        self.connections_held: list[int] = []

    @hookimpl
    def place_call(self, from_e164: str, to_e164: str, options: CallOptions) -> PlacedCall:
        self.placed.append((from_e164, to_e164, options))
        if self.pool is not None:
            self.connections_held.append(self.pool.checkedout())
        return super().place_call(from_e164, to_e164, options)


def build(make_api: Any, env: dict[str, str] | None = None) -> tuple[Any, RecordingCarrier]:
    fake = RecordingCarrier()
    api = make_api(
        plugins=["country_rules"],
        tables={"country_rules": {"blocked": ["KP"]}},
        extra={"fake": fake},
        env=env or {},
    )
    return api, fake


@pytest.fixture
def env(make_api: Any) -> tuple[Any, RecordingCarrier]:
    return build(make_api)


def campaign(api: Any, name: str = "Spring", from_e164: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name}
    if from_e164 is not None:
        body["from_e164"] = from_e164
    r = api.client.post("/campaigns", json=body)
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


def set_from(api: Any, cid: str, e164: str) -> Any:
    return api.client.patch(f"/campaigns/{cid}/from_number", json={"e164": e164})


def test_kp_number_is_valid_for_kp() -> None:
    parsed = phonenumbers.parse(KP_NUMBER, None)
    assert phonenumbers.is_valid_number(parsed)
    assert phonenumbers.region_code_for_number(parsed) == "KP"


# -- create, list, get ------------------------------------------------------------------------


def test_create_without_and_with_caller_id(env: Any) -> None:
    api, _ = env
    n = api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=True)
    bare = campaign(api, "Bare")
    assert bare["name"] == "Bare" and bare["from_number_id"] is None and bare["from_e164"] is None
    assert bare["workspace_id"] == api.workspace_id
    full = campaign(api, "Full", from_e164="+1 415 555 0100".replace(" ", ""))
    assert full["from_number_id"] == n["id"] and full["from_e164"] == US_CALLER
    created = api.audit(action="campaign_created")
    assert [e["subject_id"] for e in created] == [bare["id"], full["id"]]
    assert created[1]["detail"]["from_e164"] == US_CALLER


def test_create_validates_caller_id_and_stores_nothing_when_refused(env: Any) -> None:
    api, _ = env
    api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=False)
    r = api.client.post("/campaigns", json={"name": "x", "from_e164": US_CALLER})
    assert r.status_code == 409 and r.json()["code"] == "caller_id_outbound_disabled"
    r = api.client.post("/campaigns", json={"name": "x", "from_e164": "+14155550199"})
    assert r.status_code == 422 and r.json()["code"] == "caller_id_not_found"
    r = api.client.post("/campaigns", json={"name": "x", "from_e164": "not-a-number"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    assert api.client.get("/campaigns").json()["total"] == 0
    assert api.audit(action="campaign_created") == []


def test_create_needs_a_name(env: Any) -> None:
    api, _ = env
    for body in ({}, {"name": ""}, {"name": "x", "surprise": 1}):
        r = api.client.post("/campaigns", json=body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert api.client.get("/campaigns").json()["total"] == 0


def test_list_is_paged_and_scoped(env: Any) -> None:
    api, _ = env
    ids = [campaign(api, f"c{i}")["id"] for i in range(5)]
    api.client_b.post("/campaigns", json={"name": "theirs"})
    page = api.client.get("/campaigns", params={"limit": 2, "offset": 0}).json()
    assert set(page) == {"items", "total", "limit", "offset"}
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 0, 2)
    seen = []
    for offset in (0, 2, 4):
        items = api.client.get("/campaigns", params={"limit": 2, "offset": offset}).json()["items"]
        seen += [c["id"] for c in items]
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    assert api.client.get("/campaigns", params={"offset": 10}).json()["items"] == []
    theirs = api.client_b.get("/campaigns").json()
    assert theirs["total"] == 1 and theirs["items"][0]["name"] == "theirs"
    assert api.client.get("/campaigns", params={"limit": 0}).status_code == 422
    assert api.client.get("/campaigns", params={"offset": -1}).status_code == 422


def test_get_one_and_another_workspaces_is_404(env: Any) -> None:
    api, _ = env
    c = campaign(api)
    got = api.client.get(f"/campaigns/{c['id']}")
    assert got.status_code == 200 and got.json() == c
    other = api.client_b.get(f"/campaigns/{c['id']}")
    missing = api.client.get("/campaigns/00000000-0000-4000-8000-000000000000")
    malformed = api.client.get("/campaigns/nope")
    for r in (other, missing, malformed):
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert other.json()["detail"] == missing.json()["detail"]
    r = api.client_b.patch(f"/campaigns/{c['id']}/from_number", json={"e164": US_CALLER})
    assert r.status_code == 404
    assert api.anon.get("/campaigns").status_code == 401


# -- campaign caller-ID validation ------------------------------------------------------------


def test_caller_id_hosted_ok(env: Any) -> None:
    api, _ = env
    n = api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=True)
    c = campaign(api)
    r = set_from(api, c["id"], US_CALLER)
    assert r.status_code == 200
    assert r.json()["from_number_id"] == n["id"] and r.json()["from_e164"] == US_CALLER
    assert api.client.get(f"/campaigns/{c['id']}").json()["from_number_id"] == n["id"]
    (event,) = api.audit(action="caller_id_changed")
    assert event["outcome"] == "ok" and event["subject_id"] == c["id"]
    assert event["detail"] == {"before": None, "after": US_CALLER}


def test_caller_id_verified_ok_and_change_is_audited_with_before(env: Any) -> None:
    api, _ = env
    first = api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=True)
    second = api.add_number(
        "+442079460000",
        "fake",
        verified_cli=True,
        verification_status="verified",
        outbound_enabled=True,
    )
    c = campaign(api, from_e164=US_CALLER)
    r = set_from(api, c["id"], "+442079460000")
    assert r.status_code == 200 and r.json()["from_number_id"] == second["id"]
    (event,) = api.audit(action="caller_id_changed")
    assert event["detail"] == {"before": first["phone_e164"], "after": "+442079460000"}


def test_caller_id_verified_refused_when_verified_flag_off(make_api: Any) -> None:
    api, _ = build(make_api, env={"TELEPHONY_OUTBOUND_VERIFIED_ENABLED": "false"})
    api.add_number(
        US_CALLER, "fake", verified_cli=True, verification_status="verified", outbound_enabled=True
    )
    hosted = api.add_number("+14155550101", "fake", hosted=True, outbound_enabled=True)
    c = campaign(api)
    r = set_from(api, c["id"], US_CALLER)
    assert r.status_code == 409
    assert r.json()["code"] == "caller_id_not_allowed"
    assert r.json()["reasons"] == ["caller_id_not_allowed"]
    # hosted numbers do not depend on the flag
    r = set_from(api, c["id"], "+14155550101")
    assert r.status_code == 200 and r.json()["from_number_id"] == hosted["id"]


def test_caller_id_unverified_refused(env: Any) -> None:
    api, _ = env
    # a BYO number that somehow has outbound enabled while unverified
    api.add_number(US_CALLER, "fake", outbound_enabled=True, verification_status="pending")
    c = campaign(api)
    r = set_from(api, c["id"], US_CALLER)
    assert r.status_code == 409 and r.json()["code"] == "caller_id_not_allowed"
    assert r.json()["field"] == "e164"
    assert api.client.get(f"/campaigns/{c['id']}").json()["from_number_id"] is None
    (event,) = api.audit(action="caller_id_changed")
    assert event["outcome"] == "caller_id_not_allowed"


def test_caller_id_outbound_disabled_refused(env: Any) -> None:
    api, _ = env
    api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=False)
    api.add_number(
        "+14155550101", "fake", verified_cli=True, verification_status="verified"
    )  # verified, not bound
    c = campaign(api)
    for e164 in (US_CALLER, "+14155550101"):
        r = set_from(api, c["id"], e164)
        assert r.status_code == 409
        assert r.json()["code"] == "caller_id_outbound_disabled"
        assert r.json()["reasons"] == ["outbound_disabled"]


def test_caller_id_of_another_workspace_is_indistinguishable_from_nonexistent(env: Any) -> None:
    api, _ = env
    api.add_number("+14155550177", "fake", workspace="b", hosted=True, outbound_enabled=True)
    c = campaign(api)
    theirs = set_from(api, c["id"], "+14155550177")
    nobody = set_from(api, c["id"], "+14155550188")
    assert theirs.status_code == nobody.status_code == 422
    a, b = theirs.json(), nobody.json()
    assert a["code"] == b["code"] == "caller_id_not_found"
    assert set(a) == set(b)
    assert a["detail"].replace("+14155550177", "X") == b["detail"].replace("+14155550188", "X")
    assert {k: v for k, v in a.items() if k != "detail"} == {
        k: v for k, v in b.items() if k != "detail"
    }
    assert api.client.get(f"/campaigns/{c['id']}").json()["from_number_id"] is None


def test_caller_id_nonexistent_refused(env: Any) -> None:
    api, _ = env
    c = campaign(api)
    r = set_from(api, c["id"], "+14155550188")
    assert r.status_code == 422
    assert r.json()["code"] == "caller_id_not_found" and r.json()["field"] == "e164"


@pytest.mark.parametrize("e164", ["4155550100", "+1415555", "+1 415 555 0100", "+10000000000"])
def test_caller_id_malformed_refused(env: Any, e164: str) -> None:
    api, _ = env
    c = campaign(api)
    r = set_from(api, c["id"], e164)
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    assert r.json()["field"] == "e164"


def test_caller_id_body_is_validated(env: Any) -> None:
    api, _ = env
    c = campaign(api)
    for body in ({}, {"e164": US_CALLER, "extra": True}, {"e164": 5}):
        r = api.client.patch(f"/campaigns/{c['id']}/from_number", json=body)
        assert r.status_code == 422 and r.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("fields", "e164", "status", "code"),
    [
        ({}, "+1415", 422, "invalid_phone_number"),
        (None, US_CALLER, 422, "caller_id_not_found"),
        ({"hosted": True}, US_CALLER, 409, "caller_id_outbound_disabled"),
        ({"outbound_enabled": True}, US_CALLER, 409, "caller_id_not_allowed"),
    ],
)
def test_each_refusal_code(
    env: Any, fields: dict[str, Any] | None, e164: str, status: int, code: str
) -> None:
    api, _ = env
    if fields is not None:
        api.add_number(US_CALLER, "fake", **fields)
    c = campaign(api)
    r = set_from(api, c["id"], e164)
    assert r.status_code == status
    problem = r.json()
    assert problem["code"] == code and problem["status"] == status
    assert problem["type"].endswith(code) and r.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert api.audit(action="caller_id_changed")[0]["outcome"] == code


# -- test calls --------------------------------------------------------------------------------


def ready(api: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A hosted, outbound-enabled caller ID and a campaign using it."""
    n = api.add_number(US_CALLER, "fake", hosted=True, outbound_enabled=True)
    return n, campaign(api, from_e164=US_CALLER)


def dial(api: Any, cid: str, to: str, client: Any = None) -> Any:
    return (client or api.client).post(f"/campaigns/{cid}/test-call", json={"to": to})


def test_test_call_placed_and_recorded(env: Any) -> None:
    api, fake = env
    n, c = ready(api)
    r = dial(api, c["id"], "+1 212 555 0123".replace(" ", ""))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["campaign_id"] == c["id"] and body["provider"] == "fake"
    assert (body["from_e164"], body["to_e164"]) == (US_CALLER, US_CALLEE)
    assert (body["provider_call_id"], body["status"]) == ("CALL-1", "queued")
    assert fake.calls["place_call"] == 1
    ((frm, to, options),) = fake.placed
    assert (frm, to) == (US_CALLER, US_CALLEE)
    assert options.metadata["campaign_id"] == c["id"]
    (call,) = api.calls()
    assert call["id"] == body["id"] and call["number_id"] == n["id"]
    assert call["workspace_id"] == api.workspace_id and call["provider_call_id"] == "CALL-1"
    (event,) = api.audit(action="test_call")
    assert event["outcome"] == "placed" and event["subject_type"] == "call"
    assert event["subject_id"] == body["id"] and event["detail"]["to"] == US_CALLEE


def test_no_database_connection_is_held_while_the_carrier_places_the_call(env: Any) -> None:
    """The carrier may take seconds: the request's reads are committed before it is called."""
    api, fake = env
    _n, c = ready(api)
    fake.pool = api.app.state.runtime.engine.sync_engine.pool
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == 201, r.text
    assert fake.connections_held == [0]
    assert len(api.calls()) == 1


def test_test_call_refused_for_blocked_destination(env: Any) -> None:
    api, fake = env
    _, c = ready(api)
    r = dial(api, c["id"], KP_NUMBER)
    assert r.status_code == 409
    assert r.json()["code"] == "outbound_not_allowed"
    assert r.json()["reasons"] == ["country_blocked"]
    assert "place_call" not in fake.calls and api.calls() == []
    (event,) = api.audit(action="test_call")
    assert event["outcome"] == "refused" and event["detail"]["reasons"] == ["country_blocked"]
    assert event["detail"]["to"] == KP_NUMBER


def test_test_call_refused_for_unbound_number(env: Any) -> None:
    api, fake = env
    n, c = ready(api)
    r = api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": False})
    assert r.status_code == 200
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == 409 and r.json()["reasons"] == ["outbound_disabled"]
    assert "place_call" not in fake.calls and api.calls() == []


def test_test_call_lists_every_reason(env: Any) -> None:
    api, fake = env
    n, c = ready(api)
    api.client.patch(f"{NUMBERS}/{n['id']}", json={"outbound_enabled": False})
    r = dial(api, c["id"], KP_NUMBER)
    assert r.status_code == 409
    assert r.json()["reasons"] == ["outbound_disabled", "country_blocked"]
    assert "place_call" not in fake.calls


def test_test_call_refused_in_demo_mode(make_api: Any) -> None:
    api, fake = build(make_api, env={"DEMO_MODE": "true"})
    _, c = ready(api)
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == 403
    assert r.json()["code"] == "demo_mode" and r.json()["reasons"] == ["demo_mode"]
    assert "place_call" not in fake.calls and api.calls() == []
    assert api.audit(action="test_call")[0]["outcome"] == "refused"


def test_test_call_without_caller_id_is_409(env: Any) -> None:
    api, fake = env
    c = campaign(api)
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == 409 and r.json()["code"] == "campaign_has_no_caller_id"
    assert "place_call" not in fake.calls and api.calls() == []


def test_test_call_after_caller_id_deleted_is_409(env: Any) -> None:
    api, fake = env
    n, c = ready(api)
    assert api.client.delete(f"{NUMBERS}/{n['id']}").status_code == 204
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == 409 and r.json()["code"] == "campaign_has_no_caller_id"
    assert "place_call" not in fake.calls


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ProviderUnavailable("carrier down", provider="fake"), 503, "provider_unavailable"),
        (
            ProviderRejected("no", provider="fake", provider_code=21215, provider_detail="geo"),
            502,
            "provider_rejected",
        ),
    ],
)
def test_test_call_carrier_failure(env: Any, error: Exception, status: int, code: str) -> None:
    api, fake = env
    _, c = ready(api)
    fake.fail["place_call"] = error
    r = dial(api, c["id"], US_CALLEE)
    assert r.status_code == status and r.json()["code"] == code
    assert fake.calls["place_call"] == 1
    assert api.calls() == []
    (event,) = api.audit(action="test_call")
    assert event["outcome"] == code and event["subject_id"] == c["id"]
    if code == "provider_rejected":
        assert r.json()["provider_code"] == "21215"


def test_test_call_bad_destination_and_other_workspace(env: Any) -> None:
    api, fake = env
    _, c = ready(api)
    r = dial(api, c["id"], "12345")
    assert r.status_code == 422 and r.json()["code"] == "invalid_phone_number"
    assert r.json()["field"] == "to"
    r = dial(api, c["id"], US_CALLEE, client=api.client_b)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api.client.post(f"/campaigns/{c['id']}/test-call", json={})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert "place_call" not in fake.calls and api.calls() == []
