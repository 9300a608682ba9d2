"""API keys: missing, wrong and revoked keys are 401; another workspace's objects are 404."""

from __future__ import annotations

from typing import Any

from core.auth import hash_key, revoke_key
from core.tables import ApiKey


def test_missing_wrong_and_malformed_keys_are_401(make_api: Any) -> None:
    api = make_api(plugins=[])
    r = api.anon.get("/settings/telephony/numbers")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"
    r = api.anon.get("/settings/telephony/numbers", headers={"Authorization": "Bearer tlk_nope"})
    assert r.status_code == 401 and r.json()["detail"] == "unknown API key"
    r = api.anon.get("/settings/telephony/numbers", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_revoked_key_is_401(make_api: Any) -> None:
    api = make_api(plugins=[])
    assert api.client.get("/plugins").status_code == 200

    async def revoke() -> bool:
        async with api.runtime.sessionmaker() as session:
            return await revoke_key(session, api.client.key)

    assert api.run(revoke) is True
    r = api.client.get("/plugins")
    assert r.status_code == 401 and r.json()["detail"] == "this API key was revoked"


def test_keys_are_stored_hashed(make_api: Any) -> None:
    api = make_api(plugins=[])
    from sqlalchemy import select

    async def keys() -> list[str]:
        async with api.runtime.sessionmaker() as session:
            return list((await session.execute(select(ApiKey.key_hash))).scalars())

    stored = api.run(keys)
    assert hash_key(api.client.key) in stored
    assert api.client.key not in stored


def test_health_needs_no_key(make_api: Any) -> None:
    api = make_api(plugins=[])
    assert api.anon.get("/healthz").json() == {"status": "ok"}
    ready = api.anon.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"


def test_workspaces_create_cli_prints_key_once(tmp_path: Any, monkeypatch: Any) -> None:
    from typer.testing import CliRunner

    from core.cli import app

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TRUNKLINE_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["workspaces", "create", "Acme"])
    assert result.exit_code == 0, result.output
    key = result.output.split("api key (shown once, keep it): ")[1].strip()
    assert key.startswith("tlk_")
