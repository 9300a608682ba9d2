"""The preflight's snapshot in one process: served from memory, invalidated by every commit
that changes what the policy reads, never older than its TTL, bounded in memory."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from core import snapshot as snapshot_module
from core.db import make_engine, make_sessionmaker
from core.snapshot import ReadThrough, Snapshot
from core.tables import Number, Workspace
from tests.fakes import FakeCarrier


def _api(make_api: Any, **env: str) -> Any:
    return make_api(plugins=[], extra={"fake": FakeCarrier()}, env=env)


def _raw_sql(api: Any, sql: str, *params: Any) -> None:
    """Change the database behind SQLAlchemy's back: nothing is announced."""
    path = str(api.runtime.engine.url.database)
    with sqlite3.connect(path) as conn:
        conn.execute(sql, params)


def _check(api: Any, number_id: str) -> dict[str, Any]:
    r = api.client.post("/outbound/check", json={"number_id": number_id})
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_the_preflight_is_served_from_memory_until_a_change_is_committed(make_api: Any) -> None:
    api = _api(make_api, TRUNKLINE_SNAPSHOT_TTL_SECONDS="600")
    number = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    snap = api.runtime.snapshot
    assert _check(api, number["id"])["allowed"] is True
    loads = snap.loads
    # a change nobody announces is not seen: the answer comes from memory
    _raw_sql(
        api, "UPDATE numbers SET outbound_enabled = 0 WHERE id = ?", uuid.UUID(number["id"]).hex
    )
    assert _check(api, number["id"])["allowed"] is True
    assert snap.loads == loads
    # a change committed through any session of the process (here the binding route)...
    r = api.client.patch(
        f"/settings/telephony/numbers/{number['id']}", json={"outbound_enabled": True}
    )
    assert r.status_code == 200, r.text
    # ...drops the workspace: the next preflight reads it again
    assert _check(api, number["id"])["reasons"] == []
    assert snap.loads == loads + 1


def test_a_commit_through_another_engine_invalidates_too(make_api: Any) -> None:
    api = _api(make_api, TRUNKLINE_SNAPSHOT_TTL_SECONDS="600")
    number = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    assert _check(api, number["id"])["allowed"] is True

    async def disable() -> None:  # e.g. a script in this process with its own engine
        engine = make_engine(str(api.runtime.engine.url))
        try:
            async with make_sessionmaker(engine)() as session:
                row = await session.get(Number, uuid.UUID(number["id"]))
                assert row is not None
                row.outbound_enabled = False
                await session.commit()
        finally:
            await engine.dispose()

    api.run(disable)
    assert _check(api, number["id"])["reasons"] == ["outbound_disabled"]


def test_an_entry_is_never_used_past_its_ttl(
    make_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = _api(make_api, TRUNKLINE_SNAPSHOT_TTL_SECONDS="2")
    number = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    clock = [1000.0]
    monkeypatch.setattr(snapshot_module.time, "monotonic", lambda: clock[0])
    assert _check(api, number["id"])["allowed"] is True
    _raw_sql(
        api, "UPDATE numbers SET outbound_enabled = 0 WHERE id = ?", uuid.UUID(number["id"]).hex
    )
    clock[0] += 1.9
    assert _check(api, number["id"])["allowed"] is True  # within the TTL
    clock[0] += 0.1
    assert _check(api, number["id"])["reasons"] == ["outbound_disabled"]  # at the TTL: read


def test_a_dark_snapshot_reads_the_database_and_keeps_nothing(make_api: Any) -> None:
    api = _api(make_api, TRUNKLINE_SNAPSHOT_TTL_SECONDS="600")
    number = api.add_number("+14155550100", "fake", hosted=True, outbound_enabled=True)
    snap = api.runtime.snapshot
    assert _check(api, number["id"])["allowed"] is True
    snap.set_live(False)  # what the bus does when its connection breaks
    assert snap.numbers == 0
    _raw_sql(
        api, "UPDATE numbers SET outbound_enabled = 0 WHERE id = ?", uuid.UUID(number["id"]).hex
    )
    assert _check(api, number["id"])["reasons"] == ["outbound_disabled"]
    assert snap.numbers == 0
    assert not snap.keys._entries  # no API key is kept either


def test_a_revoked_key_is_refused_at_once_in_this_process(make_api: Any) -> None:
    from core.auth import revoke_key

    api = _api(make_api, TRUNKLINE_SNAPSHOT_TTL_SECONDS="600")
    assert api.client.get("/settings/telephony/numbers").status_code == 200

    async def revoke() -> None:
        engine = make_engine(str(api.runtime.engine.url))
        try:
            async with make_sessionmaker(engine)() as session:
                assert await revoke_key(session, api.client.key)
        finally:
            await engine.dispose()

    api.run(revoke)
    assert api.client.get("/settings/telephony/numbers").status_code == 401


async def _workspaces(url: str, sizes: list[int]) -> list[uuid.UUID]:
    engine = make_engine(url)
    ids = []
    try:
        async with make_sessionmaker(engine)() as session:
            for w, size in enumerate(sizes):
                ws = Workspace(name=f"ws{w}")
                session.add(ws)
                await session.flush()
                ids.append(ws.id)
                for i in range(size):
                    session.add(
                        Number(
                            workspace_id=ws.id,
                            provider="sandbox",
                            phone_e164=f"+1415{2000000 + w * 1000 + i:07d}",
                            country_code="US",
                            hosted=True,
                            outbound_enabled=True,
                        )
                    )
            await session.commit()
    finally:
        await engine.dispose()
    return ids


def test_the_snapshot_holds_at_most_max_numbers(sqlite_url: str) -> None:
    async def scenario() -> None:
        ids = await _workspaces(sqlite_url, [100] * 10 + [120])
        engine = make_engine(sqlite_url)
        snap = Snapshot(engine, ttl=600, max_numbers=250, workspace_cap=110)
        try:
            for ws in ids[:10]:
                state = await snap.view(ws)
                assert state.size == 100 and state.held
                assert snap.numbers <= 250
            # the two most recently used workspaces are held; the rest were dropped
            assert list(snap._states) == ids[8:10]
            assert snap.numbers == 200
            # touching one makes it the most recent: the next load drops the other
            await snap.view(ids[8])
            await snap.view(ids[0])
            assert list(snap._states) == [ids[8], ids[0]]
            # a workspace over the per-workspace cap is not held, and still answers
            big = await snap.view(ids[10])
            assert not big.held
            assert snap.numbers == 200 + 0
            first = await ReadThrough(engine, ids[10]).by_phone("+14152010000")
            assert first is not None
            assert await big.by_phone("+14152010000") == first
        finally:
            snap.close()
            await engine.dispose()

    asyncio.run(scenario())


def test_a_load_overlapping_an_invalidation_is_not_kept(sqlite_url: str) -> None:
    async def scenario() -> None:
        (ws,) = await _workspaces(sqlite_url, [3])
        engine = make_engine(sqlite_url)
        snap = Snapshot(engine, ttl=600, max_numbers=1000)
        try:
            pending = asyncio.ensure_future(snap.view(ws))
            await asyncio.sleep(0)  # the load has started
            snap.invalidate([f"w:{ws}"])  # a change committed while it reads
            later = asyncio.ensure_future(snap.view(ws))  # asked after the change
            state = await pending
            assert state.size == 3  # the request that asked is answered...
            assert await later is not state  # ...a later one never waits for that read...
            assert snap.loads == 2
            assert snap._states[ws] is await later  # ...and only the later read is kept
            snap.invalidate(["*"])
            assert not snap._states and snap.numbers == 0
        finally:
            snap.close()
            await engine.dispose()

    asyncio.run(scenario())


def test_an_announcement_reads_a_held_workspace_again_at_once(sqlite_url: str) -> None:
    async def scenario() -> None:
        held, cold = await _workspaces(sqlite_url, [3, 2])
        engine = make_engine(sqlite_url)
        snap = Snapshot(engine, ttl=600, max_numbers=1000)
        try:
            first = await snap.view(held)
            assert snap.loads == 1
            # from the bus: the held workspace is read again before any preflight asks...
            snap.invalidate([f"w:{held}", f"w:{cold}"], reload=True)
            assert held in snap._loading and cold not in snap._loading  # ...a cold one is not
            # announcements while it reads: one more read after it, not one each
            for _ in range(5):
                snap.invalidate([f"w:{held}"], reload=True)
            again = await snap.view(held)  # a preflight after them waits for a fresh read
            assert again is not first and again.size == 3
            while snap._loading:
                await asyncio.sleep(0.01)
            assert 3 <= snap.loads <= 4
            assert snap._states[held].loaded_at >= again.loaded_at
            # a process's own commits (no ``reload``) only drop
            loads = snap.loads
            snap.invalidate([f"w:{held}"])
            assert not snap._loading and held not in snap._states and snap.loads == loads
            # a workspace read again that no preflight has read since is not read again
            await snap.view(held)
            snap.invalidate([f"w:{held}"], reload=True)
            while snap._loading:
                await asyncio.sleep(0.01)
            assert held in snap._states
            snap.invalidate([f"w:{held}"], reload=True)
            assert not snap._loading and held not in snap._states
        finally:
            snap.close()
            await engine.dispose()

    asyncio.run(scenario())


def test_every_commit_announces_what_it_changed_and_nothing_else(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import update

    from core import audit, invalidation
    from core.tables import ApiKey

    announced: list[list[str]] = []
    monkeypatch.setattr(invalidation, "invalidate_local", announced.append)

    async def scenario() -> None:
        (ws,) = await _workspaces(sqlite_url, [1])
        announced.clear()
        engine = make_engine(sqlite_url)
        try:
            async with make_sessionmaker(engine)() as session:
                audit.record(session, action="x", outcome="ok", actor="t", workspace_id=ws,
                             subject_type="number")  # fmt: skip
                await session.commit()
                assert announced == []  # the policy never reads the audit trail
                number = (await session.execute(select(Number))).scalar_one()
                number.outbound_enabled = False
                await session.flush()
                await session.rollback()
                assert announced == []  # rolled back: nothing happened
                number = (await session.execute(select(Number))).scalar_one()
                number.outbound_enabled = False
                await session.commit()
                assert announced.pop() == [f"w:{ws}"]
                workspace = await session.get(Workspace, ws)
                assert workspace is not None
                workspace.name = "renamed"
                await session.commit()
                assert announced.pop() == [f"w:{ws}"]
                await session.execute(update(ApiKey).values(revoked_at=None))
                await session.commit()
                assert announced.pop() == ["*"]  # a bulk statement: the rows are unknown
        finally:
            await engine.dispose()

    asyncio.run(scenario())
