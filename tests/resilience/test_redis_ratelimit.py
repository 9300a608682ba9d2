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


def _worker(response: httpx.Response) -> str:
    """Which worker answered: the per-process prefix of its request ids (api.logging)."""
    return response.headers["x-request-id"][:16]


def _one_client_per_worker(base: str, headers: dict[str, str]) -> list[httpx.Client]:
    """Two keep-alive clients whose connections two different workers accepted."""
    clients: dict[str, httpx.Client] = {}
    for _ in range(200):
        client = httpx.Client(base_url=base, headers=headers)
        worker = _worker(client.get("/healthz"))
        if worker in clients:
            client.close()
        else:
            clients[worker] = client
        if len(clients) == 2:
            return list(clients.values())
    raise AssertionError("the second worker never accepted a connection")


def _ask_each_worker(base: str, path: str) -> dict[str, httpx.Response]:
    """``GET path`` answered by each of the two workers (new connections until both did)."""
    answers: dict[str, httpx.Response] = {}
    for _ in range(200):
        response = httpx.get(f"{base}{path}")
        answers.setdefault(_worker(response), response)
        if len(answers) == 2:
            return answers
    raise AssertionError("the second worker never answered")


def _refusals(metrics: str) -> int:
    found = re.search(
        r'^trunkline_rate_limit_refusals_total\{limit="verify_cli"\} (\S+)$', metrics, re.M
    )
    return int(float(found.group(1))) if found else 0


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
        # ten numbers: each call starts a verification, so each reaches the (sandbox) carrier
        number_ids = []
        for i in range(10):
            added = httpx.post(
                f"{base}/settings/telephony/numbers",
                json={"e164": f"+1415555{100 + i:04d}", "provider": "sandbox"},
                headers=headers,
            )
            assert added.status_code == 201, added.text
            number_ids.append(added.json()["id"])
        # one keep-alive connection to each worker (a worker stamps every answer's request id
        # with its own prefix), so the calls below alternate between the two workers
        clients = _one_client_per_worker(base, headers)
        statuses, served_by = [], []
        for i, number_id in enumerate(number_ids):
            client = clients[i % 2]
            r = client.post("/settings/telephony/numbers/verify-cli", json={"number_id": number_id})
            statuses.append(r.status_code)
            served_by.append(_worker(r))
            if r.status_code == 429:
                assert 2 <= int(r.headers["Retry-After"]) <= 60, r.headers["Retry-After"]
                assert r.json()["code"] == "rate_limited"
        assert statuses == [200] * 5 + [429] * 5, statuses
        # both workers served calls, and between them refused exactly the five over the limit
        assert len(set(served_by)) == 2, served_by
        refusals = {
            worker: _refusals(response.text)
            for worker, response in _ask_each_worker(base, "/metrics").items()
        }
        assert set(refusals) == set(served_by), (refusals, served_by)
        assert sum(refusals.values()) == 5, refusals
        for client in clients:
            client.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
