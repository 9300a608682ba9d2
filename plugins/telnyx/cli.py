"""``trunkline telnyx refresh-coverage``: regenerate ``data/coverage.json`` from Telnyx."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import SecretStr
from rich.progress import Progress

from trunkline import NUMBER_TYPES

from . import datafiles
from .client import make_client
from .settings import TelnyxSettings

telnyx_app = typer.Typer(help="Telnyx plugin commands.", no_args_is_help=True)


@telnyx_app.callback()
def telnyx_group() -> None:
    """Telnyx plugin commands."""


DEFAULT_OUTPUT = Path(__file__).parent / "data" / "coverage.json"
TYPES = NUMBER_TYPES
#: ``[plugins.telnyx]`` as validated for this run (``trunkline_cli`` hands it over); ``None``
#: when the plugin is used without a host (then the environment alone decides).
_configured: TelnyxSettings | None = None


def use_settings(settings: TelnyxSettings | None) -> None:
    """Take the plugin's validated settings for the commands of this run."""
    global _configured
    _configured = settings


def coverage_from_api(
    answer: dict[str, Any], progress: Progress | None = None
) -> datafiles.CoverageFile:
    """Turn Telnyx's country coverage (keyed by country name, ISO code inside) into our schema.

    An empty object for a number type means that type is not offered.
    """
    countries: dict[str, dict[str, list[str]]] = {}
    rows = answer.get("data", answer)
    task = progress.add_task("countries", total=len(rows)) if progress else None
    for _name, row in sorted(rows.items()):
        if progress is not None and task is not None:
            progress.advance(task)
        if not isinstance(row, dict) or not row.get("code"):
            continue
        offered: dict[str, list[str]] = {}
        base = [f for f in row.get("features") or [] if f in ("voice", "sms", "mms", "fax")]
        for kind in TYPES:
            detail = row.get(kind)
            if not detail:
                continue
            features = detail.get("features") if isinstance(detail, dict) else None
            chosen = [f for f in features or base if f in ("voice", "sms", "mms", "fax")]
            offered[kind] = sorted(set(chosen or ["voice"]))
        if offered:
            countries[str(row["code"]).upper()] = offered
    return datafiles.CoverageFile.model_validate(
        {
            "generated": datetime.now(UTC).date().isoformat(),
            "source": "telnyx country_coverage",
            "countries": countries,
        }
    )


async def _fetch(settings: TelnyxSettings) -> dict[str, Any]:
    client = make_client(settings)
    try:
        response = await client.country_coverage.retrieve()
    finally:
        await client.close()
    return {
        "data": {
            name: row.model_dump(exclude_none=True) for name, row in (response.data or {}).items()
        }
    }


@telnyx_app.command("refresh-coverage")
def refresh_coverage(
    output: Annotated[
        Path, typer.Option(help="Where to write the coverage file.")
    ] = DEFAULT_OUTPUT,
    base_url: Annotated[
        str | None, typer.Option(help="Telnyx API base URL.", envvar="TELNYX_BASE_URL")
    ] = None,
) -> None:
    """Regenerate the coverage data from Telnyx's country coverage API.

    The API key and base URL come from [plugins.telnyx] (by default from TELNYX_API_KEY).
    """
    configured = _configured or TelnyxSettings()
    env_key = os.environ.get("TELNYX_API_KEY")
    key = configured.api_key or (SecretStr(env_key) if env_key else None)
    if key is None:
        typer.echo(
            "error: set api_key in [plugins.telnyx] (or TELNYX_API_KEY) to refresh the coverage",
            err=True,
        )
        raise typer.Exit(2)
    settings = configured.model_copy(
        update={"api_key": key, "base_url": base_url or configured.base_url}
    )
    with Progress(transient=True) as progress:
        asking = progress.add_task("asking Telnyx for its country coverage", total=None)
        try:
            answer = asyncio.run(_fetch(settings))
        except Exception as exc:
            from .errors import from_exception

            progress.stop()
            typer.echo(f"error: {from_exception(exc).detail}", err=True)
            raise typer.Exit(1) from None
        progress.update(asking, total=1, completed=1)
        data = coverage_from_api(answer, progress)
    datafiles.write_coverage(output, data)
    typer.echo(f"wrote {len(data.countries)} countries to {output}")
