"""The sandbox plugin on its own: styles per number, determinism, faults, shutdown."""

from __future__ import annotations

import asyncio
from typing import Any

import phonenumbers
import pytest

from core import (
    NumberRef,
    NumberSearch,
    PluginContext,
    ProviderEvent,
    ProviderRejected,
    ProviderUnavailable,
)
from plugins.sandbox.plugin import SandboxPlugin, SandboxSettings


def _plugin(**settings: Any) -> tuple[SandboxPlugin, list[ProviderEvent]]:
    events: list[ProviderEvent] = []

    async def sink(batch: list[ProviderEvent]) -> None:
        events.extend(batch)

    plugin = SandboxPlugin()
    plugin.trunkline_configure(
        SandboxSettings(**settings), PluginContext(plugin_name="sandbox", submit_events=sink)
    )
    return plugin, events


def _number(e164: str, ref: str | None = None, *, number_id: str = "n") -> NumberRef:
    return NumberRef(
        id=number_id,
        workspace_id="w",
        phone_e164=e164,
        country_code="US",
        provider="sandbox",
        verification_ref=ref,
    )


async def test_by_number_even_calls_odd_texts() -> None:
    plugin, _ = _plugin(callback_delay_seconds=60)
    even = await plugin.verify_cli(_number("+14155550102"), None)
    odd = await plugin.verify_cli(_number("+14155550103"), None)
    assert (even.next_step, odd.next_step) == ("answer_call_and_enter_code", "submit_code")
    assert even.display_code and odd.display_code and odd.display_code.isdigit()
    assert odd.detail and odd.display_code not in odd.detail  # the code is never in detail
    await plugin.trunkline_shutdown()


async def test_wrong_code_then_retry_then_verified() -> None:
    plugin, _ = _plugin(verification_style="sms", fixed_code="4321")
    started = await plugin.verify_cli(_number("+14155550102"), None)
    assert started.display_code == "4321" and "4321" not in (started.detail or "")
    ref = started.provider_ref
    wrong = await plugin.verify_cli(_number("+14155550102", ref), "9999")
    assert wrong.status == "failed" and wrong.detail
    right = await plugin.verify_cli(_number("+14155550102", ref), "4321")
    assert right.status == "verified" and right.provider_ref == ref
    again = await plugin.verify_cli(_number("+14155550102", ref), None)
    assert again.status == "verified"  # its own verification: the carrier says so at once


async def test_a_record_proves_only_the_verification_that_made_it() -> None:
    """The account's record of a verified number is another number record's proof only when
    that record's reference made it: any other starts the full flow again."""
    plugin, _ = _plugin(verification_style="sms", fixed_code="4321")
    started = await plugin.verify_cli(_number("+14155550102"), None)
    ref = started.provider_ref
    assert (await plugin.verify_cli(_number("+14155550102", ref), "4321")).status == "verified"
    for other in (None, "SBV-someone-else"):
        again = await plugin.verify_cli(_number("+14155550102", other, number_id="m"), None)
        assert again.status == "pending" and again.next_step == "submit_code"
        assert again.provider_ref not in (None, ref)
    # a code sent for another verification completes nothing
    cross = await plugin.verify_cli(_number("+14155550102", "SBV-someone-else"), "4321")
    assert cross.status == "failed"


async def test_call_style_callback_is_submitted_and_shutdown_cancels_pending() -> None:
    plugin, events = _plugin(verification_style="call", callback_delay_seconds=0.01)
    await plugin.verify_cli(_number("+14155550101"), None)
    await asyncio.sleep(0.1)
    assert [e.kind for e in events] == ["verification_succeeded"]
    assert events[0].phone_e164 == "+14155550101"

    slow, slow_events = _plugin(verification_style="call", callback_delay_seconds=0.05)
    await slow.verify_cli(_number("+14155550101"), None)
    slow.place_call("+14155550101", "+14155550199", None)  # type: ignore[arg-type]
    assert len(slow._tasks) == 2
    await slow.trunkline_shutdown()
    await asyncio.sleep(0.1)
    assert slow_events == [] and not slow._tasks


@pytest.mark.parametrize(
    ("country", "number_type", "expected"),
    [
        ("US", "toll_free", phonenumbers.PhoneNumberType.TOLL_FREE),
        ("GB", "mobile", phonenumbers.PhoneNumberType.MOBILE),
        ("FR", "local", phonenumbers.PhoneNumberType.FIXED_LINE),
        ("AU", "mobile", phonenumbers.PhoneNumberType.MOBILE),
    ],
)
def test_search_is_valid_and_deterministic(country: str, number_type: str, expected: Any) -> None:
    plugin, _ = _plugin()
    query = NumberSearch(country=country, number_type=number_type, limit=5)  # type: ignore[arg-type]
    first = plugin.search_numbers(query)
    assert len(first) == 5 and first == plugin.search_numbers(query)
    assert len({n.phone_e164 for n in first}) == 5
    for n in first:
        parsed = phonenumbers.parse(n.phone_e164)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.region_code_for_number(parsed) == country
        assert phonenumbers.number_type(parsed) in (
            expected,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )


def test_search_honours_contains_and_uncovered_types() -> None:
    plugin, _ = _plugin()
    found = plugin.search_numbers(NumberSearch(country="US", contains="77", limit=3))
    assert len(found) == 3 and all("77" in n.phone_e164 for n in found)
    assert plugin.search_numbers(NumberSearch(country="DE", number_type="toll_free")) == []
    assert plugin.search_numbers(NumberSearch(country="US", features={"fax"})) == []


def test_purchase_costs_and_refusals() -> None:
    plugin, _ = _plugin(monthly_cost="2.50", currency="EUR")
    bought = plugin.purchase_number("+442079460000")
    assert (bought.country_code, bought.monthly_cost, bought.currency) == ("GB", 2.5, "EUR")
    with pytest.raises(ProviderRejected, match="already sold"):
        plugin.purchase_number("+442079460000")
    assert plugin.sold == {"+442079460000": bought.provider_ref}
    first = plugin.search_numbers(NumberSearch(country="GB", limit=3))
    plugin.purchase_number(first[0].phone_e164)
    after = plugin.search_numbers(NumberSearch(country="GB", limit=3))
    assert [n.phone_e164 for n in after] == [n.phone_e164 for n in first[1:]] + [
        after[-1].phone_e164
    ]
    assert first[0].phone_e164 not in {n.phone_e164 for n in after}
    with pytest.raises(ProviderRejected, match="not a valid number"):
        plugin.purchase_number("+1555")
    with pytest.raises(ProviderRejected, match="no numbers in JP"):
        plugin.purchase_number("+81312345678")


@pytest.mark.parametrize(
    "operation", ["list_coverage", "fetch_regulations", "search_numbers", "purchase_number"]
)
def test_fail_operations_hits_only_the_named_operation(operation: str) -> None:
    plugin, _ = _plugin(fail_operations={operation: "unavailable"})
    calls = {
        "list_coverage": lambda: plugin.list_coverage("US"),
        "fetch_regulations": lambda: plugin.fetch_regulations("GB", None, None),
        "search_numbers": lambda: plugin.search_numbers(NumberSearch(country="US")),
        "purchase_number": lambda: plugin.purchase_number("+442079460000"),
    }
    for name, call in calls.items():
        if name == operation:
            with pytest.raises(ProviderUnavailable, match=f"sandbox: {operation} unavailable"):
                call()
        else:
            assert call() is not None
