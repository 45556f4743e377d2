"""The health checks: each takes a Context and returns one CheckResult.

Each runs in its own transaction under the statement and lock timeouts the runner sets;
a check that times out is reported by the runner, with what blocked it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import class_row

from ops_db.core import settings
from ops_db.core.queries import q
from ops_db.ops import rollups
from ops_db.ops.backup import newest_complete_backup
from ops_db.ops.health.model import CheckResult, Figure, Status, threshold, worst
from ops_db.ops.jobs import job_grace, job_states
from ops_db.ops.migrations import Runner
from ops_db.ops.units import fmt


# -- the checks ---------------------------------------------------------------------------
@dataclass
class Context:
    conn: psycopg.Connection[Any]
    conninfo: str  # for checks that open their own connection: carries the current timeouts
    edition: str
    backup_dir: Path
    own_pids: list[int] = field(default_factory=list)  # this run's sessions, left out of session checks
    budget: float = 3.0  # seconds this check may take (checks that run a command bound it by this)


def _graded(name: str, value: float, text: str) -> CheckResult:
    th = threshold(name)
    return CheckResult(name, th.grade(value), text, value, th)


def check_connection(ctx: Context) -> CheckResult:
    started = time.perf_counter()
    ctx.conn.execute(q("health_ping")).fetchone()
    ms = (time.perf_counter() - started) * 1000
    return _graded("connection", ms, f"round trip {fmt(ms, 'ms')}")


def check_migrations(ctx: Context) -> CheckResult:
    problems = Runner(ctx.conninfo).verify()
    if not problems:
        return CheckResult("migrations", Status.OK, "all migrations applied and unchanged", 0)
    pending = [p for p in problems if p.endswith(": pending")]
    status = Status.WARNING if len(pending) == len(problems) else Status.CRITICAL
    return CheckResult("migrations", status, f"{len(problems)} problem(s): " + "; ".join(problems[:5]), len(problems))


@dataclass(frozen=True)
class ExtensionState:
    installed_version: str | None
    available_version: str | None
    edition: str


def check_extension(ctx: Context) -> CheckResult:
    with ctx.conn.cursor(row_factory=class_row(ExtensionState)) as cur:
        st = cur.execute(q("extension_state")).fetchone()
    assert st is not None
    if st.installed_version is None:
        return CheckResult("extension", Status.CRITICAL, "TimescaleDB is not installed in this database")
    text = f"TimescaleDB {st.installed_version}, {st.edition} edition"
    if st.available_version and st.available_version != st.installed_version:
        return CheckResult("extension", Status.WARNING, f"{text}; the server has {st.available_version}: "
                           "run ALTER EXTENSION timescaledb UPDATE")
    return CheckResult("extension", Status.OK, text)


def check_scheduler(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("scheduler_running")).fetchone()
    assert row is not None
    max_workers, running = int(row[0]), bool(row[1])
    if running:
        return CheckResult("scheduler", Status.OK, "TimescaleDB job scheduler running on this database")
    jobs = len(job_states(ctx.conn))
    status = Status.CRITICAL if jobs else Status.OK
    return CheckResult("scheduler", status, f"no TimescaleDB job scheduler on this database "
                       f"(timescaledb.max_background_workers = {max_workers}); {jobs} scheduled job(s) wait: "
                       "fix the server setting, or run ops-db maintain from cron", jobs)


def check_job_failures(ctx: Context) -> CheckResult:
    failed = [j for j in job_states(ctx.conn) if j.last_run_status == "Failed"]
    text = f"{len(failed)} job(s) whose last scheduled run failed"
    if failed:
        text += ": " + "; ".join(f"{j.label}: {j.last_error or 'no message'}" for j in failed[:5])
    return _graded("job_failures", len(failed), text)


def check_jobs_overdue(ctx: Context) -> CheckResult:
    now = datetime.now(UTC)
    late = [j for j in job_states(ctx.conn) if j.overdue(now, job_grace())]
    text = f"{len(late)} job(s) overdue by more than {fmt(job_grace().total_seconds(), 's')}"
    if late:
        text += ": " + ", ".join(j.label for j in late[:5])
    return _graded("jobs_overdue", len(late), text)


def check_maintain_age(ctx: Context) -> CheckResult:
    found = ctx.conn.execute(q("maintenance_runs_exists")).fetchone()
    if not found or not found[0]:
        return CheckResult("maintain_age", Status.UNKNOWN, "ops_internal.maintenance_runs missing: run ops-db migrate")
    row = ctx.conn.execute(q("last_maintenance_run")).fetchone()
    th = threshold("maintain_age")
    if row is None or row[0] is None:
        return CheckResult("maintain_age", Status.WARNING, "ops-db maintain has never run successfully "
                           "(apache edition: schedule it from cron)", None, th)
    age = row[1].total_seconds()
    return CheckResult("maintain_age", th.grade(age), f"last successful ops-db maintain {fmt(age, 's')} ago", age, th)


def check_rollup_lag(ctx: Context) -> CheckResult:
    statuses = rollups.rollup_status(ctx.conn)
    lagging = [(s.lag.total_seconds(), s.name) for s in statuses if s.lag is not None]
    never = [s.name for s in statuses if s.refreshed_through is None]
    if not lagging:
        text = f"{len(statuses)} rollup(s), none refreshed yet" if statuses else "no rollups"
        return CheckResult("rollup_lag", Status.OK, text, 0, threshold("rollup_lag"))
    lag, name = max(lagging)
    text = f"worst lag {fmt(lag, 's')} ({name}) of {len(statuses)} rollup(s)"
    if never:
        text += f"; not refreshed yet: {', '.join(never[:5])}"
    return _graded("rollup_lag", lag, text)


def check_compression(ctx: Context) -> CheckResult:
    if ctx.edition != "timescale":
        return CheckResult("compression", Status.OK, "compression is unavailable on the apache edition")
    grace = timedelta(seconds=settings.env_quantity("OPS_DB_HEALTH_COMPRESSION_GRACE", 86400))
    row = ctx.conn.execute(q("uncompressed_old_chunks"), {"grace": grace}).fetchone()
    assert row is not None
    n, where = int(row[0]), str(row[1])
    text = f"{n} chunk(s) past their compression age (+{fmt(grace.total_seconds(), 's')}) still uncompressed"
    return _graded("compression", n, text + (f" in {where}" if n else ""))


def check_connections(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("connection_usage")).fetchone()
    assert row is not None
    used, available = int(row[0]), max(int(row[1]), 1)
    pct = 100.0 * used / available
    return _graded("connections", pct, f"{used} of {available} connections in use ({pct:.0f}%)")


def check_long_queries(ctx: Context) -> CheckResult:
    th = threshold("long_queries")
    row = ctx.conn.execute(q("longest_query"), {"threshold": timedelta(seconds=th.warn)}).fetchone()
    assert row is not None
    seconds, over, who = float(row[0]), int(row[1]), str(row[2])
    text = f"longest running statement {fmt(seconds, 's')}" + (f" ({who}); {over} over warn" if over else "")
    return CheckResult("long_queries", th.grade(seconds), text, seconds, th)


def check_idle_in_transaction(ctx: Context) -> CheckResult:
    th = threshold("idle_in_transaction")
    row = ctx.conn.execute(q("longest_idle_in_transaction"), {"threshold": timedelta(seconds=th.warn)}).fetchone()
    assert row is not None
    seconds, over, who = float(row[0]), int(row[1]), str(row[2])
    text = f"longest idle-in-transaction session {fmt(seconds, 's')}" + (f" ({who}); {over} over warn" if over else "")
    return CheckResult("idle_in_transaction", th.grade(seconds), text, seconds, th)


def check_replication(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("replication_lag")).fetchone()
    assert row is not None
    in_recovery, replicas, lag = bool(row[0]), int(row[1]), row[2]
    if not in_recovery and replicas == 0:
        return CheckResult("replication", Status.OK, "no replicas")
    if not in_recovery:
        seconds = float(lag or 0.0)
        return _graded("replication", seconds, f"worst replay lag of {replicas} replica(s) {fmt(seconds, 's')}")
    own = ctx.conn.execute(q("standby_lag")).fetchone()
    if own is None or own[0] is None:  # not (streaming and caught up), and no commit replayed since it started
        return CheckResult("replication", Status.WARNING, "this replica has replayed no transaction since it "
                           "started and is not caught up with its primary (catching up, or not streaming)",
                           None, threshold("replication"))
    seconds = float(own[0])
    return _graded("replication", seconds, f"this replica's replay lag {fmt(seconds, 's')}"
                   + ("" if seconds else " (streaming, all received replayed)"))


def check_wraparound(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("wraparound_age")).fetchone()
    assert row is not None
    age = float(row[0] or 0)
    return _graded("wraparound", age, f"oldest unfrozen transaction ID age {age:,.0f} (database {row[1]})")


def check_dead_tuples(ctx: Context) -> CheckResult:
    min_rows = int(settings.env_quantity("OPS_DB_HEALTH_DEAD_TUPLES_MIN_ROWS", 10_000))
    row = ctx.conn.execute(q("worst_dead_tuples"), {"min_rows": min_rows}).fetchone()
    if row is None:
        return CheckResult("dead_tuples", Status.OK, f"no table with {min_rows:,}+ rows", 0, threshold("dead_tuples"))
    pct = 100.0 * float(row[3])
    return _graded("dead_tuples", pct, f"worst {row[0]}: {int(row[1]):,} dead of {int(row[1]) + int(row[2]):,} "
                   f"tuples ({pct:.1f}%)")


def check_database_size(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("database_size")).fetchone()
    assert row is not None
    size = float(row[0])
    return _graded("database_size", size, f"database {row[1]} is {fmt(size, 'bytes')}")


def check_backup_age(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("database_size")).fetchone()
    assert row is not None
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(row[1]))
    newest = newest_complete_backup(ctx.backup_dir, name)
    th = threshold("backup_age")
    if newest is None:
        return CheckResult("backup_age", Status.CRITICAL, f"no complete full backup of {row[1]} in {ctx.backup_dir} "
                           "(BACKUP_DIR)", None, th)
    age = (datetime.now(UTC) - newest.taken_at).total_seconds()
    return CheckResult("backup_age", th.grade(age), f"newest good backup {newest.dump.name}, {fmt(age, 's')} old",
                       age, th)


# The triggers the order workflow and the audit trail rest on; any disabled trigger on their
# tables is CRITICAL (the match is by table: a renamed or added trigger counts the same).
LEDGER_TABLES = ("trading.staged_orders", "trading.order_events", "trading.executions")
LEDGER_TRIGGERS = ("staged_orders_guard", "staged_orders_audit", "order_events_append_only", "executions_apply_fill")


@dataclass(frozen=True)
class DisabledTrigger:
    table_name: str  # the trading table (for a chunk: its hypertable)
    relation: str  # the relation the trigger is on (the table itself, or a chunk)
    trigger_name: str
    enabled: str  # pg_trigger.tgenabled: D disabled, R replica only

    @property
    def label(self) -> str:
        where = self.table_name if self.relation == self.table_name else f"{self.table_name} (chunk {self.relation})"
        state = "disabled" if self.enabled == "D" else "fires on replicas only"
        return f"{self.trigger_name} on {where} {state}"


def check_triggers_disabled(ctx: Context) -> CheckResult:
    with ctx.conn.cursor(row_factory=class_row(DisabledTrigger)) as cur:
        found = cur.execute(q("health_disabled_triggers")).fetchall()
    th = threshold("triggers_disabled")
    ledger = [t for t in found if t.table_name in LEDGER_TABLES or t.trigger_name in LEDGER_TRIGGERS]
    status = th.grade(len(found))
    if found:
        status = worst(status, Status.WARNING)  # any disabled user trigger on a trading table
    if ledger:
        status = Status.CRITICAL
    text = f"{len(found)} disabled trigger(s) on trading tables"
    if ledger:
        text += f", {len(ledger)} guarding orders, fills or the audit trail"
    if found:
        shown = ledger + [t for t in found if t not in ledger]
        text += ": " + "; ".join(t.label for t in shown[:6]) + ("; ..." if len(shown) > 6 else "")
    return CheckResult("triggers_disabled", status, text, len(found), th)


def check_lock_waits(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("health_lock_waits"), {"own": ctx.own_pids}).fetchone()
    assert row is not None
    waiting, seconds, who = int(row[0]), float(row[1]), str(row[2] or "")
    th = threshold("lock_waits")
    text = f"{waiting} session(s) waiting on locks"
    if waiting:
        text += f", longest {fmt(seconds, 's')} ({who})"
    return CheckResult("lock_waits", th.grade(seconds), text, seconds, th,
                       (Figure("lock_waiting_sessions", waiting, "count"),))


def check_long_transaction(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("health_longest_transaction"), {"own": ctx.own_pids}).fetchone()
    seconds, who = (float(row[0]), str(row[1] or "")) if row else (0.0, "")
    th = threshold("long_transaction")
    text = f"longest open transaction {fmt(seconds, 's')} ({who})" if who else "no other open transaction"
    return CheckResult("long_transaction", th.grade(seconds), text, seconds, th)


def check_prepared_transactions(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("health_prepared_transactions")).fetchone()
    assert row is not None
    count, seconds, gid, allowed = int(row[0]), float(row[1]), str(row[2] or ""), int(row[3])
    th = threshold("prepared_transactions")
    if count == 0:
        text = "no prepared transactions" + ("" if allowed else " (max_prepared_transactions = 0)")
    else:
        text = (f"{count} prepared transaction(s), oldest {fmt(seconds, 's')} ({gid}): "
                "COMMIT PREPARED or ROLLBACK PREPARED it")
    return CheckResult("prepared_transactions", th.grade(seconds), text, seconds, th,
                       (Figure("prepared_transactions", count, "count"),))


def check_replication_slots(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("health_replication_slots")).fetchone()
    assert row is not None
    slots, inactive, retained, lost, names = int(row[0]), int(row[1]), float(row[2]), int(row[3]), str(row[4] or "")
    th = threshold("replication_slots")
    figures = (Figure("replication_slots_inactive", inactive, "count"), Figure("replication_slots", slots, "count"))
    if slots == 0:
        return CheckResult("replication_slots", Status.OK, "no replication slots", 0, th, figures)
    status = th.grade(retained)
    if inactive:
        status = worst(status, Status.WARNING)  # an inactive slot keeps WAL until it is dropped
    if lost:
        status = Status.CRITICAL
    text = f"{slots} slot(s), {inactive} inactive, most WAL retained {fmt(retained, 'bytes')}"
    if lost:
        text += f", {lost} lost their WAL"
    if names:
        text += f" (inactive: {names})"
    return CheckResult("replication_slots", status, text, retained, th, figures)


def check_wal_archiver(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("health_wal_archiver")).fetchone()
    assert row is not None
    mode, failed, last_failed_at, last_failed_wal, last_archived_at, failing = row
    th = threshold("wal_archiver")
    total = Figure("wal_archive_failures_since_reset", int(failed), "count")
    if mode == "off":
        return CheckResult("wal_archiver", Status.OK, "WAL archiving is off (archive_mode = off)", 0, th, (total,))
    since = int(failed) if failing else 0
    if failing:
        text = (f"archiving is failing: {failed} failure(s) since the statistics reset, last at "
                f"{last_failed_at:%Y-%m-%d %H:%M:%S %Z} ({last_failed_wal}); last success "
                + (f"{last_archived_at:%Y-%m-%d %H:%M:%S %Z}" if last_archived_at else "never"))
        status = worst(th.grade(since), Status.WARNING)
    else:
        text = "archiving works" + (f", last WAL archived {last_archived_at:%Y-%m-%d %H:%M:%S %Z}"
                                    if last_archived_at else ", nothing archived yet")
        status = Status.OK
    return CheckResult("wal_archiver", status, text, since, th, (total,))


def check_sequences(ctx: Context) -> CheckResult:
    rows = ctx.conn.execute(q("health_sequence_usage")).fetchall()
    th = threshold("sequences")
    if not rows:
        return CheckResult("sequences", Status.OK, "no sequences in trading or ops_internal", 0, th)
    pct, name = float(rows[0][1]), str(rows[0][0])
    over = [f"{r[0]} {float(r[1]):.1f}%" for r in rows if float(r[1]) >= th.warn]
    text = f"most used of {len(rows)} sequence(s): {name} at {pct:.2f}% of its range"
    if over:
        text += "; over warn: " + ", ".join(over[:5])
    return CheckResult("sequences", th.grade(pct), text, pct, th)


def check_invalid_indexes(ctx: Context) -> CheckResult:
    rows = ctx.conn.execute(q("health_invalid_indexes")).fetchall()
    th = threshold("invalid_indexes")
    text = f"{len(rows)} invalid index(es)"
    if rows:
        text += " (a failed CREATE INDEX CONCURRENTLY or REINDEX; drop and rebuild): " + ", ".join(
            f"{r[0]} on {r[1]}" for r in rows[:5])
    return CheckResult("invalid_indexes", th.grade(len(rows)), text, len(rows), th)


def check_pgbackrest(ctx: Context) -> CheckResult:
    """The newest pgBackRest backup's age and the stanza's state (PGBACKREST_CONFIG, PITR_STANZA);
    archive failures are the wal_archiver check's."""
    config = settings.pgbackrest_config()
    if config is None:
        return CheckResult("pgbackrest", Status.OK, "not configured (PGBACKREST_CONFIG)")
    from ops_db.ops.pitr import backup_health  # pitr builds on the health model: imported when used

    return backup_health(config, settings.pitr_stanza(), timeout=ctx.budget).result


CHECKS: dict[str, Callable[[Context], CheckResult]] = {
    "connection": check_connection,
    "migrations": check_migrations,
    "extension": check_extension,
    "triggers_disabled": check_triggers_disabled,
    "scheduler": check_scheduler,
    "job_failures": check_job_failures,
    "jobs_overdue": check_jobs_overdue,
    "maintain_age": check_maintain_age,
    "rollup_lag": check_rollup_lag,
    "compression": check_compression,
    "connections": check_connections,
    "lock_waits": check_lock_waits,
    "long_queries": check_long_queries,
    "idle_in_transaction": check_idle_in_transaction,
    "long_transaction": check_long_transaction,
    "prepared_transactions": check_prepared_transactions,
    "replication": check_replication,
    "replication_slots": check_replication_slots,
    "wal_archiver": check_wal_archiver,
    "wraparound": check_wraparound,
    "sequences": check_sequences,
    "invalid_indexes": check_invalid_indexes,
    "dead_tuples": check_dead_tuples,
    "database_size": check_database_size,
    "backup_age": check_backup_age,
    "pgbackrest": check_pgbackrest,
}
CHECK_NAMES = tuple(CHECKS)
TIMESCALE_ONLY = {"scheduler", "job_failures", "jobs_overdue"}
APACHE_ONLY = {"maintain_age"}
