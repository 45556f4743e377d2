"""Rollups (OHLCV bars, options volume, signal performance) and retention: the maintenance interface.

``ops-db maintain`` and ``ops-db health`` call these three functions; both editions answer:
- timescale: continuous aggregates are kept by refresh policies, chunks by retention policies;
  ``apply_retention`` makes the policies follow ops_internal.retention (an operator's UPDATE
  takes effect at the next run) and keeps refresh windows inside retention.
- apache: ``refresh_rollups`` re-aggregates only the buckets touched since the last run (late
  data included), ``apply_retention`` drops expired chunks.
The work happens in SQL functions (sql/schema/100_market_maintenance.sql), so psql can run it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from ops_db.errors import wrap_errors
from ops_db.queries import q


@dataclass(frozen=True)
class MaintenanceAction:
    kind: str  # "refresh" | "retention" | "compression" | "policy"
    target: str  # e.g. "trading.stock_prices_1m"
    detail: str  # human sentence
    done: bool  # False in dry-run


@dataclass(frozen=True)
class RollupStatus:
    name: str  # "trading.stock_prices_1m"
    kind: str  # "continuous aggregate" | "rollup table"
    refreshed_through: datetime | None
    lag: timedelta | None  # now() - refreshed_through, None if never refreshed


@dataclass(frozen=True)
class _Refreshed:
    target: str
    range_lo: datetime
    range_hi: datetime
    buckets: int
    done: bool


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def refresh_rollups(conn: psycopg.Connection[Any], *, dry_run: bool = False) -> list[MaintenanceAction]:
    """apache: refresh the buckets touched since the last run; timescale: nothing (policies do it)."""
    with wrap_errors(), conn.transaction(), conn.cursor(row_factory=class_row(_Refreshed)) as cur:
        rows = cur.execute(q("refresh_rollup_tables"), {"dry_run": dry_run}).fetchall()
    verb = "refreshed" if not dry_run else "would refresh"
    return [
        MaintenanceAction(
            kind="refresh",
            target=r.target,
            detail=f"{verb} {_when(r.range_lo)} .. {_when(r.range_hi)} ({r.buckets} {_plural(r.buckets, 'bucket')})",
            done=r.done,
        )
        for r in rows
    ]


def apply_retention(conn: psycopg.Connection[Any], *, dry_run: bool = False) -> list[MaintenanceAction]:
    """apache: drop chunks past ops_internal.retention; timescale: sync the policies with it."""
    with wrap_errors(), conn.transaction(), conn.cursor(row_factory=class_row(MaintenanceAction)) as cur:
        return cur.execute(q("apply_retention"), {"dry_run": dry_run}).fetchall()


def rollup_status(conn: psycopg.Connection[Any]) -> list[RollupStatus]:
    with wrap_errors(), conn.cursor(row_factory=class_row(RollupStatus)) as cur:
        return cur.execute(q("rollup_status")).fetchall()


def refresh_continuous_aggregates(conn: psycopg.Connection[Any], start: datetime | None = None,
                                  end: datetime | None = None) -> None:
    """timescale edition, autocommit connection: materialize every aggregate now, finest first.

    Policies normally do this; the demo and tests call it where no background worker runs.
    """
    with wrap_errors():
        names = [s.name for s in rollup_status(conn)]
        for name in names:
            conn.execute(q("refresh_continuous_aggregate"), {"name": name, "start": start, "end": end})
