"""The ``telnyx`` SDK (most of a second to import) is imported only when it is needed.

Each check runs in a fresh interpreter, so that nothing another test imported can hide an import:
the plugin is loaded and configured through ``PluginHost`` as the app does, everything that needs
no carrier runs with the SDK absent from ``sys.modules``, then one carrier operation (against
respx) or one webhook brings it in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY = "KEYlazy-telnyx-secret-0123456789"

PRELUDE = """
import asyncio, sys

from core import NumberSearch, ProviderNotConfigured
from core.plugins import PluginHost


def sdk() -> list[str]:  # the SDK modules imported so far (the first few suffice)
    return sorted(m for m in sys.modules if m == "telnyx" or m.startswith("telnyx."))[:5]


async def configured(table):
    host = PluginHost()
    host.load(["telnyx"], {"telnyx": table})
    await host.configure()
    return host, host.pm.get_plugin("telnyx")
"""

CARRIER = """
import respx
import typer


async def main() -> None:
    assert not sdk(), sdk()

    # No key: loads, says what is missing, refuses every operation, and never needs the SDK.
    bare, plugin = await configured({"api_key": {"env": "TX_LAZY_UNSET"}})
    assert bare.provider_status("telnyx") == {"configured": False, "detail": "set TX_LAZY_UNSET"}
    for hook, kwargs in (
        ("search_numbers", {"query": NumberSearch(country="US")}),
        ("purchase_number", {"e164": "+12125550123", "workspace": "w1"}),
    ):
        try:
            await bare.call_provider(hook, "telnyx", **kwargs)
        except ProviderNotConfigured as exc:
            assert "TX_LAZY_UNSET" in exc.detail
        else:
            raise AssertionError(f"{hook} ran without a key")
    await bare.aclose()
    assert plugin.client is None and not sdk(), sdk()

    # A key: loading, settings, status, static data and the CLI group still need no SDK.
    host, plugin = await configured({"api_key": {"env": "TX_LAZY_KEY"}, "max_retries": 0})
    assert host.provider_status("telnyx")["configured"] is True
    assert await host.call_provider("list_coverage", "telnyx", country="US")
    assert await host.call_provider(
        "fetch_regulations", "telnyx", country="DE", number_type=None, end_user_type=None
    )
    host.pm.hook.trunkline_cli(app=typer.Typer())
    assert plugin.client is None
    assert not sdk(), sdk()

    # The first carrier operation imports the SDK and creates the one client.
    with respx.mock() as mock:
        route = mock.get("https://api.telnyx.com/v2/available_phone_numbers").respond(
            200, json={"data": [{"phone_number": "+12125550123", "features": [{"name": "sms"}]}]}
        )
        found = await host.call_provider(
            "search_numbers", "telnyx", query=NumberSearch(country="US")
        )
    assert [(n.phone_e164, n.features) for n in found] == [("+12125550123", {"sms"})]
    assert route.calls[0].request.headers["authorization"] == "Bearer " + sys.argv[1]
    assert "telnyx" in sys.modules
    client = plugin.client
    assert client is not None and not client.is_closed()
    await host.aclose()
    assert client.is_closed()
    print("lazy: ok")


asyncio.run(main())
"""

WEBHOOK = """
import base64, json, time

from nacl.signing import SigningKey

from core import WebhookRequest


async def main() -> None:
    signer = SigningKey.generate()
    public = base64.b64encode(bytes(signer.verify_key)).decode()
    host, plugin = await configured({"public_key": public})
    assert not sdk(), sdk()

    body = json.dumps({"data": {"event_type": "call.hangup", "payload": {"call_control_id": "v3:x"}}})
    stamp = str(int(time.time()))
    sig = base64.b64encode(signer.sign(f"{stamp}|{body}".encode()).signature).decode()
    request = WebhookRequest(
        url="http://127.0.0.1:8000/webhooks/telnyx",
        body=body.encode(),
        headers={"telnyx-signature-ed25519": sig, "telnyx-timestamp": stamp},
    )
    (event,) = await host.call_provider("parse_webhook", "telnyx", request=request)
    assert event.provider_ref == "v3:x" and event.data["status"] == "completed"
    assert "telnyx.lib.webhook_verification" in sys.modules
    assert plugin.client is None  # a webhook needs no API client
    await host.aclose()
    print("lazy: ok")


asyncio.run(main())
"""


WARM_UP = """
async def main() -> None:
    bare, _plugin = await configured({"api_key": {"env": "TX_LAZY_UNSET"}})
    bare.warm_up()  # nothing configured: nothing to prepare
    assert not sdk(), sdk()
    host, plugin = await configured({"api_key": {"env": "TX_LAZY_KEY"}})
    host.warm_up()
    assert "telnyx.resources" in sys.modules and "telnyx.lib.webhook_verification" in sys.modules
    assert plugin.client is None  # only imports: the client is still made on first use
    print("lazy: ok")


asyncio.run(main())
"""


def _run(script: str) -> None:
    env = {**os.environ, "TX_LAZY_KEY": KEY}
    env.pop("TX_LAZY_UNSET", None)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PRELUDE) + textwrap.dedent(script), KEY],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("lazy: ok"), done.stdout


def test_sdk_is_imported_by_the_first_carrier_operation_only() -> None:
    _run(CARRIER)


def test_a_webhook_imports_the_signature_check_and_creates_no_client() -> None:
    _run(WEBHOOK)


def test_warm_up_imports_the_sdk_when_a_key_is_set_and_makes_no_client() -> None:
    _run(WARM_UP)
