"""The FastAPI app factory. Plugins load in the lifespan, never at import time."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, SecretStr

from core.bootstrap import start_runtime
from core.runtime import Runtime
from core.settings import PluginsFile, Settings, load_settings

from . import docs, problems
from . import logging as api_logging
from .metrics import Metrics
from .metrics import install as install_metrics
from .routes import calls, campaigns, keys, numbers, outbound, system, telephony, webhooks
from .schemas import drop_default_422


def secret_values(runtime: Runtime) -> list[str]:
    """Every secret value in the plugins' settings, for log scrubbing."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)

    for settings in runtime.host.plugin_settings.values():
        walk(settings)
    return [s for s in found if s]


async def _warm_up(runtime: Runtime) -> None:
    await asyncio.to_thread(runtime.warm_up)
    # What the warm-up loaded (phonenumbers' geocoder and time-zone data, the holiday
    # calendars, SDKs) lives as long as the process too: frozen like start-up's, or every
    # full collection walks it (about 13 ms each here, a tenth of a batch preflight's time).
    gc.freeze()


def create_app(
    settings: Settings | None = None,
    *,
    plugins_file: PluginsFile | None = None,
    extra_plugins: dict[str, object] | None = None,
    configure_logging: bool = True,
) -> FastAPI:
    """Build the app. Settings are read from the environment when not given."""
    settings = settings or load_settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await start_runtime(
            settings, plugins_file=plugins_file, extra_plugins=extra_plugins, metrics=metrics
        )
        if configure_logging:
            api_logging.configure_logging(settings.log_json, secret_values(runtime))
        app.state.runtime = runtime
        runtime.bus.start()  # the preflight's snapshot: live once its invalidations arrive
        # What start-up built (plugins, SDKs, metadata) lives as long as the process: move it
        # out of the collector's way so each collection only walks per-request objects.
        gc.collect()
        gc.freeze()
        # Plugins prepare what a first request would wait for, while the server answers.
        warming = asyncio.create_task(_warm_up(runtime))
        # Carrier dialing permissions are refreshed in the background, never on a request.
        refreshing = None
        if settings.permissions_refresh_seconds > 0 and not settings.demo_mode:
            refreshing = asyncio.create_task(runtime.permissions.run())
        try:
            yield
        finally:
            if refreshing is not None:
                refreshing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await refreshing
            await warming
            await runtime.aclose()

    app = FastAPI(
        title="Trunkline",
        version="0.1.0",
        summary="Numbers, caller-ID verification and the outbound policy, for any carrier.",
        lifespan=lifespan,
        docs_url=None,  # served by api.docs from local assets, not FastAPI's CDN pages
        redoc_url=None,
    )
    app.state.settings = settings
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = drop_default_422(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    problems.install(app)
    docs.install(app)
    install_metrics(app, metrics)
    api_logging.install(app)
    # Routes are matched in the order they are included, one candidate at a time: the
    # dialer's preflight, called before every call, goes first (no other path overlaps it).
    for module in (outbound, numbers, campaigns, calls, telephony, keys, webhooks, system):
        app.include_router(module.router)
    import importlib

    try:  # the console ships in api/console; its catch-all 404 page goes last
        console = [
            importlib.import_module(f"api.console.{name}")
            for name in ("signin", "render", "telephony", "routes", "records", "not_found")
        ]
    except ModuleNotFoundError:
        pass
    else:
        for module in console:
            app.include_router(module.router)
        console[0].install(app)  # signin: a page without a session answers the sign-in form
    return app


def app_from_env() -> FastAPI:
    """Entry for ``uvicorn --factory api.app:app_from_env``."""
    return create_app()
