"""Managing API keys: ``/settings/api-keys`` and ``trunkline keys|workspaces``.

A workspace manages only its own keys (another workspace's key is 404), a key is shown once,
creations and revocations are audited, and a revoked key is refused by every worker (the
revocation is announced like every committed change; ``tests/test_snapshot.py`` and
``tests/postgres/test_snapshot_propagation.py`` cover the announcement across processes).
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.auth import hash_key
from core.tables import ApiKey

KEYS = "/settings/api-keys"


def test_create_shows_the_key_once_and_it_works(make_api: Any) -> None:
    api = make_api(plugins=[])
    r = api.client.post(KEYS, json={"name": "dialer"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["key"].startswith("tlk_") and created["name"] == "dialer"
    assert created["prefix"] == created["key"][:10] and created["active"] is True
    assert r.headers["location"] == f"{KEYS}/{created['id']}"
    # the new key authenticates as the same workspace
    fresh = {"Authorization": f"Bearer {created['key']}"}
    mine = api.anon.get(KEYS, headers=fresh)
    assert mine.status_code == 200
    # ... and is never shown again: not in the list, not by id, only its hash is stored
    listed = api.client.get(KEYS).json()
    assert listed["total"] == 2 and created["key"] not in json.dumps(listed)
    assert {k["id"] for k in listed["items"]} >= {created["id"]}
    one = api.client.get(f"{KEYS}/{created['id']}").json()
    assert "key" not in one and one["name"] == "dialer"
    stored = api._all(ApiKey, id=__import__("uuid").UUID(created["id"]))[0]
    assert stored["key_hash"] == hash_key(created["key"]) and stored["name"] == "dialer"
    event = api.audit(action="api_key_created")[-1]
    assert event["subject_type"] == "api_key" and event["subject_id"] == created["id"]
    assert event["actor"].startswith("user:") and event["workspace_id"] == api.workspace_id
    assert created["key"] not in json.dumps(api.audit(), default=str)


def test_a_name_is_optional_and_checked(make_api: Any) -> None:
    api = make_api(plugins=[])
    assert api.client.post(KEYS, json={}).json()["name"] is None
    for bad in ("", "   ", "x" * 101, "tab\there"):
        r = api.client.post(KEYS, json={"name": bad})
        assert r.status_code == 422, (bad, r.text)
    assert api.client.post(KEYS, json={"name": "  ci  "}).json()["name"] == "ci"
    assert api.client.post(KEYS, json={"key": "tlk_mine"}).status_code == 422


def test_revoke_refuses_the_key_and_is_audited(make_api: Any) -> None:
    api = make_api(plugins=[])
    created = api.client.post(KEYS, json={"name": "temp"}).json()
    fresh = {"Authorization": f"Bearer {created['key']}"}
    assert api.anon.get("/plugins", headers=fresh).status_code == 200  # cached now
    r = api.client.delete(f"{KEYS}/{created['id']}")
    assert r.status_code == 204
    refused = api.anon.get("/plugins", headers=fresh)  # this worker: at once
    assert refused.status_code == 401 and refused.json()["detail"] == "this API key was revoked"
    row = api.client.get(f"{KEYS}/{created['id']}").json()
    assert row["active"] is False and row["revoked_at"] is not None
    assert api.client.delete(f"{KEYS}/{created['id']}").status_code == 204  # idempotent
    events = api.audit(action="api_key_revoked")
    assert len(events) == 1 and events[0]["subject_id"] == created["id"]
    assert events[0]["detail"] == {"prefix": created["prefix"], "name": "temp"}
    assert api.client.get("/plugins").status_code == 200  # the caller's own key still works


def test_another_workspace_key_is_404(make_api: Any) -> None:
    api = make_api(plugins=[])
    theirs = api.client_b.post(KEYS, json={"name": "b"}).json()
    assert api.client.get(f"{KEYS}/{theirs['id']}").status_code == 404
    r = api.client.delete(f"{KEYS}/{theirs['id']}")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert api.client.delete(f"{KEYS}/not-a-uuid").status_code == 404
    assert theirs["id"] not in json.dumps(api.client.get(KEYS).json())
    # untouched: B's key still works and nothing was audited for A
    assert (
        api.anon.get(KEYS, headers={"Authorization": f"Bearer {theirs['key']}"}).status_code == 200
    )
    assert api.audit(action="api_key_revoked") == []
    assert api.anon.get(KEYS).status_code == 401


def test_a_revoked_key_is_refused_by_every_worker(make_api: Any) -> None:
    """Two app instances on one database stand for two workers, each with its key cache: a
    revocation through one is refused by both, though the other had the key cached."""
    first = make_api(plugins=[])
    second = make_api(plugins=[], database_url=first.runtime.settings.database_url)
    created = first.client.post(KEYS, json={"name": "shared"}).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert first.anon.get("/plugins", headers=headers).status_code == 200
    assert second.anon.get("/plugins", headers=headers).status_code == 200  # cached by worker 2
    assert first.client.delete(f"{KEYS}/{created['id']}").status_code == 204
    for worker in (first, second):
        r = worker.anon.get("/plugins", headers=headers)
        assert r.status_code == 401 and r.json()["detail"] == "this API key was revoked"


def test_openapi_documents_the_key_routes(make_api: Any) -> None:
    api = make_api(plugins=[])
    paths = api.anon.get("/openapi.json").json()["paths"]
    assert set(paths[KEYS]) == {"get", "post"}
    assert set(paths[KEYS + "/{key_id}"]) == {"get", "delete"}
    assert "404" in paths[KEYS + "/{key_id}"]["delete"]["responses"]


# -- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from core import cli as cli_module

    monkeypatch.setenv("TRUNKLINE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli_module.app, list(args), prog_name="trunkline")
        assert result.exit_code == code, (args, result.output)
        return str(result.output)

    run("db", "upgrade")
    return run


def test_cli_keys_list_create_revoke_and_workspaces_list(cli: Any) -> None:
    created = cli("workspaces", "create", "Acme")
    first_key = re.search(r"(tlk_\S+)", created)
    assert first_key
    cli("workspaces", "create", "Beta")
    listed = cli("workspaces", "list")
    assert re.search(r"Acme\s+1 active key\b", listed) and re.search(
        r"Beta\s+1 active key\b", listed
    )
    workspaces = json.loads(cli("workspaces", "list", "--json"))
    assert [w["name"] for w in workspaces] == ["Acme", "Beta"]
    acme_id = workspaces[0]["id"]

    made = cli("keys", "create", "--workspace", "Acme", "--name", "dialer")
    key = re.search(r"api key \(shown once, keep it\): (tlk_\S+)", made)
    assert key, made
    key_id = re.search(r"id: (\S+)", made)
    assert key_id
    keys = json.loads(cli("keys", "list", "--workspace", acme_id, "--json"))
    assert {k["name"] for k in keys} == {None, "dialer"} and all(k["active"] for k in keys)
    assert key.group(1) not in json.dumps(keys) and first_key.group(1) not in json.dumps(keys)
    text = cli("keys", "list")
    assert "dialer" in text and "Beta" in text and key.group(1)[:10] in text

    revoked = cli("keys", "revoke", key_id.group(1))
    assert "revoked" in revoked and "running servers refuse it" in revoked
    again = cli("keys", "revoke", key_id.group(1))
    assert "already revoked" in again
    keys = {k["id"]: k for k in json.loads(cli("keys", "list", "--json"))}
    assert keys[key_id.group(1)]["active"] is False
    assert "0 active keys" not in cli("workspaces", "list")
    assert re.search(r"Acme\s+1 active key\b", cli("workspaces", "list"))

    assert "not found" in cli("keys", "revoke", "0b7c3f0e-0000-4000-8000-000000000000", code=2)
    assert "no workspace" in cli("keys", "create", "--workspace", "Nope", code=2)
    cli("workspaces", "create", "Acme")
    assert "2 workspaces are named 'Acme'" in cli("keys", "list", "--workspace", "Acme", code=2)


def test_demo_key_is_reused_run_after_run(cli: Any, tmp_path: Path) -> None:
    first = cli("workspaces", "demo-key")
    key = re.search(r"api key: (tlk_\S+)", first)
    assert key, first
    saved = tmp_path / "keys.db.demo-key"
    assert saved.read_text().strip() == key.group(1)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    second = cli("workspaces", "demo-key")
    assert f"api key: {key.group(1)}" in second and "reused" in second
    keys = json.loads(cli("keys", "list", "--json"))
    assert len([k for k in keys if k["active"]]) == 1  # no new key was minted
    # once revoked, the next run mints (and saves) a new one
    cli("keys", "revoke", keys[0]["id"])
    third = cli("workspaces", "demo-key")
    new = re.search(r"api key: (tlk_\S+)", third)
    assert new and new.group(1) != key.group(1)
    assert saved.read_text().strip() == new.group(1)
