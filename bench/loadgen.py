"""A small HTTP/1.1 load generator: keep-alive connections on asyncio streams, 127.0.0.1 only.

Bounded in count and in time. Hand-written rather than httpx so that the generator, which
shares the machine with the server, spends as little CPU per request as possible (httpx's
per-request overhead would cap the measured rate near the generator's own limit).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    def summary(self) -> str:
        return (
            f"{self.rps:8.0f} req/s  p50 {self.pct(0.50):6.2f} ms  p99 {self.pct(0.99):6.2f} ms  "
            f"({self.requests} requests, statuses {dict(sorted(self.statuses.items()))})"
        )


def post(path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    lines.append(f"Content-Length: {len(payload)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def get(path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value)
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status


async def run_load(
    port: int,
    requests: list[bytes],
    *,
    total: int,
    concurrency: int = 64,
    max_seconds: float = 60.0,
) -> LoadResult:
    """Send ``total`` requests (cycling through ``requests``) over ``concurrency`` connections."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = iter(range(total))
    deadline = time.perf_counter() + max_seconds

    async def worker(offset: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.perf_counter() > deadline:
                    break
                req = requests[(i + offset) % len(requests)]
                started = time.perf_counter()
                writer.write(req)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - started
    return LoadResult(len(latencies), elapsed, latencies, statuses)


def load(port: int, requests: list[bytes], **kwargs: Any) -> LoadResult:
    try:
        import uvloop

        return uvloop.run(run_load(port, requests, **kwargs))
    except ImportError:  # pragma: no cover
        return asyncio.run(run_load(port, requests, **kwargs))
