"""What the host hands each plugin in ``trunkline_configure``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .cache import Cache, MemoryCache
from .models import ProviderEvent

EventSink = Callable[[list[ProviderEvent]], Awaitable[None]]


async def _drop_events(events: list[ProviderEvent]) -> None:
    return None


@dataclass
class PluginContext:
    """The host's services for one plugin.

    :ivar plugin_name: the entry-point name the plugin was loaded under.
    :ivar public_base_url: ``TRUNKLINE_PUBLIC_BASE_URL`` without a trailing slash; carriers call
        back at ``{public_base_url}/webhooks/{provider}``.
    :ivar cache: shared async cache (memory, or Redis when ``TRUNKLINE_REDIS_URL`` is set).
    :ivar submit_events: report carrier events the plugin learnt outside a webhook (a simulated
        callback, a polled order); the core applies them as it applies webhook events.
    :ivar logger: a logger named ``trunkline.plugins.<plugin_name>``.
    :ivar missing_env: ``{settings key: VARIABLE}`` for each ``{ env = "VARIABLE" }`` reference
        whose variable is unset, so that a plugin can say exactly what to set.
    """

    plugin_name: str
    public_base_url: str = "http://127.0.0.1:8000"
    cache: Cache = field(default_factory=MemoryCache)
    submit_events: EventSink = _drop_events
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("trunkline.plugins"))
    missing_env: dict[str, str] = field(default_factory=dict)

    def webhook_url(self, provider: str) -> str:
        """The public URL a carrier is given for ``provider``'s callbacks."""
        return f"{self.public_base_url}/webhooks/{provider}"
