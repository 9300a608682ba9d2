"""Proof from outside: ``examples/trunkline-acme``, a separate distribution, installed
non-editable, is found through its entry point, listed by the CLI, passes the conformance kit
and verifies a number through the HTTP API."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from core.plugins import PluginHost

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "trunkline-acme"
BIN = Path(sys.executable).parent
BASE = "https://acme.test/v1"
VERIFY = "/settings/telephony/numbers/verify-cli"


def _installed_matches_source() -> bool:
    try:
        dist = importlib.metadata.distribution("trunkline-acme")
    except importlib.metadata.PackageNotFoundError:
        return False
    if dist.read_text("direct_url.json") and '"editable": true' in (
        dist.read_text("direct_url.json") or ""
    ):
        return False
    sources = sorted((EXAMPLE / "trunkline_acme").glob("*.py"))
    for source in sources:
        installed = Path(str(dist.locate_file(f"trunkline_acme/{source.name}")))
        if not installed.is_file() or installed.read_bytes() != source.read_bytes():
            return False
    return True


@pytest.fixture(scope="session")
def acme_installed() -> None:
    """``pip install --no-deps --no-build-isolation examples/trunkline-acme`` unless the
    installed copy already matches the source (``make test`` does the same install)."""
    if not _installed_matches_source():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                str(EXAMPLE),
            ],
            check=True,
            timeout=300,
        )
        importlib.invalidate_caches()
    assert _installed_matches_source()


def test_installed_as_its_own_distribution_not_editable(acme_installed: None) -> None:
    import trunkline_acme

    assert "site-packages" in trunkline_acme.__file__
    assert not Path(trunkline_acme.__file__).is_relative_to(EXAMPLE)
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group="trunkline")}
    assert eps["acme"].value == "trunkline_acme:AcmePlugin"
    assert eps["acme"].dist is not None and eps["acme"].dist.name == "trunkline-acme"


def test_loaded_through_its_entry_point(acme_installed: None) -> None:
    host = PluginHost()
    host.load(["acme"], {"acme": {"base_url": BASE}})
    record = {p["name"]: p for p in host.describe()}["acme"]
    assert record["status"] == "loaded" and record["bundled"] is False
    assert record["distribution"] == "trunkline-acme" and record["version"] == "0.1.0"
    assert record["providers"] == ["acme"]
    assert {"verify_cli", "parse_webhook", "trunkline_shutdown"} <= set(record["hooks"])
    assert host.provider_status("acme") == {"configured": False, "detail": "set api_key"}


def test_listed_by_trunkline_plugins_list(acme_installed: None, tmp_path: Path) -> None:
    (tmp_path / "plugins.toml").write_text(
        '[trunkline]\nplugins = ["acme"]\n'
        '[plugins.acme]\napi_key = { env = "ACME_API_KEY" }\nbase_url = "https://acme.test/v1"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNKLINE_", "ACME_"))}
    env["ACME_API_KEY"] = "acme-secret-key"
    result = subprocess.run(
        [str(BIN / "trunkline"), "plugins", "list", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    acme = plugins["acme"]
    assert acme["enabled"] is True and acme["status"] == "loaded"
    assert acme["distribution"] == "trunkline-acme" and acme["bundled"] is False
    assert acme["settings"]["base_url"] == BASE
    assert "acme-secret-key" not in result.stdout
    assert plugins["sandbox"]["bundled"] is True and plugins["sandbox"]["enabled"] is False


def test_passes_the_conformance_kit_in_its_own_tests(acme_installed: None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNKLINE_", "ACME_"))}
    result = subprocess.run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the kit's checks (14) and ACME's own catalogue test all ran and passed
    assert "15 passed" in result.stdout and "TestAcmeConformance" not in result.stdout


def test_verifies_a_number_through_the_http_api(acme_installed: None, make_api: Any) -> None:
    from trunkline_acme.plugin import sign

    api = make_api(
        plugins=["acme"],
        tables={
            "acme": {
                "api_key": {"env": "ACME_API_KEY"},
                "webhook_secret": {"env": "ACME_WEBHOOK_SECRET"},
                "base_url": BASE,
            }
        },
        env={"ACME_API_KEY": "acme-key", "ACME_WEBHOOK_SECRET": "acme-whsec"},
    )
    with respx.mock(base_url=BASE, assert_all_called=True) as acme:
        start = acme.post("/caller-ids").respond(201, json={"id": "cid_9", "status": "code_sent"})
        check = acme.post("/caller-ids/cid_9/verify")
        check.side_effect = lambda request: (
            httpx.Response(200, json={"status": "verified"})
            if json.loads(request.content)["code"] == "424242"
            else httpx.Response(422, json={"error": {"code": "wrong_code", "message": "no"}})
        )
        n = api.client.post(
            "/settings/telephony/numbers", json={"e164": "+14155550123", "provider": "acme"}
        ).json()
        started = api.client.post(VERIFY, json={"number_id": n["id"]}).json()
        assert started["status"] == "pending" and started["next_step"] == "submit_code"
        assert start.calls.last.request.headers["authorization"] == "Bearer acme-key"
        assert json.loads(start.calls.last.request.content) == {"phone_number": "+14155550123"}
        wrong = api.client.post(VERIFY, json={"number_id": n["id"], "code": "000000"}).json()
        assert wrong["status"] == "pending" and wrong["verified_cli"] is False
        right = api.client.post(VERIFY, json={"number_id": n["id"], "code": "424242"}).json()
        assert right["status"] == "verified" and right["verified_cli"] is True
        assert check.call_count == 2
    assert api.number(n["id"])["verified_cli"] is True

    body = json.dumps({"type": "call.status", "data": {"id": "call_1", "status": "completed"}})
    stamp = str(int(time.time()))
    forged = api.anon.post(
        "/webhooks/acme",
        content=body,
        headers={"acme-signature": f"t={stamp},v1={sign('guess', stamp, body.encode())}"},
    )
    assert forged.status_code == 403 and forged.json()["code"] == "webhook_signature_invalid"
    signed = api.anon.post(
        "/webhooks/acme",
        content=body,
        headers={"acme-signature": f"t={stamp},v1={sign('acme-whsec', stamp, body.encode())}"},
    )
    assert signed.status_code == 200, signed.text
