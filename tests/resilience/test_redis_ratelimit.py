"""With Redis, "5 verify-cli calls a minute per user" holds across two worker processes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.redis, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
TRUNKLINE = str(Path(sys.executable).parent / "trunkline")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else proc.returncode
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become ready")


def test_five_verify_cli_calls_a_minute_across_two_workers(tmp_path: Path, redis_url: str) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUNKLINE_", "TWILIO_", "TELNYX_"))
    }
    env.update(
        TRUNKLINE_DATABASE_URL=f"sqlite:///{tmp_path / 'rl.db'}",
        TRUNKLINE_REDIS_URL=redis_url,
        TRUNKLINE_PLUGINS_TOML=str(ROOT / "plugins.toml"),
        TRUNKLINE_LOAD_PLUGINS="sandbox",
    )
    run = {"cwd": tmp_path, "env": env, "check": True, "capture_output": True, "text": True}
    subprocess.run([TRUNKLINE, "db", "upgrade"], **run)  # type: ignore[call-overload]
    created = subprocess.run([TRUNKLINE, "workspaces", "create", "RL"], **run)  # type: ignore[call-overload]
    match = re.search(r"(tlk_\S+)", created.stdout)
    assert match, created.stdout
    headers = {"Authorization": f"Bearer {match.group(1)}"}

    port = _free_port()
    proc = subprocess.Popen(
        [TRUNKLINE, "serve", "--workers", "2", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait(port, proc)
        base = f"http://127.0.0.1:{port}"
        number_ids = []
        for i in range(10):  # only a call that reaches the carrier counts: one start per number
            added = httpx.post(
                f"{base}/settings/telephony/numbers",
                json={"e164": f"+1415555010{i}", "provider": "sandbox"},
                headers=headers,
            )
            assert added.status_code == 201, added.text
            number_ids.append(added.json()["id"])
        statuses = []
        for number_id in number_ids:
            # a new connection each time, so the two workers share the requests
            with httpx.Client(base_url=base, headers=headers) as client:
                r = client.post(
                    "/settings/telephony/numbers/verify-cli", json={"number_id": number_id}
                )
                statuses.append(r.status_code)
                if r.status_code == 429:
                    assert int(r.headers["Retry-After"]) >= 1
                    assert r.json()["code"] == "rate_limited"
        assert statuses.count(429) == 5, statuses
        assert [s for s in statuses if s != 429] == [200] * 5, statuses
        metrics = "".join(httpx.get(f"{base}/metrics").text for _ in range(6))
        assert "trunkline_rate_limit_refusals_total" in metrics
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
