"""Where the single preflight's time goes: ``python -m bench.profile [--requests N]``.

Drives the real app (all bundled plugins, SQLite, the snapshot warm) through ASGI directly, with
no server and no socket, so that only Trunkline's own per-request work is measured: the
middlewares, routing, the body's validation, the key, the snapshot, the policy and its metric,
the answer's serialisation. Prints the time per request and cProfile's top functions by
cumulative and by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from . import servers


def _scope(body: bytes, key: str, path: str = "/outbound/check") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _drive(
    app: Any, bodies: list[bytes], key: str, n: int, path: str = "/outbound/check"
) -> float:
    statuses: dict[int, int] = {}

    async def one(body: bytes) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] = statuses.get(message["status"], 0) + 1

        await app(_scope(body, key, path), receive, send)

    started = time.perf_counter()
    for i in range(n):
        await one(bodies[i % len(bodies)])
    elapsed = time.perf_counter() - started
    if set(statuses) != {200}:
        raise RuntimeError(f"unexpected statuses {statuses}")
    return elapsed


async def _run(
    url: str, key: str, numbers: list[tuple[str, str]], n: int, profile: bool, batch: bool
) -> None:
    os.environ.update(servers.server_env(url))
    from api.app import create_app

    app = create_app(configure_logging=False)
    bodies = [
        json.dumps(
            {"number_id": nid, "to": "+442079460000"}
            if i % 2
            else {"from": phone, "to": "+442079460000"}
        ).encode()
        for i, (nid, phone) in enumerate(numbers)
    ]
    path, what = "/outbound/check", "the single preflight"
    if batch:
        from .http import BATCH, batch_requests_for

        path, what = "/outbound/check/batch", f"a batch of {BATCH} checks"
        bodies = [r.split(b"\r\n\r\n", 1)[1] for r in batch_requests_for(key, numbers)]
        n = max(1, n // BATCH)
    async with app.router.lifespan_context(app):
        await _drive(app, bodies, key, max(20, n // 10), path)  # warm: keys, snapshot, tables
        plain = min([await _drive(app, bodies, key, n, path) for _ in range(3)])
        print(f"== {what} through ASGI, no socket: {plain / n * 1e6:.0f} us a request")
        if not profile:
            return
        profiler = cProfile.Profile()
        profiler.enable()
        await _drive(app, bodies, key, n, path)
        profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(30)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--no-profile", action="store_true", help="only the time a request")
    parser.add_argument("--batch", action="store_true", help="POST /outbound/check/batch")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, servers.sqlite_db(Path(tmp)) as url:
        key, numbers = servers.prepare(url)
        asyncio.run(_run(url, key, numbers, args.requests, not args.no_profile, args.batch))


if __name__ == "__main__":
    main()
