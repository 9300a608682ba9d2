"""Each number's expected attestation: asked of its carrier when the number changes, stored,
shown by the API, kept when the carrier fails, refreshed by ``trunkline attestation refresh``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.cli import app as cli_app

NUMBERS = "/settings/telephony/numbers"
VERIFY = f"{NUMBERS}/verify-cli"


@pytest.fixture
def api(make_api: Any) -> Any:
    return make_api(
        plugins=["sandbox"],
        tables={
            "sandbox": {
                "verification_style": "sms",
                "fixed_code": "424242",
                "webhook_secret": "attestation-test-secret",
            }
        },
    )


def _buy(api: Any, e164: str = "+14155550123") -> dict[str, Any]:
    r = api.client.post(f"{NUMBERS}/purchase", json={"provider": "sandbox", "e164": e164})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _verify(api: Any, e164: str) -> dict[str, Any]:
    n = api.client.post(NUMBERS, json={"e164": e164, "provider": "sandbox"}).json()
    assert n["attestation"] is None  # a BYO number nobody verified: never asked
    api.client.post(VERIFY, json={"number_id": n["id"]})
    done = api.client.post(VERIFY, json={"number_id": n["id"], "code": "424242"}).json()
    assert done["verified_cli"] is True
    body: dict[str, Any] = api.client.get(f"{NUMBERS}/{n['id']}").json()
    return body


def test_a_bought_number_is_a_and_a_verified_one_b(api: Any) -> None:
    bought = _buy(api)
    assert bought["attestation"] == "A"
    assert bought["attestation_basis"] == "hosted by the sandbox carrier"
    assert bought["attestation_checked_at"] is not None
    verified = _verify(api, "+14155550101")
    assert verified["attestation"] == "B" and "verified" in verified["attestation_basis"]
    listed = {n["phone_e164"]: n["attestation"] for n in api.client.get(NUMBERS).json()["items"]}
    assert listed == {"+14155550123": "A", "+14155550101": "B"}


def test_a_lost_verification_is_asked_again(api: Any) -> None:
    verified = _verify(api, "+14155550101")
    plugin = api.host.pm.get_plugin("sandbox")
    ref = api.number(verified["id"])["verification_ref"]  # a revocation names its reference
    body = json.dumps(
        {"kind": "verification_failed", "phone_e164": "+14155550101", "provider_ref": ref}
    ).encode()
    r = api.anon.post(
        "/webhooks/sandbox", content=body, headers={"x-sandbox-signature": plugin.sign(body)}
    )
    assert r.status_code == 200, r.text
    row = api.number(verified["id"])
    assert row["verified_cli"] is False and row["attestation_level"] == "unknown"


def test_a_failing_carrier_keeps_what_was_stored(api: Any) -> None:
    plugin = api.host.pm.get_plugin("sandbox")
    plugin.settings.fail_operations = {"expected_attestation": "unavailable"}
    bought = _buy(api)  # the purchase itself succeeds
    assert bought["attestation"] is None
    plugin.settings.fail_operations = {}
    verified = _verify(api, "+14155550101")
    assert verified["attestation"] == "B"
    plugin.settings.fail_operations = {"expected_attestation": "rate_limited"}
    again = api.client.post(VERIFY, json={"number_id": verified["id"]}).json()
    assert again["verified_cli"] is True
    assert api.number(verified["id"])["attestation_level"] == "B"


def test_the_preflight_never_asks_the_carrier(api: Any) -> None:
    bought = _buy(api)
    api.client.patch(f"{NUMBERS}/{bought['id']}", json={"outbound_enabled": True})
    plugin = api.host.pm.get_plugin("sandbox")
    plugin.settings.fail_operations = {"expected_attestation": "auth"}  # would show if asked
    r = api.client.post("/outbound/check", json={"from": "+14155550123", "to": "+14155550199"})
    assert r.status_code == 200 and r.json()["allowed"] is True
    assert api.number(bought["id"])["attestation_level"] == "A"


def test_cli_refresh_asks_every_number_again(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = api.host.pm.get_plugin("sandbox")
    plugin.settings.fail_operations = {"expected_attestation": "unavailable"}
    bought = _buy(api)
    verified = _verify(api, "+14155550101")
    assert api.number(bought["id"])["attestation_level"] is None
    assert api.number(verified["id"])["attestation_level"] is None
    toml = tmp_path / "plugins.toml"
    toml.write_text('[trunkline]\nplugins = ["sandbox"]\n')
    monkeypatch.setenv("TRUNKLINE_PLUGINS_TOML", str(toml))
    runner = CliRunner()

    result = runner.invoke(cli_app, ["attestation", "refresh", "--workspace", api.workspace_id])
    assert result.exit_code == 0, result.output
    assert "2 numbers checked, 2 changed, 0 not answered" in result.output
    assert api.number(bought["id"])["attestation_level"] == "A"
    assert api.number(verified["id"])["attestation_level"] == "B"

    again = runner.invoke(cli_app, ["attestation", "refresh"])
    assert "2 numbers checked, 0 changed" in again.output
    other = runner.invoke(cli_app, ["attestation", "refresh", "--workspace", api.workspace_b_id])
    assert "0 numbers checked" in other.output
    bad = runner.invoke(cli_app, ["attestation", "refresh", "--workspace", "nope"])
    assert bad.exit_code == 2 and "not a workspace id" in bad.output


def test_cli_refresh_exits_1_when_a_carrier_fails(
    api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bought = _buy(api)
    toml = tmp_path / "plugins.toml"
    toml.write_text(
        '[trunkline]\nplugins = ["sandbox"]\n[plugins.sandbox.fail_operations]\n'
        'expected_attestation = "unavailable"\n'
    )
    monkeypatch.setenv("TRUNKLINE_PLUGINS_TOML", str(toml))
    result = CliRunner().invoke(cli_app, ["attestation", "refresh"])
    assert result.exit_code == 1
    assert "1 number checked, 0 changed, 1 not answered (kept as they were)" in result.output
    assert api.number(bought["id"])["attestation_level"] == "A"
