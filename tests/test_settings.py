"""Environment configuration: defaults, normalisation, and errors that name the variable."""

from __future__ import annotations

from typing import Any

import pytest

from core import ConfigurationError
from core.settings import DEFAULT_DATABASE_URL, load_settings


def test_defaults() -> None:
    s = load_settings()
    assert s.outbound_verified_enabled is True
    assert s.demo_mode is False
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.redis_url is None
    assert str(s.plugins_toml) == "plugins.toml"
    assert s.enabled_override is None
    assert s.public_base_url == "http://127.0.0.1:8000"
    assert (s.db_pool_size, s.db_max_overflow) == (10, 20)


def test_values_from_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("TELEPHONY_OUTBOUND_VERIFIED_ENABLED", "false")
    monkeypatch.setenv("DEMO_MODE", "1")
    monkeypatch.setenv("TRUNKLINE_DATABASE_URL", "postgresql://u@db/x")
    monkeypatch.setenv("TRUNKLINE_REDIS_URL", "redis://127.0.0.1:6379/2")
    monkeypatch.setenv("TRUNKLINE_PUBLIC_BASE_URL", "https://tl.example.com/")
    s = load_settings()
    assert s.outbound_verified_enabled is False and s.demo_mode is True
    assert s.database_url == "postgresql+psycopg://u@db/x"
    assert s.redis_url == "redis://127.0.0.1:6379/2"
    assert s.public_base_url == "https://tl.example.com"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEPHONY_OUTBOUND_VERIFIED_ENABLED", "maybe"),
        ("DEMO_MODE", "perhaps"),
        ("TRUNKLINE_DATABASE_URL", "mysql://x"),
        ("TRUNKLINE_REDIS_URL", "http://nope"),
        ("TRUNKLINE_PUBLIC_BASE_URL", "ftp://x"),
        ("TRUNKLINE_DB_POOL_SIZE", "0"),
        ("TRUNKLINE_DB_MAX_OVERFLOW", "-1"),
        ("TRUNKLINE_PURCHASE_CLAIM_EXPIRY_SECONDS", "10"),
    ],
)
def test_bad_value_names_the_variable(monkeypatch: Any, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert f"invalid environment: {name}:" in err.value.detail


def test_the_database_pool_is_sized_from_the_environment(make_api: Any, pg_url: str) -> None:
    """Both databases' engines take the configured pool size and overflow."""
    for url in (None, pg_url):
        api = make_api(
            plugins=[],
            database_url=url,
            env={"TRUNKLINE_DB_POOL_SIZE": "3", "TRUNKLINE_DB_MAX_OVERFLOW": "4"},
        )
        pool = api.runtime.engine.sync_engine.pool
        assert (pool.size(), pool._max_overflow) == (3, 4)
        assert api.client.get("/readyz").status_code == 200
