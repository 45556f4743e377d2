"""ops-db health | stats | maintain | backup verify (and the helpers scripts/*.sh call)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer

from ops_db.cli.app import JsonOption, UrlOption, app, conninfo, console, print_json

backup_app = typer.Typer(no_args_is_help=True, help="Backups: verify a dump restores (scripts/backup.sh makes them).")
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


@backup_app.command("libpq-env", hidden=True)
def backup_libpq_env(
    pgpass_file: Annotated[Path, typer.Option("--pgpass-file", envvar="OPS_DB_PGPASS_FILE")],
    url: UrlOption = None,
) -> None:
    """NUL-separated NAME=VALUE pairs for the PostgreSQL tools; a password goes to --pgpass-file only."""
    from ops_db import settings
    from ops_db.ops.backup import libpq_environment

    source = settings.resolve(url)
    env = libpq_environment(source.conninfo, pgpass_file)
    sys.stdout.write("".join(f"{k}={v}\0" for k, v in sorted(env.items())))


@backup_app.command("manifest", hidden=True)
def backup_manifest(
    dump: Annotated[Path, typer.Option("--dump", envvar="OPS_DB_MANIFEST_DUMP")],
    output: Annotated[Path, typer.Option("--output", envvar="OPS_DB_MANIFEST_OUTPUT")],
    name: Annotated[str, typer.Option("--name", envvar="OPS_DB_MANIFEST_NAME", help="Final file name of the dump.")],
    mode: Annotated[str, typer.Option("--mode", envvar="OPS_DB_BACKUP_MODE")],
    pg_dump_version: Annotated[str, typer.Option("--pg-dump-version", envvar="OPS_DB_PG_DUMP_VERSION")],
    snapshot: Annotated[str | None, typer.Option("--snapshot", envvar="OPS_DB_SNAPSHOT")] = None,
    table: Annotated[list[str] | None, typer.Option("--table", envvar="OPS_DB_BACKUP_TABLES")] = None,
    url: UrlOption = None,
) -> None:
    """Write the manifest of a dump, read in the dump's snapshot (scripts/backup.sh calls this)."""
    from ops_db.ops.backup import build_manifest

    manifest = build_manifest(
        conninfo(url),
        snapshot=snapshot,
        mode=mode,
        tables=tuple(table or ()),
        dump=dump,
        final_name=name,
        pg_dump_version=pg_dump_version,
    )
    output.write_text(manifest.to_json())


@backup_app.command("target-state", hidden=True)
def backup_target_state(database: str, url: UrlOption = None) -> None:
    """Print absent, empty or not-empty for a restore target (scripts/restore.sh calls this)."""
    from ops_db.ops.backup import database_exists, user_table_count

    target = conninfo(url)
    if not database_exists(target, database):
        typer.echo("absent")
    else:
        typer.echo("not-empty" if user_table_count(target, database) else "empty")


@backup_app.command("restore-db", hidden=True)
def backup_restore_db(
    dump: DumpArgument,
    database: Annotated[str, typer.Option("--database", envvar="OPS_DB_RESTORE_DATABASE")],
    schema_only: Annotated[bool, typer.Option("--schema-only", envvar="OPS_DB_RESTORE_SCHEMA_ONLY")] = False,
    url: UrlOption = None,
) -> None:
    """Restore FILE into the new database --database and compare it with the manifest."""
    from ops_db import settings
    from ops_db.ops.backup import (
        Manifest,
        check_restored,
        drop_database,
        manifest_path,
        restore_into_new_database,
    )

    target = conninfo(url)
    manifest = Manifest.load(manifest_path(dump))
    if schema_only:
        manifest = dataclasses.replace(manifest, mode="schema")
    restore_into_new_database(target, dump, manifest, database, schema_only=schema_only)
    try:
        comparison = check_restored(settings.with_dbname(target, database), manifest)
    except BaseException:
        drop_database(target, database)
        raise
    what = "tables present" if manifest.mode == "schema" else "row counts match the manifest"
    console.print(f"restored into {database}: {len(comparison.found)} relations, {what}")


@backup_app.command("promote", hidden=True)
def backup_promote(
    source: str,
    target: str,
    replace: Annotated[bool, typer.Option("--replace", envvar="OPS_DB_RESTORE_REPLACE")] = False,
    url: UrlOption = None,
) -> None:
    """Rename database SOURCE to TARGET, dropping an existing TARGET only with --replace."""
    from ops_db.ops.backup import TargetNotEmpty, database_exists, drop_database, rename_database

    target_conn = conninfo(url)
    if database_exists(target_conn, target):
        if not replace:
            raise TargetNotEmpty(f"database {target} exists")
        drop_database(target_conn, target)
    rename_database(target_conn, source, target)


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
