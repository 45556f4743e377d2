"""The typer application and what every command shares.

Option environment variables follow one convention: ``OPS_DB_<COMMAND>_<OPTION>``
(``OPS_DB_MIGRATE_TO``, ``OPS_DB_ROLLBACK_TO``, ``OPS_DB_DB_STATUS_JSON``), so a variable
exported for one command never changes another. Only the connection (``OPS_DB_URL``) is shared.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from typing import Annotated, Any

import typer
from rich.console import Console

from ops_db.core.errors import ExitCode


def sub_app(help: str) -> typer.Typer:
    """A command group rendered like the main app: plain help, where a flag shows no value type."""
    return typer.Typer(no_args_is_help=True, help=help, rich_markup_mode=None, pretty_exceptions_show_locals=False)


app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a connection string
    add_completion=False,
    # typer's rich help shows `--json <bool>` for a plain flag; the plain renderer shows `--json`.
    rich_markup_mode=None,
    help="ops-db: the trading team's operational database (PostgreSQL + TimescaleDB).",
)
db_app = sub_app("The local development cluster under .ops-db/.")
app.add_typer(db_app, name="db")


def _version(value: bool) -> None:
    if value:
        try:
            version = metadata.version("ops-db")
        except metadata.PackageNotFoundError:
            version = "unknown (not installed)"
        typer.echo(f"ops-db {version}")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """ops-db: the trading team's operational database (PostgreSQL + TimescaleDB)."""


def _output_width() -> int | None:
    """Piped or redirected output is read by programs: never cut or wrap a cell to fit 80 columns."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return None  # rich's own choice: the terminal's width
    return 100_000


console = Console(highlight=False, soft_wrap=True, width=_output_width())
err_console = Console(stderr=True, highlight=False)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        envvar="OPS_DB_URL",
        show_default=False,
        show_envvar=True,
        help="Connection string (else DATABASE_URL, PG* variables, or the local cluster).",
    ),
]


def flag(name: str, envvar: str, help: str) -> Any:
    """A boolean option given as a plain flag (``--json``, never ``--json true``), with its own variable."""
    return typer.Option(name, envvar=envvar, help=help, show_default=False)




def conninfo(url: str | None) -> str:
    from ops_db.core import settings

    return settings.resolve(url).conninfo


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
