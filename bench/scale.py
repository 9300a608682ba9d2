"""Scale: the same preflight (served from the snapshot) with 1,000 and with 1,000,000 numbers
across 10,000 workspaces in PostgreSQL (bulk loaded with COPY). Target: p50 with a million
within 1.3x the p50 with a thousand.

With the million loaded, the snapshot's memory: a fresh process loads all 10,000 workspaces
through a snapshot with the default bound, then with a bound that holds them all, and reports
its RSS (``bench/snapshot_memory.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from . import http, loadgen, servers

WORKSPACES = 10_000


def _copy(url: str, bench_ws: str, start_ws: int, end_ws: int, per_ws: int) -> int:
    """COPY workspaces ``[start_ws, end_ws)`` with ``per_ws`` numbers each; returns rows."""
    import psycopg

    now = datetime.now(UTC)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rows = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy("COPY workspaces (id, name, created_at) FROM STDIN") as copy:
            for w in range(start_ws, end_ws):
                copy.write_row((uuid.UUID(int=w + 1), f"ws{w}", now))
        cols = (
            "id, workspace_id, provider, phone_e164, country_code, hosted, verified_cli, "
            "verification_status, outbound_enabled, inbound_enabled, capabilities, state, "
            "created_at, updated_at"
        )
        with cur.copy(f"COPY numbers ({cols}) FROM STDIN") as copy:
            for w in range(start_ws, end_ws):
                ws = uuid.UUID(int=w + 1)
                for i, phone in enumerate(servers.numbers_for(w + 1, per_ws)):
                    copy.write_row(
                        (uuid.uuid4(), ws, "sandbox", phone, "US", i % 2 == 0, i % 2 == 1,
                         "verified" if i % 2 else "none", True, False, '["voice"]', "active",
                         now, now)
                    )  # fmt: skip
                    rows += 1
        conn.commit()
        conn.execute("ANALYZE numbers")
        conn.commit()
    return rows


def _p50(
    url: str, key: str, numbers: list[tuple[str, str]], total: int, rounds: int
) -> dict[int, loadgen.LoadResult]:
    """Best-of-``rounds`` (lowest p50) at 64 connections and at 1 connection."""
    reqs = http.requests_for(key, numbers)
    best: dict[int, loadgen.LoadResult] = {}
    with servers.server("trunkline", url) as srv:
        loadgen.load(srv["port"], reqs, total=max(200, total // 10), concurrency=64)
        for _ in range(rounds):
            for conc, count in ((64, total), (1, max(200, total // 10))):
                result = loadgen.load(srv["port"], reqs, total=count, concurrency=conc)
                if set(result.statuses) != {200}:
                    raise RuntimeError(f"unexpected statuses {result.statuses}")
                if conc not in best or result.pct(0.5) < best[conc].pct(0.5):
                    best[conc] = result
    return best


def run(quick: bool = False, million: bool = True) -> dict[str, Any]:
    print("== scale: preflight p50 with 1,000 and with 1,000,000 numbers (PostgreSQL)")
    if not servers.pg_available():
        print("   no PostgreSQL at 127.0.0.1:5432: skipped")
        return {}
    total = 2_000 if quick else 6_000
    rounds = 1 if quick else 3
    big = 100_000 if quick else 1_000_000
    per_ws = big // WORKSPACES
    out: dict[str, Any] = {}
    with servers.pg_db() as url:
        key, numbers = servers.prepare(url, count=100)  # the bench workspace's own numbers
        _copy(url, key, 0, 9, 100)  # 1,000 numbers in all, across 10 workspaces
        small = _p50(url, key, numbers, total, rounds)
        print(f"   1,000 numbers,     64 conns: {small[64].summary()}")
        print(f"   1,000 numbers,      1 conn:  {small[1].summary()}")
        out["small_p50_ms"] = small[64].pct(0.5)
        out["small_p99_ms"] = small[64].pct(0.99)
        out["small_p50_1conn_ms"] = small[1].pct(0.5)
        if not million:
            print("   1,000,000 numbers: skipped (--no-million)")
            return out
        started = time.perf_counter()
        rows = _copy(url, key, 9, WORKSPACES - 1, per_ws)
        load_s = time.perf_counter() - started
        print(
            f"   loaded {rows + 1_000:,} numbers over {WORKSPACES:,} workspaces by COPY in {load_s:.0f} s"
        )
        large = _p50(url, key, numbers, total, rounds)
        print(f"   {rows + 1_000:,} numbers, 64 conns: {large[64].summary()}")
        print(f"   {rows + 1_000:,} numbers,  1 conn:  {large[1].summary()}")
        out.update(
            large_rows=rows + 1_000,
            load_s=load_s,
            large_p50_ms=large[64].pct(0.5),
            large_p99_ms=large[64].pct(0.99),
            large_p50_1conn_ms=large[1].pct(0.5),
            ratio=large[64].pct(0.5) / small[64].pct(0.5),
            ratio_1conn=large[1].pct(0.5) / small[1].pct(0.5),
        )
        print(
            f"   p50 ratio {out['ratio']:.2f} at 64 connections, {out['ratio_1conn']:.2f} at 1 "
            "(target <= 1.3)"
        )
        out["snapshot_memory"] = _memory(url, rows + 1_000)
    return out


def _memory(url: str, rows: int) -> list[dict[str, Any]]:
    """RSS of a snapshot loading every workspace: default bound, then one that holds all."""
    from core.settings import Settings

    results = []
    for bound in (Settings().snapshot_max_numbers, rows + 1_000):
        done = subprocess.run(
            [sys.executable, "-m", "bench.snapshot_memory", url, str(bound)],
            cwd=servers.ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(done.stdout.strip().splitlines()[-1])
        grown = r["rss_after_mib"] - r["rss_before_mib"]
        per = grown * 1024 * 1024 / r["numbers_held"] if r["numbers_held"] else 0.0
        print(
            f"   snapshot, bound {bound:,} numbers: {r['numbers_held']:,} held in "
            f"{r['workspaces_held']:,} of {r['workspaces']:,} workspaces, RSS "
            f"{r['rss_before_mib']:.0f} -> {r['rss_after_mib']:.0f} MiB (+{grown:.0f} MiB, "
            f"{per:.0f} bytes a number), all loaded in {r['load_s']:.0f} s"
        )
        results.append(r)
    return results


if __name__ == "__main__":
    run()
