"""The typer application and what every command shares."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold a connection string
    add_completion=False,
    help="ops-db: the trading team's operational database (PostgreSQL + TimescaleDB).",
)
db_app = typer.Typer(no_args_is_help=True, help="The local development cluster under .ops-db/.")
app.add_typer(db_app, name="db")

console = Console(highlight=False, soft_wrap=True)
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
JsonOption = Annotated[bool, typer.Option("--json", envvar="OPS_DB_JSON", help="Machine-readable output.")]


def conninfo(url: str | None) -> str:
    from ops_db import settings

    return settings.resolve(url).conninfo


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
