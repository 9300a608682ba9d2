"""ACME's search, purchase and calls, with its API mocked by respx."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import respx
from trunkline_acme import AcmePlugin, AcmeSettings

from trunkline import CallOptions, NumberSearch, PluginContext

BASE = "https://acme.test/v1"


def _plugin() -> AcmePlugin:
    plugin = AcmePlugin()
    plugin.trunkline_configure(
        AcmeSettings(api_key="k", base_url=BASE),
        PluginContext(plugin_name="acme", public_base_url="https://tl.example"),
    )
    return plugin


def test_search_purchase_and_call() -> None:
    async def scenario() -> None:
        plugin = _plugin()
        with respx.mock(base_url=BASE, assert_all_called=True) as acme:
            acme.get("/numbers/available", params={"country": "US", "area_code": "212"}).respond(
                json={
                    "numbers": [
                        {
                            "phone_number": "+12125550123",
                            "features": ["voice"],
                            "monthly_price": "1.25",
                            "currency": "USD",
                        }
                    ]
                }
            )
            acme.post("/numbers").respond(
                201,
                json={
                    "id": "num_1",
                    "phone_number": "+12125550123",
                    "country": "US",
                    "number_type": "local",
                    "monthly_price": "1.25",
                    "setup_price": "0.50",
                    "currency": "USD",
                },
            )
            call = acme.post("/calls").respond(201, json={"id": "call_1", "status": "queued"})
            found = await plugin.search_numbers(NumberSearch(country="US", area_code="212"))
            bought = await plugin.purchase_number("+12125550123")
            placed = await plugin.place_call("+12125550123", "+14155550100", CallOptions())
        assert found[0].monthly_cost == Decimal("1.25") and found[0].upfront_cost == 0
        assert bought.provider_ref == "num_1" and bought.upfront_cost == Decimal("0.50")
        assert (placed.provider_call_id, placed.status) == ("call_1", "queued")
        sent = json.loads(call.calls.last.request.content)
        assert sent["status_callback"] == "https://tl.example/webhooks/acme"
        await plugin.trunkline_shutdown()

    asyncio.run(scenario())
