"""Shared fixtures: an app against a fresh database (``make_api``) and the real services.

Tests that need PostgreSQL, Redis or Chromium skip with a message naming what is missing,
unless ``TRUNKLINE_REQUIRE_SERVICES=1`` (set by ``.ci/run``), which turns a skip into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

from api.app import create_app
from core.auth import create_workspace
from core.migrate import upgrade
from core.runtime import Runtime
from core.settings import PluginsFile, load_settings
from core.tables import AuditEvent, Call, LedgerEntry, Number

PG_ADMIN_URL = os.environ.get(
    "TRUNKLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TRUNKLINE_TEST_REDIS", "redis://127.0.0.1:6379")
REQUIRE_SERVICES = os.environ.get("TRUNKLINE_REQUIRE_SERVICES") == "1"
_ENV_PREFIXES = ("TRUNKLINE_", "TELEPHONY_", "DEMO_MODE", "TWILIO_", "TELNYX_")

# Property tests keep no example database, and hypothesis's caches go to a temporary folder:
# the suite writes nothing into the checkout.
hypothesis_settings.register_profile("trunkline", database=None)
hypothesis_settings.load_profile("trunkline")
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "trunkline-tests-hypothesis")


def need(available: bool, what: str) -> None:
    """Skip (or, on CI, fail) when a service the test needs is missing."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (TRUNKLINE_REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's TRUNKLINE_*/carrier variables."""
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) and name not in (
            "TRUNKLINE_REQUIRE_SERVICES",
            "TRUNKLINE_TEST_PG",
            "TRUNKLINE_TEST_REDIS",
            "TRUNKLINE_ARTIFACTS",
        ):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _logger_as_found() -> Iterator[None]:
    """Each test leaves the ``trunkline`` logger as it found it (level, handlers, propagation):
    one that configures logging (``configure_logging`` sets INFO) changes no later test."""
    logger = logging.getLogger("trunkline")
    state = (logger.level, list(logger.handlers), logger.propagate)
    yield
    logger.setLevel(state[0])
    logger.handlers[:] = state[1]
    logger.propagate = state[2]


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _template_db: Path) -> str:
    """A fresh, migrated SQLite file."""
    path = tmp_path / "trunkline.db"
    shutil.copy(_template_db, path)
    return f"sqlite+aiosqlite:///{path}"


@contextlib.contextmanager
def _scratch_databases() -> Iterator[Callable[[str | None], str]]:
    """``create(template)``: a new PostgreSQL database (a copy of the database ``template``
    names, or empty with ``None``) and its URL; every database made is dropped at the end."""
    import psycopg

    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    made: list[str] = []

    def create(template: str | None) -> str:
        name = f"tl_{uuid.uuid4().hex[:12]}"
        # PostgreSQL itself waits a few seconds for a just-closed connection's process to end
        # before it refuses to copy a template that something is connected to.
        copy_of = f' TEMPLATE "{template}"' if template is not None else ""
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy_of}')
        made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    try:
        yield create
    finally:
        if made:
            with psycopg.connect(admin, autocommit=True) as conn:
                for name in made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    need(port_open("127.0.0.1", 5432), "PostgreSQL at 127.0.0.1:5432")
    with _scratch_databases() as create:
        url = create(None)
        upgrade(url)
        yield url


@pytest.fixture
def copy_database() -> Iterator[Callable[[str], str]]:
    """``copy_database(url)``: a new database holding what ``url`` holds now (a SQLite file
    copied; PostgreSQL's ``CREATE DATABASE ... TEMPLATE``, so nothing may be connected to
    ``url`` then); the PostgreSQL copies are dropped afterwards."""
    with _scratch_databases() as create:

        def copy(url: str) -> str:
            if url.startswith("sqlite"):
                source = Path(url.split(":///", 1)[1])
                target = source.with_name(f"copy-{uuid.uuid4().hex[:12]}.db")
                shutil.copy(source, target)
                return f"sqlite+aiosqlite:///{target}"
            return create(url.rsplit("/", 1)[1])

        yield copy


def _redis_target() -> tuple[str, int]:
    """Host and port of the configured test Redis (``TRUNKLINE_TEST_REDIS``)."""
    from urllib.parse import urlsplit

    parts = urlsplit(REDIS_URL)
    return parts.hostname or "127.0.0.1", parts.port or 6379


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of this test's own, flushed before and after.

    Database 0 is never touched: the fixture claims one of databases 1-15 with a lock key
    (``SET NX`` with an expiry), so two test runs on one machine never flush each other's data.
    """
    host, port = _redis_target()
    need(port_open(host, port), f"Redis at {host}:{port}")
    import redis

    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    token = uuid.uuid4().hex
    lock = "trunkline-test:claimed"
    for db in range(1, 16):
        client = redis.Redis.from_url(f"{base}/{db}")
        if client.set(lock, token, nx=True, ex=600):
            break
        client.close()
    else:
        pytest.fail("every Redis database 1-15 is claimed by another test run")
    url = f"{base}/{db}"
    _flush_keeping(client, lock)
    try:
        yield url
    finally:
        _flush_keeping(client, lock)
        if client.get(lock) == token.encode():
            client.delete(lock)
        client.close()


def _flush_keeping(client: Any, lock: str) -> None:
    """Delete every key of the claimed database but its lock."""
    for key in client.scan_iter(count=500):
        if key != lock.encode():
            client.delete(key)


class AuthedClient:
    """A view of one TestClient that sends one workspace's key (or none)."""

    def __init__(self, client: TestClient, key: str | None) -> None:
        self._client = client
        self.key = key
        self.headers: dict[str, str] = {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        return self._client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kw: Any) -> Any:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.request("POST", url, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.request("PATCH", url, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.request("DELETE", url, **kw)


def _row(obj: Any) -> dict[str, Any]:
    out = {c.key: getattr(obj, c.key) for c in obj.__mapper__.column_attrs}
    for k, v in list(out.items()):
        if isinstance(v, uuid.UUID):
            out[k] = str(v)
    if "metadata_" in out:
        out["metadata"] = out.pop("metadata_")
    return out


@dataclass
class Api:
    """A running app with two workspaces (A and B) and helpers to reach its database."""

    app: Any
    testclient: TestClient
    client: AuthedClient
    client_b: AuthedClient
    anon: AuthedClient
    workspace_id: str
    workspace_b_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def workspaces(self) -> tuple[str, str, str, str]:
        """Workspace A's id and key, then B's: what ``make_api(workspaces=...)`` reuses."""
        return (
            self.workspace_id,
            self.client.key or "",
            self.workspace_b_id,
            self.client_b.key or "",
        )

    def close(self) -> None:
        """Stop the app now (its database connections closed), not at the test's end."""
        self.testclient.__exit__(None, None, None)

    @property
    def host(self) -> Any:
        return self.runtime.host

    def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run an async function on the app's event loop."""
        assert self.testclient.portal is not None
        return self.testclient.portal.call(fn, *args)

    def add_number(
        self, e164: str, provider: str, *, workspace: str = "a", **fields: Any
    ) -> dict[str, Any]:
        """Insert a number directly (setup for states the API reaches only through carriers)."""
        from core.phone import parse_e164

        phone, country = parse_e164(e164)
        ws = uuid.UUID(self.workspace_id if workspace == "a" else self.workspace_b_id)

        async def insert() -> dict[str, Any]:
            async with self.runtime.sessionmaker() as session:
                number = Number(
                    workspace_id=ws,
                    provider=provider,
                    phone_e164=phone,
                    country_code=country,
                    capabilities=["voice"],
                    **fields,
                )
                session.add(number)
                await session.commit()
                return _row(number)

        result: dict[str, Any] = self.run(insert)
        return result

    def _all(self, model: Any, **where: Any) -> list[dict[str, Any]]:
        from sqlalchemy import select

        async def fetch() -> list[dict[str, Any]]:
            async with self.runtime.sessionmaker() as session:
                stmt = select(model)
                for key, value in where.items():
                    stmt = stmt.where(getattr(model, key) == value)
                return [_row(r) for r in (await session.execute(stmt)).scalars()]

        result: list[dict[str, Any]] = self.run(fetch)
        return result

    def number(self, number_id: str) -> dict[str, Any] | None:
        rows = self._all(Number, id=uuid.UUID(str(number_id)))
        return rows[0] if rows else None

    def numbers(self, **where: Any) -> list[dict[str, Any]]:
        return self._all(Number, **where)

    def audit(self, **where: Any) -> list[dict[str, Any]]:
        rows = self._all(AuditEvent, **where)
        return sorted(rows, key=lambda r: r["created_at"])

    def ledger(self, **where: Any) -> list[dict[str, Any]]:
        return self._all(LedgerEntry, **where)

    def calls(self, **where: Any) -> list[dict[str, Any]]:
        return self._all(Call, **where)


MakeApi = Callable[..., Api]


@pytest.fixture
def make_api(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeApi]:
    """Build an app: ``make_api(plugins=[...], tables={...}, env={...}, extra={...})``.

    ``database_url`` may point at ``pg_url``; ``strict`` is plugins.toml's strict;
    ``workspaces`` (ids and keys of A and B, as :meth:`Api.workspaces` gives them) reuses the
    two a copied database already holds instead of creating them.
    """
    opened: list[TestClient] = []

    def factory(
        plugins: list[str] | tuple[str, ...] = ("sandbox",),
        tables: dict[str, dict[str, Any]] | None = None,
        env: dict[str, str] | None = None,
        extra: dict[str, object] | None = None,
        database_url: str | None = None,
        strict: bool = True,
        workspaces: tuple[str, str, str, str] | None = None,
    ) -> Api:
        # No background carrier refresh unless a test asks for one (it would race the test's
        # own carrier doubles); tests refresh dialing permissions explicitly.
        monkeypatch.setenv("TRUNKLINE_PERMISSIONS_REFRESH_SECONDS", "0")
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("TRUNKLINE_DATABASE_URL", database_url or sqlite_url)
        settings = load_settings()
        app = create_app(
            settings,
            plugins_file=PluginsFile(enabled=list(plugins), strict=strict, tables=tables or {}),
            extra_plugins=extra,
            configure_logging=False,
        )
        testclient = TestClient(app, raise_server_exceptions=False)
        testclient.__enter__()
        opened.append(testclient)
        runtime: Runtime = app.state.runtime

        async def create_two() -> tuple[str, str, str, str]:
            async with runtime.sessionmaker() as session:
                wa, _, ka = await create_workspace(session, "Workspace A")
                wb, _, kb = await create_workspace(session, "Workspace B")
                return str(wa.id), ka, str(wb.id), kb

        assert testclient.portal is not None
        # a database that already holds them (``copy_database``) names them instead
        wa, ka, wb, kb = workspaces or testclient.portal.call(create_two)
        return Api(
            app=app,
            testclient=testclient,
            client=AuthedClient(testclient, ka),
            client_b=AuthedClient(testclient, kb),
            anon=AuthedClient(testclient, None),
            workspace_id=wa,
            workspace_b_id=wb,
        )

    yield factory
    for testclient in opened:
        if testclient.portal is not None:  # not closed by the test (``Api.close``)
            testclient.__exit__(None, None, None)


def run_async(coro: Awaitable[Any]) -> Any:
    """Run a coroutine from a synchronous test."""
    return asyncio.run(coro)  # type: ignore[arg-type]
