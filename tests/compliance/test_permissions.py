"""The dialing-permissions store in memory: answers shared between workers through the cache,
the background round (adopt what another worker fetched, refresh what is due), unsupported
providers, and states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core import CountryPermission
from core.cache import MemoryCache
from core.permissions import PermissionStore
from core.plugins import PluginHost
from tests.fakes import FakeCarrier


async def _host(cache: MemoryCache, **sandbox: Any) -> PluginHost:
    host = PluginHost(cache=cache)
    host.load(["sandbox"], {"sandbox": sandbox}, extra={"fake": FakeCarrier()})
    await host.configure()
    return host


def _counting(host: PluginHost) -> list[str]:
    """Every provider hook the host calls (its carrier-call observer), by name."""
    calls: list[str] = []
    host.observe = lambda hook, provider, outcome, seconds: calls.append(hook)
    return calls


async def test_a_worker_adopts_what_another_fetched() -> None:
    cache = MemoryCache()
    one = PermissionStore(await _host(cache, disabled_countries=["GB"]))
    other_host = await _host(cache, disabled_countries=["GB"])
    two = PermissionStore(other_host)
    calls = _counting(other_host)
    await one.refresh("sandbox")
    await two.tick()
    assert calls == []  # adopted from the cache, the carrier was not asked again
    permission = two.permission("sandbox", "GB")
    assert permission == CountryPermission(country_code="GB", allowed=False)
    assert two.entry("sandbox").fetched_at == one.entry("sandbox").fetched_at
    assert two.entry("sandbox").state == "ok"


async def test_the_background_round_refreshes_what_is_due() -> None:
    host = await _host(MemoryCache(), disabled_countries=["FR"])
    store = PermissionStore(host, refresh_seconds=3600)
    calls = _counting(host)
    await store.tick()
    await store.tick()
    assert calls == ["fetch_outbound_permissions"]  # fetched once, then not due
    # two hours later (and no fresher copy shared by another worker): due again
    store.entry("sandbox").fetched_at = datetime.now(UTC) - timedelta(hours=2)
    await host.cache.delete("permissions:sandbox")
    await store.tick()
    assert calls == ["fetch_outbound_permissions"] * 2


async def test_providers_that_cannot_tell_are_left_out() -> None:
    store = PermissionStore(await _host(MemoryCache()))
    assert store.entry("fake").supported is False
    assert [e.provider for e in await store.refresh_all()] == ["sandbox"]
    assert set(store.status()) == {"sandbox"}
    assert store.permission("fake", "GB") is None


async def test_a_failure_after_success_is_stale_and_recovers() -> None:
    host = await _host(MemoryCache(), disabled_countries=["GB"])
    store = PermissionStore(host)
    seen: list[tuple[str, str]] = []
    store.observe = lambda provider, outcome, entry: seen.append((outcome, entry.state))
    await store.refresh("sandbox")
    host.pm.get_plugin("sandbox").settings.fail_operations["fetch_outbound_permissions"] = "auth"
    await store.refresh("sandbox")
    assert store.permission("sandbox", "GB") is not None
    del host.pm.get_plugin("sandbox").settings.fail_operations["fetch_outbound_permissions"]
    await store.refresh("sandbox")
    assert seen == [("ok", "ok"), ("provider_auth_failed", "stale"), ("ok", "ok")]


async def test_a_carrier_without_credentials_is_not_a_warning(
    caplog: Any, monkeypatch: Any
) -> None:
    # A fresh deployment enables Twilio before its credentials are set: expected, said at INFO.
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    host = PluginHost(cache=MemoryCache())
    host.load(["twilio"], {"twilio": {}})
    await host.configure()
    store = PermissionStore(host)
    caplog.set_level("INFO", logger="trunkline.permissions")
    entry = await store.refresh("twilio")
    assert entry.state == "failing" and (entry.error or "").startswith("provider_not_configured")
    records = [r for r in caplog.records if r.name == "trunkline.permissions"]
    assert records and {r.levelname for r in records} == {"INFO"}
