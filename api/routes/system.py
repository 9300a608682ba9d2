"""``/plugins``, ``/healthz``, ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from core.db import ping

from ..deps import PrincipalDep, RuntimeDep
from ..metrics import Metrics
from ..schemas import PluginOut, problems

router = APIRouter(tags=["system"])


@router.get("/plugins", response_model=list[PluginOut], responses=problems(401))
async def plugins(rt: RuntimeDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    """Every installed plugin: version, hooks, providers, bundled, enabled, status or error.

    The operator's plugin settings are not shown to a workspace: `trunkline plugins list`
    shows them (secrets redacted).
    """
    return rt.host.describe(with_settings=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "not ready"}})
async def readyz(rt: RuntimeDep) -> JSONResponse:
    """Ready to serve: the database answers. Plugins that failed to load are listed; they make
    the host unready only in strict mode, where start-up would already have failed. The
    snapshot's state is reported and never makes the host unready (dark, it reads the
    database)."""
    checks: dict[str, Any] = {"database": await ping(rt.engine)}
    failed = [r.name for r in rt.host.records.values() if r.status == "failed"]
    checks["plugins"] = "ok" if not failed else {"failed": failed}
    # the preflight's snapshot: "live" (served from memory), "dark" (its bus is down: every
    # preflight reads the database, which is slower but never stale) or "off" (a TTL of 0)
    snap = rt.snapshot
    checks["snapshot"] = {
        "state": "live" if snap.live else ("off" if snap.ttl <= 0 else "dark"),
        "bus": rt.bus.kind if rt.bus.needed else "none",
    }
    # Carrier dialing permissions: detail only. A carrier that cannot be asked leaves its last
    # good answer in force, which is no reason to take this worker out of service.
    checks["carrier_permissions"] = rt.permissions.status()
    ready = checks["database"] == "ok" and (not failed or not rt.host.strict)
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(rt: RuntimeDep) -> Response:
    """Prometheus exposition; carries no workspace data."""
    recorder = rt.metrics
    if not isinstance(recorder, Metrics):  # a runtime built without the API's registry
        return Response(b"", media_type="text/plain")
    return recorder.render()
