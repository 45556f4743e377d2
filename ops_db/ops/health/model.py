"""Statuses, thresholds and results of the health checks."""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass, field

from ops_db.core.errors import OpsDbError


class Status(enum.IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def severity(self) -> int:
        """Order for "worst": UNKNOWN ranks between OK and WARNING."""
        return {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}[self]


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
}
_SUFFIX = {"s": 1, "m": 60, "h": 3600, "d": 86400, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_NUMBER = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdKMGT]?)[iB]*\s*$")


def threshold(name: str) -> Threshold:
    warn, crit, unit = DEFAULTS[name]
    return Threshold(env_number(f"OPS_DB_HEALTH_{name.upper()}_WARN", warn),
                     env_number(f"OPS_DB_HEALTH_{name.upper()}_CRIT", crit), unit)


def env_number(var: str, default: float) -> float:
    raw = os.environ.get(var)
    if not raw:
        return default
    return parse_number(raw, var)


def parse_number(raw: str, what: str) -> float:
    m = _NUMBER.match(raw)
    if not m:
        raise OpsDbError(f"{what}={raw!r} is not a number (suffixes: s m h d for time, K M G T for sizes)")
    return float(m[1]) * _SUFFIX.get(m[2], 1)


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        for size, label in ((86400, "d"), (3600, "h"), (60, "min")):
            if value >= size:
                return f"{value / size:.1f} {label}"
        return f"{value:.1f} s" if 0 < value < 10 else f"{value:.0f} s"
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
