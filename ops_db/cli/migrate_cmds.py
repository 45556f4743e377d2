"""ops-db migrate | rollback | status | verify."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ops_db.cli.app import UrlOption, app, conninfo, console, flag, print_json
from ops_db.core import db
from ops_db.core.errors import VerificationFailed
from ops_db.ops.migrations import FOUNDATION, Runner
from ops_db.ops.system import capabilities, server_facts


@app.command()
def migrate(
    url: UrlOption = None,
    to: Annotated[
        str | None, typer.Option("--to", envvar="OPS_DB_MIGRATE_TO", help="Apply up to and including this migration.")
    ] = None,
    dry_run: Annotated[bool, flag("--dry-run", "OPS_DB_MIGRATE_DRY_RUN", "Print the SQL, change nothing.")] = False,
) -> None:
    """Apply pending migrations, then re-apply changed SQL under sql/schema.

    Each statement waits at most OPS_DB_MIGRATE_LOCK_WAIT seconds (default 5) for a lock; a
    migration that times out is rolled back and retried until OPS_DB_MIGRATE_RETRY_DEADLINE (120).
    """
    runner = Runner(conninfo(url))
    if dry_run:
        plan = runner.dry_run(to)
        typer.echo(plan if plan else "-- nothing to apply")
        return
    applied, reapplied = runner.migrate_report(to)
    line = f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "")
    if reapplied:
        line += ", re-applied " + ", ".join(reapplied)
    console.print(line)


@app.command()
def rollback(
    url: UrlOption = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps", envvar="OPS_DB_ROLLBACK_STEPS", min=1, show_default=False,
            help="How many of the newest migrations to undo (default 1); more than are applied is refused.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", envvar="OPS_DB_ROLLBACK_TO", help="Undo every migration applied after this one."),
    ] = None,
    everything: Annotated[
        bool,
        flag("--all", "OPS_DB_ROLLBACK_ALL",
             f"Undo every applied migration, the foundation ({', '.join(FOUNDATION)}) included."),
    ] = False,
    dry_run: Annotated[
        bool, flag("--dry-run", "OPS_DB_ROLLBACK_DRY_RUN", "List what would be undone and dropped, change nothing.")
    ] = False,
) -> None:
    """Undo the newest migration (--steps N), all applied after --to ID, or --all.

    Refused (exit 6, nothing undone): more steps than are applied, and undoing the foundation
    (extension, roles, schemas) without --all.
    """
    if everything and (steps is not None or to is not None):
        raise typer.BadParameter("--all undoes everything: give it without --steps or --to")
    if steps is not None and to is not None:
        raise typer.BadParameter("give --steps or --to, not both")
    runner = Runner(conninfo(url))
    if dry_run:
        plan = runner.rollback_plan(steps=steps, to=to, everything=everything)
        if not plan:
            console.print("-- nothing to roll back")
        for step in plan:
            console.print(f"would undo {step.id}" + ("" if step.drops else " (drops nothing)"))
            for statement in step.drops:
                console.print(f"  {statement}")
        return
    undone = runner.rollback(steps=steps, to=to, everything=everything)
    console.print(f"rolled back {len(undone)} migration(s)" + (": " + ", ".join(undone) if undone else ""))


@app.command()
def status(
    url: UrlOption = None,
    json_out: Annotated[bool, flag("--json", "OPS_DB_STATUS_JSON", "Machine-readable output.")] = False,
) -> None:
    """Every migration and sql/schema file (applied, changed, pending, missing) and the TimescaleDB edition.

    Exit 0 when the database is as `ops-db migrate` leaves it or only has migrations pending;
    exit 5 when an applied migration's file changed or is missing, or sql/schema is not applied
    (as after a plain `yoyo apply`).
    """
    target = conninfo(url)
    runner = Runner(target)
    states = runner.status()
    schema = runner.schema_status()
    with db.connect(target) as conn:
        facts = server_facts(conn)
    problems = [s for s in states if s.missing or s.changed] + [s for s in schema if s.problem]
    if json_out:
        print_json(
            {
                "database": facts.database,
                "postgres_version": facts.postgres_version,
                "timescaledb_version": facts.timescaledb_version,
                "edition": facts.edition,
                "capabilities": capabilities(facts.edition),
                "migrations": [
                    {"id": s.id, "status": s.status, "applied_at": s.applied_at, "transactional": s.transactional}
                    for s in states
                ],
                "sql_schema": [{"file": f"sql/schema/{s.name}", "status": s.status} for s in schema],
                "complete": not problems,
            }
        )
    else:
        table = Table(title=f"migrations of {facts.database}")
        table.add_column("migration")
        table.add_column("status")
        table.add_column("applied at (UTC)")
        for s in states:
            table.add_row(s.id, s.status, s.applied_at.strftime("%Y-%m-%d %H:%M:%S") if s.applied_at else "")
        console.print(table)
        files = Table(title="re-applied SQL (sql/schema)")
        files.add_column("file")
        files.add_column("status")
        for f in schema:
            files.add_row(f"sql/schema/{f.name}", f.status)
        console.print(files)
        pending = sum(1 for s in states if s.applied_at is None)
        current = sum(1 for f in schema if f.status == "applied")
        console.print(
            f"PostgreSQL {facts.postgres_version}, TimescaleDB {facts.timescaledb_version or 'not installed'} "
            f"({facts.edition} edition); {len(states) - pending} applied, {pending} pending; "
            f"sql/schema {current} of {len(schema)} applied"
        )
        for name, how in capabilities(facts.edition).items():
            console.print(f"  {name}: {how}")
        for s in states:
            if s.missing or s.changed:
                console.print(f"problem: migration {s.id}: {s.status}")
        for f in schema:
            if f.problem:
                console.print(f"problem: sql/schema/{f.name}: {f.status} (plain yoyo never applies sql/schema; "
                              "run 'ops-db migrate')")
    if problems:
        raise typer.Exit(VerificationFailed.exit_code)


@app.command()
def verify(
    url: UrlOption = None,
    files_only: Annotated[
        bool,
        flag(
            "--files-only",
            "OPS_DB_VERIFY_FILES_ONLY",
            "Check the migration files and records only; skip the catalog comparison (no scratch database).",
        ),
    ] = False,
) -> None:
    """Exit 0 when every migration is applied and unchanged and the catalog is what they build; else one line
    per problem, exit 5."""
    from ops_db.ops import drift

    report = drift.verify(conninfo(url), catalog=not files_only)
    for note in report.notes:
        typer.echo(f"ops-db: note: {note}", err=True)
    if report.problems:
        for problem in report.problems:
            typer.echo(problem, err=True)
        raise VerificationFailed(f"{len(report.problems)} problem(s) with migrations or schema")
    console.print("ok: all migrations applied and unchanged" + ("" if files_only else "; the catalog matches them"))
