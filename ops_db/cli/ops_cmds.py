"""ops-db health | stats | maintain | backup verify (and the helpers scripts/*.sh call)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops_db.cli.app import JsonOption, UrlOption, app, conninfo, console, print_json

backup_app = typer.Typer(
    no_args_is_help=True,
    help="Backups: `ops-db backup run backup full` runs backup.sh (restore.sh: `run restore ...`), "
    "shipped with the package; `ops-db backup scripts-dir` prints where they are, for cron; "
    "`ops-db backup verify FILE` proves a dump restores.",
)
app.add_typer(backup_app, name="backup")

DumpArgument = Annotated[
    Path, typer.Argument(help="A .dump made by scripts/backup.sh (manifest and .sha256 beside it).")
]


# -- backup -----------------------------------------------------------------------------
@backup_app.command("verify")
def backup_verify(dump: DumpArgument, url: UrlOption = None, json_out: JsonOption = False) -> None:
    """Restore FILE into a scratch database, compare it with its manifest, drop the scratch database.

    Exit 0 when the backup restores and matches; 20 checksum, 22 TimescaleDB version,
    23 restore failed, 24 row counts differ.
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
    from ops_db.paths import scripts_dir

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

    from ops_db.errors import ConfigurationError
    from ops_db.paths import scripts_dir

    if script in ("-h", "--help"):
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
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
    mode: Annotated[str, typer.Option("--mode", envvar="OPS_DB_BACKUP_MODE")],
    work: Annotated[Path, typer.Option("--work", envvar="OPS_DB_BACKUP_WORK", help="Directory for the new files.")],
    backup_dir: Annotated[Path, typer.Option("--backup-dir", envvar="BACKUP_DIR")],
    table: Annotated[list[str] | None, typer.Option("--table", envvar="OPS_DB_BACKUP_TABLES")] = None,
    database: Annotated[
        str | None, typer.Option("--database", envvar="OPS_DB_BACKUP_DATABASE", help="Another database on the server.")
    ] = None,
    url: UrlOption = None,
) -> None:
    """pg_dump into --work with its manifest, in one snapshot; prints the set's name (scripts/backup.sh)."""
    from ops_db import settings
    from ops_db.ops.backup import take_dump

    source = settings.with_dbname(conninfo(url), database) if database else conninfo(url)
    made = take_dump(source, mode=mode, tables=tuple(table or ()), work=work, backup_dir=backup_dir)
    typer.echo(made.name)


@backup_app.command("restore", hidden=True)
def backup_restore(
    dump: DumpArgument,
    target: Annotated[str | None, typer.Argument(help="Database to restore as (default: the configured one).")] = None,
    schema_only: Annotated[bool, typer.Option("--schema-only", envvar="OPS_DB_RESTORE_SCHEMA_ONLY")] = False,
    force: Annotated[bool, typer.Option("--force", envvar="OPS_DB_RESTORE_FORCE")] = False,
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
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    restore(conninfo(url), dump, target, schema_only=schema_only, force=force, jobs=jobs,
            say=lambda text: typer.echo(f"restore.sh: {text}"))


# -- health -----------------------------------------------------------------------------
def _names(raw: str | None) -> set[str] | None:
    return {n.strip() for n in raw.split(",") if n.strip()} if raw else None


@app.command()
def health(
    url: UrlOption = None,
    json_out: JsonOption = False,
    prometheus: Annotated[
        bool, typer.Option("--prometheus", envvar="OPS_DB_HEALTH_PROMETHEUS", help="OpenMetrics text output.")
    ] = False,
    only: Annotated[
        str | None, typer.Option("--only", envvar="OPS_DB_HEALTH_ONLY", help="Comma-separated checks to run.")
    ] = None,
    skip: Annotated[
        str | None, typer.Option("--skip", envvar="OPS_DB_HEALTH_SKIP", help="Comma-separated checks to leave out.")
    ] = None,
) -> None:
    """Health checks with Nagios exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

    Thresholds: OPS_DB_HEALTH_<CHECK>_WARN / _CRIT (see docs/operations.md). A database
    that cannot be reached is CRITICAL with a one-line reason.
    """
    from ops_db.errors import OpsDbError
    from ops_db.ops.health import as_json, as_openmetrics, as_text, run_checks

    try:
        report = run_checks(url, _names(only), _names(skip))
    except OpsDbError as exc:  # a bad option or threshold: UNKNOWN, as Nagios expects
        typer.echo(f"OPS-DB UNKNOWN: {exc}")
        raise typer.Exit(3) from None
    if prometheus:
        sys.stdout.write(as_openmetrics(report))
    elif json_out:
        print_json(as_json(report))
    else:
        typer.echo(as_text(report))
    raise typer.Exit(int(report.status))


# -- stats ------------------------------------------------------------------------------
@app.command()
def stats(
    url: UrlOption = None,
    json_out: JsonOption = False,
    exact: Annotated[
        bool, typer.Option("--exact", envvar="OPS_DB_STATS_EXACT", help="Count rows exactly (slow on big tables).")
    ] = False,
    top: Annotated[int, typer.Option("--top", envvar="OPS_DB_STATS_TOP", min=0, help="Top queries to show.")] = 10,
) -> None:
    """Table and hypertable sizes, chunks, compression, rows, top queries, sessions and pool settings."""
    from rich.table import Table

    from ops_db import db
    from ops_db.ops.health import fmt
    from ops_db.ops.stats import collect

    with db.connect(conninfo(url), autocommit=True) as conn:
        found = collect(conn, exact=exact, top=top)
    if json_out:
        ratios = {c.hypertable: c.ratio for c in found.compression}
        print_json(dataclasses.asdict(found) | {"compression_ratio": ratios})
        return
    table = Table(title="relations (trading, ops_internal)")
    for col in ("relation", "kind", "size", "chunks", "rows (estimate)" if not exact else "rows"):
        table.add_column(col, justify="right" if col not in ("relation", "kind") else "left")
    for r in found.relations:
        name = f"{r.schema_name}.{r.relation_name}"
        rows = found.exact_rows.get(name, 0) if found.exact_rows is not None else r.estimated_rows
        table.add_row(name, r.kind, fmt(r.total_bytes, "bytes"), str(r.chunks or ""), f"{rows:,}")
    console.print(table)
    comp = Table(title="compression per hypertable")
    for col in ("hypertable", "chunks", "compressed", "before", "after", "ratio"):
        comp.add_column(col)
    for c in found.compression:
        comp.add_row(c.hypertable, str(c.total_chunks), str(c.compressed_chunks),
                     fmt(c.before_bytes, "bytes") if c.before_bytes else "-",
                     fmt(c.after_bytes, "bytes") if c.after_bytes else "-",
                     f"{c.ratio:.1f}x" if c.ratio else "-")
    console.print(comp)
    if found.top_queries is None:
        console.print(f"top queries: {found.top_queries_note}")
    else:
        tq = Table(title="top queries by total time (pg_stat_statements)")
        for col in ("total ms", "calls", "mean ms", "rows", "query"):
            tq.add_column(col)
        for t in found.top_queries:
            tq.add_row(str(t.total_ms), str(t.calls), str(t.mean_ms), str(t.rows), t.query)
        console.print(tq)
    console.print("sessions: " + ", ".join(f"{s.application_name} {s.state} {s.sessions}" for s in found.sessions))
    console.print(f"pool: OPS_DB_POOL_MIN={found.pool.min_size} OPS_DB_POOL_MAX={found.pool.max_size} "
                  f"OPS_DB_POOL_TIMEOUT={found.pool.timeout_seconds:g}s")


# -- maintain ---------------------------------------------------------------------------
@app.command()
def maintain(
    url: UrlOption = None,
    json_out: JsonOption = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", envvar="OPS_DB_DRY_RUN", help="Say what would be done, change nothing.")
    ] = False,
) -> None:
    """Cron-safe maintenance: apache edition refreshes rollups, applies retention, VACUUMs where needed;
    timescale edition reports the jobs and runs overdue ones. Exit 10 when another run holds the lock,
    1 when a step failed."""
    from ops_db.ops.maintain import MaintainFailed
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
