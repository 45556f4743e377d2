"""ops-db db up|down|status|url|destroy: the private cluster."""

from __future__ import annotations

from typing import Annotated

import typer

from ops_db.cli.app import console, db_app, flag, print_json
from ops_db.core.errors import ExitCode
from ops_db.ops.cluster import LocalCluster


@db_app.command()
def up() -> None:
    """Create (first time) and start the local cluster; harmless when it already runs."""
    cluster = LocalCluster.from_env()
    changed = cluster.up()
    state = "started" if changed else "already running"
    console.print(f"local cluster {state}: port {cluster.port}, edition {cluster.license}, home {cluster.home}")


@db_app.command()
def down() -> None:
    """Stop the local cluster (its data stays)."""
    cluster = LocalCluster.from_env()
    console.print("stopped" if cluster.down() else "not running")


@db_app.command("status")
def db_status(
    json_out: Annotated[bool, flag("--json", "OPS_DB_DB_STATUS_JSON", "Machine-readable output.")] = False,
) -> None:
    """Whether the local cluster runs, its port and edition. Exit 9 when it is not running."""
    cluster = LocalCluster.from_env()
    running = cluster.is_initialized() and cluster.is_running()
    info = {
        "running": running,
        "initialized": cluster.is_initialized(),
        "port": cluster.port,
        "edition": cluster.license,
        "home": str(cluster.home),
    }
    if json_out:
        print_json(info)
    else:
        state = "running" if running else ("stopped" if cluster.is_initialized() else "not created")
        console.print(f"{state}: port {cluster.port}, edition {cluster.license or '-'}, home {cluster.home}")
    if not running:
        raise typer.Exit(ExitCode.NOT_RUNNING)


@db_app.command()
def url() -> None:
    """Print the local cluster's connection URL (no password: local socket, trust auth)."""
    cluster = LocalCluster.from_env()
    if not cluster.is_running():
        typer.echo("local cluster is not running: ops-db db up", err=True)
        raise typer.Exit(ExitCode.NOT_RUNNING)
    typer.echo(cluster.url())


@db_app.command()
def destroy(
    yes: Annotated[bool, flag("--yes", "OPS_DB_DB_DESTROY_YES", "Required: confirms deletion.")] = False,
) -> None:
    """Stop the local cluster and delete its data."""
    cluster = LocalCluster.from_env()
    if not yes:
        typer.echo(f"refusing to delete {cluster.home} without --yes", err=True)
        raise typer.Exit(ExitCode.USAGE)
    cluster.destroy()
    console.print(f"deleted {cluster.home}")
