"""Databases and server processes for the HTTP benchmarks (127.0.0.1 only)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = os.environ.get("TRUNKLINE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
ALL_PLUGINS = "sandbox,twilio,telnyx,country_rules"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def numbers_for(workspace: int, count: int) -> list[str]:
    """Valid, distinct US numbers (+1 415 2xx xxxx) for one workspace index."""
    base = workspace * count
    return [f"+1415{2000000 + (base + i) % 8000000:07d}" for i in range(count)]


async def _seed(url: str, count: int) -> tuple[str, list[tuple[str, str]]]:
    """A workspace with a key and ``count`` hosted, outbound-enabled numbers."""
    from core.auth import create_workspace
    from core.db import make_engine, make_sessionmaker
    from core.tables import Number

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            workspace, _user, key = await create_workspace(session, "Bench")
            rows = []
            for phone in numbers_for(0, count):
                number = Number(
                    workspace_id=workspace.id,
                    provider="sandbox",
                    phone_e164=phone,
                    country_code="US",
                    hosted=True,
                    outbound_enabled=True,
                    capabilities=["voice"],
                )
                session.add(number)
                rows.append(number)
            await session.commit()
            return key, [(str(n.id), n.phone_e164) for n in rows]
    finally:
        await engine.dispose()


def prepare(url: str, count: int = 100) -> tuple[str, list[tuple[str, str]]]:
    from core.migrate import upgrade

    upgrade(url)
    return asyncio.run(_seed(url, count))


@contextmanager
def sqlite_db(tmp: Path) -> Iterator[str]:
    yield f"sqlite+aiosqlite:///{tmp / 'bench.db'}"


@contextmanager
def pg_db() -> Iterator[str]:
    """A throwaway PostgreSQL database, dropped afterwards."""
    import psycopg

    name = f"tl_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PG_DISABLED = False


def pg_available() -> bool:
    return not PG_DISABLED and port_open(5432)


def server_env(url: str, **extra: str) -> dict[str, str]:
    """The environment of a ``trunkline serve`` on database ``url``: the caller's, without its
    Trunkline and carrier settings, with every bundled plugin; ``extra`` wins."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUNKLINE_", "TELEPHONY_", "DEMO_MODE", "TWILIO_", "TELNYX_"))
    }
    env.update(
        TRUNKLINE_DATABASE_URL=url,
        TRUNKLINE_PLUGINS_TOML=str(ROOT / "plugins.toml"),
        TRUNKLINE_LOAD_PLUGINS=ALL_PLUGINS,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


@contextmanager
def server(kind: str, url: str, **env: str) -> Iterator[dict[str, Any]]:
    """Start ``trunkline serve`` (kind "trunkline") or the bare baseline app under uvicorn,
    one worker; yield its port and its time to the first answered request."""
    port = free_port()
    if kind == "trunkline":
        cmd = [
            str(Path(sys.executable).parent / "trunkline"), "serve", "--port", str(port),
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    else:
        cmd = [
            sys.executable, "-m", "uvicorn", "--factory", "bench.baseline_app:create",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=server_env(url, **env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        first = _first_answer(proc, port, started)
        yield {"port": port, "first_answer_s": first, "pid": proc.pid}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _first_answer(proc: subprocess.Popen[bytes], port: int, started: float) -> float:
    import http.client

    deadline = started + 60
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise RuntimeError(f"server exited ({proc.returncode}): {err[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.perf_counter() - started
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("server did not answer within 60 s")
