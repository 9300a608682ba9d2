"""The plugin manager: discovery, loading, settings, provider routing and hook calls.

Nothing is loaded at import time. :func:`create_plugin_host` builds a :class:`PluginHost`,
called from the FastAPI lifespan and the CLI. Plugins come from entry points of the group
``trunkline``, one at a time; a plugin that is not enabled is never imported.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import pluggy
from pydantic import BaseModel, ValidationError

from . import hookspecs
from .cache import Cache, MemoryCache
from .calling_hours import Rule
from .context import EventSink, PluginContext, _drop_events
from .errors import (
    PluginLoadError,
    ProviderError,
    ProviderNotFound,
    TrunklineError,
    UnsupportedOperation,
)
from .hooktables import _RESULT_TYPES, HOOK_CAPABILITY, HOOK_RESULTS, NO_RESULT_HOOKS
from .models import ProviderEvent, ProviderInfo
from .plugin_records import (
    BUNDLED_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    PluginRecord,
    _Candidate,
    _constant,
    _settings_error,
    _short,
    entry_point_candidates,
)
from .plugin_rules import DestinationRules
from .secrets import redact, resolve_env_refs
from .settings import PluginsFile

log = logging.getLogger("trunkline.plugins")
trace_log = logging.getLogger("trunkline.trace")

__all__ = [
    "BUNDLED_DISTRIBUTION",
    "ENTRY_POINT_GROUP",
    "HOOK_CAPABILITY",
    "HOOK_RESULTS",
    "NO_RESULT_HOOKS",
    "PluginHost",
    "PluginRecord",
    "create_plugin_host",
    "entry_point_candidates",
]


class PluginHost(DestinationRules):
    """A pluggy manager plus Trunkline's registry of plugins and providers."""

    def __init__(
        self,
        *,
        strict: bool = True,
        trace: bool = False,
        public_base_url: str = "http://127.0.0.1:8000",
        cache: Cache | None = None,
        log_failures: bool = True,
        observe: Callable[[str, str, str, float], None] | None = None,
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        #: Told of each provider hook call: (hook, provider, outcome, seconds); the runtime's
        #: metrics recorder, given at construction.
        self.observe = observe
        #: Log a lenient host's load failures (the CLI reports them itself instead).
        self.log_failures = log_failures
        self.pm.add_hookspecs(hookspecs)
        self.strict = strict
        self.trace = trace
        self.public_base_url = public_base_url
        self.cache: Cache = cache or MemoryCache()
        self.event_sink: EventSink = _drop_events
        self.records: dict[str, PluginRecord] = {}
        self.providers: dict[str, ProviderInfo] = {}
        self.provider_plugin: dict[str, str] = {}
        self.plugin_settings: dict[str, BaseModel | None] = {}
        self.missing_env: dict[str, dict[str, str]] = {}
        self._callers: dict[tuple[str, str], Any] = {}
        self._country_cache: dict[tuple[str, str], bool] = {}
        self._window_cache: dict[tuple[str, str | None], tuple[Rule, ...]] = {}

    # -- loading ------------------------------------------------------------------------------

    def _fail(self, name: str, message: str, exc: BaseException | None = None) -> None:
        """Record a plugin failure; raise in strict mode."""
        error = PluginLoadError(name, message)
        record = self.records.get(name)
        if record is not None:
            record.status = "failed"
            record.error = error.detail
        plugin = self.pm.get_plugin(name)
        if plugin is not None:
            self.pm.unregister(plugin)
        for provider, owner in list(self.provider_plugin.items()):
            if owner == name:
                del self.provider_plugin[provider]
                self.providers.pop(provider, None)
        if self.strict:
            raise error from exc
        if self.log_failures:
            log.error("%s (strict = false: serving without it)", error.detail)

    def load(
        self,
        enabled: Iterable[str],
        tables: dict[str, dict[str, Any]] | None = None,
        *,
        extra: dict[str, object] | None = None,
        candidates: dict[str, _Candidate] | None = None,
    ) -> None:
        """Import and register the enabled plugins, then their providers and settings.

        :param enabled: entry-point names to load, in order; everything else stays unimported.
        :param tables: each plugin's raw settings table from ``plugins.toml``.
        :param extra: plugin objects registered directly under a name (tests, embedding).
        """
        tables = tables or {}
        found = entry_point_candidates() if candidates is None else candidates
        enabled = list(dict.fromkeys(enabled))
        for cand in found.values():
            self.records[cand.name] = PluginRecord(
                name=cand.name,
                module=cand.module,
                distribution=cand.distribution,
                version=cand.version,
                bundled=cand.distribution == BUNDLED_DISTRIBUTION,
            )
        for name, obj in (extra or {}).items():
            self.records[name] = PluginRecord(
                name=name, module=getattr(obj, "__name__", type(obj).__name__), enabled=True
            )
            self._register(name, _constant(obj))
        for name in enabled:
            if name in (extra or {}):
                continue
            found_cand = found.get(name)
            if found_cand is None:
                self.records[name] = PluginRecord(name=name, module="?", enabled=True)
                known = ", ".join(sorted(found)) or "none"
                self._fail(
                    name,
                    f"enabled, but no installed distribution provides it "
                    f"(installed trunkline plugins: {known})",
                )
                continue
            self.records[name].enabled = True
            self._register(name, found_cand.load)
        self._check_pending()
        self._register_providers()
        self._validate_settings(tables)
        self._callers.clear()
        self.clear_caches()

    def _register(self, name: str, load: Callable[[], object]) -> None:
        try:
            plugin = load()
            if isinstance(plugin, type):  # a plugin class: one fresh instance per host
                plugin = plugin()
        except Exception as exc:
            self._fail(name, f"import failed: {type(exc).__name__}: {exc}", exc)
            return
        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            self._fail(name, f"invalid hook implementation: {exc}", exc)
            return
        except ValueError as exc:
            self._fail(name, f"cannot register: {exc}", exc)
            return
        record = self.records[name]
        record.status = "loaded"
        record.hooks = [caller.name for caller in self.pm.get_hookcallers(plugin) or []]

    def _check_pending(self) -> None:
        while True:
            try:
                self.pm.check_pending()
                return
            except pluggy.PluginValidationError as exc:
                name = self.pm.get_name(exc.plugin) or "?"
                self._fail(name, f"misspelled or unknown hook: {exc}", exc)

    def _register_providers(self) -> None:
        hook = self.pm.hook.trunkline_register_providers
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name
            registered: list[ProviderInfo] = []
            try:
                self.plugin_caller("trunkline_register_providers", plugin_name)(
                    register=registered.append
                )
            except Exception as exc:
                self._fail(plugin_name, f"trunkline_register_providers failed: {exc}", exc)
                continue
            for info in registered:
                if not isinstance(info, ProviderInfo):
                    self._fail(plugin_name, "register() takes a core.ProviderInfo")
                    break
                owner = self.provider_plugin.get(info.name)
                if owner is not None and owner != plugin_name:
                    self._fail(
                        plugin_name,
                        f"provider {info.name!r} is registered by both plugin {owner!r} and "
                        f"plugin {plugin_name!r}",
                    )
                    break
                if "capabilities" not in info.model_fields_set:
                    info = info.model_copy(
                        update={"capabilities": self._implemented_capabilities(plugin_name)}
                    )
                self.providers[info.name] = info
                self.provider_plugin[info.name] = plugin_name
                self.records[plugin_name].providers.append(info.name)

    def _implemented_capabilities(self, plugin_name: str) -> set[str]:
        """The capabilities of the provider hooks ``plugin_name`` implements."""
        return {
            declared.capability
            for hook, declared in hookspecs.PROVIDER_HOOKS.items()
            if self.implements(plugin_name, hook)
        }

    def settings_model(self, name: str) -> type[BaseModel] | None:
        """The pydantic model validating ``[plugins.<name>]``: its providers' settings model,
        else its ``trunkline_settings_model`` answer; ``None`` when it takes no settings."""
        models_ = {
            info.settings_model
            for provider, info in self.providers.items()
            if self.provider_plugin.get(provider) == name and info.settings_model is not None
        }
        if len(models_) > 1:
            raise PluginLoadError(name, "its providers name different settings models")
        if models_:
            return models_.pop()
        if not self.implements(name, "trunkline_settings_model"):
            return None
        result: type[BaseModel] | None = self.plugin_caller("trunkline_settings_model", name)()
        return result

    def _validate_settings(self, tables: dict[str, dict[str, Any]]) -> None:
        for name, record in list(self.records.items()):
            if record.status != "loaded":
                continue
            raw = tables.get(name, {})
            resolved, missing = resolve_env_refs(raw)
            self.missing_env[name] = missing
            try:
                model = self.settings_model(name)
            except PluginLoadError as exc:
                self._fail(name, exc.detail.split(": ", 1)[1], exc)
                continue
            if model is None:
                if raw:
                    self._fail(
                        name,
                        f"takes no settings, but [plugins.{name}] sets: " + ", ".join(sorted(raw)),
                    )
                    continue
                self.plugin_settings[name] = None
                record.settings = {}
                continue
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                self._fail(name, "its settings model is not a pydantic model class")
                continue
            try:
                settings = model.model_validate(resolved)
            except ValidationError as exc:
                self._fail(name, _settings_error(exc, missing), exc)
                continue
            self.plugin_settings[name] = settings
            record.settings = redact(settings)

    async def configure(self, event_sink: EventSink | None = None) -> None:
        """Hand each loaded plugin its settings and context (``trunkline_configure``)."""
        if event_sink is not None:
            self.event_sink = event_sink
        for name, record in list(self.records.items()):
            if record.status != "loaded":
                continue
            if not self.implements(name, "trunkline_configure"):
                continue
            context = PluginContext(
                plugin_name=name,
                public_base_url=self.public_base_url,
                cache=self.cache,
                submit_events=self._submit_events,
                logger=logging.getLogger(f"trunkline.plugins.{name}"),
                missing_env=dict(self.missing_env.get(name, {})),
            )
            try:
                results = self.plugin_caller("trunkline_configure", name)(
                    settings=self.plugin_settings.get(name), context=context
                )
                for result in results:
                    if inspect.isawaitable(result):
                        await result
            except Exception as exc:
                self._fail(name, f"trunkline_configure failed: {type(exc).__name__}: {exc}", exc)
        self._callers.clear()
        self.clear_caches()

    async def _submit_events(self, events: list[ProviderEvent]) -> None:
        await self.event_sink(events)

    def add_cli_commands(self, app: Any) -> None:
        """``trunkline_cli`` on every loaded plugin, each handed its own validated settings."""
        for impl in self.pm.hook.trunkline_cli.get_hookimpls():
            name = impl.plugin_name
            self.plugin_caller("trunkline_cli", name)(
                app=app, settings=self.plugin_settings.get(name)
            )

    def warm_up(self) -> None:
        """Call ``trunkline_warm_up`` on every plugin (blocking: run it in a thread); errors
        are logged, never raised."""
        for impl in self.pm.hook.trunkline_warm_up.get_hookimpls():
            try:
                self.plugin_caller("trunkline_warm_up", impl.plugin_name)()
            except Exception:
                log.exception("plugin %r failed to warm up", impl.plugin_name)

    async def aclose(self) -> None:
        """Call ``trunkline_shutdown`` on every plugin; errors are logged, never raised."""
        for impl in self.pm.hook.trunkline_shutdown.get_hookimpls():
            try:
                for result in self.plugin_caller("trunkline_shutdown", impl.plugin_name)():
                    if inspect.isawaitable(result):
                        await result
            except Exception:
                log.exception("plugin %r failed to shut down", impl.plugin_name)
        close = getattr(self.cache, "aclose", None)
        if close is not None:
            await close()

    # -- calling ------------------------------------------------------------------------------

    def plugin_for(self, provider: str) -> str:
        try:
            return self.provider_plugin[provider]
        except KeyError:
            raise ProviderNotFound(provider) from None

    def plugin_caller(self, hook: str, plugin_name: str) -> Any:
        """The one way to call ``hook`` on one plugin: pluggy's subset hook caller (cached).

        Call it with keyword arguments: the implementation receives the subset it accepts,
        whatever name it implements the hook under (``@hookimpl(specname=...)``). A
        ``firstresult`` hook answers one value (``None`` when unimplemented), others a list.
        Nothing is awaited here.
        """
        key = (hook, plugin_name)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for n, p in self.pm.list_name_plugin() if n != plugin_name]
            caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
            self._callers[key] = caller
        return caller

    def implements(self, plugin_name: str, hook: str) -> bool:
        """Whether the loaded plugin ``plugin_name`` implements ``hook`` (under any name)."""
        plugin = self.pm.get_plugin(plugin_name)
        caller = getattr(self.pm.hook, hook, None)
        return (
            plugin is not None
            and caller is not None
            and any(impl.plugin is plugin for impl in caller.get_hookimpls())
        )

    def _caller(self, hook: str, provider: str) -> Any:
        return self.plugin_caller(hook, self.plugin_for(provider))

    async def call_provider(self, hook: str, provider: str, **kwargs: Any) -> Any:
        """Call a provider-targeted hook on the one plugin serving ``provider``.

        Awaits async implementations, validates the result's shape, and raises
        ``ProviderNotFound`` / ``UnsupportedOperation`` as the contract says.
        """
        caller = self._caller(hook, provider)
        info = self.providers[provider]
        capability = HOOK_CAPABILITY.get(hook)
        if capability is not None and capability not in info.capabilities:
            raise UnsupportedOperation(provider, hook)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = caller(provider=provider, **kwargs)
            if inspect.isawaitable(result):
                result = await result
            if hook in NO_RESULT_HOOKS:
                if not self.implements(self.provider_plugin[provider], hook):
                    raise UnsupportedOperation(provider, hook)
                if result is not None:
                    raise ProviderError(
                        f"plugin {self.provider_plugin[provider]!r} returned a {hook} result: "
                        "it answers None",
                        provider=provider,
                    )
                outcome = "ok"
                return None
            if result is None:
                raise UnsupportedOperation(provider, hook)
            adapter = _RESULT_TYPES.get(hook)
            if adapter is not None:
                try:
                    result = adapter.validate_python(result)
                except ValidationError as exc:
                    raise ProviderError(
                        f"plugin {self.provider_plugin[provider]!r} returned a malformed "
                        f"{hook} result: {exc.errors()[0]['msg']}",
                        provider=provider,
                    ) from None
            outcome = "ok"
            return result
        except TrunklineError as exc:
            outcome = exc.code
            raise
        finally:
            elapsed = time.perf_counter() - started
            self._observe(hook, provider, outcome, elapsed)
            if self.trace:
                trace_log.info(
                    "hook %s plugin=%s args=%s outcome=%s result=%s duration_ms=%.2f",
                    hook,
                    self.provider_plugin.get(provider),
                    redact(kwargs),
                    outcome,
                    _short(redact(locals().get("result"))),
                    elapsed * 1000,
                )

    def _observe(self, hook: str, provider: str, outcome: str, seconds: float) -> None:
        if self.observe is not None:
            self.observe(hook, provider, outcome, seconds)

    def provider_status(self, provider: str) -> dict[str, Any]:
        """``{"configured": bool, "detail": str | None}`` for a provider; never a secret."""
        caller = self._caller("trunkline_provider_status", provider)
        try:
            results = caller(provider=provider)
        except Exception as exc:  # a status report must never take the host down
            return {"configured": False, "detail": f"status failed: {exc}"}
        status = next((r for r in results if r is not None), None) or {"configured": True}
        return {"configured": bool(status.get("configured", True)), "detail": status.get("detail")}

    def describe(self, *, with_settings: bool = True) -> list[dict[str, Any]]:
        """Every known plugin, as ``trunkline plugins list`` shows it (settings redacted).

        ``with_settings=False`` leaves the operator's settings out: what ``/plugins`` shows a
        workspace (names, versions, status, hooks, providers).
        """
        return [
            self.records[name].as_dict(with_settings=with_settings) for name in sorted(self.records)
        ]


def create_plugin_host(
    plugins_file: PluginsFile,
    *,
    enabled_override: list[str] | None = None,
    public_base_url: str = "http://127.0.0.1:8000",
    cache: Cache | None = None,
    trace: bool = False,
    extra: dict[str, object] | None = None,
    strict: bool | None = None,
    log_failures: bool = True,
    observe: Callable[[str, str, str, float], None] | None = None,
) -> PluginHost:
    """Build and load a host: enabled set from ``plugins.toml`` unless overridden.

    :param strict: overrides the file's ``strict`` (the CLI lists plugins leniently).
    :param log_failures: whether a lenient host logs each plugin that failed to load.
    """
    host = PluginHost(
        strict=plugins_file.strict if strict is None else strict,
        trace=trace,
        public_base_url=public_base_url,
        cache=cache,
        log_failures=log_failures,
        observe=observe,
    )
    enabled = plugins_file.enabled if enabled_override is None else enabled_override
    host.load(enabled, plugins_file.tables, extra=extra)
    return host
