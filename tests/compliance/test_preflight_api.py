"""The compliance preflight through the HTTP API with the sandbox carrier: reasons 5 to 7, the
answer's new fields, the workspace's outbound policy, the numbers' allow-lists, the test call,
and the dialing permissions' cache (refresh, failure keeping the last good answer, /readyz,
metrics, the providers list and the CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.cli import app as cli_app

NY = "+12125550100"
LONDON = "+442079460000"
PARIS = "+33140000000"
HOSTED = "+14155550100"
WEDNESDAY_NOON_NY = "2026-07-15T16:00:00Z"
WEDNESDAY_6AM_NY = "2026-07-15T10:00:00Z"


def check(api: Any, **body: Any) -> dict[str, Any]:
    body.setdefault("from", HOSTED)
    r = api.client.post("/outbound/check", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


@pytest.fixture
def api(make_api: Any) -> Any:
    api = make_api(plugins=["sandbox"], tables={"sandbox": {"disabled_countries": ["GB"]}})
    api.add_number(HOSTED, "sandbox", hosted=True, outbound_enabled=True)
    return api


def refresh(api: Any) -> Any:
    return api.run(api.runtime.permissions.refresh_all)


def put_policy(api: Any, policy: dict[str, Any]) -> dict[str, Any]:
    r = api.client.put("/settings/telephony/outbound-policy", json=policy)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


# -- the answer's shape --------------------------------------------------------------------------


def test_answer_describes_the_destination(api: Any) -> None:
    out = check(api, to=NY)
    assert out["allowed"] is True and out["reasons"] == []
    assert out["next_allowed_at"] is None
    assert out["destination"] == {
        "country_code": "US",
        "region": "NY",
        "time_zones": ["America/New_York"],
        "line_type": None,  # not looked up
    }
    out = check(api, to=NY, time_zone="America/Chicago")
    assert out["destination"]["time_zones"] == ["America/Chicago"]
    assert check(api)["destination"] is None


def test_bad_time_inputs_are_problems(api: Any) -> None:
    r = api.client.post(
        "/outbound/check", json={"from": HOSTED, "to": NY, "time_zone": "Mars/Base"}
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_time_zone"
    r = api.client.post(
        "/outbound/check", json={"from": HOSTED, "to": NY, "at": "2026-07-15T10:00:00"}
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"  # no offset
    r = api.client.post("/outbound/check", json={"from": HOSTED, "to": NY, "at": "tomorrow"})
    assert r.status_code == 422


# -- 5. carrier_country_disabled ------------------------------------------------------------------


def test_carrier_country_disabled_after_a_refresh(api: Any) -> None:
    assert check(api, to=LONDON)["allowed"] is True  # nothing known yet: nothing blocked
    refresh(api)
    out = check(api, to=LONDON)
    assert out["reasons"] == ["carrier_country_disabled"]
    assert check(api, to=PARIS)["allowed"] is True  # not in the answer: not blocked


def test_the_preflight_never_asks_the_carrier(api: Any) -> None:
    asked: list[str] = []
    api.host.observe = lambda hook, provider, outcome, seconds: asked.append(hook)
    refresh(api)
    assert asked == ["fetch_outbound_permissions"]  # the observer sees every carrier call
    for _ in range(5):
        assert check(api, to=LONDON)["reasons"] == ["carrier_country_disabled"]
    assert asked == ["fetch_outbound_permissions"]


def test_a_failing_carrier_keeps_the_last_good_answer(api: Any) -> None:
    refresh(api)
    sandbox = api.host.pm.get_plugin("sandbox")
    sandbox.settings.fail_operations["fetch_outbound_permissions"] = "unavailable"
    sandbox.settings.disabled_countries = []  # would allow GB, but it cannot be read
    [entry] = refresh(api)
    assert entry.state == "stale" and "unavailable" in entry.error
    assert check(api, to=LONDON)["reasons"] == ["carrier_country_disabled"]

    ready = api.anon.get("/readyz")
    assert ready.status_code == 200
    detail = ready.json()["checks"]["carrier_permissions"]["sandbox"]
    assert detail["state"] == "stale" and detail["fetched_at"] and "unavailable" in detail["error"]
    assert detail["disabled_countries"] == ["GB"]
    metrics = api.anon.get("/metrics").text
    assert 'trunkline_carrier_permissions_stale{provider="sandbox"} 1.0' in metrics
    assert (
        'trunkline_carrier_permissions_refreshes_total{outcome="provider_unavailable",provider="sandbox"} 1.0'
        in metrics
    )
    [provider] = api.client.get("/settings/telephony/providers").json()
    assert provider["permissions"]["state"] == "stale"
    assert provider["permissions"]["fetched_at"] and provider["permissions"]["failed_at"]

    del sandbox.settings.fail_operations["fetch_outbound_permissions"]
    [entry] = refresh(api)
    assert entry.state == "ok"
    assert check(api, to=LONDON)["allowed"] is True
    assert (
        'trunkline_carrier_permissions_stale{provider="sandbox"} 0.0'
        in api.anon.get("/metrics").text
    )


def test_providers_list_shows_when_permissions_were_fetched(api: Any) -> None:
    [before] = api.client.get("/settings/telephony/providers").json()
    assert (
        before["permissions"]["state"] == "pending" and before["permissions"]["fetched_at"] is None
    )
    refresh(api)
    [after] = api.client.get("/settings/telephony/providers").json()
    assert after["permissions"]["state"] == "ok" and after["permissions"]["fetched_at"]
    assert after["permissions"]["disabled_countries"] == ["GB"]


def test_background_refresh_runs_when_configured(make_api: Any) -> None:
    api = make_api(
        plugins=["sandbox"],
        tables={"sandbox": {"disabled_countries": ["GB"]}},
        env={"TRUNKLINE_PERMISSIONS_REFRESH_SECONDS": "3600"},
    )
    api.add_number(HOSTED, "sandbox", hosted=True, outbound_enabled=True)

    async def settled() -> None:
        import asyncio

        for _ in range(200):
            if api.runtime.permissions.entry("sandbox").fetched_at is not None:
                return
            await asyncio.sleep(0.01)

    api.run(settled)
    assert check(api, to=LONDON)["reasons"] == ["carrier_country_disabled"]


def test_cli_refresh_prints_each_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "plugins.toml"
    toml.write_text(
        '[trunkline]\nplugins = ["sandbox"]\n[plugins.sandbox]\ndisabled_countries = ["GB", "FR"]\n'
    )
    monkeypatch.setenv("TRUNKLINE_PLUGINS_TOML", str(toml))
    result = CliRunner().invoke(cli_app, ["permissions", "refresh", "--json"])
    assert result.exit_code == 0, result.output
    assert '"disabled_countries": [\n      "FR",\n      "GB"\n    ]' in result.output
    toml.write_text(
        '[trunkline]\nplugins = ["sandbox"]\n[plugins.sandbox]\n'
        'fail_operations = { fetch_outbound_permissions = "auth" }\n'
    )
    result = CliRunner().invoke(cli_app, ["permissions", "refresh"])
    assert (
        result.exit_code == 1
        and "failing" in result.output
        and "provider_auth_failed" in result.output
    )
    result = CliRunner().invoke(cli_app, ["permissions", "refresh", "--provider", "nope"])
    assert result.exit_code == 2 and "nope" in result.output


# -- 6. country_not_allowed -----------------------------------------------------------------------


def test_workspace_allow_list(api: Any) -> None:
    put_policy(api, {"allowed_countries": ["us", "CA"]})
    assert check(api, to=NY)["allowed"] is True
    assert check(api, to=PARIS)["reasons"] == ["country_not_allowed"]
    # another workspace's policy is its own
    other = "+14155550199"  # one number, one owner: workspace b holds its own
    api.add_number(other, "sandbox", workspace="b", hosted=True, outbound_enabled=True)
    r = api.client_b.post("/outbound/check", json={"from": other, "to": PARIS})
    assert r.json()["allowed"] is True


def test_number_allow_list_is_patchable_and_applies(api: Any) -> None:
    [number] = api.numbers(phone_e164=HOSTED)
    r = api.client.patch(
        f"/settings/telephony/numbers/{number['id']}", json={"allowed_countries": ["fr"]}
    )
    assert r.status_code == 200 and r.json()["allowed_countries"] == ["FR"]
    assert check(api, to=PARIS)["allowed"] is True
    assert check(api, to=NY)["reasons"] == ["country_not_allowed"]
    # the workspace's list applies too: both must allow
    put_policy(api, {"allowed_countries": ["US"]})
    assert check(api, to=PARIS)["reasons"] == ["country_not_allowed"]
    r = api.client.patch(
        f"/settings/telephony/numbers/{number['id']}", json={"allowed_countries": ["XX"]}
    )
    assert r.status_code == 422
    assert api.number(number["id"])["allowed_countries"] == ["FR"]  # unchanged
    audit = api.audit(action="binding_changed")
    assert audit[-1]["detail"] == {
        "before": {"allowed_countries": []},
        "after": {"allowed_countries": ["FR"]},
    }
    r = api.client.patch(
        f"/settings/telephony/numbers/{number['id']}", json={"allowed_countries": []}
    )
    assert r.json()["allowed_countries"] == []


# -- 7. outside_calling_hours ---------------------------------------------------------------------


def test_outside_calling_hours_with_next_allowed_at(api: Any) -> None:
    assert check(api, to=NY, at=WEDNESDAY_6AM_NY)["allowed"] is True  # calling hours are off
    put_policy(api, {"calling_hours": {"rules": ["us_federal"]}})
    out = check(api, to=NY, at=WEDNESDAY_6AM_NY)
    assert out["reasons"] == ["outside_calling_hours"]
    assert out["next_allowed_at"] == "2026-07-15T12:00:00Z"
    assert check(api, to=NY, at=WEDNESDAY_NOON_NY)["allowed"] is True
    # the time_zone hint wins: noon in New York is 09:00 in Los Angeles
    assert (
        check(api, to=NY, at="2026-07-15T14:30:00Z", time_zone="America/Los_Angeles")[
            "next_allowed_at"
        ]
        == "2026-07-15T15:00:00Z"
    )


def test_next_allowed_at_across_a_weekend_through_the_api(api: Any) -> None:
    put_policy(api, {"calling_hours": {"rules": ["fr"]}})
    out = check(api, to=PARIS, at="2026-07-17T18:30:00+00:00")  # Friday 20:30 in Paris
    assert out["reasons"] == ["outside_calling_hours"]
    assert out["next_allowed_at"] == "2026-07-20T08:00:00Z"  # Monday 10:00


def test_reasons_in_order_when_several_apply(api: Any) -> None:
    refresh(api)
    put_policy(
        api,
        {
            "allowed_countries": ["US"],
            "calling_hours": {
                "rules": ["us_federal"],
                "windows": [{"days": ["mon"], "start": "10:00", "end": "11:00"}],
            },
        },
    )
    byo = api.add_number("+14155550101", "sandbox")
    out = check(api, **{"from": None}, number_id=byo["id"], to=LONDON, at="2026-07-15T02:00:00Z")
    assert out["reasons"] == [
        "outbound_disabled",
        "caller_id_not_allowed",
        "carrier_country_disabled",
        "country_not_allowed",
        "outside_calling_hours",
    ]
    assert out["next_allowed_at"] == "2026-07-20T09:00:00Z"  # Monday 10:00 in London


# -- the workspace's outbound policy ----------------------------------------------------------------


def test_outbound_policy_get_put_and_audit(api: Any) -> None:
    r = api.client.get("/settings/telephony/outbound-policy")
    assert r.status_code == 200
    assert r.json() == {
        "allowed_countries": [],
        "calling_hours": None,
        "min_attestation": None,
        "lookup": {"enabled": False, "deny_line_types": [], "check_reassigned": False},
    }
    saved = put_policy(
        api,
        {
            "allowed_countries": ["fr", "US", "us"],
            "calling_hours": {
                "windows": [{"days": ["tue", "mon"], "start": "09:00", "end": "18:00"}]
            },
        },
    )
    assert saved == {
        "allowed_countries": ["FR", "US"],
        "calling_hours": {
            "rules": ["us_federal", "us_states", "fr"],
            "windows": [{"days": ["mon", "tue"], "start": "09:00", "end": "18:00"}],
        },
        "min_attestation": None,
        "lookup": {"enabled": False, "deny_line_types": [], "check_reassigned": False},
    }
    assert api.client.get("/settings/telephony/outbound-policy").json() == saved
    assert api.client_b.get("/settings/telephony/outbound-policy").json()["allowed_countries"] == []
    [event] = api.audit(action="outbound_policy_changed")
    assert event["detail"]["before"]["allowed_countries"] == []
    assert event["detail"]["after"]["allowed_countries"] == ["FR", "US"]
    assert api.anon.get("/settings/telephony/outbound-policy").status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        {"allowed_countries": ["UK"]},
        {"allowed_countries": "US"},
        {"calling_hours": {"rules": ["de"]}},
        {"calling_hours": {"windows": [{"days": ["mon"], "start": "18:00", "end": "09:00"}]}},
        {"calling_hours": {"windows": [{"days": [], "start": "09:00", "end": "18:00"}]}},
        {"calling_hours": {"windows": [{"days": ["monday"], "start": "09:00", "end": "18:00"}]}},
        {"calling_hours": {"windows": [{"days": ["mon"], "start": "9", "end": "18:00"}]}},
        {"unknown_field": True},
    ],
)
def test_a_bad_policy_is_refused_and_changes_nothing(api: Any, bad: dict[str, Any]) -> None:
    put_policy(api, {"allowed_countries": ["US"]})
    r = api.client.put("/settings/telephony/outbound-policy", json=bad)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert api.client.get("/settings/telephony/outbound-policy").json()["allowed_countries"] == [
        "US"
    ]
    assert len(api.audit(action="outbound_policy_changed")) == 1


def test_calling_rules_lists_the_bundled_pack(api: Any) -> None:
    rules = api.client.get("/settings/telephony/calling-rules").json()
    assert [r["rule"] for r in rules] == ["us_federal", "us_states", "us_states", "us_states", "fr"]
    assert all(r["source"] for r in rules)


# -- the test call applies the same policy ------------------------------------------------------------


def test_test_call_applies_the_workspace_policy(api: Any) -> None:
    r = api.client.post("/campaigns", json={"name": "c", "from_e164": HOSTED})
    cid = r.json()["id"]
    put_policy(api, {"allowed_countries": ["FR"]})
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY})
    assert r.status_code == 409
    assert r.json()["code"] == "outbound_not_allowed"
    assert r.json()["reasons"] == ["country_not_allowed"]
    assert api.calls() == []
    refresh(api)
    put_policy(api, {})
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": LONDON})
    assert r.status_code == 409 and r.json()["reasons"] == ["carrier_country_disabled"]
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY})
    assert r.status_code == 201, r.text


def test_test_call_outside_calling_hours_says_when(
    api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime

    import core.policy

    r = api.client.post("/campaigns", json={"name": "c", "from_e164": HOSTED})
    cid = r.json()["id"]
    put_policy(api, {"calling_hours": {"rules": ["us_federal"]}})
    monkeypatch.setattr(
        core.policy, "now", lambda: datetime.fromisoformat("2026-07-15T10:00:00+00:00")
    )
    r = api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY})
    assert r.status_code == 409
    assert r.json()["reasons"] == ["outside_calling_hours"]
    assert r.json()["next_allowed_at"] == "2026-07-15T12:00:00Z"
    [refused] = [e for e in api.audit(action="test_call") if e["outcome"] == "refused"]
    assert refused["detail"]["reasons"] == ["outside_calling_hours"]
    monkeypatch.setattr(
        core.policy, "now", lambda: datetime.fromisoformat("2026-07-15T12:00:00+00:00")
    )
    assert api.client.post(f"/campaigns/{cid}/test-call", json={"to": NY}).status_code == 201


def test_the_batch_answers_the_same_fields(api: Any) -> None:
    put_policy(api, {"allowed_countries": ["US", "FR"], "calling_hours": {"rules": ["fr"]}})
    r = api.client.post(
        "/outbound/check/batch",
        json={
            "checks": [
                {"from": HOSTED, "to": PARIS, "at": "2026-07-17T18:30:00Z"},
                {"from": HOSTED, "to": LONDON},
                {"from": HOSTED, "to": NY, "time_zone": "Nowhere/Else"},
            ]
        },
    )
    assert r.status_code == 200, r.text
    first, second, third = r.json()["results"]
    assert first["reasons"] == ["outside_calling_hours"]
    assert first["next_allowed_at"] == "2026-07-20T08:00:00Z"
    assert first["destination"] == {
        "country_code": "FR",
        "region": None,
        "time_zones": ["Europe/Paris"],
        "line_type": None,
    }
    assert second["reasons"] == ["country_not_allowed"]
    assert third["error"]["code"] == "invalid_time_zone"
