"""Statuses, thresholds and results of the health checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from ops_db.core import settings
from ops_db.core.errors import NagiosStatus
from ops_db.ops.units import fmt

__all__ = ["DEFAULTS", "CheckResult", "Figure", "HealthReport", "Status", "Threshold", "threshold", "worst"]


Status = NagiosStatus  # a check's status is the Nagios code health exits with (ops_db.core.errors)


def worst(*statuses: Status) -> Status:
    return max(statuses, key=lambda s: s.severity, default=Status.OK)


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
class Figure:
    """A further number a check measured (perfdata and metrics), beside its graded value."""

    name: str
    value: float
    unit: str  # as Threshold.unit


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    summary: str
    value: float | None = None
    threshold: Threshold | None = None
    figures: tuple[Figure, ...] = field(default=())

    @property
    def line(self) -> str:
        limits = f" ({self.threshold.describe()})" if self.threshold else ""
        return f"{self.summary}{limits}"


@dataclass(frozen=True)
class HealthReport:
    database: str
    edition: str
    results: tuple[CheckResult, ...]
    connected: bool = True
    seconds: float = 0.0

    @property
    def status(self) -> Status:
        if not self.results:
            return Status.UNKNOWN
        return worst(*(r.status for r in self.results))


# Defaults: (warn, crit, unit). Units are those the output shows; env values may use suffixes
# (settings.parse_quantity).
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
    "long_transaction": (900, 3600, "s"),
    "lock_waits": (10, 60, "s"),
    "triggers_disabled": (1, 5, "count"),
    "prepared_transactions": (300, 1800, "s"),
    "replication": (60, 600, "s"),
    "replication_slots": (2**30, 10 * 2**30, "bytes"),
    "wal_archiver": (1, 30, "count"),
    "wraparound": (1_000_000_000, 1_500_000_000, "count"),
    "sequences": (75, 90, "%"),
    "invalid_indexes": (1, 5, "count"),
    "dead_tuples": (20, 50, "%"),
    "database_size": (200 * 2**30, 400 * 2**30, "bytes"),
    "backup_age": (26 * 3600, 50 * 3600, "s"),
    "pgbackrest": (26 * 3600, 50 * 3600, "s"),
}
def threshold(name: str) -> Threshold:
    warn, crit, unit = DEFAULTS[name]
    return Threshold(settings.env_quantity(f"OPS_DB_HEALTH_{name.upper()}_WARN", warn),
                     settings.env_quantity(f"OPS_DB_HEALTH_{name.upper()}_CRIT", crit), unit)
