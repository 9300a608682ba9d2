"""Start-up: ``trunkline plugins list`` and the server's time to its first answered request,
with all bundled plugins, against the bare interpreter / the bare FastAPI app."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import servers


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=servers.ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def run(quick: bool = False) -> dict[str, Any]:
    print("== start-up (all bundled plugins: " + servers.ALL_PLUGINS + ")")
    repeats = 1 if quick else 3
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'start.db'}"
        servers.prepare(url, count=1)
        env = servers.server_env(url)
        trunkline = str(Path(sys.executable).parent / "trunkline")
        cli = min(_wall([trunkline, "plugins", "list"], env) for _ in range(repeats))
        bare = min(_wall([sys.executable, "-c", "import fastapi"], env) for _ in range(repeats))
        print(
            f"   trunkline plugins list  {cli:.2f} s   (python -c 'import fastapi': {bare:.2f} s, ratio {cli / bare:.1f})"
        )
        firsts = {"trunkline": [], "baseline": []}
        for _ in range(repeats):
            for kind in firsts:
                with servers.server(kind, url) as srv:
                    firsts[kind].append(srv["first_answer_s"])
        t, b = min(firsts["trunkline"]), min(firsts["baseline"])
        print(
            f"   server to first answer  {t:.2f} s   (bare FastAPI app: {b:.2f} s, ratio {t / b:.1f})"
        )
        out.update(
            plugins_list_s=cli, import_fastapi_s=bare, first_answer_s=t, baseline_first_answer_s=b
        )
    return out


if __name__ == "__main__":
    run()
