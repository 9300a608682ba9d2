"""The Telnyx plugin's expected attestation and Number Lookup (``type=carrier``) on the wire with
respx: each ``carrier.type`` mapped, reassigned unsupported, the faults."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from core import LINE_TYPES, ProviderError, ProviderRateLimited, ProviderUnavailable
from plugins.telnyx.plugin import LINE_TYPES as TELNYX_LINE_TYPES
from plugins.telnyx.plugin import TelnyxPlugin
from tests.telnyx.test_plugin_unit import KEY, _number, _plugin

DEST = "+14155550123"
LOOKUP = re.compile(r"https://api\.telnyx\.com/v2/number_lookup/(%2B|\+)14155550123")


@pytest.fixture
async def plugin() -> AsyncIterator[TelnyxPlugin]:
    p = await _plugin()
    yield p
    await p.trunkline_shutdown()


def _answer(carrier: dict[str, Any] | None, phone: str = DEST) -> dict[str, Any]:
    return {
        "data": {
            "phone_number": phone,
            "valid_number": True,
            "country_code": "US",
            "carrier": carrier,
            "record_type": "number_lookup",
        }
    }


async def test_hosted_a_verified_b_without_a_request(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        hosted = plugin.expected_attestation(_number(hosted=True))
        verified = plugin.expected_attestation(_number(verified_cli=True))
        neither = plugin.expected_attestation(_number())
        assert not mock.calls
    assert (hosted.level, verified.level, neither.level) == ("A", "B", "unknown")


def test_every_telnyx_type_maps_onto_the_core_vocabulary() -> None:
    assert set(TELNYX_LINE_TYPES.values()) <= set(LINE_TYPES)


@pytest.mark.parametrize(("theirs", "ours"), sorted(TELNYX_LINE_TYPES.items()))
async def test_carrier_type_mapping(plugin: TelnyxPlugin, theirs: str, ours: str) -> None:
    with respx.mock() as mock:
        route = mock.get(LOOKUP).respond(json=_answer({"type": theirs, "name": "Acme Tel"}))
        intel = await plugin.lookup_number(DEST, {"line_type"})
    assert intel.line_type == ours and intel.carrier_name == "Acme Tel"
    assert intel.phone_e164 == DEST and intel.reassigned == "unsupported"
    request = route.calls.last.request
    assert request.url.params.get_list("type") == ["carrier"]
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_no_carrier_data_is_unknown(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(LOOKUP).respond(json=_answer(None))
        intel = await plugin.lookup_number(DEST, {"line_type"})
    assert intel.line_type == "unknown" and intel.carrier_name is None


async def test_reassigned_is_unsupported_and_alone_asks_nothing(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(LOOKUP).respond(json=_answer({"type": "mobile"}))
        both = await plugin.lookup_number(DEST, {"line_type", "reassigned"})
    assert both.reassigned == "unsupported" and both.line_type == "mobile"
    with respx.mock() as mock:
        only = await plugin.lookup_number(DEST, {"reassigned"})
        assert not mock.calls
    assert only.reassigned == "unsupported"


async def test_an_answer_about_another_number_is_refused(plugin: TelnyxPlugin) -> None:
    with respx.mock() as mock:
        mock.get(LOOKUP).respond(json=_answer({"type": "mobile"}, phone="+14155550199"))
        with pytest.raises(ProviderError, match="not for"):
            await plugin.lookup_number(DEST, {"line_type"})


@pytest.mark.parametrize(
    ("fault", "error"),
    [("timeout", ProviderUnavailable), ("429", ProviderRateLimited), ("500", ProviderUnavailable)],
)
async def test_lookup_faults_are_mapped(
    plugin: TelnyxPlugin, fault: str, error: type[Exception]
) -> None:
    with respx.mock() as mock:
        route = mock.get(LOOKUP)
        if fault == "timeout":
            route.mock(side_effect=httpx.ReadTimeout("slow"))
        else:
            code = "10011" if fault == "429" else "10007"
            route.respond(int(fault), json={"errors": [{"code": code, "detail": "x"}]})
        with pytest.raises(error):
            await plugin.lookup_number(DEST, {"line_type"})
