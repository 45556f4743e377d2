"""The ops-db command line. `main()` is the single error boundary: one line, non-zero exit.

A run imports only the module of the command its first argument names (COMMAND_MODULES): what
every cron line pays at start (importing them all took ~0.5 s, most of `backup.sh`'s overhead
over plain pg_dump). Help or an unknown name loads them all; code that walks ``app`` itself
calls ``load_commands()`` first.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import psycopg
import typer

from ops_db.cli.app import app
from ops_db.core import settings
from ops_db.core.error_map import translate
from ops_db.core.errors import ConfigurationError, ExitCode, OpsDbError

__all__ = ["COMMAND_MODULES", "app", "load_commands", "main"]

# Each top-level command or group, and the module under ops_db.cli that registers it
# (tests/test_cli_lazy.py holds this to what the modules register).
COMMAND_MODULES = {
    "db": "db_cmds", "demo": "demo_cmds",
    "replicas": "ha_cmds", "ha": "ha_cmds", "pitr": "ha_cmds",
    "kill-switch": "ledger_cmds", "expire-orders": "ledger_cmds", "positions": "ledger_cmds",
    "migrate": "migrate_cmds", "rollback": "migrate_cmds", "status": "migrate_cmds", "verify": "migrate_cmds",
    "backup": "ops_cmds", "health": "ops_cmds", "stats": "ops_cmds", "maintain": "ops_cmds",
    "report": "report_cmds",
}


def load_commands(argv: Sequence[str] | None = None) -> None:
    """Register the command ``argv`` names (its first argument that is no option), or every
    command when it names none this table knows (help, a typo: click then lists them all)."""
    first = next((arg for arg in argv if not arg.startswith("-")), None) if argv is not None else None
    modules = [COMMAND_MODULES[first]] if first in COMMAND_MODULES else sorted(set(COMMAND_MODULES.values()))
    for module in modules:
        importlib.import_module(f"ops_db.cli.{module}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting (tests call this)."""
    try:
        load_commands(sys.argv[1:] if argv is None else argv)
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
