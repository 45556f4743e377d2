"""The ops-db command line. `main()` is the single error boundary: one line, non-zero exit."""

from __future__ import annotations

import sys

import psycopg
import typer

from ops_db.cli import db_cmds, demo_cmds, ha_cmds, ledger_cmds, migrate_cmds, ops_cmds, report_cmds  # noqa: F401  (register commands)
from ops_db.cli.app import app
from ops_db.core import settings
from ops_db.core.error_map import translate
from ops_db.core.errors import ConfigurationError, ExitCode, OpsDbError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting (tests call this)."""
    try:
        app(args=argv, prog_name="ops-db")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (ExitCode.OK if code is None else ExitCode.FAILURE)
    except OpsDbError as exc:
        typer.echo(f"ops-db: {exc}", err=True)
        return exc.exit_code
    except psycopg.Error as exc:
        error = translate(exc)
        typer.echo(f"ops-db: {error}", err=True)
        return error.exit_code
    except KeyboardInterrupt:
        typer.echo("ops-db: interrupted", err=True)
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if _debug():
            raise
        typer.echo(
            f"ops-db: internal error: {type(exc).__name__}: {exc} (OPS_DB_DEBUG=1 shows the traceback)", err=True
        )
        return ExitCode.FAILURE
    return ExitCode.OK


def _debug() -> bool:
    """OPS_DB_DEBUG: show the traceback of an internal error (a value that is no boolean asks for it too)."""
    try:
        return settings.env_bool("OPS_DB_DEBUG")
    except ConfigurationError:
        return True


def run() -> None:
    sys.exit(main())
