"""``python -m bench --quick`` runs (a smoke run: figures are printed, not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_bench_runs_policy_and_http(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "policy,http",
            "--no-pg",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ratio" in done.stdout and "machine: nproc" in done.stdout
    figures = json.loads(out.read_text())
    assert figures["quick"] is True and figures["machine"]["nproc"]
    policy = figures["policy"]
    assert policy["decisions"] == 10_000 and policy["denied"] == 0
    assert policy["ratio"] > 0 and policy["campaign_cpu_s"] > 0
    sqlite = figures["http"]["sqlite"]
    assert sqlite["requests"] == 400 and sqlite["trunkline_rps"] > 0 and sqlite["baseline_rps"] > 0
    assert sqlite["trunkline_p99_ms"] >= sqlite["trunkline_p50_ms"] > 0
    assert "postgresql" not in figures["http"]
