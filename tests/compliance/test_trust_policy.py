"""The workspace's trust settings through the HTTP API, with the sandbox carrier: its
``min_attestation`` (reason 8, ``attestation_below_minimum``, US and CA destinations only) and its
lookup policy (``lookup.enabled``, ``deny_line_types`` -> reason 9, ``check_reassigned`` ->
reason 10), in the preflight, its batch and the campaign test call, which decide through one gate
(``core.preflight.decide``) and so agree on every input (a hypothesis test over random policies
and requests: reasons 5 to 10), and in the campaigns' warnings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

POLICY = "/settings/telephony/outbound-policy"
CHECK = "/outbound/check"
NY = "+12125550199"
LANDLINE = "+12125550111"
PREMIUM = "+12125550133"
MOVED = "+12125550122"
TORONTO = "+14165550123"
LONDON = "+442079460000"
PARIS = "+33140000000"
SAN_JUAN = "+17875550123"  # Puerto Rico: NANP, but not a US or CA destination here
#: A caller ID for each stored attestation (``None``: never asked of its carrier).
CALLERS = {
    "A": "+14155550201",
    "B": "+14155550202",
    "C": "+14155550203",
    "unknown": "+14155550204",
    None: "+14155550205",
}
DEFAULT_LOOKUP = {"enabled": False, "deny_line_types": [], "check_reassigned": False}
SANDBOX = {
    "disabled_countries": ["FR"],
    "lookup": {
        "line_types": {LANDLINE: "landline", PREMIUM: "premium"},
        "reassigned": [MOVED],
    },
}


@pytest.fixture
def api(make_api: Any) -> Any:
    api = make_api(plugins=["sandbox"], tables={"sandbox": SANDBOX})
    for level, e164 in CALLERS.items():
        api.add_number(e164, "sandbox", hosted=True, outbound_enabled=True, attestation_level=level)
    return api


def put_policy(api: Any, policy: dict[str, Any]) -> dict[str, Any]:
    r = api.client.put(POLICY, json=policy)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def check(api: Any, to: str | None, caller: str | None = "A", **extra: Any) -> dict[str, Any]:
    body = {"from": CALLERS[caller], **extra}
    if to is not None:
        body["to"] = to
    r = api.client.post(CHECK, json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def lookups(api: Any) -> list[dict[str, Any]]:
    return api.ledger(kind="lookup", workspace_id=uuid.UUID(api.workspace_id))


def campaign(api: Any, caller: str | None) -> str:
    r = api.client.post("/campaigns", json={"name": f"from {caller}", "from_e164": CALLERS[caller]})
    assert r.status_code == 201, r.text
    cid: str = r.json()["id"]
    return cid


# -- the policy's new fields ----------------------------------------------------------------------


def test_the_policy_carries_min_attestation_and_the_lookup_policy(api: Any) -> None:
    got = api.client.get(POLICY).json()
    assert got["min_attestation"] is None and got["lookup"] == DEFAULT_LOOKUP
    saved = put_policy(
        api,
        {
            "min_attestation": "B",
            "lookup": {
                "enabled": True,
                "deny_line_types": ["premium", "landline", "premium", "pager"],
                "check_reassigned": True,
            },
        },
    )
    # line types de-duplicated, in the design's order
    assert saved["min_attestation"] == "B"
    assert saved["lookup"] == {
        "enabled": True,
        "deny_line_types": ["landline", "premium", "pager"],
        "check_reassigned": True,
    }
    assert api.client.get(POLICY).json() == saved
    [changed] = api.audit(action="outbound_policy_changed")
    assert changed["detail"]["before"]["min_attestation"] is None
    assert changed["detail"]["after"]["lookup"]["deny_line_types"] == [
        "landline",
        "premium",
        "pager",
    ]
    # a PUT is the whole policy: what it leaves out takes its default
    assert put_policy(api, {"allowed_countries": ["US"]})["lookup"] == DEFAULT_LOOKUP
    assert api.client_b.get(POLICY).json()["min_attestation"] is None
    # every line type of the design is accepted
    every = ["mobile", "landline", "fixed_voip", "non_fixed_voip", "toll_free", "premium"]
    every += ["shared_cost", "voicemail", "pager", "unknown"]
    assert (
        put_policy(api, {"lookup": {"deny_line_types": every}})["lookup"]["deny_line_types"]
        == every
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"min_attestation": "D"},
        {"min_attestation": "unknown"},
        {"min_attestation": "a"},
        {"min_attestation": 1},
        {"lookup": {"deny_line_types": ["landline", "fax"]}},
        {"lookup": {"deny_line_types": ["Landline"]}},
        {"lookup": {"deny_line_types": "premium"}},
        {"lookup": {"enabled": "yes"}},
        {"lookup": {"enabled": 1}},
        {"lookup": {"check_reassigned": "true"}},
        {"lookup": {"cache_days": 3}},
        {"lookup": True},
    ],
)
def test_a_bad_trust_setting_is_refused_and_changes_nothing(api: Any, bad: dict[str, Any]) -> None:
    before = put_policy(api, {"min_attestation": "A", "lookup": {"deny_line_types": ["pager"]}})
    r = api.client.put(POLICY, json=bad)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert api.client.get(POLICY).json() == before
    assert len(api.audit(action="outbound_policy_changed")) == 1


# -- 8. attestation_below_minimum -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minimum", "refused"),
    [
        (None, set()),
        ("C", {"unknown", None}),
        ("B", {"C", "unknown", None}),
        ("A", {"B", "C", "unknown", None}),
    ],
)
def test_min_attestation_refuses_us_and_ca_destinations_below_it(
    api: Any, minimum: str | None, refused: set[str | None]
) -> None:
    put_policy(api, {"min_attestation": minimum})
    for level in CALLERS:
        for to in (NY, TORONTO):
            out = check(api, to, level)
            want = ["attestation_below_minimum"] if level in refused else []
            assert out["reasons"] == want, (minimum, level, to, out)
            assert out["attestation"] == level
        # elsewhere the minimum does not apply (nor to a NANP territory, nor without a `to`)
        for to in (LONDON, SAN_JUAN):
            assert check(api, to, level)["allowed"] is True, (minimum, level, to)
        assert check(api, None, level)["allowed"] is True


def test_reasons_keep_the_design_order(api: Any) -> None:
    api.add_number("+14155550299", "sandbox", attestation_level="B")  # neither enabled nor hosted
    put_policy(
        api,
        {
            "allowed_countries": ["CA"],
            "calling_hours": {"rules": ["us_federal"]},
            "min_attestation": "A",
            "lookup": {"deny_line_types": ["landline"], "check_reassigned": True},
        },
    )
    r = api.client.post(
        CHECK,
        json={
            "from": "+14155550299",
            "to": LANDLINE,
            "at": "2026-07-15T10:00:00Z",  # 06:00 in New York
            "lookup": True,
            "last_verified_date": "2026-01-15",
        },
    )
    assert r.json()["reasons"] == [
        "outbound_disabled",
        "caller_id_not_allowed",
        "country_not_allowed",
        "outside_calling_hours",
        "attestation_below_minimum",
        "line_type_not_allowed",
    ]
    moved = api.client.post(
        CHECK,
        json={
            "from": CALLERS["unknown"],
            "to": MOVED,
            "at": "2026-07-15T10:00:00Z",
            "lookup": True,
            "last_verified_date": "2026-01-15",
        },
    ).json()
    assert moved["reasons"] == [
        "country_not_allowed",
        "outside_calling_hours",
        "attestation_below_minimum",
        "number_reassigned",
    ]


def test_the_minimum_applies_from_memory(api: Any) -> None:
    """Once the workspace is held in the snapshot, the preflight reads no table: the number's
    attestation and the workspace's minimum are both in memory."""
    put_policy(api, {"min_attestation": "A"})
    assert check(api, NY, "B")["reasons"] == ["attestation_below_minimum"]  # loads the snapshot
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = api.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for level in ("A", "B", "unknown"):
            check(api, NY, level)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == []
    # a change of the policy is seen by the next preflight
    put_policy(api, {"min_attestation": "B"})
    assert check(api, NY, "B")["allowed"] is True


def test_a_number_whose_attestation_changes_is_decided_anew(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"verification_style": "sms", "fixed_code": "123456"}},
    )
    byo = api.client.post(
        "/settings/telephony/numbers", json={"e164": "+14155550171", "provider": "sandbox"}
    ).json()
    put_policy(api, {"min_attestation": "B"})
    numbers = "/settings/telephony/numbers"
    api.client.patch(f"{numbers}/{byo['id']}", json={"outbound_enabled": False})
    r = api.client.post(CHECK, json={"number_id": byo["id"], "to": NY})
    assert r.json()["reasons"] == [
        "outbound_disabled",
        "caller_id_not_allowed",
        "attestation_below_minimum",  # never asked: unknown
    ]
    api.client.post(f"{numbers}/verify-cli", json={"number_id": byo["id"]})
    api.client.post(f"{numbers}/verify-cli", json={"number_id": byo["id"], "code": "123456"})
    assert (
        api.client.patch(f"{numbers}/{byo['id']}", json={"outbound_enabled": True}).status_code
        == 200
    )
    out = api.client.post(CHECK, json={"number_id": byo["id"], "to": NY}).json()
    assert out["attestation"] == "B" and out["allowed"] is True


# -- 9 and 10. the workspace's lookup policy ---------------------------------------------------------


def test_lookups_enabled_for_the_workspace(api: Any) -> None:
    put_policy(api, {"lookup": {"enabled": True}})
    out = check(api, LANDLINE)
    assert out["allowed"] is True and out["lookup"]["status"] == "ok"
    assert out["destination"]["line_type"] == "landline"
    assert len(lookups(api)) == 1
    again = check(api, LANDLINE)
    assert again["lookup"]["status"] == "cached" and again["destination"]["line_type"] == "landline"
    assert len(lookups(api)) == 1
    # the request's own `lookup: false` wins; a check without `to` looks nothing up
    off = check(api, NY, lookup=False)
    assert off["lookup"] is None and off["destination"]["line_type"] is None
    assert check(api, None)["lookup"] is None
    assert len(lookups(api)) == 1
    # turned off again: nothing is looked up unless the request asks
    put_policy(api, {})
    assert check(api, NY)["lookup"] is None
    assert check(api, NY, lookup=True)["destination"]["line_type"] == "mobile"
    assert len(lookups(api)) == 2


def test_deny_line_types(api: Any) -> None:
    put_policy(api, {"lookup": {"enabled": True, "deny_line_types": ["landline", "premium"]}})
    landline = check(api, LANDLINE)
    assert landline["allowed"] is False and landline["reasons"] == ["line_type_not_allowed"]
    assert landline["destination"]["line_type"] == "landline"
    assert check(api, PREMIUM)["reasons"] == ["line_type_not_allowed"]
    assert check(api, NY)["allowed"] is True
    # the request's `lookup: false`: nothing is known of the line type, nothing refused
    assert check(api, LANDLINE, lookup=False)["allowed"] is True
    # with lookups off for the workspace, a request's own lookup still applies its line types
    put_policy(api, {"lookup": {"deny_line_types": ["landline"]}})
    assert check(api, LANDLINE)["allowed"] is True
    assert check(api, LANDLINE, lookup=True)["reasons"] == ["line_type_not_allowed"]


def test_a_failed_lookup_refuses_nothing(api: Any) -> None:
    put_policy(api, {"lookup": {"enabled": True, "deny_line_types": ["mobile"]}})
    sandbox = api.host.pm.get_plugin("sandbox")
    sandbox.settings.fail_operations = {"lookup_number": "unavailable"}
    out = check(api, NY, last_verified_date="2026-01-15")
    assert out["allowed"] is True and out["lookup"]["status"] == "failed"
    assert out["lookup"]["error"] == "provider_unavailable"
    assert out["destination"]["line_type"] is None
    sandbox.settings.fail_operations = {}
    assert check(api, NY)["reasons"] == ["line_type_not_allowed"]


def test_check_reassigned(api: Any) -> None:
    put_policy(api, {"lookup": {"enabled": True}})
    # off: a last_verified_date does not ask the (costlier) reassigned question
    out = check(api, MOVED, last_verified_date="2026-01-15")
    assert out["allowed"] is True and out["lookup"]["reassigned"] is None
    [entry] = lookups(api)
    assert entry["metadata"]["fields"] == ["line_type"]
    put_policy(api, {"lookup": {"enabled": True, "check_reassigned": True}})
    moved = check(api, MOVED, last_verified_date="2026-01-15")
    assert moved["reasons"] == ["number_reassigned"] and moved["lookup"]["reassigned"] == "yes"
    assert lookups(api)[-1]["metadata"]["fields"] == ["reassigned"]  # the line type was cached
    assert check(api, NY, last_verified_date="2026-01-15")["lookup"]["reassigned"] == "no"
    assert check(api, MOVED)["allowed"] is True  # no date: nothing to check against
    # a request's own `lookup: true` asks it whenever it gives the date
    put_policy(api, {})
    assert check(api, MOVED, lookup=True, last_verified_date="2026-01-15")["reasons"] == [
        "number_reassigned"
    ]


def test_the_batch_applies_the_workspace_lookup_policy(api: Any) -> None:
    put_policy(api, {"lookup": {"enabled": True, "deny_line_types": ["landline"]}})
    r = api.client.post(
        "/outbound/check/batch",
        json={
            "checks": [
                {"from": CALLERS["A"], "to": LANDLINE},
                {"from": CALLERS["A"], "to": NY},
                {"from": CALLERS["A"], "to": LANDLINE, "lookup": False},
                {"from": CALLERS["B"], "to": LANDLINE},
                {"from": CALLERS["A"], "to": LONDON, "lookup": "yes"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    first, second, third, fourth, fifth = r.json()["results"]
    assert first["reasons"] == ["line_type_not_allowed"]
    assert first["destination"]["line_type"] == "landline"
    assert second["allowed"] is True and second["destination"]["line_type"] == "mobile"
    assert third["allowed"] is True and third["lookup"] is None
    assert fourth["reasons"] == ["line_type_not_allowed"]
    assert fifth["error"]["code"] == "validation_error"
    assert sorted(e["phone_e164"] for e in lookups(api)) == [LANDLINE, NY]  # each once


def test_no_lookup_reaches_a_carrier_in_demo_mode(make_api: Any) -> None:
    api = make_api(plugins=["sandbox"], tables={"sandbox": SANDBOX}, env={"DEMO_MODE": "true"})
    api.add_number(CALLERS["A"], "sandbox", hosted=True, outbound_enabled=True)
    put_policy(api, {"lookup": {"enabled": True}})
    out = check(api, NY, lookup=True)
    assert out["reasons"] == ["demo_mode"]
    assert out["lookup"] == {
        "status": "failed",
        "line_type": None,
        "reassigned": None,
        "carrier_name": None,
        "error": "demo_mode",
    }
    assert lookups(api) == []


# -- the campaign test call: the same gate ----------------------------------------------------------


def test_the_test_call_applies_min_attestation(api: Any) -> None:
    cid = campaign(api, "B")
    put_policy(api, {"min_attestation": "A"})
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY})
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "outbound_not_allowed"
    assert r.json()["reasons"] == ["attestation_below_minimum"]
    [refused] = [e for e in api.audit(action="test_call") if e["outcome"] == "refused"]
    assert refused["detail"] == {"to": NY, "reasons": ["attestation_below_minimum"]}
    assert api.client.post(f"/campaigns/{cid}/test-call", json={"to": LONDON}).status_code == 201
    assert len(api.calls()) == 1


def test_the_test_call_looks_the_destination_up(api: Any) -> None:
    cid = campaign(api, "A")
    put_policy(api, {"lookup": {"enabled": True, "deny_line_types": ["landline"]}})
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": LANDLINE})
    assert r.status_code == 409 and r.json()["reasons"] == ["line_type_not_allowed"]
    [refused] = [e for e in api.audit(action="test_call") if e["outcome"] == "refused"]
    assert refused["detail"]["lookup"] == "ok"
    [entry] = lookups(api)
    assert entry["phone_e164"] == LANDLINE and entry["amount_cents"] == 0
    # the preflight uses the test call's cached answer, and the other way round
    assert check(api, LANDLINE)["lookup"]["status"] == "cached"
    assert check(api, NY)["lookup"]["status"] == "ok"
    assert api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY}).status_code == 201
    assert len(lookups(api)) == 2
    # the test call's own fields, as the preflight's
    r = api.client.post(
        f"/campaigns/{cid}/test-call",
        json={"to": MOVED, "lookup": True, "last_verified_date": "2026-01-15"},
    )
    assert r.status_code == 409 and r.json()["reasons"] == ["number_reassigned"]
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": LANDLINE, "lookup": False})
    assert r.status_code == 201
    for bad in ({"lookup": "no"}, {"last_verified_date": "15/01/2026"}):
        r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY, **bad})
        assert r.status_code == 422 and r.json()["code"] == "validation_error"


def test_a_failing_lookup_does_not_stop_the_test_call(api: Any) -> None:
    cid = campaign(api, "A")
    put_policy(api, {"lookup": {"enabled": True, "deny_line_types": ["mobile"]}})
    api.host.pm.get_plugin("sandbox").settings.fail_operations = {"lookup_number": "rate_limited"}
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY})
    assert r.status_code == 201, r.text
    assert lookups(api) == []


# -- the preflight and the test call agree on every input --------------------------------------------

DESTINATIONS = [NY, LANDLINE, PREMIUM, MOVED, MOVED, TORONTO, LONDON, PARIS, SAN_JUAN]
LINE_TYPES = ["mobile", "landline", "premium"]
POLICIES = st.fixed_dictionaries(
    {
        "allowed_countries": st.sampled_from([[], ["US"], ["US", "CA", "GB"]]),
        "calling_hours": st.sampled_from(
            [
                None,
                {"rules": ["us_federal", "fr"]},
                {"rules": [], "windows": [{"days": ["wed"], "start": "09:00", "end": "17:00"}]},
            ]
        ),
        "min_attestation": st.sampled_from([None, "A", "B", "C"]),
        "lookup": st.fixed_dictionaries(
            {
                "enabled": st.booleans(),
                "deny_line_types": st.lists(st.sampled_from(LINE_TYPES), unique=True),
                "check_reassigned": st.booleans(),
            }
        ),
    }
)
REQUESTS = st.fixed_dictionaries(
    {"to": st.sampled_from(DESTINATIONS)},
    optional={
        "lookup": st.booleans(),
        "last_verified_date": st.sampled_from(["2026-01-15", "2025-06-01"]),
    },
)


def _verdict(r: Any) -> tuple[Any, ...]:
    body = r.json()
    if r.status_code in (200, 201) and body.get("allowed", True):
        return ("allowed",)
    if r.status_code == 200 or body.get("code") == "outbound_not_allowed":
        return ("refused", tuple(body["reasons"]))
    return (r.status_code, body.get("code"))


def test_preflight_and_test_call_agree_on_trust_reasons(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.policy

    # both decide "now": Wednesday 06:00 in New York and Toronto, 11:00 in London, 12:00 in Paris
    monkeypatch.setattr(core.policy, "now", lambda: datetime(2026, 7, 15, 10, 0, tzinfo=UTC))
    api.run(api.runtime.permissions.refresh_all)  # the sandbox refuses FR
    campaigns = {level: campaign(api, level) for level in CALLERS}
    sandbox = api.host.pm.get_plugin("sandbox")
    seen: set[str] = set()

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        policy=POLICIES,
        request=REQUESTS,
        level=st.sampled_from(list(CALLERS)),
        fault=st.sampled_from([None, None, None, "unavailable"]),
    )
    # each reason at least once, whatever the generated examples reach
    @example(
        policy={"lookup": {"check_reassigned": True}, "min_attestation": "A"},
        request={"to": MOVED, "lookup": True, "last_verified_date": "2026-01-15"},
        level="B",
        fault=None,
    )
    @example(
        policy={"lookup": {"enabled": True, "deny_line_types": ["landline"]}},
        request={"to": LANDLINE},
        level="A",
        fault=None,
    )
    @example(
        policy={"allowed_countries": ["US"], "calling_hours": {"rules": ["us_federal"]}},
        request={"to": PARIS},
        level="A",
        fault=None,
    )
    @example(
        policy={"calling_hours": {"rules": ["us_federal"]}},
        request={"to": NY},
        level=None,
        fault=None,
    )
    def agree(
        policy: dict[str, Any], request: dict[str, Any], level: str | None, fault: str | None
    ) -> None:
        put_policy(api, policy)
        sandbox.settings.fail_operations = {"lookup_number": fault} if fault else {}
        check = api.client.post(CHECK, json={"from": CALLERS[level], **request})
        call = api.client.post(f"/campaigns/{campaigns[level]}/test-call", json=request)
        verdict = _verdict(check)
        assert verdict == _verdict(call), (policy, request, level, check.text, call.text)
        seen.update(verdict[1] if verdict[0] == "refused" else [verdict[0]])

    agree()
    # the inputs reached every reason the two share, and allowed calls
    assert {
        "allowed",
        "carrier_country_disabled",
        "country_not_allowed",
        "outside_calling_hours",
        "attestation_below_minimum",
        "line_type_not_allowed",
        "number_reassigned",
    } <= seen, seen


# -- campaigns warn about a caller ID below the minimum ----------------------------------------------


def test_campaigns_warn_when_the_caller_id_is_below_the_minimum(api: Any) -> None:
    below, above, never = campaign(api, "B"), campaign(api, "A"), campaign(api, None)
    assert api.client.get(f"/campaigns/{below}").json()["warnings"] == []
    put_policy(api, {"min_attestation": "A"})
    [warning] = api.client.get(f"/campaigns/{below}").json()["warnings"]
    assert warning["code"] == "attestation_below_minimum"
    assert "US and Canadian" in warning["detail"] and "attestation B" in warning["detail"]
    assert api.client.get(f"/campaigns/{above}").json()["warnings"] == []
    [unknown] = api.client.get(f"/campaigns/{never}").json()["warnings"]
    assert "never estimated" in unknown["detail"]
    listed = {c["id"]: c["warnings"] for c in api.client.get("/campaigns").json()["items"]}
    assert [w["code"] for w in listed[below]] == ["attestation_below_minimum"]
    assert listed[above] == []
    put_policy(api, {"min_attestation": "B"})
    assert api.client.get(f"/campaigns/{below}").json()["warnings"] == []
