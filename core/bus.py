"""Invalidations between processes: Redis pub/sub, or PostgreSQL ``LISTEN``/``NOTIFY``.

A :class:`Bus` keeps one subscription per worker and applies each announcement (see
``core.invalidation``) to the worker's snapshot. The snapshot is live only while the
subscription is: when the connection breaks it goes dark (every lookup reads the database)
until a new subscription is confirmed, then starts empty, since announcements may have been
lost in between.

* Redis (``TRUNKLINE_REDIS_URL``): channel ``trunkline:snapshot:<database number>``;
  announcements are published after each commit (``core.invalidation.publish_through``).
* PostgreSQL without Redis: channel ``trunkline_snapshot``, notified inside each transaction.
* Neither (SQLite without Redis): no bus; each process invalidates its own snapshot, and other
  worker processes see a change within the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from . import invalidation
from .snapshot import Snapshot

log = logging.getLogger("trunkline.bus")

#: Seconds between attempts to subscribe again after the connection broke.
RECONNECT_DELAY = 0.2


class Bus:
    """The subscription that feeds one snapshot; :meth:`start` it in the server's lifespan."""

    def __init__(self, snapshot: Snapshot, engine: AsyncEngine, redis_url: str | None) -> None:
        self.snapshot = snapshot
        self.engine = engine
        self.redis_url = redis_url
        self.kind = "redis" if redis_url else engine.dialect.name
        self._task: asyncio.Task[None] | None = None
        self._publisher: Any = None
        if redis_url:
            import redis.asyncio as redis

            self._publisher = redis.Redis.from_url(
                redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
            )
            self.channel = invalidation.redis_channel(redis_url)
            invalidation.publish_through(engine.sync_engine, self.publish)
        else:
            self.channel = invalidation.PG_CHANNEL

    @property
    def needed(self) -> bool:
        """Whether announcements can come from other processes (else the snapshot is live
        without a subscription)."""
        return self.kind in ("redis", "postgresql")

    async def publish(self, tokens: list[str]) -> None:
        """Publish one commit's announcement; a failure is logged (the TTL bounds it)."""
        try:
            await self._publisher.publish(self.channel, " ".join(tokens))
        except Exception as exc:  # Redis down: subscribers went dark too, or expire in TTL
            log.warning("snapshot invalidation not published: %s", exc)

    def start(self) -> None:
        """Subscribe in the background; the snapshot is dark until the subscription holds."""
        if not self.needed:
            self.snapshot.set_live(True)
            return
        self.snapshot.set_live(False)
        listen = self._listen_redis if self.redis_url else self._listen_pg
        self._task = asyncio.create_task(self._run(listen), name="trunkline-snapshot-bus")

    async def _run(self, listen: Any) -> None:
        while True:
            try:
                await listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.snapshot.live:
                    log.warning("snapshot bus (%s) lost: %s; reading the database", self.kind, exc)
            self.snapshot.set_live(False)
            await asyncio.sleep(RECONNECT_DELAY)

    async def _listen_redis(self) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # no silent reconnects: a broken subscription must turn the snapshot dark at once
        client = redis.Redis.from_url(
            self.redis_url or "", retry=Retry(NoBackoff(), 0), socket_connect_timeout=1.0
        )
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.snapshot.set_live(True)
                    elif message["type"] == "message":
                        data = message["data"]
                        text = data.decode() if isinstance(data, bytes) else str(data)
                        self.snapshot.invalidate(invalidation.parse_payload(text), reload=True)
        finally:
            await client.aclose()

    async def _listen_pg(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            await conn.execute(f"LISTEN {self.channel}")
            self.snapshot.set_live(True)
            async for notify in conn.notifies():
                self.snapshot.invalidate(invalidation.parse_payload(notify.payload), reload=True)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._publisher is not None:
            await invalidation.drain()
            invalidation.publish_through(self.engine.sync_engine, None)
            await self._publisher.aclose()
        self.snapshot.close()
