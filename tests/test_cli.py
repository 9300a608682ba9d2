"""The installed ``trunkline`` command and the packaging of its data files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent
TRUNKLINE = Path(sys.executable).parent / "trunkline"
BUNDLED = {"sandbox", "twilio", "telnyx", "country_rules"}


def _run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRUNKLINE_", "TWILIO_", "TELNYX_"))
    }
    return subprocess.run(
        [str(TRUNKLINE), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_plugins_list_json_lists_every_bundled_plugin_with_hooks(tmp_path: Path) -> None:
    result = _run("plugins", "list", "--json", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(plugins) >= BUNDLED
    for name in BUNDLED:
        p = plugins[name]
        assert p["bundled"] is True and p["enabled"] is True, p
        assert p["status"] == "loaded", p
        assert p["hooks"], f"{name} lists no hooks"
        assert p["version"]
    assert "verify_cli" in plugins["twilio"]["hooks"]
    assert plugins["country_rules"]["hooks"] == sorted(plugins["country_rules"]["hooks"])
    assert "is_country_outbound_blocked" in plugins["country_rules"]["hooks"]


def test_plugins_list_shows_why_a_plugin_did_not_load(tmp_path: Path) -> None:
    toml = tmp_path / "plugins.toml"
    toml.write_text(
        '[trunkline]\nplugins = ["country_rules", "ghost"]\nstrict = false\n'
        '[plugins.country_rules]\nblocked = ["UK"]\n'
    )
    result = _run("plugins", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # strict = false: serve would run without them
    assert "plugin 'ghost': enabled, but no installed distribution provides it" in result.stdout
    assert "'UK' is not an ISO 3166 alpha-2 country code" in result.stdout
    assert "serving without it" not in result.stderr  # the CLI serves nothing


BAD_SETTINGS = '[trunkline]\nplugins = ["country_rules"]\nstrict = true\n[plugins.country_rules]\nblocked = ["UK"]\n'


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("plugins", "list")])
def test_bad_plugin_settings_are_one_line_and_a_failure(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """serve and plugins list alike: one line naming the plugin and the key, exit 2."""
    (tmp_path / "plugins.toml").write_text(BAD_SETTINGS)
    result = _run(*command, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: plugin 'country_rules'") and "'blocked'" in lines[0]
    assert "'UK'" in lines[0] and "Traceback" not in result.stderr + result.stdout


def test_db_upgrade_takes_the_revision_as_documented(tmp_path: Path) -> None:
    env = {"TRUNKLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'pos.db'}"}
    result = _run("db", "upgrade", "head", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "database at head" in result.stdout


def test_plugin_command_groups_appear_in_help() -> None:
    result = _run("--help", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "telnyx" in result.stdout and "Telnyx plugin commands" in result.stdout


def _every_command(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, command in getattr(group, "commands", {}).items():
        found += _every_command(command, (*path, name))
    return found


def test_help_texts_are_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    """No reStructuredText markup (double backticks) nor unformatted ``{placeholders}``."""
    import re

    import typer.main
    from typer.testing import CliRunner

    from core import cli
    from plugins.telnyx.plugin import TelnyxPlugin

    monkeypatch.setenv("COLUMNS", "200")
    TelnyxPlugin().trunkline_cli(app=cli.app)
    paths = _every_command(typer.main.get_command(cli.app))
    assert ("db", "upgrade") in paths and ("telnyx", "refresh-coverage") in paths
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(cli.app, [*path, "--help"], prog_name="trunkline")
        assert result.exit_code == 0, (path, result.output)
        assert "``" not in result.output, (path, result.output)
        assert not re.search(r"\{[a-z_]+\}", result.output), (path, result.output)


def test_accrue_rentals_says_entry_for_one(tmp_path: Path) -> None:
    import uuid

    from sqlalchemy import create_engine, insert

    from core.tables import Number, Workspace

    db = tmp_path / "rent.db"
    env = {"TRUNKLINE_DATABASE_URL": f"sqlite:///{db}"}
    assert _run("db", "upgrade", cwd=tmp_path, env=env).returncode == 0
    engine = create_engine(f"sqlite:///{db}")
    workspace = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(insert(Workspace).values(id=workspace, name="Rent"))
        conn.execute(
            insert(Number).values(
                id=uuid.uuid4(),
                workspace_id=workspace,
                provider="sandbox",
                phone_e164="+14155550100",
                country_code="US",
                hosted=True,
                capabilities=["voice"],
            )
        )
    engine.dispose()
    result = _run("ledger", "accrue-rentals", "--period", "2099-01", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1 rental entry added for 2099-01"
    again = _run("ledger", "accrue-rentals", "--period", "2099-01", cwd=tmp_path, env=env)
    assert again.stdout.strip() == "0 rental entries added for 2099-01"


def test_migrations_work_from_any_folder(tmp_path: Path) -> None:
    db = tmp_path / "elsewhere.db"
    env = {"TRUNKLINE_DATABASE_URL": f"sqlite:///{db}"}
    result = _run("db", "upgrade", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    created = _run("workspaces", "create", "Acme", cwd=tmp_path, env=env)
    assert created.returncode == 0 and "api key (shown once, keep it): tlk_" in created.stdout


def test_bad_environment_stops_with_the_variable_named(tmp_path: Path) -> None:
    result = _run("db", "upgrade", cwd=tmp_path, env={"DEMO_MODE": "sometimes"})
    assert result.returncode == 2
    assert "DEMO_MODE" in result.stderr


@pytest.mark.slow
def test_wheel_ships_migrations_and_data(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("trunkline-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "core/migrations/env.py" in names
    assert any(n.startswith("core/migrations/versions/0001") for n in names)
    assert "core/migrations/script.py.mako" in names
    for data_dir in ("plugins/telnyx/data/",):
        assert any(n.startswith(data_dir) and n.endswith(".json") for n in names), data_dir
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[trunkline]" in text and "country_rules = plugins.country_rules.plugin" in text


def test_plugin_command_groups_are_added(tmp_path: Path) -> None:
    result = _run("telnyx", "--help", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "refresh-coverage" in result.stdout
