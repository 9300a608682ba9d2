"""The ``trunkline`` command line: serve, plugins, workspaces, database, ledger.

Plugins may add command groups through the ``trunkline_cli`` hook; they are loaded (not
strictly: a broken plugin is reported, not fatal) when the command line starts.
"""

from __future__ import annotations

import sys

import typer

from ..errors import ConfigurationError, TrunklineError
from ..settings import load_settings, read_plugins_file
from . import maintenance, server, workspaces
from ._common import BUILTIN_COMMANDS, _lenient_host, app

__all__ = ["BUILTIN_COMMANDS", "app", "main", "maintenance", "server", "workspaces"]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: plugin command groups are added before parsing (so that they
    appear in ``--help``); a configuration error is one line on stderr, exit status 2."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in BUILTIN_COMMANDS:
        try:
            settings = load_settings()
            host = _lenient_host(settings, read_plugins_file(settings.plugins_toml))
            host.add_cli_commands(app)
        except ConfigurationError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            if args and not args[0].startswith("-"):  # a plugin's command cannot run
                raise SystemExit(2) from None
            # --help still answers, without the plugins' command groups
    try:
        app(args=args, prog_name="trunkline")
    except TrunklineError as exc:
        typer.echo(f"error: {exc.detail}", err=True)
        raise SystemExit(2) from None
