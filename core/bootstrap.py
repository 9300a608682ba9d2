"""The composition root: builds the running system and wires the services into it.

:mod:`core.runtime` is the container every service receives and imports no service; this module
is the one place that knows both, so the dependency graph has no cycle. The FastAPI lifespan
starts the system with :func:`start_runtime`.
"""

from __future__ import annotations

from .context import EventSink
from .events import apply_events
from .models import ProviderEvent
from .recorder import MetricsRecorder
from .runtime import Runtime
from .runtime import start_runtime as _build
from .settings import PluginsFile, Settings


def carrier_event_sink(runtime: Runtime) -> EventSink:
    """Apply events a plugin reports outside a webhook (``PluginContext.submit_events``), in a
    session of their own, audited with the actor ``carrier:<provider>`` and ``via: plugin``."""

    async def sink(events: list[ProviderEvent]) -> None:
        async with runtime.sessionmaker() as session:
            await apply_events(runtime, session, events, via="plugin")

    return sink


async def start_runtime(
    settings: Settings,
    *,
    plugins_file: PluginsFile | None = None,
    extra_plugins: dict[str, object] | None = None,
    metrics: MetricsRecorder | None = None,
) -> Runtime:
    """Load and configure the plugins, open the database, wire carrier events and the metrics
    recorder (given here, at construction); raises on a start-up error."""
    return await _build(
        settings,
        plugins_file=plugins_file,
        extra_plugins=extra_plugins,
        event_sink=carrier_event_sink,
        metrics=metrics,
    )
