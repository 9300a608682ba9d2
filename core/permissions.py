"""Carrier dialing permissions: each provider account's own outbound permissions, in memory.

``fetch_outbound_permissions(provider)`` is asked in the background (every
``TRUNKLINE_PERMISSIONS_REFRESH_SECONDS``) and on demand (``trunkline permissions refresh``),
never on the preflight's path: the preflight reads :meth:`PermissionStore.permission`, a
dictionary lookup. A successful answer is also written to the host's shared cache (Redis when
configured), from which the other workers and a CLI refresh are picked up.

A fetch that fails leaves the last good answer in place and records the failure, which
``/readyz``, the providers list and the metrics show. A provider whose plugin does not implement
the hook, or that answers nothing, blocks nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ProviderNotConfigured, TrunklineError, UnsupportedOperation
from .models import CountryPermission
from .plugins import PluginHost

log = logging.getLogger("trunkline.permissions")
CACHE_PREFIX = "permissions:"
#: How long the shared copy of an answer is kept (other workers adopt it meanwhile).
SHARED_TTL_SECONDS = 7 * 86_400


@dataclass
class ProviderPermissions:
    """What is known of one provider's permissions: the last good answer and the last failure."""

    provider: str
    supported: bool = True
    countries: dict[str, CountryPermission] = field(default_factory=dict)
    fetched_at: datetime | None = None
    error: str | None = None
    failed_at: datetime | None = None

    @property
    def state(self) -> str:
        """``ok``, ``stale`` (the last fetch failed; the last good answer stays), ``failing``
        (never fetched successfully), ``pending`` (not asked yet) or ``unsupported``."""
        if not self.supported:
            return "unsupported"
        if self.error is not None and (
            self.fetched_at is None or (self.failed_at or self.fetched_at) >= self.fetched_at
        ):
            return "stale" if self.fetched_at is not None else "failing"
        return "ok" if self.fetched_at is not None else "pending"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "failed_at": self.failed_at.isoformat() if self.failed_at else None,
            "error": self.error,
            "disabled_countries": sorted(c for c, p in self.countries.items() if not p.allowed),
        }


class PermissionStore:
    """Every provider's permissions; :meth:`permission` is the preflight's lookup."""

    def __init__(
        self,
        host: PluginHost,
        *,
        refresh_seconds: float = 3600.0,
        observe: Callable[[str, str, ProviderPermissions], None] | None = None,
    ) -> None:
        self.host = host
        self.refresh_seconds = refresh_seconds
        self.by_provider: dict[str, ProviderPermissions] = {}
        #: provider -> country -> permission: what the preflight reads (a dictionary lookup).
        self.lookup: dict[str, dict[str, CountryPermission]] = {}
        #: Called after each refresh: (provider, outcome, entry); the runtime's metrics
        #: recorder, given at construction.
        self.observe = observe

    def permission(self, provider: str, country: str) -> CountryPermission | None:
        """The provider's permission for ``country``; ``None`` when it has not said."""
        countries = self.lookup.get(provider)
        return countries.get(country) if countries else None

    def entry(self, provider: str) -> ProviderPermissions:
        found = self.by_provider.get(provider)
        if found is None:
            found = self.by_provider[provider] = ProviderPermissions(
                provider, supported=self._implements(provider)
            )
        return found

    def _implements(self, provider: str) -> bool:
        owner = self.host.provider_plugin.get(provider)
        return owner is not None and self.host.implements(owner, "fetch_outbound_permissions")

    def install(
        self, provider: str, answer: list[CountryPermission], fetched_at: datetime
    ) -> ProviderPermissions:
        """Put an answer in force (a fetch's, a shared copy's, or a benchmark's)."""
        entry = self.entry(provider)
        entry.countries = {p.country_code: p for p in answer}
        entry.fetched_at = fetched_at
        self.lookup[provider] = entry.countries
        return entry

    async def refresh(self, provider: str) -> ProviderPermissions:
        """Ask the carrier now; on failure keep the last good answer and record the error."""
        entry = self.entry(provider)
        if not entry.supported:
            return entry
        now = datetime.now(UTC)
        try:
            answer: list[CountryPermission] = await self.host.call_provider(
                "fetch_outbound_permissions", provider
            )
        except UnsupportedOperation:
            entry.supported = False
            outcome = "unsupported"
        except TrunklineError as exc:
            entry.error, entry.failed_at, outcome = f"{exc.code}: {exc.detail}", now, exc.code
        except Exception as exc:  # a plugin bug must not stop the refresh loop
            log.exception("fetch_outbound_permissions failed for %r", provider)
            entry.error, entry.failed_at, outcome = f"{type(exc).__name__}: {exc}", now, "error"
        else:
            self.install(provider, answer, now)
            entry.error, entry.failed_at, outcome = None, None, "ok"
            await self._share(entry)
        if outcome == ProviderNotConfigured.code:  # expected until credentials are set
            log.info("dialing permissions of %r: %s", provider, entry.error)
        elif outcome not in ("ok", "unsupported"):
            log.warning(
                "dialing permissions of %r: %s (keeping the last answer)", provider, entry.error
            )
        if self.observe is not None:
            self.observe(provider, outcome, entry)
        return entry

    async def refresh_all(self) -> list[ProviderPermissions]:
        """Refresh every provider whose plugin implements the hook, one after the other."""
        return [
            await self.refresh(p) for p in sorted(self.host.providers) if self.entry(p).supported
        ]

    async def _share(self, entry: ProviderPermissions) -> None:
        try:
            await self.host.cache.set(
                CACHE_PREFIX + entry.provider,
                {
                    "fetched_at": entry.fetched_at.isoformat() if entry.fetched_at else None,
                    "countries": [p.model_dump() for p in entry.countries.values()],
                },
                SHARED_TTL_SECONDS,
            )
        except Exception:  # the shared copy is an optimisation; this worker has its answer
            log.warning("could not share the permissions of %r", entry.provider, exc_info=True)

    async def adopt_shared(self, provider: str) -> bool:
        """Take a newer answer another worker (or the CLI) fetched; True when one was taken."""
        try:
            shared = await self.host.cache.get(CACHE_PREFIX + provider)
        except Exception:
            return False
        if not shared or not shared.get("fetched_at"):
            return False
        fetched_at = datetime.fromisoformat(shared["fetched_at"])
        entry = self.entry(provider)
        if entry.fetched_at is not None and entry.fetched_at >= fetched_at:
            return False
        answer = [CountryPermission.model_validate(p) for p in shared.get("countries", [])]
        self.install(provider, answer, fetched_at)
        if entry.failed_at is not None and entry.failed_at <= fetched_at:
            entry.error = entry.failed_at = None
        return True

    async def tick(self) -> None:
        """One round of the background refresh: adopt shared answers, refresh what is due."""
        now = datetime.now(UTC)
        for provider in sorted(self.host.providers):
            entry = self.entry(provider)
            if not entry.supported:
                continue
            await self.adopt_shared(provider)
            last = max(filter(None, (entry.fetched_at, entry.failed_at)), default=None)
            if last is None or (now - last).total_seconds() >= self.refresh_seconds:
                await self.refresh(provider)

    async def run(self, poll_seconds: float = 60.0) -> None:
        """The background loop (a task of the server): a tick now, then every ``poll_seconds``
        (at most the refresh interval). Never raises; cancelled at shutdown."""
        poll = max(1.0, min(poll_seconds, self.refresh_seconds))
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("dialing permissions refresh failed")
            await asyncio.sleep(poll)

    def status(self) -> dict[str, dict[str, Any]]:
        """Each provider's state for ``/readyz`` (providers that cannot tell are left out)."""
        return {
            p: self.entry(p).as_dict()
            for p in sorted(self.host.providers)
            if self.entry(p).supported
        }
