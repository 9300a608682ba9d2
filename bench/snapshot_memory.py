"""The snapshot's memory with 1,000,000 numbers across 10,000 workspaces (run by ``scale``).

``python -m bench.snapshot_memory URL MAX_NUMBERS`` loads every workspace of the database
through a :class:`core.snapshot.Snapshot` bounded at ``MAX_NUMBERS`` numbers, in a fresh
process, and prints as JSON the resident set size (RSS, from ``/proc/self/status``) before and
after, the numbers held and the seconds it took.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def measure(url: str, max_numbers: int) -> dict[str, Any]:
    from sqlalchemy import select

    from core.db import make_engine
    from core.snapshot import Snapshot
    from core.tables import Workspace

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            workspaces = list((await conn.execute(select(Workspace.id))).scalars())
        snap = Snapshot(engine, ttl=3600, max_numbers=max_numbers)
        snap.set_live(True)
        gc.collect()
        before = rss_mib()
        started = time.perf_counter()
        for ws in workspaces:
            await snap.view(ws)
        seconds = time.perf_counter() - started
        gc.collect()
        after = rss_mib()
        return {
            "workspaces": len(workspaces),
            "max_numbers": max_numbers,
            "numbers_held": snap.numbers,
            "workspaces_held": len(snap._states),
            "rss_before_mib": before,
            "rss_after_mib": after,
            "load_s": seconds,
        }
    finally:
        await engine.dispose()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(sys.argv[1], int(sys.argv[2])))))
