"""ops-db migrate | rollback | status | verify."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from ops_db import db
from ops_db.cli.app import JsonOption, UrlOption, app, conninfo, console, print_json
from ops_db.errors import VerificationFailed
from ops_db.migrations import Runner
from ops_db.system import capabilities, server_facts

ToOption = Annotated[str | None, typer.Option("--to", envvar="OPS_DB_MIGRATE_TO", help="Migration id to stop at.")]


@app.command()
def migrate(
    url: UrlOption = None,
    to: ToOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", envvar="OPS_DB_DRY_RUN", help="Print the SQL, change nothing.")
    ] = False,
) -> None:
    """Apply pending migrations, then re-apply changed SQL under sql/schema."""
    runner = Runner(conninfo(url))
    if dry_run:
        plan = runner.dry_run(to)
        typer.echo(plan if plan else "-- nothing to apply")
        return
    applied = runner.migrate(to)
    console.print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))


@app.command()
def rollback(
    url: UrlOption = None,
    steps: Annotated[int, typer.Option("--steps", envvar="OPS_DB_ROLLBACK_STEPS", min=1)] = 1,
    to: ToOption = None,
) -> None:
    """Undo the last migration (--steps N), or all applied after --to ID."""
    undone = Runner(conninfo(url)).rollback(steps=steps, to=to)
    console.print(f"rolled back {len(undone)} migration(s)" + (": " + ", ".join(undone) if undone else ""))


@app.command()
def status(url: UrlOption = None, json_out: JsonOption = False) -> None:
    """Every migration (applied when, or pending) and the TimescaleDB edition and version."""
    target = conninfo(url)
    states = Runner(target).status()
    with db.connect(target) as conn:
        facts = server_facts(conn)
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
            }
        )
        return
    table = Table(title=f"migrations of {facts.database}")
    table.add_column("migration")
    table.add_column("status")
    table.add_column("applied at (UTC)")
    for s in states:
        table.add_row(s.id, s.status, s.applied_at.strftime("%Y-%m-%d %H:%M:%S") if s.applied_at else "")
    console.print(table)
    pending = sum(1 for s in states if s.applied_at is None)
    console.print(
        f"PostgreSQL {facts.postgres_version}, TimescaleDB {facts.timescaledb_version or 'not installed'} "
        f"({facts.edition} edition); {len(states) - pending} applied, {pending} pending"
    )
    for name, how in capabilities(facts.edition).items():
        console.print(f"  {name}: {how}")


@app.command()
def verify(
    url: UrlOption = None,
    files_only: Annotated[
        bool,
        typer.Option(
            "--files-only",
            envvar="OPS_DB_VERIFY_FILES_ONLY",
            help="Check the migration files and records only; skip the catalog comparison (no scratch database).",
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
