"""The three forms of a health report: Nagios text with perfdata, JSON, OpenMetrics."""

from __future__ import annotations

import math
import re
from typing import Any

from ops_db.ops.health.model import CheckResult, Figure, HealthReport, Status, Threshold

# -- numbers ----------------------------------------------------------------------------
# Base units for machines: seconds, bytes, ratios; counts as they are.
_SCALE = {"ms": 0.001, "s": 1.0, "%": 0.01, "bytes": 1.0, "count": 1.0}


def number(value: float) -> str:
    """Exact text of a figure: integers as integers (429496729600, never 4.29497e+11)."""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    text = repr(float(f"{value:.12g}"))  # drops the noise of unit scaling (0.123 not 0.12300000000000001)
    if "e" in text:  # plain decimals read everywhere (Nagios has no exponent)
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text


def base(value: float, unit: str) -> float:
    scale = _SCALE.get(unit, 1.0)
    return value if scale == 1.0 else float(f"{value * scale:.12g}")


# -- Nagios -----------------------------------------------------------------------------
_PERF_UOM = {"ms": "ms", "s": "s", "%": "%", "bytes": "B", "count": ""}
_PLAIN_LABEL = re.compile(r"^[A-Za-z0-9_.-]+$")


def _perf_label(name: str) -> str:
    if _PLAIN_LABEL.match(name):
        return name
    return "'" + name.replace("'", "''").replace("=", "_") + "'"


def _perf(name: str, value: float, unit: str, th: Threshold | None) -> str:
    uom = _PERF_UOM.get(unit, "")
    limits = [number(th.warn), number(th.crit)] if th else ["", ""]
    low = "0"
    high = "100" if unit == "%" else ""
    return f"{_perf_label(name)}={number(value)}{uom};{';'.join(limits)};{low};{high}".rstrip(";")


def perfdata(report: HealthReport) -> str:
    """``label=value[UOM];warn;crit;min;max`` for every figure (Nagios plugin guidelines)."""
    parts = []
    used: set[str] = set()

    def label(name: str, unit: str) -> str:
        # A label names one series: a check's extra figure named like the check gets its unit.
        if name in used:
            name = f"{name}_{unit if unit.isalpha() else 'value'}"
        used.add(name)
        return name

    for r in report.results:
        if r.value is not None and r.threshold is not None:
            parts.append(_perf(label(r.name, r.threshold.unit), r.value, r.threshold.unit, r.threshold))
        parts += [_perf(label(f.name, f.unit), f.value, f.unit, None) for f in r.figures]
    return " ".join(parts)


def status_line(report: HealthReport) -> str:
    """``OPS-DB CRITICAL: triggers_disabled, lock_waits; 2 WARNING - db (edition)``: the worst checks by name."""
    status = report.status
    if len(report.results) == 1 and report.results[0].name == "connection" and status != Status.OK:
        return f"OPS-DB {status.name}: {report.results[0].line}"
    worst = [r.name for r in report.results if r.status == status]
    others = [(s, sum(1 for r in report.results if r.status == s)) for s in sorted(Status, key=lambda s: -s.severity)
              if s != status]
    rest = "; ".join(f"{n} {s.name}" for s, n in others if n)
    head = f"{len(worst)} checks OK" if status == Status.OK else ", ".join(worst)
    if rest:
        head += f"; {rest}"
    return f"OPS-DB {status.name}: {head} - {report.database} ({report.edition} edition)"


def as_text(report: HealthReport) -> str:
    perf = perfdata(report)
    lines = [status_line(report) + (f" | {perf}" if perf else "")]
    if not (len(report.results) == 1 and report.results[0].name == "connection" and report.status != Status.OK):
        lines += [f"{r.status.name:<9}{r.name:<23}{r.line}" for r in report.results]
    return "\n".join(lines)


# -- JSON -------------------------------------------------------------------------------
def as_json(report: HealthReport) -> dict[str, Any]:
    return {
        "status": report.status.name,
        "exit_code": int(report.status),
        "database": report.database,
        "edition": report.edition,
        "connected": report.connected,
        "seconds": round(report.seconds, 3),
        "checks": [
            {
                "name": r.name,
                "status": r.status.name,
                "summary": r.summary,
                "value": r.value,
                "unit": r.threshold.unit if r.threshold else None,
                "warn": r.threshold.warn if r.threshold else None,
                "crit": r.threshold.crit if r.threshold else None,
                "figures": {f.name: f.value for f in r.figures},
            }
            for r in report.results
        ],
    }


# -- OpenMetrics ------------------------------------------------------------------------
# Each check's figure is a metric of its own, named with its unit: (name, help).
METRICS: dict[str, tuple[str, str]] = {
    "connection": ("connection_round_trip_seconds", "Round trip of SELECT 1."),
    "migrations": ("migration_problems", "Problems ops-db verify reports (pending, changed, missing)."),
    "triggers_disabled": ("disabled_triggers", "User triggers on trading tables that do not fire."),
    "job_failures": ("failed_jobs", "TimescaleDB jobs whose last scheduled run failed."),
    "jobs_overdue": ("overdue_jobs", "TimescaleDB jobs past their next start plus the grace period."),
    "maintain_age": ("maintain_age_seconds", "Since the last successful ops-db maintain."),
    "rollup_lag": ("rollup_lag_seconds", "Worst refresh lag of the rollups."),
    "compression": ("uncompressed_old_chunks", "Chunks past their compression age still uncompressed."),
    "connections": ("connections_used_ratio", "Client connections over what the server allows ordinary roles."),
    "lock_waits": ("lock_wait_longest_seconds", "Longest wait of a session for a heavyweight lock."),
    "long_queries": ("longest_query_seconds", "Longest-running active statement."),
    "idle_in_transaction": ("idle_in_transaction_longest_seconds", "Longest idle-in-transaction session."),
    "long_transaction": ("longest_transaction_seconds", "Age of the oldest open transaction."),
    "prepared_transactions": ("prepared_transaction_oldest_seconds", "Age of the oldest prepared transaction."),
    "replication": ("replication_lag_seconds", "Replay lag of the replicas, or of this replica."),
    "replication_slots": ("replication_slot_retained_wal_bytes", "Most WAL a replication slot retains."),
    "wal_archiver": ("wal_archive_failures", "WAL archiver failures since its last success."),
    "wraparound": ("xid_age", "Oldest unfrozen transaction ID age of any database."),
    "sequences": ("sequence_used_ratio", "Share of its range the most used sequence has used."),
    "invalid_indexes": ("invalid_indexes", "Indexes left invalid."),
    "dead_tuples": ("dead_tuples_ratio", "Worst dead-tuple share of a table."),
    "database_size": ("database_size_bytes", "Size of the database."),
    "backup_age": ("backup_age_seconds", "Age of the newest complete full backup."),
    "pgbackrest": ("pgbackrest_backup_age_seconds", "Age of the newest pgBackRest backup."),
}
FIGURE_HELP: dict[str, str] = {
    "lock_waiting_sessions": "Sessions waiting for a heavyweight lock.",
    "prepared_transactions": "Prepared (two-phase) transactions on the server.",
    "replication_slots_inactive": "Replication slots no client uses.",
    "replication_slots": "Replication slots on the server.",
    "pgbackrest_backups": "pgBackRest backups in the repository.",
    "wal_archive_failures_since_reset": "WAL archiver failures since the statistics were reset (pg_stat_archiver).",
}
_UNIT_SUFFIX = {"ms": "seconds", "s": "seconds", "%": "ratio", "bytes": "bytes"}
_PREFIX = "ops_db_health_"


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _family(out: list[str], name: str, kind: str, help_text: str, unit: str | None) -> None:
    out.append(f"# TYPE {name} {kind}")
    if unit:
        out.append(f"# UNIT {name} {unit}")
    out.append(f"# HELP {name} {help_text}")


def as_openmetrics(report: HealthReport) -> str:
    """OpenMetrics text: up, overall and per-check status, each figure and threshold in base units, # EOF."""
    db = report.database
    out: list[str] = []
    _family(out, _PREFIX + "up", "gauge", "1 when the database answered, 0 when it could not be reached.", None)
    out.append(f"{_PREFIX}up{_labels(database=db)} {int(report.connected)}")
    _family(out, _PREFIX + "status", "gauge", "Overall status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", None)
    out.append(f"{_PREFIX}status{_labels(database=db)} {int(report.status)}")
    _family(out, _PREFIX + "run_seconds", "gauge", "How long the health run took.", "seconds")
    out.append(f"{_PREFIX}run_seconds{_labels(database=db)} {number(round(report.seconds, 3))}")
    _family(out, _PREFIX + "check_status", "gauge", "Check status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.", None)
    out += [f"{_PREFIX}check_status{_labels(database=db, check=r.name)} {int(r.status)}" for r in report.results]

    thresholds: dict[str, list[str]] = {}
    for r in report.results:
        if r.value is not None and r.threshold is not None and r.name in METRICS:
            metric, help_text = METRICS[r.name]
            unit = r.threshold.unit
            _family(out, _PREFIX + metric, "gauge", help_text, _UNIT_SUFFIX.get(unit))
            out.append(f"{_PREFIX}{metric}{_labels(database=db)} {number(base(r.value, unit))}")
            family = "threshold" + (f"_{_UNIT_SUFFIX[unit]}" if unit in _UNIT_SUFFIX else "")
            for level, limit in (("warn", r.threshold.warn), ("crit", r.threshold.crit)):
                thresholds.setdefault(family, []).append(
                    f"{_PREFIX}{family}{_labels(database=db, check=r.name, level=level)} {number(base(limit, unit))}")
        out += _figures(r.figures, db)
    for family, samples in thresholds.items():
        _family(out, _PREFIX + family, "gauge", "The WARNING and CRITICAL thresholds of the checks, in base units.",
                family.removeprefix("threshold").removeprefix("_") or None)
        out += samples
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _figures(figures: tuple[Figure, ...], db: str) -> list[str]:
    out: list[str] = []
    for f in figures:
        help_text = FIGURE_HELP.get(f.name, f.name.replace("_", " ") + ".")
        # Gauges only: a counter's family is named without _total in OpenMetrics but with it in the
        # Prometheus text format that promtool checks, so no name suits both.
        suffix = _UNIT_SUFFIX.get(f.unit)
        name = f.name + (f"_{suffix}" if suffix and not f.name.endswith(suffix) else "")
        _family(out, _PREFIX + name, "gauge", help_text, suffix)
        out.append(f"{_PREFIX}{name}{_labels(database=db)} {number(base(f.value, f.unit))}")
    return out


def results_by_name(report: HealthReport) -> dict[str, CheckResult]:
    return {r.name: r for r in report.results}
