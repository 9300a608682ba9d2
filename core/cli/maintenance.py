"""``trunkline db``, ``ledger`` and ``attestation``: the operator's maintenance commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ._common import _run, _settings, _with_session, attestation_app, db_app, ledger_app


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str,
        typer.Argument(
            metavar="REVISION", help="The revision to reach; head (the default) is the newest."
        ),
    ] = "head",
) -> None:
    """Migrate the configured database (TRUNKLINE_DATABASE_URL) to REVISION."""
    from ..migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="The revision to go back to; base: empty.")
    ],
) -> None:
    """Migrate the configured database down to REVISION."""
    from ..migrate import downgrade

    downgrade(_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@ledger_app.command("accrue-rentals")
def accrue_rentals(
    period: Annotated[str, typer.Option(help="The month, YYYY-MM.")],
) -> None:
    """Add one zero-markup rental entry per hosted number for PERIOD; running twice adds none."""
    from ..purchases import accrue_rentals as accrue

    added = _with_session(_settings(), lambda session: accrue(session, period))
    typer.echo(f"{added} rental {'entry' if added == 1 else 'entries'} added for {period}")


@attestation_app.command("refresh")
def attestation_refresh(
    workspace: Annotated[
        str | None, typer.Option(help="Only this workspace's numbers (its id).")
    ] = None,
) -> None:
    """Ask each number's carrier again for the attestation it will sign, and store it."""
    import uuid

    from ..attestation import refresh_all
    from ..runtime import start_runtime

    settings = _settings()
    try:
        workspace_id = uuid.UUID(workspace) if workspace else None
    except ValueError:
        typer.echo(f"error: --workspace {workspace!r} is not a workspace id", err=True)
        raise typer.Exit(2) from None

    async def run() -> Any:
        rt = await start_runtime(settings)
        try:
            async with rt.sessionmaker() as session:
                return await refresh_all(rt, session, workspace_id=workspace_id)
        finally:
            await rt.aclose()

    report = _run(run())
    plural = "" if report.checked == 1 else "s"
    typer.echo(
        f"attestation: {report.checked} number{plural} checked, {report.changed} changed, "
        f"{report.failed} not answered (kept as they were)"
    )
    if report.failed:
        raise typer.Exit(1)
