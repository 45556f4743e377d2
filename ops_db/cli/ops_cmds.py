"""ops-db health | stats | maintain | backup verify (and the helpers scripts/*.sh call)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from ops_db.cli.app import UrlOption, app, conninfo, console, flag, print_json, sub_app
from ops_db.core.errors import ConfigurationError, ExitCode, MaintainFailed, NagiosStatus, OpsDbError

backup_app = sub_app(
    "Backups: `ops-db backup run backup full` runs backup.sh (restore.sh: `run restore ...`), "
    "shipped with the package; `ops-db backup scripts-dir` prints where they are, for cron; "
    "`ops-db backup verify FILE` proves a dump restores."
)
app.add_typer(backup_app, name="backup")

DumpArgument = Annotated[
    Path, typer.Argument(help="A .dump made by scripts/backup.sh (manifest and .sha256 beside it).")
]


# -- backup -----------------------------------------------------------------------------
@backup_app.command("verify")
def backup_verify(
    dump: DumpArgument,
    url: UrlOption = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_BACKUP_VERIFY_JSON", "Machine-readable output.")] = False,
) -> None:
    """Restore FILE into a scratch database, compare it with its manifest, drop the scratch database.

    Exit 0 when the backup restores and matches; 20 checksum, 22 TimescaleDB version,
    23 restore failed, 24 row counts differ (ExitCode, docs/operations.md#exit-codes).
    """
    from ops_db.ops.backup import verify_backup

    report = verify_backup(conninfo(url), dump)
    if json_out:
        print_json(report.__dict__)
        return
    console.print(
        f"ok: {dump.name} ({report.mode}) restored and matches its manifest: "
        f"{report.relations} relations, {report.rows} rows, {report.seconds:.1f}s"
    )


SCRIPTS = {"backup": "backup.sh", "restore": "restore.sh"}


@backup_app.command("scripts-dir")
def backup_scripts_dir() -> None:
    """Print the directory holding backup.sh and restore.sh (inside the installed package, or the checkout)."""
    from ops_db.core.paths import scripts_dir

    typer.echo(str(scripts_dir()))


@backup_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}
)
def backup_run(
    ctx: typer.Context,
    script: Annotated[str, typer.Argument(help="backup (backup.sh) or restore (restore.sh).", show_default=False)],
) -> None:
    """Run the shipped backup.sh or restore.sh with the arguments after it.

    E.g. `ops-db backup run backup full`, `ops-db backup run restore --help`. The script calls
    this same ops-db (OPS_DB_BIN) and its exit code is this command's.
    """
    import os
    import shutil

    from ops_db.core.paths import scripts_dir

    if script in ("-h", "--help"):
        typer.echo(ctx.get_help())
        raise typer.Exit(ExitCode.OK)
    name = SCRIPTS.get(script.removesuffix(".sh"))
    if name is None:
        raise typer.BadParameter(f"{script!r}: give backup or restore", param_hint="SCRIPT")
    bash = shutil.which("bash")
    if bash is None:
        raise ConfigurationError("bash is not installed")
    env = dict(os.environ)
    env.setdefault("OPS_DB_BIN", _this_ops_db())
    sys.stdout.flush()
    # exec, not a child: the exit code, signals and kill -9 of the script are this command's.
    os.execve(bash, [bash, str(scripts_dir() / name), *ctx.args], env)  # noqa: S606


def _this_ops_db() -> str:
    """The ops-db command running now (its console script), so the scripts call the same install."""
    import shutil

    here = Path(sys.argv[0])
    if here.name == "ops-db" and here.is_file():
        return str(here.resolve())
    beside = Path(sys.executable).parent / "ops-db"
    return str(beside) if beside.is_file() else shutil.which("ops-db") or "ops-db"


@backup_app.command("dump", hidden=True)
def backup_dump(
    mode: Annotated[str, typer.Option("--mode", envvar="OPS_DB_BACKUP_MODE", help="full, schema or data.")],
    work: Annotated[Path, typer.Option("--work", envvar="OPS_DB_BACKUP_WORK", help="Directory for the new files.")],
    backup_dir: Annotated[
        Path, typer.Option("--backup-dir", envvar="BACKUP_DIR", help="Where the backup sets are kept.")
    ],
    table: Annotated[
        list[str] | None,
        typer.Option("--table", envvar="OPS_DB_BACKUP_TABLES", help="Only this table (repeatable)."),
    ] = None,
    database: Annotated[
        str | None, typer.Option("--database", envvar="OPS_DB_BACKUP_DATABASE", help="Another database on the server.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """pg_dump into --work with its manifest, in one snapshot; prints the set's name (scripts/backup.sh)."""
    from ops_db.core import settings
    from ops_db.ops.backup import take_dump

    source = settings.with_dbname(conninfo(url), database) if database else conninfo(url)
    made = take_dump(source, mode=mode, tables=tuple(table or ()), work=work, backup_dir=backup_dir)
    typer.echo(made.name)


@backup_app.command("restore", hidden=True)
def backup_restore(
    dump: DumpArgument,
    target: Annotated[str | None, typer.Argument(help="Database to restore as (default: the configured one).")] = None,
    schema_only: Annotated[
        bool, flag("--schema-only", "OPS_DB_RESTORE_SCHEMA_ONLY", "Restore the schema, no rows.")
    ] = False,
    force: Annotated[bool, flag("--force", "OPS_DB_RESTORE_FORCE", "Replace TARGET when it exists.")] = False,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", envvar="OPS_DB_BACKUP_RESTORE_JOBS",
                          help="Parallel pg_restore jobs (TimescaleDB's catalog always loads single-job).")
    ] = 1,
    url: UrlOption = None,
) -> None:
    """Restore FILE into a new database and put it in place as TARGET (scripts/restore.sh calls this)."""
    import signal

    from ops_db.ops.backup import restore

    # A stopped restore still drops its half-restored database (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(ExitCode.TERMINATED))
    restore(conninfo(url), dump, target, schema_only=schema_only, force=force, jobs=jobs,
            say=lambda text: typer.echo(f"restore.sh: {text}"))


# -- health -----------------------------------------------------------------------------
def _names(raw: str | None) -> set[str] | None:
    return {n.strip() for n in raw.split(",") if n.strip()} if raw else None


class NagiosCommand(TyperCommand):
    """Usage errors exit 3 (UNKNOWN), as Nagios expects of a plugin, not ExitCode.USAGE (2).

    A usage error is the parser's exception that carries ``exit_code`` 2 (click's UsageError and
    its subclasses); typer exports no name for its class (typer 0.26 and later vendor click,
    earlier releases use the click package), so it is known by that attribute.
    """

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except Exception as exc:
            if getattr(exc, "exit_code", None) == ExitCode.USAGE:
                exc.exit_code = NagiosStatus.UNKNOWN  # type: ignore[attr-defined]
            raise


@app.command(cls=NagiosCommand)
def health(
    url: UrlOption = None,
    json_out: Annotated[
        bool, typer.Option("--json", envvar="OPS_DB_HEALTH_JSON", help="Machine-readable JSON output.")
    ] = False,
    prometheus: Annotated[
        bool,
        typer.Option("--prometheus", envvar="OPS_DB_HEALTH_PROMETHEUS",
                     help="OpenMetrics text output; exits 0 whenever the report was written."),
    ] = False,
    nagios_exit: Annotated[
        bool,
        typer.Option("--nagios-exit", envvar="OPS_DB_HEALTH_NAGIOS_EXIT",
                     help="With --prometheus: exit with the Nagios code of the status, as the other outputs do."),
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", envvar="OPS_DB_HEALTH_ONLY", help="Comma-separated checks to run.")
    ] = None,
    skip: Annotated[
        str | None, typer.Option("--skip", envvar="OPS_DB_HEALTH_SKIP", help="Comma-separated checks to leave out.")
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option("--timeout", envvar="OPS_DB_HEALTH_TIMEOUT", show_default=False,
                     help="How long the whole run may take, connection included (default 10s; s/m suffixes)."),
    ] = None,
    statement_timeout: Annotated[
        str | None,
        typer.Option("--statement-timeout", envvar="OPS_DB_HEALTH_STATEMENT_TIMEOUT", show_default=False,
                     help="How long one check may run (default 3s), capped by what is left of --timeout."),
    ] = None,
    lock_timeout: Annotated[
        str | None,
        typer.Option("--lock-timeout", envvar="OPS_DB_HEALTH_LOCK_TIMEOUT", show_default=False,
                     help="How long one check may wait for a lock (default 1s)."),
    ] = None,
) -> None:
    """Health checks with Nagios exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (usage errors too).

    Answers within --timeout whatever is locked; a blocked check names its blocker.
    Thresholds: OPS_DB_HEALTH_<CHECK>_WARN / _CRIT (see docs/operations.md). A database
    that cannot be reached is CRITICAL with a one-line reason.
    """
    from ops_db.ops.health import Budget, as_json, as_openmetrics, as_text, run_checks

    try:
        budget = Budget.parse(timeout, statement_timeout, lock_timeout)
        report = run_checks(url, _names(only), _names(skip), budget)
    except OpsDbError as exc:  # a bad option or threshold: UNKNOWN, as Nagios expects
        typer.echo(f"OPS-DB UNKNOWN: {exc}")
        raise typer.Exit(NagiosStatus.UNKNOWN) from None
    if prometheus:
        sys.stdout.write(as_openmetrics(report))
        sys.stdout.flush()
        raise typer.Exit(int(report.status) if nagios_exit else 0)
    if json_out:
        print_json(as_json(report))
    else:
        typer.echo(as_text(report))
    raise typer.Exit(int(report.status))


# -- stats ------------------------------------------------------------------------------
@app.command()
def stats(
    url: UrlOption = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_STATS_JSON", "Machine-readable output.")] = False,
    exact: Annotated[
        bool, flag("--exact", "OPS_DB_STATS_EXACT", "Count rows exactly (slow on big tables).")
    ] = False,
    top: Annotated[int, typer.Option("--top", envvar="OPS_DB_STATS_TOP", min=0, help="Top queries to show.")] = 10,
) -> None:
    """Table and hypertable sizes, chunks, compression, rows, top queries, sessions and pool settings.

    On a terminal: tables. Piped: tab-separated lines, names never cut.
    """
    from ops_db.core import db
    from ops_db.ops.stats import collect, render

    with db.connect(conninfo(url), autocommit=True) as conn:
        found = collect(conn, exact=exact, top=top)
    if json_out:
        ratios = {c.hypertable: c.ratio for c in found.compression}
        print_json(dataclasses.asdict(found) | {"compression_ratio": ratios})
        return
    render(found, console, exact=exact)


# -- maintain ---------------------------------------------------------------------------
@app.command()
def maintain(
    url: UrlOption = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_MAINTAIN_JSON", "Machine-readable output.")] = False,
    dry_run: Annotated[
        bool, flag("--dry-run", "OPS_DB_MAINTAIN_DRY_RUN", "Say what would be done, change nothing.")
    ] = False,
) -> None:
    """Cron-safe maintenance: apache edition refreshes rollups, applies retention, VACUUMs where needed;
    timescale edition reports the jobs and runs overdue ones. Exit 10 when another run holds the lock,
    1 when a step failed."""
    from ops_db.ops.maintain import maintain as run_maintain

    report = run_maintain(conninfo(url), dry_run=dry_run)
    if json_out:
        print_json(dataclasses.asdict(report))
    else:
        head = "dry run, nothing changed" if dry_run else f"run {report.run_id}" if report.run_id else "run"
        console.print(f"maintain {report.database} ({report.edition} edition), {head}:")
        for a in report.actions:
            console.print(f"  {'done' if a.done else '----'}  {a.kind:<12} {a.target}: {a.detail}")
        if not report.actions:
            console.print("  nothing to do")
        for note in report.notes:
            console.print(f"  note: {note}")
    if report.failed:
        raise MaintainFailed(f"{len(report.failed)} maintenance step(s) failed")
