"""What the outbound policy reads of a workspace, served from memory in each worker.

The preflight reads a workspace's numbers (the columns in :data:`NUMBER_COLUMNS`) and its
outbound policy from a :class:`Snapshot`: loaded lazily, a whole workspace in one query, kept
for at most ``TRUNKLINE_SNAPSHOT_TTL_SECONDS`` and dropped at once when a change is announced
(``core.invalidation`` announces every committed change; ``core.bus`` carries announcements
between processes). Contracts:

* An answer is never older than the TTL: an entry is used only while younger than the TTL,
  counted from before its query started, and a load that overlapped an invalidation of its
  workspace answers the request that asked but is not kept.
* While invalidations cannot arrive (the bus is down or not yet subscribed) the snapshot is
  *dark*: every lookup reads the database (:class:`ReadThrough`), and nothing cached is kept.
* Memory is bounded: at most ``TRUNKLINE_SNAPSHOT_MAX_NUMBERS`` numbers are held, the least
  recently used workspaces are dropped first, and a workspace with more numbers than
  :data:`WORKSPACE_CAP` is not held (its numbers are read per lookup; its policy is held).

A field the policy starts reading is one line: a column in :data:`NUMBER_COLUMNS` (kept on
every number entry, which is a named tuple of those columns) or one in
:data:`WORKSPACE_COLUMNS` (kept on the workspace's entry as ``policy``).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import OrderedDict, namedtuple
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from .auth import KeyCache
from .tables import Number, Workspace

#: The columns of a number that the preflight and its policy read (one line per field).
NUMBER_COLUMNS: tuple[Any, ...] = (
    Number.id,
    Number.phone_e164,
    Number.provider,
    Number.country_code,
    Number.hosted,
    Number.verified_cli,
    Number.outbound_enabled,
    Number.allowed_countries,
    Number.attestation_level,
)

#: The columns of a workspace that the policy reads (its outbound policy), one line per field.
WORKSPACE_COLUMNS: tuple[Any, ...] = (Workspace.id, Workspace.outbound_policy)

#: One number as the preflight reads it: the values of :data:`NUMBER_COLUMNS` by name.
NumberState = namedtuple("NumberState", [c.key for c in NUMBER_COLUMNS])  # type: ignore[misc]

#: A workspace's policy state as the preflight reads it: :data:`WORKSPACE_COLUMNS` by name.
WorkspacePolicy = namedtuple("WorkspacePolicy", [c.key for c in WORKSPACE_COLUMNS])  # type: ignore[misc]

#: A workspace with more numbers than this is not held: its numbers are read per lookup.
WORKSPACE_CAP = 10_000

#: An entry older than this share of the TTL is read again in the background on its next use
#: (still served meanwhile): a busy workspace never waits for its reload.
REFRESH_AFTER = 0.5

#: Built once (statement construction is a measurable part of the preflight's cost).
_ACTIVE = (Number.workspace_id == bindparam("workspace_id"), Number.state == "active")
_BY_ID = select(*NUMBER_COLUMNS).where(*_ACTIVE, Number.id == bindparam("number_id"))
_BY_PHONE = select(*NUMBER_COLUMNS).where(*_ACTIVE, Number.phone_e164 == bindparam("phone"))
_ALL = select(*NUMBER_COLUMNS).where(*_ACTIVE).limit(bindparam("limit"))
_POLICY = select(*WORKSPACE_COLUMNS).where(Workspace.id == bindparam("workspace_id"))


def _number(row: Any) -> Any:
    # short strings (provider, country...) are shared by every entry instead of copied
    return NumberState._make(
        sys.intern(v) if isinstance(v, str) and len(v) <= 8 else v for v in row
    )


class ReadThrough:
    """One workspace's numbers read from the database on every lookup (nothing kept)."""

    __slots__ = ("_engine", "workspace_id")

    def __init__(self, engine: AsyncEngine, workspace_id: uuid.UUID) -> None:
        self._engine = engine
        self.workspace_id = workspace_id

    async def _one(self, stmt: Any, params: dict[str, Any]) -> Any | None:
        # A pooled connection held only for this query (under load the pool is what
        # requests queue for), not a session held for the whole request.
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt, params)).first()
        return None if row is None else _number(row)

    async def by_id(self, number_id: uuid.UUID) -> Any | None:
        """The active number with this id in the workspace, or None."""
        return await self._one(_BY_ID, {"workspace_id": self.workspace_id, "number_id": number_id})

    async def by_phone(self, phone: str) -> Any | None:
        """The active number with this E.164 in the workspace, or None."""
        return await self._one(_BY_PHONE, {"workspace_id": self.workspace_id, "phone": phone})

    async def policy(self) -> Any | None:
        """The workspace's policy state (None when the workspace is gone)."""
        async with self._engine.connect() as conn:
            row = (await conn.execute(_POLICY, {"workspace_id": self.workspace_id})).first()
        return None if row is None else WorkspacePolicy._make(row)


class WorkspaceState:
    """One workspace as loaded at ``loaded_at`` (``time.monotonic``): numbers by id and by
    phone, and its policy. ``held`` is False for a workspace over :data:`WORKSPACE_CAP`,
    whose numbers are then read per lookup."""

    __slots__ = (
        "_ids",
        "_phones",
        "_reader",
        "callers",
        "held",
        "loaded_at",
        "policy_state",
        "size",
        "used_at",
    )

    def __init__(
        self,
        reader: ReadThrough,
        numbers: list[Any] | None,
        policy: Any | None,
        loaded_at: float,
    ) -> None:
        self._reader = reader
        self.held = numbers is not None
        self._ids = {n.id: n for n in numbers or ()}
        self._phones = {n.phone_e164: n for n in numbers or ()}
        self.policy_state = policy
        self.loaded_at = loaded_at
        self.size = len(self._ids)
        self.used_at = -1e18  # when a preflight last read it (``time.monotonic``)
        #: What a batch derived from this state about a caller as the request named it
        #: (``from``, ``number_id``) -> (its entry, the id as text): dropped with the state,
        #: at most :meth:`memo_room` entries, only numbers that were found.
        self.callers: dict[tuple[str | None, str | None], tuple[Any, str]] = {}

    def memo_room(self) -> bool:
        """Whether :attr:`callers` may take one more entry (twice the numbers held, and a
        little more: each number by ``from`` and by ``number_id``)."""
        return len(self.callers) < 2 * self.size + 64

    def number_by_id(self, number_id: uuid.UUID) -> Any | None:
        """:meth:`by_id` without a coroutine, for a state that is ``held``."""
        return self._ids.get(number_id)

    def number_by_phone(self, phone: str) -> Any | None:
        """:meth:`by_phone` without a coroutine, for a state that is ``held``."""
        return self._phones.get(phone)

    async def by_id(self, number_id: uuid.UUID) -> Any | None:
        if self.held:
            return self._ids.get(number_id)
        return await self._reader.by_id(number_id)

    async def by_phone(self, phone: str) -> Any | None:
        if self.held:
            return self._phones.get(phone)
        return await self._reader.by_phone(phone)

    async def policy(self) -> Any | None:
        return self.policy_state


class _Load:
    """A workspace being loaded; ``stale`` once an invalidation overlapped it."""

    __slots__ = ("future", "reload", "stale")

    future: asyncio.Future[WorkspaceState]

    def __init__(self, reload: bool = False) -> None:
        self.stale = False
        self.reload = reload  # started by an announcement, not by a request


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


#: Every snapshot of this process (each app has its own), for invalidations made here.
_SNAPSHOTS: list[Snapshot] = []


class Snapshot:
    """One worker's snapshot of what the policy reads. See the module's contracts."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ttl: float,
        max_numbers: int,
        live: bool = True,
        workspace_cap: int = WORKSPACE_CAP,
    ) -> None:
        self._engine = engine
        self._autocommit = engine.dialect.name == "postgresql"
        self.ttl = ttl
        self.max_numbers = max_numbers
        self.workspace_cap = workspace_cap
        self.numbers = 0  # numbers held, over every workspace
        self._states: OrderedDict[uuid.UUID, WorkspaceState] = OrderedDict()
        self._loading: dict[uuid.UUID, _Load] = {}
        self._again: set[uuid.UUID] = set()  # reloads to repeat (see ``_drop``)
        self.keys = KeyCache(ttl=ttl)
        self.loads = 0  # workspace loads so far (for tests and metrics)
        self.live = False
        self.set_live(live)
        _SNAPSHOTS.append(self)

    # -- reading ----------------------------------------------------------------------------

    async def view(self, workspace_id: uuid.UUID) -> WorkspaceState | ReadThrough:
        """What the preflight reads of ``workspace_id``: its held state while younger than
        the TTL, else loaded now; the database itself while the snapshot is dark."""
        if not self.live:
            return ReadThrough(self._engine, workspace_id)
        state = self._states.get(workspace_id)
        if state is not None:
            now = time.monotonic()
            state.used_at = now
            age = now - state.loaded_at
            if age < self.ttl:
                self._states.move_to_end(workspace_id)
                if age >= self.ttl * REFRESH_AFTER and workspace_id not in self._loading:
                    self._start(workspace_id)  # read again in the background, served meanwhile
                return state
            self.numbers -= self._states.pop(workspace_id).size  # expired: never served
        # a load that an invalidation overlapped is no longer here: a request that comes
        # after the invalidation never waits for what was read before it
        load = self._loading.get(workspace_id) or self._start(workspace_id)
        state = await asyncio.shield(load.future)
        state.used_at = time.monotonic()
        return state

    def _start(self, workspace_id: uuid.UUID, reload: bool = False) -> _Load:
        load = self._loading[workspace_id] = _Load(reload)
        load.future = asyncio.ensure_future(self._load(workspace_id, load))
        load.future.add_done_callback(_retrieve)  # a background refresh may fail unawaited
        return load

    async def _load(self, workspace_id: uuid.UUID, load: _Load) -> WorkspaceState:
        reader = ReadThrough(self._engine, workspace_id)
        started = time.monotonic()  # the entry's age counts from before its queries
        try:
            params = {"workspace_id": workspace_id, "limit": self.workspace_cap + 1}
            async with self._engine.connect() as conn:
                # PostgreSQL in autocommit: two statements that change nothing need no
                # transaction, and the connection goes back to the pool without a ROLLBACK
                if self._autocommit:
                    conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                rows = (await conn.execute(_ALL, params)).all()
                policy = (await conn.execute(_POLICY, params)).first()
            numbers = [_number(r) for r in rows] if len(rows) <= self.workspace_cap else None
            state = WorkspaceState(
                reader, numbers, None if policy is None else WorkspacePolicy._make(policy), started
            )
            self.loads += 1
            if self.live and not load.stale:
                self._keep(workspace_id, state)
            return state
        finally:
            if self._loading.get(workspace_id) is load:
                del self._loading[workspace_id]
            if load.reload and workspace_id in self._again:
                # announcements came while this reload read: one more, after the last of them
                self._again.discard(workspace_id)
                if self.live and workspace_id not in self._loading:
                    self._start(workspace_id, reload=True)

    def _keep(self, workspace_id: uuid.UUID, state: WorkspaceState) -> None:
        old = self._states.pop(workspace_id, None)
        if old is not None:
            self.numbers -= old.size
        if state.size > self.max_numbers:
            return
        self._states[workspace_id] = state
        self.numbers += state.size
        while self.numbers > self.max_numbers:
            _, old = self._states.popitem(last=False)  # least recently used first
            self.numbers -= old.size

    def _drop(self, workspace_id: uuid.UUID, reload: bool = False) -> None:
        state = self._states.pop(workspace_id, None)
        if state is not None:
            self.numbers -= state.size
        load = self._loading.pop(workspace_id, None)
        if load is not None:
            load.stale = True
        if not reload or not self.live:
            return
        in_use = (load is not None and not load.reload) or (
            state is not None and time.monotonic() - state.used_at < self.ttl
        )
        if not in_use and (load is None or not load.reload):
            return
        # The workspace is in use (read by a preflight within the TTL, or being loaded for
        # one): read it again now, not when its next preflight comes (which then waits on
        # this read, already under way, instead of starting its own). At most one such
        # reload per workspace at a time: announcements that come while one reads are
        # followed by one more when it ends; a reloaded workspace that no preflight reads is
        # not read again on the next announcement.
        if load is not None and load.reload and not load.future.done():
            self._again.add(workspace_id)
        else:
            self._start(workspace_id, reload=True)

    # -- invalidating -----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget everything held, and what is being loaded."""
        self._states.clear()
        self.numbers = 0
        for load in self._loading.values():
            load.stale = True
        self._loading.clear()
        self._again.clear()
        self.keys.clear()

    def invalidate(self, tokens: Iterable[str], *, reload: bool = False) -> None:
        """Apply announced changes: ``w:<workspace id>``, ``k:<key hash>`` or ``*`` (all).

        With ``reload`` (the bus's announcements, in the snapshot's own event loop), a
        workspace that was held or being loaded is read again at once in the background."""
        for token in tokens:
            kind, _, value = token.partition(":")
            if kind == "w":
                try:
                    self._drop(uuid.UUID(value), reload)
                except ValueError:
                    self.clear()
            elif kind == "k":
                self.keys.forget(value)
            else:
                self.clear()

    def set_live(self, live: bool) -> None:
        """Whether invalidations are arriving. Either way what is held is dropped: going
        dark, nothing may be served from memory; coming back, messages may have been lost."""
        self.clear()
        self.live = live and self.ttl > 0  # a TTL of 0 turns the snapshot off
        self.keys.enabled = self.live

    def close(self) -> None:
        self.clear()
        if self in _SNAPSHOTS:
            _SNAPSHOTS.remove(self)


def invalidate_local(tokens: Iterable[str]) -> None:
    """Apply announced changes to every snapshot of this process."""
    tokens = list(tokens)
    for snapshot in list(_SNAPSHOTS):
        snapshot.invalidate(tokens)
