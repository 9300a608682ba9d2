"""Asking several providers at once; one provider's failure is reported beside the others."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.errors import ProviderError, TrunklineError
from core.models import AvailableNumber, NumberSearch
from core.ownership import claimed_among
from core.plugins import HOOK_CAPABILITY
from core.runtime import Runtime

from .schemas import CatalogOut, ProviderFailure

log = logging.getLogger("trunkline.api")


async def gather(rt: Runtime, hook: str, provider: str | None, **kwargs: Any) -> CatalogOut[Any]:
    """Call ``hook`` on ``provider`` (an unknown one raises) or on every capable provider.

    Asking every provider, a provider's error (or a crash of its plugin, reported as
    ``provider_error``) becomes an entry of ``errors`` beside the others' ``items``; asking one
    named provider, its error is the answer.
    """
    if provider is not None:
        rt.host.plugin_for(provider)
        names = [provider]
    else:
        capability = HOOK_CAPABILITY[hook]
        names = sorted(
            n for n, info in rt.host.providers.items() if capability in info.capabilities
        )

    async def one(name: str) -> tuple[str, Any]:
        try:
            return name, await rt.host.call_provider(hook, name, **kwargs)
        except TrunklineError as exc:
            if provider is not None:
                raise
            return name, exc
        except Exception as exc:
            # A plugin's bug must not take the other providers' answers down with it; its
            # message may hold internals, so it is logged and not returned.
            if provider is not None:
                raise
            log.exception("provider %r failed in %s", name, hook)
            return name, ProviderError(
                f"provider {name!r} failed unexpectedly ({type(exc).__name__})", provider=name
            )

    items: list[Any] = []
    errors: list[ProviderFailure] = []
    for name, result in await asyncio.gather(*(one(n) for n in names)):
        if isinstance(result, TrunklineError):
            errors.append(ProviderFailure(provider=name, code=result.code, detail=result.detail))
        else:
            items.extend(result)
    return CatalogOut(items=items, errors=errors)


async def search_numbers(
    rt: Runtime, provider: str | None, query: NumberSearch
) -> CatalogOut[AvailableNumber]:
    """``search_numbers`` as :func:`gather` asks it, less the numbers some workspace of this
    deployment holds or is buying: one number, one owner, whatever a carrier offers."""
    found = await gather(rt, "search_numbers", provider, query=query)
    async with rt.sessionmaker() as session:
        claimed = await claimed_among(session, (n.phone_e164 for n in found.items))
    found.items = [n for n in found.items if n.phone_e164 not in claimed]
    return found
