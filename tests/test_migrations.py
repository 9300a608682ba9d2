"""Alembic migrations upgrade and downgrade cleanly on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from core.db import sync_url
from core.migrate import current, downgrade, upgrade
from core.tables import Base

TABLES = {
    "workspaces",
    "users",
    "api_keys",
    "numbers",
    "campaigns",
    "ledger_entries",
    "audit_events",
    "calls",
    "destination_lookups",
    "early_call_statuses",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _roundtrip(url: str) -> None:
    upgrade(url)
    assert _tables(url) == TABLES
    assert current(url) is not None
    downgrade(url, "base")
    assert _tables(url) == set()
    assert current(url) is None
    upgrade(url)
    assert _tables(url) == TABLES


def test_sqlite_up_down_up(tmp_path: Path) -> None:
    _roundtrip(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


def test_postgres_up_down_up(pg_url: str) -> None:
    downgrade(pg_url, "base")
    _roundtrip(pg_url)


def test_models_match_migrations(tmp_path: Path) -> None:
    """Autogenerate finds nothing to add: the migrations describe the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = f"sqlite:///{tmp_path / 'diff.db'}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
