"""Preflight over HTTP: ``POST /outbound/check`` under 64 concurrent connections, one uvicorn
worker, against the floor (``bench/baseline_app.py``: a bare FastAPI endpoint that
authenticates nothing and reads the number row with the database's plain driver in the
threadpool). Target: at least 1.0 times the floor's requests per second.

In the same rounds, ``POST /outbound/check/batch`` with 100 checks a request, on the same
server. Target: at least 20 times the single preflight's checks per second.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from . import loadgen, servers

CONCURRENCY = 64
BATCH = 100
#: The batch bench's connections: fewer than the single preflight's, since each request carries
#: a hundred checks (64 in flight would only queue).
BATCH_CONCURRENCY = 8


def requests_for(key: str | None, numbers: list[tuple[str, str]]) -> list[bytes]:
    """Half by ``number_id``, half by ``from``; destinations in a few countries."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    dests = ["+442079460000", "+4930123456", "+33142685300", "+14155550100", "+61291234567"]
    out = []
    for i, (number_id, phone) in enumerate(numbers):
        body: dict[str, Any] = {"to": dests[i % len(dests)]}
        if i % 2 or key is None:
            body["number_id"] = number_id
        else:
            body["from"] = phone
        out.append(loadgen.post("/outbound/check", body, headers))
    return out


def batch_requests_for(key: str, numbers: list[tuple[str, str]]) -> list[bytes]:
    """Batches of ``BATCH`` checks, the single bench's bodies in turn."""
    headers = {"Authorization": f"Bearer {key}"}
    dests = ["+442079460000", "+4930123456", "+33142685300", "+14155550100", "+61291234567"]
    out = []
    for start in range(0, len(numbers), 10):
        checks = []
        for i in range(BATCH):
            number_id, phone = numbers[(start + i) % len(numbers)]
            check: dict[str, Any] = {"to": dests[i % len(dests)]}
            check["number_id" if i % 2 else "from"] = number_id if i % 2 else phone
            checks.append(check)
        out.append(loadgen.post("/outbound/check/batch", {"checks": checks}, headers))
    return out


def measure(
    url: str, key: str, numbers: list[tuple[str, str]], total: int, rounds: int = 3
) -> dict[str, Any]:
    """Trunkline and the floor against the same database, both servers up at once and
    measured in alternating rounds (so a neighbour's burst of CPU hits both alike); the best
    round of each is kept. The batch runs in the same rounds, on Trunkline's server."""
    reqs = {
        "baseline": requests_for(None, numbers),
        "trunkline": requests_for(key, numbers),
        "batch": batch_requests_for(key, numbers),
    }
    best: dict[str, loadgen.LoadResult] = {}
    with servers.server("baseline", url) as base, servers.server("trunkline", url) as trunk:
        ports = {"baseline": base["port"], "trunkline": trunk["port"], "batch": trunk["port"]}
        conc = {"baseline": CONCURRENCY, "trunkline": CONCURRENCY, "batch": BATCH_CONCURRENCY}
        count = {"baseline": total, "trunkline": total, "batch": max(20, total // BATCH * 2)}
        for kind, port in ports.items():
            loadgen.load(port, reqs[kind], total=max(50, count[kind] // 10), concurrency=conc[kind])
        for _ in range(rounds):
            for kind, port in ports.items():
                result = loadgen.load(
                    port, reqs[kind], total=max(1, count[kind] // rounds), concurrency=conc[kind]
                )
                if set(result.statuses) != {200}:
                    raise RuntimeError(f"{kind}: unexpected statuses {result.statuses}")
                if kind not in best or result.rps > best[kind].rps:
                    best[kind] = result
    out: dict[str, Any] = dict(best)
    out["ratio"] = best["trunkline"].rps / best["baseline"].rps
    out["batch_ratio"] = best["batch"].rps * BATCH / best["trunkline"].rps
    return out


def _report(label: str, res: dict[str, Any]) -> dict[str, Any]:
    print(f"   {label}")
    print(f"     floor     {res['baseline'].summary()}")
    print(f"     trunkline {res['trunkline'].summary()}")
    print(f"     ratio     {res['ratio']:.2f} of the floor's req/s   (target >= 1.0)")
    print(f"     batch     {res['batch'].summary()}  [{BATCH} checks a request]")
    print(
        f"     batch     {res['batch'].rps * BATCH:,.0f} checks/s = {res['batch_ratio']:.1f}x the "
        "single preflight's   (target >= 20)"
    )
    return {
        "batch_requests_s": res["batch"].rps,
        "batch_checks_s": res["batch"].rps * BATCH,
        "batch_ratio": res["batch_ratio"],
        "batch_p50_ms": res["batch"].pct(0.5),
        "trunkline_rps": res["trunkline"].rps,
        "baseline_rps": res["baseline"].rps,
        "ratio": res["ratio"],
        "trunkline_p50_ms": res["trunkline"].pct(0.5),
        "trunkline_p99_ms": res["trunkline"].pct(0.99),
        "baseline_p50_ms": res["baseline"].pct(0.5),
        "baseline_p99_ms": res["baseline"].pct(0.99),
        "requests": res["trunkline"].requests,
        "best_of_rounds": True,
    }


def run(quick: bool = False) -> dict[str, Any]:
    total = 400 if quick else 30_000
    rounds = 1 if quick else 3
    print(f"== preflight over HTTP (POST /outbound/check, {CONCURRENCY} connections, 1 worker)")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, servers.sqlite_db(Path(tmp)) as url:
        key, numbers = servers.prepare(url)
        results["sqlite"] = _report("SQLite", measure(url, key, numbers, total, rounds))
    if servers.pg_available():
        with servers.pg_db() as url:
            key, numbers = servers.prepare(url)
            results["postgresql"] = _report("PostgreSQL", measure(url, key, numbers, total, rounds))
    else:
        print("   PostgreSQL: no server at 127.0.0.1:5432, skipped")
    return results


if __name__ == "__main__":
    run()
