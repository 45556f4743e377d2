"""`ops-db maintain`: what TimescaleDB's scheduler would do, run from cron.

apache edition: refresh the rollups and apply retention (ops_db.ops.rollups), then
VACUUM (ANALYZE) tables whose dead tuples or missing statistics call for it.
timescale edition: the scheduler owns those jobs; maintain reports them and runs the
overdue ones with CALL run_job(). Every real run is recorded in ops_internal.maintenance_runs.
One run at a time per database (a session advisory lock); a second one exits with code 10.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core import db, settings
from ops_db.core.error_map import map_errors
from ops_db.core.errors import MaintainLocked, OpsDbError
from ops_db.core.queries import q
from ops_db.ops import rollups
from ops_db.ops.jobs import job_grace, job_states
from ops_db.ops.system import refuse_read_only, server_facts

LOCK_KEY = 0x6F70_7364_6D  # "opsdm": maintain runs, distinct from the migration lock


@dataclass(frozen=True)
class Action:
    kind: str
    target: str
    detail: str
    done: bool


@dataclass(frozen=True)
class MaintainReport:
    database: str
    edition: str
    dry_run: bool
    actions: tuple[Action, ...]
    notes: tuple[str, ...]
    run_id: int | None

    @property
    def failed(self) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.kind.endswith("failed"))


@dataclass(frozen=True)
class VacuumCandidate:
    schema_name: str
    relation_name: str
    dead: int
    live: int
    analyzed_at: datetime | None


def vacuum_candidates(conn: psycopg.Connection[Any]) -> list[VacuumCandidate]:
    params = {
        "min_dead": settings.env_int("OPS_DB_MAINTAIN_VACUUM_MIN_DEAD", 1000),
        "dead_ratio": settings.env_float("OPS_DB_MAINTAIN_VACUUM_DEAD_RATIO", 0.1),
    }
    with map_errors(), conn.cursor(row_factory=class_row(VacuumCandidate)) as cur:
        return cur.execute(q("vacuum_candidates"), params).fetchall()


def _failure(kind: str, target: str, exc: BaseException) -> Action:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Action(f"{kind} failed", target, text, False)


def _timescale_jobs(conn: psycopg.Connection[Any], dry_run: bool, notes: list[str]) -> list[Action]:
    actions: list[Action] = []
    now = datetime.now(UTC)
    jobs = job_states(conn)
    for job in jobs:
        if job.last_run_status == "Failed":
            notes.append(f"job {job.label}: last scheduled run failed: {job.last_error or 'no message'}")
    overdue = [j for j in jobs if j.overdue(now, job_grace())]
    if not overdue:
        notes.append(f"{len(jobs)} scheduled job(s), none overdue")
    for job in overdue:
        due = job.next_start.isoformat(timespec="seconds") if job.next_start else "never ran"
        if dry_run:
            actions.append(Action("run job", job.label, f"would run (due {due})", False))
            continue
        try:
            with map_errors():
                conn.execute(q("run_job"), {"job_id": job.job_id})
            actions.append(Action("run job", job.label, f"ran with CALL run_job (was due {due})", True))
        except OpsDbError as exc:
            actions.append(_failure("run job", job.label, exc))
    return actions


def _apache_steps(conn: psycopg.Connection[Any], dry_run: bool, notes: list[str]) -> list[Action]:
    actions: list[Action] = []
    for step, func in (("refresh", rollups.refresh_rollups), ("retention", rollups.apply_retention)):
        try:
            actions += [Action(a.kind, a.target, a.detail, a.done) for a in func(conn, dry_run=dry_run)]
        except Exception as exc:
            actions.append(_failure(step, "ops_db.ops.rollups", exc))
    return actions


def _vacuum(conn: psycopg.Connection[Any], dry_run: bool) -> list[Action]:
    actions = []
    for cand in vacuum_candidates(conn):
        target = f"{cand.schema_name}.{cand.relation_name}"
        why = f"{cand.dead:,} dead of {cand.dead + cand.live:,} tuples" + (
            "" if cand.analyzed_at else ", never analyzed")
        if dry_run:
            actions.append(Action("vacuum", target, f"would VACUUM (ANALYZE): {why}", False))
            continue
        try:
            with map_errors():
                conn.execute(sql.SQL(q("vacuum_analyze")).format(
                    relation=sql.Identifier(cand.schema_name, cand.relation_name)))
            actions.append(Action("vacuum", target, f"VACUUM (ANALYZE): {why}", True))
        except OpsDbError as exc:
            actions.append(_failure("vacuum", target, exc))
    return actions


def maintain(conninfo: str, *, dry_run: bool = False) -> MaintainReport:
    """Run (or with dry_run, describe) the maintenance this edition needs."""
    with db.connect(conninfo, autocommit=True) as conn:
        refuse_read_only(conn, "ops-db maintain")
        with map_errors():
            got = conn.execute(q("try_lock"), {"key": LOCK_KEY}).fetchone()
        notes: list[str] = []
        if not got or not got[0]:
            _lock_held_by_a_maintainer(conn, notes)
        facts = server_facts(conn)
        run_id = None if dry_run else _start(conn, facts.edition)
        actions: list[Action] = []
        error: str | None = None
        try:
            if facts.edition == "timescale":
                actions = _timescale_jobs(conn, dry_run, notes)
                notes.append("timescale edition: refresh, retention and compression are TimescaleDB jobs")
            else:
                actions = _apache_steps(conn, dry_run, notes) + _vacuum(conn, dry_run)
        except BaseException as exc:
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise
        finally:
            if run_id is not None:
                failed = error is not None or any(a.kind.endswith("failed") for a in actions)
                _finish(conn, run_id, not failed, actions, error)
            conn.execute(q("unlock"), {"key": LOCK_KEY})
    return MaintainReport(facts.database, facts.edition, dry_run, tuple(actions), tuple(notes), run_id)


def _lock_held_by_a_maintainer(conn: psycopg.Connection[Any], notes: list[str]) -> None:
    """Raise MaintainLocked when a role that may maintain holds the lock; otherwise note the
    holders and go on (any role may take any advisory lock: the app must not stop maintain,
    whose steps serialize on table locks of their own)."""
    with map_errors():
        holders = conn.execute(q("maintain_lock_holders"), {"key": LOCK_KEY}).fetchall()
    if not holders or any(h[2] for h in holders):
        raise MaintainLocked("another ops-db maintain is running on this database; nothing done")
    who = ", ".join(f"{h[1]} (pid {h[0]})" for h in holders)
    notes.append(f"maintain's lock is held by {who}, which may not maintain: ignored")


def _start(conn: psycopg.Connection[Any], edition: str) -> int | None:
    with map_errors():
        found = conn.execute(q("maintenance_runs_exists")).fetchone()
        if not found or not found[0]:
            return None
        row = conn.execute(q("start_maintenance_run"), {"edition": edition, "dry_run": False}).fetchone()
    assert row is not None
    return int(row[0])


def _finish(conn: psycopg.Connection[Any], run_id: int, ok: bool, actions: list[Action], error: str | None) -> None:
    payload = Jsonb([dataclasses.asdict(a) for a in actions])
    with map_errors():
        conn.execute(q("finish_maintenance_run"),
                     {"id": run_id, "succeeded": ok, "actions": payload, "error": error})
