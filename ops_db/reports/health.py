"""`ops-db report health`: the desk health dashboard, one page an operator glances at.

Every health check with its status, figure and threshold (the same run as `ops-db health`);
TimescaleDB's jobs (timescale edition) or the `ops-db maintain` runs (apache); rollup lag;
backups (age, size, how each was verified); database and hypertable sizes; replication when
there are standbys. The page reloads itself every ``refresh`` seconds and is written atomically,
so cron can regenerate it while it is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import psycopg

from ops_db.core import db, settings
from ops_db.ops import backup, rollups, stats
from ops_db.ops.health import HealthReport, run_checks
from ops_db.reports.html import Page, cards, snapshot, status, table


@dataclass(frozen=True)
class ReportDatabase:
    name: str
    bytes: int


@dataclass(frozen=True)
class ReportMaintenanceRun:
    id: int
    started_at: datetime
    finished_at: datetime | None
    dry_run: bool
    succeeded: bool | None
    actions: int
    error: str | None


@dataclass(frozen=True)
class ReportJob:
    job_id: int
    application_name: str
    hypertable_name: str | None
    last_run_status: str | None
    last_run_started_at: datetime | None
    next_start: datetime | None
    total_failures: int | None


@dataclass(frozen=True)
class ReportReplica:
    application_name: str
    client_addr: str | None
    state: str | None
    sync_state: str | None
    replay_lag_seconds: float | None


@dataclass(frozen=True)
class BackupRow:
    file: str
    mode: str
    taken_at: datetime
    bytes: int
    complete: bool
    verified_with: str


@dataclass(frozen=True)
class DeskHealth:
    generated_at: datetime
    checks: HealthReport
    edition: str
    maintenance: list[ReportMaintenanceRun]
    jobs: list[ReportJob]
    rollups: list[rollups.RollupStatus]
    sizes: list[stats.RelationSize]
    database_bytes: int
    replicas: list[ReportReplica]
    backups: list[BackupRow]
    backup_dir: Path


def _backups(directory: Path, database: str) -> list[BackupRow]:
    found = []
    for one in backup.backup_sets(directory, database)[:10]:
        size = one.dump.stat().st_size if one.dump.is_file() else 0
        verified = "—"
        if one.complete:
            try:
                verified = backup.Manifest.load(backup.manifest_path(one.dump)).verified_with
            except Exception:  # a manifest that does not parse: the row says so, the page still renders
                verified = "manifest unreadable"
        found.append(BackupRow(one.dump.name, one.mode, one.taken_at, size, one.complete, verified))
    return found


def collect(conn: psycopg.Connection[Any], url: str | None, *, backup_dir: Path | None = None) -> DeskHealth:
    """Run the health checks (their own bounded connection, as `ops-db health`) and read the rest."""
    checks = run_checks(url)
    directory = backup_dir or settings.backup_dir()
    with snapshot(conn):
        generated_at = db.fetch_value(conn, "report_now")
        edition = db.fetch_value(conn, "report_edition")
        database = db.fetch_one(conn, ReportDatabase, "report_database", missing="no database")
        return DeskHealth(
            generated_at=generated_at,
            checks=checks,
            edition=edition,
            maintenance=db.fetch_all(conn, ReportMaintenanceRun, "report_maintenance_runs"),
            jobs=db.fetch_all(conn, ReportJob, "report_jobs") if edition == "timescale" else [],
            rollups=rollups.rollup_status(conn),
            sizes=stats.relation_sizes(conn),
            database_bytes=database.bytes,
            replicas=db.fetch_all(conn, ReportReplica, "report_replication"),
            backups=_backups(directory, database.name),
            backup_dir=directory,
        )


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _lag(lag: timedelta | None) -> str:
    if lag is None:
        return "never refreshed"
    seconds = int(lag.total_seconds())
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m {seconds % 60:02d}s"


def render(found: DeskHealth, *, refresh: int | None = 60) -> str:
    report = found.checks
    when = found.generated_at.astimezone(UTC)
    page = Page("Desk health", f"{report.database} ({found.edition} edition); generated {when:%Y-%m-%d %H:%M:%S} UTC",
                refresh_seconds=refresh)
    counts = {s: sum(1 for r in report.results if r.status.name == s) for s in ("OK", "WARNING", "CRITICAL", "UNKNOWN")}
    overall = report.status.name
    page.section("overall", "Overall",
                 f'<p data-overall="{overall}">status: {status(overall)} '
                 f"({len(report.results)} checks in {report.seconds:.1f} s)</p>",
                 cards([(name.lower(), n) for name, n in counts.items()]
                       + [("database size", _bytes(found.database_bytes))]))
    page.section("checks", "Health checks", table(
        ["check", "status", "figure", "threshold", "detail"],
        [[r.name, status(r.status.name), r.value, r.threshold.describe() if r.threshold else "—", r.summary]
         for r in report.results], empty="no checks ran", name="checks"))
    if found.edition == "timescale":
        page.section("jobs", "TimescaleDB jobs", table(
            ["job", "application", "hypertable", "last run", "started", "next start", "failures"],
            [[j.job_id, j.application_name, j.hypertable_name, j.last_run_status, j.last_run_started_at,
              j.next_start, j.total_failures] for j in found.jobs], empty="no jobs", name="jobs"))
    page.section("maintain", "ops-db maintain runs", table(
        ["run", "started", "finished", "dry run", "outcome", "actions", "error"],
        [[m.id, m.started_at, m.finished_at, "yes" if m.dry_run else "no",
          "running" if m.succeeded is None else "succeeded" if m.succeeded else "failed", m.actions, m.error]
         for m in found.maintenance], empty="maintain has not run on this database", name="maintain"))
    page.section("rollups", "Rollup lag", table(
        ["rollup", "kind", "refreshed through", "lag"],
        [[r.name, r.kind, r.refreshed_through, _lag(r.lag)] for r in found.rollups],
        empty="no rollups", name="rollups"))
    page.section("backups", "Backups", f"<p>in {escape(str(found.backup_dir))}</p>", table(
        ["file", "mode", "taken", "size", "complete", "verified with"],
        [[b.file, b.mode, b.taken_at, _bytes(b.bytes), "yes" if b.complete else "no", b.verified_with]
         for b in found.backups], empty="no backups found in BACKUP_DIR", name="backups"))
    page.section("sizes", "Database and hypertable sizes", table(
        ["relation", "kind", "size", "chunks", "rows (estimated)"],
        [[f"{s.schema_name}.{s.relation_name}", s.kind, _bytes(s.total_bytes), s.chunks, s.estimated_rows]
         for s in found.sizes], empty="no relations", name="sizes"))
    page.section("replication", "Replication", table(
        ["standby", "address", "state", "sync", "replay lag (s)"],
        [[r.application_name, r.client_addr, r.state, r.sync_state, r.replay_lag_seconds] for r in found.replicas],
        empty="no standbys stream from this server", name="replication"))
    return page.render()
