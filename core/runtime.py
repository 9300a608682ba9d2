"""The running system: settings, plugin host, policy, database and limits, built once.

The runtime is the container every service receives; it imports no service. The composition
root, :func:`core.bootstrap.start_runtime`, builds it (with :func:`start_runtime` here) and wires
the services the plugins need back into it (carrier events). Close it with :meth:`Runtime.aclose`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .bus import Bus
from .cache import make_cache
from .context import EventSink
from .db import make_engine, make_sessionmaker
from .errors import DemoMode
from .permissions import PermissionStore
from .plugins import PluginHost, create_plugin_host
from .policy import OutboundPolicy
from .ratelimit import RateLimiter
from .recorder import MetricsRecorder, NullRecorder
from .settings import PluginsFile, Settings, read_plugins_file
from .snapshot import Snapshot

log = logging.getLogger("trunkline")


@dataclass
class Runtime:
    settings: Settings
    host: PluginHost
    policy: OutboundPolicy
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    verify_limiter: RateLimiter
    permissions: PermissionStore
    #: What the preflight reads, held in memory (``core.snapshot``), and what keeps it fresh.
    snapshot: Snapshot
    bus: Bus
    #: Where the core reports what it counts (the API's Prometheus registry), given to
    #: :func:`start_runtime`; routes read it here.
    metrics: MetricsRecorder = field(default_factory=NullRecorder)
    extra: dict[str, Any] = field(default_factory=dict)

    def ensure_live(self) -> None:
        """Raise ``DemoMode`` when DEMO_MODE is on: nothing may reach a carrier."""
        if self.settings.demo_mode:
            raise DemoMode("DEMO_MODE is on: operations that reach a carrier are off")

    def warm_up(self) -> None:
        """Prepare what the first requests would otherwise wait for; blocking, so the server
        runs it in a thread: the plugins' ``trunkline_warm_up``, then phonenumbers' time-zone
        and geocoder data and the holiday calendars the preflight reads. Errors are logged."""
        self.host.warm_up()
        from . import calling_hours, destinations

        for prepare in (destinations.warm_up, calling_hours.warm_up):
            try:
                prepare()
            except Exception:
                log.exception("warming up %s failed", prepare.__module__)

    async def aclose(self) -> None:
        await self.bus.aclose()
        await self.host.aclose()
        await self.engine.dispose()


async def start_runtime(
    settings: Settings,
    *,
    plugins_file: PluginsFile | None = None,
    extra_plugins: dict[str, object] | None = None,
    event_sink: Callable[[Runtime], EventSink] | None = None,
    metrics: MetricsRecorder | None = None,
) -> Runtime:
    """Load and configure the plugins, open the database; raises on a start-up error.

    :param event_sink: given the runtime, what applies the events plugins report outside a
        webhook (``PluginContext.submit_events``); ``None`` drops them.
    :param metrics: the recorder the host, the permission store and the routes report to;
        ``None`` records nothing.
    """
    recorder: MetricsRecorder = metrics if metrics is not None else NullRecorder()
    pfile = plugins_file if plugins_file is not None else read_plugins_file(settings.plugins_toml)
    host = create_plugin_host(
        pfile,
        enabled_override=settings.enabled_override,
        public_base_url=settings.public_base_url,
        cache=make_cache(settings.redis_url),
        trace=settings.trace_hooks,
        extra=extra_plugins,
        observe=recorder.observe_carrier,
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    permissions = PermissionStore(
        host,
        refresh_seconds=settings.permissions_refresh_seconds,
        observe=recorder.observe_permissions,
    )
    snapshot = Snapshot(
        engine, ttl=settings.snapshot_ttl_seconds, max_numbers=settings.snapshot_max_numbers
    )
    runtime = Runtime(
        settings=settings,
        host=host,
        policy=OutboundPolicy(
            host,
            verified_enabled=settings.outbound_verified_enabled,
            demo_mode=settings.demo_mode,
            permissions=permissions,
        ),
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        verify_limiter=RateLimiter("verify_cli", settings.verify_cli_rate, settings.redis_url),
        permissions=permissions,
        snapshot=snapshot,
        bus=Bus(snapshot, engine, settings.redis_url),
        metrics=recorder,
    )
    try:
        await host.configure(event_sink=event_sink(runtime) if event_sink else None)
    except Exception:
        await runtime.bus.aclose()
        await engine.dispose()
        raise
    return runtime
