"""`ops-db health`: Nagios-style checks, each OK / WARNING / CRITICAL with its figure and threshold.

Every threshold has a default and an environment variable, ``OPS_DB_HEALTH_<CHECK>_WARN``
and ``..._CRIT`` (durations accept s/m/h/d, sizes K/M/G/T). A check that cannot run is
UNKNOWN with its reason; the overall status is the worst (CRITICAL > WARNING > UNKNOWN > OK).
"""

from __future__ import annotations

import enum
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import class_row

from ops_db import db, settings
from ops_db.errors import OpsDbError
from ops_db.ops.backup import default_backup_dir, newest_complete_backup
from ops_db.queries import q


class Status(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def severity(self) -> int:
        """Order for "worst": UNKNOWN ranks between OK and WARNING."""
        return {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}[self]


@dataclass(frozen=True)
class Threshold:
    warn: float
    crit: float
    unit: str  # ms | s | % | count | bytes

    def grade(self, value: float) -> Status:
        if value >= self.crit:
            return Status.CRITICAL
        if value >= self.warn:
            return Status.WARNING
        return Status.OK

    def describe(self) -> str:
        return f"warn {fmt(self.warn, self.unit)}, crit {fmt(self.crit, self.unit)}"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    summary: str
    value: float | None = None
    threshold: Threshold | None = None

    @property
    def line(self) -> str:
        limits = f" ({self.threshold.describe()})" if self.threshold else ""
        return f"{self.summary}{limits}"


# Defaults: (warn, crit, unit). Units are those the output shows; env values may use suffixes.
DEFAULTS: dict[str, tuple[float, float, str]] = {
    "connection": (200, 1000, "ms"),
    "job_failures": (1, 3, "count"),
    "jobs_overdue": (1, 5, "count"),
    "maintain_age": (3600, 6 * 3600, "s"),
    "rollup_lag": (26 * 3600, 50 * 3600, "s"),
    "compression": (1, 20, "count"),
    "connections": (80, 95, "%"),
    "long_queries": (300, 1800, "s"),
    "idle_in_transaction": (300, 1800, "s"),
    "replication": (60, 600, "s"),
    "wraparound": (1_000_000_000, 1_500_000_000, "count"),
    "dead_tuples": (20, 50, "%"),
    "database_size": (200 * 2**30, 400 * 2**30, "bytes"),
    "backup_age": (26 * 3600, 50 * 3600, "s"),
}
CHECK_NAMES = (
    "connection", "migrations", "extension", "scheduler", "job_failures", "jobs_overdue", "maintain_age",
    "rollup_lag", "compression", "connections", "long_queries", "idle_in_transaction", "replication",
    "wraparound", "dead_tuples", "database_size", "backup_age",
)
_SUFFIX = {"s": 1, "m": 60, "h": 3600, "d": 86400, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdKMGT]?)[iB]*\s*$")


def threshold(name: str) -> Threshold:
    warn, crit, unit = DEFAULTS[name]
    return Threshold(_env_number(f"OPS_DB_HEALTH_{name.upper()}_WARN", warn),
                     _env_number(f"OPS_DB_HEALTH_{name.upper()}_CRIT", crit), unit)


def _env_number(var: str, default: float) -> float:
    raw = os.environ.get(var)
    if not raw:
        return default
    m = _NUMBER.match(raw)
    if not m:
        raise OpsDbError(f"{var}={raw!r} is not a number (suffixes: s m h d for time, K M G T for sizes)")
    return float(m[1]) * _SUFFIX.get(m[2], 1)


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        for size, label in ((86400, "d"), (3600, "h"), (60, "min")):
            if value >= size:
                return f"{value / size:.1f} {label}"
        return f"{value:.0f} s"
    if unit == "bytes":
        for size, label in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= size:
                return f"{value / size:.1f} {label}"
        return f"{value:.0f} B"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "%":
        return f"{value:.1f}%"
    return f"{value:,.0f}"


# -- the checks ---------------------------------------------------------------------------
@dataclass
class Context:
    conn: psycopg.Connection[Any]
    conninfo: str
    edition: str
    backup_dir: Path


def _graded(name: str, value: float, text: str) -> CheckResult:
    th = threshold(name)
    return CheckResult(name, th.grade(value), text, value, th)


def check_connection(ctx: Context) -> CheckResult:
    started = time.perf_counter()
    ctx.conn.execute(q("health_ping")).fetchone()
    ms = (time.perf_counter() - started) * 1000
    return _graded("connection", ms, f"round trip {fmt(ms, 'ms')}")


def check_migrations(ctx: Context) -> CheckResult:
    from ops_db.migrations import Runner

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


@dataclass(frozen=True)
class JobState:
    job_id: int
    application_name: str
    proc: str
    target: str
    schedule_interval: timedelta
    last_run_started_at: datetime | None
    last_run_status: str | None
    next_start: datetime | None
    total_failures: int
    last_error: str | None

    @property
    def label(self) -> str:
        return f"{self.job_id} {self.proc.split('.')[-1]}" + (f" on {self.target}" if self.target else "")

    def overdue(self, now: datetime, grace: timedelta) -> bool:
        if self.next_start is None:
            return self.last_run_started_at is None  # never ran although scheduled
        return self.next_start < now - grace


def job_states(conn: psycopg.Connection[Any]) -> list[JobState]:
    with conn.cursor(row_factory=class_row(JobState)) as cur:
        return cur.execute(q("job_states")).fetchall()


def job_grace() -> timedelta:
    return timedelta(seconds=_env_number("OPS_DB_JOB_OVERDUE_GRACE", 300))


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
    try:
        from ops_db import rollups  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return CheckResult("rollup_lag", Status.OK, "no rollups defined (ops_db.rollups not installed)")
    rollup_status = getattr(rollups, "rollup_status", None)
    if rollup_status is None:
        return CheckResult("rollup_lag", Status.UNKNOWN, "ops_db.rollups has no rollup_status() yet")
    statuses = rollup_status(ctx.conn)
    lagging = [(s.lag.total_seconds(), s.name) for s in statuses if s.lag is not None]
    never = [s.name for s in statuses if s.refreshed_through is None]
    if not lagging:
        text = f"{len(statuses)} rollup(s), none refreshed yet" if statuses else "no rollups"
        return CheckResult("rollup_lag", Status.OK, text, 0, threshold("rollup_lag"))
    worst, name = max(lagging)
    text = f"worst lag {fmt(worst, 's')} ({name}) of {len(statuses)} rollup(s)"
    if never:
        text += f"; not refreshed yet: {', '.join(never[:5])}"
    return _graded("rollup_lag", worst, text)


def check_compression(ctx: Context) -> CheckResult:
    if ctx.edition != "timescale":
        return CheckResult("compression", Status.OK, "compression is unavailable on the apache edition")
    grace = timedelta(seconds=_env_number("OPS_DB_HEALTH_COMPRESSION_GRACE", 86400))
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
    seconds = float(lag or 0.0)
    who = "this replica's replay lag" if in_recovery else f"worst replay lag of {replicas} replica(s)"
    return _graded("replication", seconds, f"{who} {fmt(seconds, 's')}")


def check_wraparound(ctx: Context) -> CheckResult:
    row = ctx.conn.execute(q("wraparound_age")).fetchone()
    assert row is not None
    age = float(row[0] or 0)
    return _graded("wraparound", age, f"oldest unfrozen transaction ID age {age:,.0f} (database {row[1]})")


def check_dead_tuples(ctx: Context) -> CheckResult:
    min_rows = int(_env_number("OPS_DB_HEALTH_DEAD_TUPLES_MIN_ROWS", 10_000))
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


CHECKS: dict[str, Callable[[Context], CheckResult]] = {
    "connection": check_connection,
    "migrations": check_migrations,
    "extension": check_extension,
    "scheduler": check_scheduler,
    "job_failures": check_job_failures,
    "jobs_overdue": check_jobs_overdue,
    "maintain_age": check_maintain_age,
    "rollup_lag": check_rollup_lag,
    "compression": check_compression,
    "connections": check_connections,
    "long_queries": check_long_queries,
    "idle_in_transaction": check_idle_in_transaction,
    "replication": check_replication,
    "wraparound": check_wraparound,
    "dead_tuples": check_dead_tuples,
    "database_size": check_database_size,
    "backup_age": check_backup_age,
}
TIMESCALE_ONLY = {"scheduler", "job_failures", "jobs_overdue"}
APACHE_ONLY = {"maintain_age"}


@dataclass(frozen=True)
class HealthReport:
    database: str
    edition: str
    results: tuple[CheckResult, ...]

    @property
    def status(self) -> Status:
        return max((r.status for r in self.results), key=lambda s: s.severity, default=Status.UNKNOWN)


def run_checks(explicit_url: str | None, only: set[str] | None = None, skip: set[str] | None = None) -> HealthReport:
    """Every applicable check; never raises for a check's failure (that is UNKNOWN or CRITICAL)."""
    wanted = set(only or CHECK_NAMES) - set(skip or ())
    unknown = wanted - set(CHECK_NAMES)
    if unknown:
        raise OpsDbError(f"unknown check(s) {', '.join(sorted(unknown))}; known: {', '.join(CHECK_NAMES)}")
    try:
        source = settings.resolve(explicit_url)
    except OpsDbError as exc:
        return HealthReport("?", "?", (CheckResult("connection", Status.UNKNOWN, str(exc)),))
    started = time.perf_counter()
    try:
        conn = db.connect(source.conninfo, autocommit=True)
    except OpsDbError as exc:  # down: one line, no traceback (libpq's text never holds the password)
        return HealthReport("?", "?", (CheckResult("connection", Status.CRITICAL, " ".join(str(exc).split())),))
    with conn:
        connect_ms = (time.perf_counter() - started) * 1000
        try:
            row = conn.execute(q("server_facts")).fetchone()
        except psycopg.Error as exc:  # e.g. the connection dropped right away
            reason = " ".join(str(exc).split()) or type(exc).__name__
            return HealthReport("?", "?", (CheckResult("connection", Status.CRITICAL, reason),))
        assert row is not None
        edition, database = str(row[2]), str(row[3])
        ctx = Context(conn, source.conninfo, edition, default_backup_dir())
        results = []
        for name in CHECK_NAMES:
            if name not in wanted or (name in TIMESCALE_ONLY and edition != "timescale"):
                continue
            if name in APACHE_ONLY and edition != "apache":
                continue
            results.append(_run_one(name, ctx, connect_ms))
    return HealthReport(database, edition, tuple(results))


def _run_one(name: str, ctx: Context, connect_ms: float) -> CheckResult:
    try:
        result = CHECKS[name](ctx)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CheckResult(name, Status.UNKNOWN, f"check failed: {reason}")
    if name == "connection":
        return CheckResult(name, result.status, f"connected in {connect_ms:.1f} ms, {result.summary}",
                           result.value, result.threshold)
    return result


# -- output ------------------------------------------------------------------------------
def as_text(report: HealthReport) -> str:
    counts = {s: sum(1 for r in report.results if r.status == s) for s in Status}
    parts = [f"{n} {s.name.lower()}" for s, n in counts.items() if n]
    if len(report.results) == 1 and report.results[0].name == "connection" and report.status != Status.OK:
        return f"OPS-DB {report.status.name}: {report.results[0].line}"
    lines = [f"OPS-DB {report.status.name}: {report.database} ({report.edition} edition): {', '.join(parts)}"]
    lines += [f"{r.status.name:<9}{r.name:<21}{r.line}" for r in report.results]
    return "\n".join(lines)


def as_json(report: HealthReport) -> dict[str, Any]:
    return {
        "status": report.status.name,
        "exit_code": int(report.status),
        "database": report.database,
        "edition": report.edition,
        "checks": [
            {
                "name": r.name,
                "status": r.status.name,
                "summary": r.summary,
                "value": r.value,
                "unit": r.threshold.unit if r.threshold else None,
                "warn": r.threshold.warn if r.threshold else None,
                "crit": r.threshold.crit if r.threshold else None,
            }
            for r in report.results
        ],
    }


_UNIT_SCALE = {"ms": (0.001, "seconds"), "s": (1.0, "seconds"), "%": (0.01, "ratio"),
               "bytes": (1.0, "bytes"), "count": (1.0, "count")}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def as_openmetrics(report: HealthReport) -> str:
    """OpenMetrics text: per-check status, figure and thresholds in base units, then # EOF."""
    db_label = f'database="{_label(report.database)}"'
    out = [
        "# TYPE ops_db_health_status gauge",
        "# HELP ops_db_health_status Overall status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
        f"ops_db_health_status{{{db_label}}} {int(report.status)}",
        "# TYPE ops_db_health_check_status gauge",
        "# HELP ops_db_health_check_status Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    ]
    out += [f'ops_db_health_check_status{{{db_label},check="{r.name}"}} {int(r.status)}' for r in report.results]
    picks: tuple[tuple[str, Callable[[CheckResult], float | None], str], ...] = (
        ("value", lambda r: r.value, "The figure the check measured, in base units (see unit label)."),
        ("warn_threshold", lambda r: r.threshold.warn if r.threshold else None, "The WARNING threshold."),
        ("crit_threshold", lambda r: r.threshold.crit if r.threshold else None, "The CRITICAL threshold."),
    )
    for metric, pick, help_text in picks:
        out += [f"# TYPE ops_db_health_check_{metric} gauge", f"# HELP ops_db_health_check_{metric} {help_text}"]
        for r in report.results:
            raw = pick(r)
            if raw is None or r.threshold is None:
                continue
            scale, unit = _UNIT_SCALE[r.threshold.unit]
            out.append(f'ops_db_health_check_{metric}{{{db_label},check="{r.name}",unit="{unit}"}} {raw * scale:g}')
    out.append("# EOF")
    return "\n".join(out) + "\n"
