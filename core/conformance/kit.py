"""A real plugin host with one plugin loaded through its entry point, as ``trunkline serve``
loads it, and the event loop its calls run on."""

from __future__ import annotations

import asyncio
import importlib.metadata
import inspect
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from .. import hookspecs
from ..errors import TrunklineError
from .common import fail

if TYPE_CHECKING:
    from ..plugins import PluginHost


class Kit:
    """A real :class:`~core.plugins.PluginHost` with one plugin loaded through its entry point,
    and the event loop its calls run on."""

    def __init__(self, host: PluginHost, loop: asyncio.AbstractEventLoop, plugin_name: str):
        self.host = host
        self.loop = loop
        self.plugin_name = plugin_name
        self.plugin: Any = host.pm.get_plugin(plugin_name)

    @classmethod
    def start(cls, plugin_name: str, settings: dict[str, Any]) -> Kit:
        from ..plugins import PluginHost, entry_point_candidates

        found = entry_point_candidates()
        if plugin_name not in found:
            fail(
                f"no installed distribution has a 'trunkline' entry point named "
                f"{plugin_name!r} (installed: {', '.join(sorted(found)) or 'none'})"
            )
        loop = asyncio.new_event_loop()
        host = PluginHost(strict=True)
        try:
            host.load([plugin_name], {plugin_name: settings})
            loop.run_until_complete(host.configure())
        except TrunklineError as exc:
            loop.close()
            fail(f"plugin {plugin_name!r} failed to load through its entry point: {exc}")
        return cls(host, loop, plugin_name)

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coro)

    def call(self, hook: str, provider: str, **kwargs: Any) -> Any:
        """Call a provider hook on the plugin and return its raw result (not validated)."""

        async def go() -> Any:
            result = self.host.plugin_caller(hook, self.plugin_name)(provider=provider, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            return result

        return self.run(go())

    def close(self) -> None:
        try:
            self.run(self.host.aclose())
            pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                self.run(_gather(pending))
            self.run(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


async def _gather(tasks: list[asyncio.Task[Any]]) -> None:
    await asyncio.gather(*tasks, return_exceptions=True)


def load_entry_point(plugin_name: str) -> Any:
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT_NAME):
        if ep.name == plugin_name:
            obj = ep.load()
            return obj() if isinstance(obj, type) else obj
    fail(f"no installed distribution has a 'trunkline' entry point named {plugin_name!r}")
