"""A small async key-value cache with TTLs: in memory by default, Redis when configured.

Plugins reach it through ``PluginContext.cache`` for carrier caches (coverage, regulations);
values are JSON-serialisable. With Redis, several workers share one cache.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...

    async def set(self, key: str, value: Any, ttl: float) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryCache:
    """Per-process cache. Expired entries are dropped when read."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Any]] = {}

    async def get(self, key: str) -> Any | None:
        hit = self._data.get(key)
        if hit is None:
            return None
        expires, value = hit
        if expires < time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    async def set(self, key: str, value: Any, ttl: float) -> None:
        self._data[key] = (time.monotonic() + ttl, json.loads(json.dumps(value, default=str)))

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class RedisCache:
    """Cache shared by every worker through Redis; keys are prefixed with ``trunkline:cache:``."""

    prefix = "trunkline:cache:"

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)

    async def get(self, key: str) -> Any | None:
        raw = await self._redis.get(self.prefix + key)
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._redis.set(self.prefix + key, json.dumps(value, default=str), px=int(ttl * 1000))

    async def delete(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def aclose(self) -> None:
        await self._redis.aclose()


def make_cache(redis_url: str | None) -> Cache:
    """The cache for this deployment: Redis when a URL is given, else memory."""
    return RedisCache(redis_url) if redis_url else MemoryCache()
