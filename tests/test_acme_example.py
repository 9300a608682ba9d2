"""Proof from outside: ``examples/trunkline-acme``, a separate distribution, installed
non-editable, is found through its entry point, listed by the CLI, passes the conformance kit
and verifies a number through the HTTP API."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def installed_elsewhere(workdir: Path) -> Iterator[Path]:
    """``examples/trunkline-acme`` installed (non-editable, as a user's ``pip install`` would)
    into ``workdir/site``, which is put on ``sys.path`` for as long as the context lasts.

    It is built from a copy in ``workdir``, so its build output (``build/``, ``*.egg-info``)
    never lands in the checkout, and nothing is installed into the running environment.
    """
    source = workdir / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    site = workdir / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-compile",
            "--target",
            str(site),
            str(source),
        ],
        check=True,
        timeout=300,
    )
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        for name in [
            m for m in sys.modules if m == "trunkline_acme" or m.startswith("trunkline_acme.")
        ]:
            del sys.modules[name]
        importlib.invalidate_caches()


@pytest.fixture(scope="module")
def acme_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The example, installed for this module's tests only (see :func:`installed_elsewhere`)."""
    with installed_elsewhere(tmp_path_factory.mktemp("acme")) as site:
        yield site


def _env(site: Path, **extra: str) -> dict[str, str]:
    """A child process's environment: no Trunkline settings, the example's install on its path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRUNKLINE_", "ACME_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    env.update(extra)
    return env


def test_installed_as_its_own_distribution_not_editable(acme_installed: Path) -> None:
    import trunkline_acme

    assert Path(trunkline_acme.__file__).is_relative_to(acme_installed)
    assert not Path(trunkline_acme.__file__).is_relative_to(EXAMPLE)
    dist = importlib.metadata.distribution("trunkline-acme")
    assert '"editable": true' not in (dist.read_text("direct_url.json") or "")
    eps = {ep.name: ep for ep in importlib.metadata.entry_points(group="trunkline")}
    assert eps["acme"].value == "trunkline_acme:AcmePlugin"
    assert eps["acme"].dist is not None and eps["acme"].dist.name == "trunkline-acme"


def test_loaded_through_its_entry_point(acme_installed: Path) -> None:
    host = PluginHost()
    host.load(["acme"], {"acme": {"base_url": BASE}})
    record = {p["name"]: p for p in host.describe()}["acme"]
    assert record["status"] == "loaded" and record["bundled"] is False
    assert record["distribution"] == "trunkline-acme" and record["version"] == "0.1.0"
    assert record["providers"] == ["acme"]
    assert {"verify_cli", "parse_webhook", "trunkline_shutdown"} <= set(record["hooks"])
    assert host.provider_status("acme") == {"configured": False, "detail": "set api_key"}


def test_listed_by_trunkline_plugins_list(acme_installed: Path, tmp_path: Path) -> None:
    (tmp_path / "plugins.toml").write_text(
        '[trunkline]\nplugins = ["acme"]\n'
        '[plugins.acme]\napi_key = { env = "ACME_API_KEY" }\nbase_url = "https://acme.test/v1"\n'
    )
    env = _env(acme_installed, ACME_API_KEY="acme-secret-key")
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


def test_passes_the_conformance_kit_in_its_own_tests(acme_installed: Path) -> None:
    env = _env(acme_installed)
    result = subprocess.run(
        [str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    # the kit's checks (16 that apply to ACME, signed malformed bodies included) and its own
    # catalogue test ran and passed
    assert "17 passed" in result.stdout and "TestAcmeConformance" not in result.stdout


def test_verifies_a_number_through_the_http_api(acme_installed: Path, make_api: Any) -> None:
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


def test_the_example_leaves_the_environment_as_it_found_it(acme_installed: Path) -> None:
    """Neither the running environment nor the checkout keeps anything of the example's
    install: not in site-packages, no build output beside its sources."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    assert not list(purelib.glob("trunkline_acme*")), "installed into the running environment"
    assert not (EXAMPLE / "build").exists() and not list(EXAMPLE.glob("*.egg-info"))
