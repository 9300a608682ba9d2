"""A real Trunkline server for the browser tests: uvicorn in a subprocess on a free port, a
migrated SQLite file, the sandbox carrier configured by a plugins.toml written for the run."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from core.auth import create_workspace
from core.db import make_engine, make_sessionmaker
from core.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
_ENV_PREFIXES = ("TRUNKLINE_", "TELEPHONY_", "DEMO_MODE", "TWILIO_", "TELNYX_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Workspace:
    """A workspace of the running server and an API client with its key."""

    id: str
    key: str
    api: httpx.Client

    def add_byo(self, e164: str) -> dict[str, Any]:
        r = self.api.post("/settings/telephony/numbers", json={"e164": e164, "provider": "sandbox"})
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def buy_hosted(self, country: str = "US") -> dict[str, Any]:
        """Search the sandbox and buy the first number offered (a hosted number)."""
        found = self.api.get("/settings/telephony/numbers/available", params={"country": country})
        assert found.status_code == 200, found.text
        owned = {
            n["phone_e164"] for n in self.api.get("/settings/telephony/numbers").json()["items"]
        }
        e164 = next(i["phone_e164"] for i in found.json()["items"] if i["phone_e164"] not in owned)
        r = self.api.post(
            "/settings/telephony/numbers/purchase", json={"provider": "sandbox", "e164": e164}
        )
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def number(self, number_id: str) -> dict[str, Any]:
        r = self.api.get(f"/settings/telephony/numbers/{number_id}")
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result


@dataclass
class Server:
    url: str
    db_url: str
    process: subprocess.Popen[bytes]
    log: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def workspace(self, name: str) -> Workspace:
        async def create() -> tuple[str, str]:
            engine = make_engine(self.db_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    ws, _, key = await create_workspace(session, name)
                    return str(ws.id), key
            finally:
                await engine.dispose()

        # Playwright's sync API runs an event loop in this thread: create it in another one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            ws_id, key = pool.submit(asyncio.run, create()).result()
        client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        self.clients.append(client)
        return Workspace(ws_id, key, client)

    def stop(self) -> None:
        for client in self.clients:
            client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_server(workdir: Path, plugins_toml: str, env: dict[str, str] | None = None) -> Server:
    """Start uvicorn with ``api.app:app_from_env``; returns once ``/healthz`` answers."""
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite+aiosqlite:///{workdir / 'trunkline.db'}"
    upgrade(db_url)
    (workdir / "plugins.toml").write_text(plugins_toml)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(_ENV_PREFIXES)}
    child_env.update(
        {
            "TRUNKLINE_DATABASE_URL": db_url,
            "TRUNKLINE_PLUGINS_TOML": str(workdir / "plugins.toml"),
            "TRUNKLINE_PUBLIC_BASE_URL": url,
            "TRUNKLINE_LOG_JSON": "false",
            **(env or {}),
        }
    )
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.app:app_from_env",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=REPO,
            env=child_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(url, db_url, process, log)
    deadline = time.monotonic() + 120  # a loaded CI machine may take a while to import
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the server did not start: {log.read_text()[-3000:]}")
