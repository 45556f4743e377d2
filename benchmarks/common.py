"""What every benchmark shares: scratch databases, alternating rounds, results."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sized
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from ops_db.ops.migrations import Runner


@dataclass
class Side:
    """One side of a comparison: a figure per round (higher is better unless stated)."""

    label: str
    unit: str
    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def spread(self) -> float:
        """(max - min) / median, as a fraction: how noisy the rounds were."""
        if len(self.values) < 2 or not self.median:
            return 0.0
        return (max(self.values) - min(self.values)) / self.median


@dataclass
class Result:
    name: str
    measured_as: str
    ours: Side
    baseline: Side | None
    goal: str  # e.g. ">= 0.9", "<= 1.3", "report"
    ratio: float | None = None
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def finish(self, higher_is_better: bool = True) -> Result:
        if self.baseline is not None and self.baseline.median:
            self.ratio = self.ours.median / self.baseline.median
        if self.ratio is not None and self.goal[:2] in {">=", "<="}:
            target = float(self.goal[2:])
            self.met = self.ratio >= target if self.goal.startswith(">=") else self.ratio <= target
        return self

    def as_json(self) -> dict[str, Any]:
        def side(s: Side | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"label": s.label, "unit": s.unit, "median": s.median, "spread": s.spread, "values": s.values}

        return {
            "name": self.name, "measured_as": self.measured_as, "ours": side(self.ours),
            "baseline": side(self.baseline), "ratio": self.ratio, "goal": self.goal, "met": self.met,
            "note": self.note, "extra": self.extra,
        }


def alternate(rounds: int, ours: Callable[[], float], baseline: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Run both sides ``rounds`` times, alternating which goes first, and collect their figures."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        if i % 2 == 0:
            a.append(ours())
            b.append(baseline())
        else:
            b.append(baseline())
            a.append(ours())
    return a, b


def rotate(rounds: int, *sides: Callable[[], float]) -> list[list[float]]:
    """Run every side ``rounds`` times, each round starting one side later (no side always
    first, none always last), and collect their figures, one list per side."""
    figures: list[list[float]] = [[] for _ in sides]
    for i in range(rounds):
        for k in range(len(sides)):
            index = (i + k) % len(sides)
            figures[index].append(sides[index]())
    return figures


def queries_per_second(fetch: Callable[[], Sized], expected: int, seconds: float, min_queries: int = 1) -> float:
    """Run ``fetch`` back to back for at least ``seconds`` and ``min_queries`` times, each result
    checked to hold ``expected`` rows; queries per second."""
    count = 0
    start = time.perf_counter()
    while True:
        got = fetch()
        count += 1
        assert len(got) == expected, f"expected {expected} rows, got {len(got)}"
        elapsed = time.perf_counter() - start
        if count >= min_queries and elapsed >= seconds:
            return count / elapsed


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    elapsed: list[float] = []
    yield lambda: elapsed[0] if elapsed else time.perf_counter() - start
    elapsed.append(time.perf_counter() - start)


class Scratch:
    """Creates and drops scratch databases on the benchmark server."""

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.created: list[str] = []

    def conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin, dbname=dbname)

    def database(self, migrated: bool = True, prefix: str = "bench") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        if migrated:
            Runner(self.conninfo(name)).migrate()
        return name

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(name)
