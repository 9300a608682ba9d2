"""Propagation: a change made through one server, seen by another server's preflight.

Two ``trunkline serve`` processes (one worker each) on one PostgreSQL database, with a Redis
of the bench's own (``redis-server`` on a free port), then on PostgreSQL alone
(``LISTEN``/``NOTIFY``). Each of 20 changes flips a number's outbound binding through server
A's ``PATCH``; from the moment A answers (the change is committed), server B's preflight is
asked again and again until it answers the new state. Targets: p99 under 100 ms with Redis;
under the TTL (``TRUNKLINE_SNAPSHOT_TTL_SECONDS``, 2 s) on PostgreSQL alone. The servers run with
the default TTL, so an answer that took longer than the TTL would show it was the TTL, not the
bus, that brought the change.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from . import servers

CHANGES = 20
TTL_S = 2.0


@contextmanager
def own_redis() -> Iterator[str | None]:
    """A throwaway ``redis-server`` on a free port (None when the binary is missing)."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = servers.free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not servers.port_open(port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait()


class Client:
    """One keep-alive connection to a server, JSON in and out."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.conn.request(method, path, json.dumps(body), self.headers)
        response = self.conn.getresponse()
        return response.status, json.loads(response.read() or b"null")


def _wait_live(port: int) -> None:
    deadline = time.monotonic() + 30
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.monotonic() < deadline:
        conn.request("GET", "/readyz")
        body = json.loads(conn.getresponse().read())
        if body["checks"]["snapshot"]["state"] == "live":
            return
        time.sleep(0.05)
    raise RuntimeError("the server's snapshot never became live")


def _changes(url: str, **env: str) -> list[float]:
    key, numbers = servers.prepare(url, count=1)
    number_id = numbers[0][0]
    env = {"TRUNKLINE_SNAPSHOT_TTL_SECONDS": str(TTL_S), **env}
    with servers.server("trunkline", url, **env) as a, servers.server("trunkline", url, **env) as b:
        _wait_live(a["port"])
        _wait_live(b["port"])
        ca, cb = Client(a["port"], key), Client(b["port"], key)
        check = {"number_id": number_id, "to": "+442079460000"}
        seconds = []
        for i in range(CHANGES):
            enabled = i % 2 == 1  # starts enabled: the first change disables
            status, answer = cb.call("POST", "/outbound/check", check)  # B holds the old state
            assert status == 200 and answer["allowed"] is not enabled, answer
            status, _ = ca.call(
                "PATCH", f"/settings/telephony/numbers/{number_id}", {"outbound_enabled": enabled}
            )
            if status != 200:
                raise RuntimeError(f"PATCH answered {status}")
            committed = time.perf_counter()
            while True:
                status, answer = cb.call("POST", "/outbound/check", check)
                if answer["allowed"] is enabled:
                    seconds.append(time.perf_counter() - committed)
                    break
                if time.perf_counter() - committed > 10:
                    raise RuntimeError("the change never reached server B")
            time.sleep(0.05)
    return seconds


def _summary(seconds: list[float]) -> dict[str, float]:
    data = sorted(seconds)
    return {
        "changes": len(data),
        "p50_ms": data[len(data) // 2] * 1000,
        "p99_ms": data[min(len(data) - 1, int(0.99 * len(data)))] * 1000,
        "max_ms": data[-1] * 1000,
    }


def run(quick: bool = False) -> dict[str, Any]:
    print(
        f"== propagation: a change through server A seen by server B's preflight ({CHANGES} changes)"
    )
    if not servers.pg_available():
        print("   no PostgreSQL at 127.0.0.1:5432: skipped")
        return {}
    out: dict[str, Any] = {}
    with own_redis() as redis_url:
        if redis_url is None:
            print("   Redis: no redis-server binary, skipped")
        else:
            with servers.pg_db() as url:
                out["redis"] = _summary(_changes(url, TRUNKLINE_REDIS_URL=redis_url))
            r = out["redis"]
            print(
                f"   PostgreSQL + Redis pub/sub: p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                f"max {r['max_ms']:.1f} ms   (target p99 < 100 ms)"
            )
    with servers.pg_db() as url:
        out["postgresql"] = _summary(_changes(url))
    p = out["postgresql"]
    print(
        f"   PostgreSQL LISTEN/NOTIFY:  p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms, "
        f"max {p['max_ms']:.1f} ms   (target < the TTL, {TTL_S * 1000:.0f} ms)"
    )
    return out


if __name__ == "__main__":
    run()
