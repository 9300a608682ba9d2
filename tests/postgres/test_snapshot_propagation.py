"""Two ``trunkline serve`` processes on one PostgreSQL: a change made through one is refused by
the other's preflight, through Redis pub/sub or through PostgreSQL ``LISTEN``/``NOTIFY``; a lost
message (Redis stopped) never makes the preflight answer older than the TTL."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.servers import free_port, server_env
from tests.conftest import need

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
TRUNKLINE = str(Path(sys.executable).parent / "trunkline")
#: How long a change may take to reach the other server before the test gives up. A liveness
#: limit, far above the expected milliseconds, and far below the TTL the bus tests set.
GIVE_UP_S = 20.0


def _env(pg_url: str, **extra: str) -> dict[str, str]:
    """A server's environment (bench.servers' own), with the sandbox as its only plugin."""
    return server_env(pg_url, TRUNKLINE_LOAD_PLUGINS="sandbox", **extra)


@contextmanager
def _server(env: dict[str, str]) -> Iterator[str]:
    """``trunkline serve`` on a free port, until its snapshot is live; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [TRUNKLINE, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, (
                "the server did not become ready with a live snapshot"
            )
            try:
                ready = httpx.get(f"{base}/readyz", timeout=1)
                if (
                    ready.status_code == 200
                    and ready.json()["checks"]["snapshot"]["state"] == "live"
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _seed(pg_url: str) -> tuple[str, str]:
    """A workspace, its key and one hosted, outbound-enabled number; returns (key, number id)."""
    from core.auth import create_workspace
    from core.db import make_engine, make_sessionmaker
    from core.tables import Number

    async def run() -> tuple[str, str]:
        engine = make_engine(pg_url)
        try:
            async with make_sessionmaker(engine)() as session:
                workspace, _user, key = await create_workspace(session, "Propagation")
                number = Number(
                    workspace_id=workspace.id,
                    provider="sandbox",
                    phone_e164="+14155550100",
                    country_code="US",
                    hosted=True,
                    outbound_enabled=True,
                    capabilities=["voice"],
                )
                session.add(number)
                await session.commit()
                return key, str(number.id)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _unannounced(pg_url: str, sql: str, **params: Any) -> None:
    """Change a row behind Trunkline's back (plain psycopg): no invalidation is announced."""
    import psycopg

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(sql, params)


def _preflight(base: str, key: str, number_id: str) -> httpx.Response:
    return httpx.post(
        f"{base}/outbound/check",
        json={"number_id": number_id, "to": "+442079460000"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )


def _until(predicate: Callable[[], bool]) -> float:
    """Poll until ``predicate`` holds; the seconds it took (fails after ``GIVE_UP_S``)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < GIVE_UP_S, "the change never reached the other server"
        time.sleep(0.005)
    return time.monotonic() - started


def _propagation(pg_url: str, **bus_env: str) -> None:
    key, number_id = _seed(pg_url)
    env = _env(pg_url, TRUNKLINE_SNAPSHOT_TTL_SECONDS="3600", **bus_env)
    with _server(env) as a, _server(env) as b:
        headers = {"Authorization": f"Bearer {key}"}
        assert _preflight(b, key, number_id).json()["allowed"] is True
        # B answers from its snapshot: a change nobody announces is not seen (TTL is an hour)
        _unannounced(
            pg_url, "UPDATE numbers SET inbound_enabled = true WHERE id = %(id)s", id=number_id
        )
        _unannounced(pg_url, "UPDATE numbers SET hosted = false WHERE id = %(id)s", id=number_id)
        assert _preflight(b, key, number_id).json()["allowed"] is True
        _unannounced(pg_url, "UPDATE numbers SET hosted = true WHERE id = %(id)s", id=number_id)
        # a change through A reaches B's preflight
        patched = httpx.patch(
            f"{a}/settings/telephony/numbers/{number_id}",
            json={"outbound_enabled": False},
            headers=headers,
        )
        assert patched.status_code == 200, patched.text
        _until(lambda: _preflight(b, key, number_id).json()["reasons"] == ["outbound_disabled"])
        # a key revoked elsewhere (here: this process, like the CLI) is refused by both
        assert _preflight(a, key, number_id).status_code == 200

        from core.auth import revoke_key
        from core.db import make_engine, make_sessionmaker

        async def revoke() -> None:
            engine = make_engine(pg_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    assert await revoke_key(session, key)
            finally:
                await engine.dispose()

        os.environ.update({k: v for k, v in bus_env.items()})
        try:
            asyncio.run(revoke())
        finally:
            for name in bus_env:
                os.environ.pop(name, None)
        for server in (a, b):
            _until(lambda s=server: _preflight(s, key, number_id).status_code == 401)  # type: ignore[misc]


def test_a_change_reaches_the_other_server_through_redis(pg_url: str, redis_url: str) -> None:
    _propagation(pg_url, TRUNKLINE_REDIS_URL=redis_url)


def test_a_change_reaches_the_other_server_through_postgresql_notify(pg_url: str) -> None:
    _propagation(pg_url)


@contextmanager
def _own_redis() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A Redis server of this test's own, on a free port (it is stopped by the test)."""
    binary = shutil.which("redis-server")
    need(binary is not None, "redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary or "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_a_lost_message_never_makes_the_answer_older_than_the_ttl(pg_url: str) -> None:
    ttl = 1.0
    key, number_id = _seed(pg_url)
    with _own_redis() as (url, redis_proc):
        env = _env(pg_url, TRUNKLINE_REDIS_URL=url, TRUNKLINE_SNAPSHOT_TTL_SECONDS=str(ttl))
        with _server(env) as a, _server(env) as b:
            headers = {"Authorization": f"Bearer {key}"}
            assert _preflight(b, key, number_id).json()["allowed"] is True
            # a message that never comes (a change nobody announced): answered within the TTL
            _unannounced(
                pg_url, "UPDATE numbers SET hosted = false WHERE id = %(id)s", id=number_id
            )
            time.sleep(ttl)
            assert _preflight(b, key, number_id).json()["reasons"] == ["caller_id_not_allowed"]
            _unannounced(pg_url, "UPDATE numbers SET hosted = true WHERE id = %(id)s", id=number_id)
            time.sleep(ttl)
            assert _preflight(b, key, number_id).json()["allowed"] is True
            # Redis stops: A's announcement is lost; B never answers older than the TTL
            redis_proc.terminate()
            redis_proc.wait()
            patched = httpx.patch(
                f"{a}/settings/telephony/numbers/{number_id}",
                json={"outbound_enabled": False},
                headers=headers,
            )
            assert patched.status_code == 200, patched.text
            time.sleep(ttl)
            for _ in range(5):
                assert _preflight(b, key, number_id).json()["reasons"] == ["outbound_disabled"]
            ready = httpx.get(f"{b}/readyz", timeout=5).json()
            assert ready["checks"]["snapshot"]["state"] == "dark"  # reading the database
            # and while dark, every change is seen at once, announced or not
            _unannounced(
                pg_url, "UPDATE numbers SET outbound_enabled = true WHERE id = %(id)s", id=number_id
            )
            assert _preflight(b, key, number_id).json()["allowed"] is True
    assert uuid.UUID(number_id)
