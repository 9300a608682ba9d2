"""Per-user rate limits with the ``limits`` library: memory by default, Redis when configured.

With Redis every worker shares one count, so "5 a minute" holds across processes.
"""

from __future__ import annotations

import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from .errors import RateLimited


class RateLimiter:
    """One named limit (e.g. ``verify_cli`` at ``5/minute``) keyed by an identity."""

    def __init__(self, name: str, rate: str, redis_url: str | None = None) -> None:
        self.name = name
        self.item = parse(rate)
        self.storage: Storage = (
            RedisStorage("async+" + redis_url, implementation="redispy")
            if redis_url
            else MemoryStorage()
        )
        self.limiter = MovingWindowRateLimiter(self.storage)

    async def hit(self, identity: str) -> None:
        """Count one request; raise ``RateLimited`` with the seconds to wait when over."""
        if await self.limiter.hit(self.item, self.name, identity):
            return
        stats = await self.limiter.get_window_stats(self.item, self.name, identity)
        retry_after = max(1.0, stats.reset_time - time.time())
        raise RateLimited(
            f"at most {self.item.amount} {self.name} requests per "
            f"{self.item.get_expiry()} seconds; retry in {int(retry_after + 0.999)} s",
            retry_after=retry_after,
        )

    async def reset(self) -> None:
        await self.storage.reset()
