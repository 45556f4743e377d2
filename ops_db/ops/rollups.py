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

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row, tuple_row

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import RetryableConflict, ValidationError
from ops_db.core.queries import q
from ops_db.ops.migration_locks import backoff


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


# How long refresh_continuous_aggregates waits, in all, for other sessions' refreshes of the same
# aggregates to end (TimescaleDB refuses a refresh whose window overlaps one in progress).
REFRESH_CONFLICT_WAIT = 60.0

# The raw hypertables rollups are built from: refresh_rollup_tables names one of them (instead
# of a rollup) in the rows that report skipped changes.
_RAW_TABLES = frozenset({"trading.stock_prices", "trading.options_data", "trading.signals"})


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M")


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def _action(r: _Refreshed, dry_run: bool) -> MaintenanceAction:
    if r.target in _RAW_TABLES:
        # A change outside ops_internal.market_time_window(): consumed, never rolled up.
        verb = "would skip" if dry_run else "skipped"
        return MaintenanceAction(
            kind="skipped", target=r.target,
            detail=f"{verb} changes at {_when(r.range_lo)} .. {_when(r.range_hi)}: outside the accepted time window "
                   "(2000-01-01 UTC to one day from now), never rolled up",
            done=False)
    verb = "refreshed" if not dry_run else "would refresh"
    return MaintenanceAction(
        kind="refresh",
        target=r.target,
        detail=f"{verb} {_when(r.range_lo)} .. {_when(r.range_hi)} ({r.buckets} {_plural(r.buckets, 'bucket')})",
        done=r.done,
    )


@api
def refresh_rollups(conn: psycopg.Connection[Any], *, dry_run: bool = False) -> list[MaintenanceAction]:
    """apache: refresh the buckets touched since the last run; timescale: nothing (policies do it).

    Changes dated outside the accepted time window (a row put there past the database's checks)
    are reported as "skipped" actions and consumed, so they never make a later run fail.
    """
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(_Refreshed)) as cur:
        rows = cur.execute(q("refresh_rollup_tables"), {"dry_run": dry_run}).fetchall()
    return [_action(r, dry_run) for r in rows]


@api
def apply_retention(conn: psycopg.Connection[Any], *, dry_run: bool = False) -> list[MaintenanceAction]:
    """apache: drop chunks past ops_internal.retention; timescale: sync the policies with it."""
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(MaintenanceAction)) as cur:
        return cur.execute(q("apply_retention"), {"dry_run": dry_run}).fetchall()


@api
def rollup_status(conn: psycopg.Connection[Any]) -> list[RollupStatus]:
    with map_errors(), conn.cursor(row_factory=class_row(RollupStatus)) as cur:
        return cur.execute(q("rollup_status")).fetchall()


@api(atomic=False)  # refresh_continuous_aggregate() refuses to run inside a transaction block
def refresh_continuous_aggregates(conn: psycopg.Connection[Any], start: datetime | None = None,
                                  end: datetime | None = None) -> None:
    """timescale edition, autocommit connection: materialize every aggregate now, finest first.

    Policies normally do this; the demo and tests call it where no background worker runs. Each
    aggregate is refreshed in one pass over the window (TimescaleDB 2.28 would split it into
    batches of 10 buckets: a year of 1-minute buckets took 3 min 49 s instead of 1.0 s). An
    aggregate another session is refreshing over an overlapping window (a policy's run, another
    caller: TimescaleDB refuses the second) is tried again until that refresh is done; after
    ``REFRESH_CONFLICT_WAIT`` seconds of such waiting in all (refused attempts and the pauses
    between them, not this call's own refreshing), RetryableConflict says which aggregates were
    refreshed and which were not.
    """
    latest = datetime.now(UTC) + timedelta(days=1)
    for field, value in (("start", start), ("end", end)):
        if value is not None and not datetime(2000, 1, 1, tzinfo=UTC) <= value <= latest:
            raise ValidationError(f"{field} must be from 2000-01-01 to one day from now, got {value.isoformat()}")
    if not conn.autocommit or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValidationError("conn must be in autocommit mode, outside a transaction: TimescaleDB refuses to "
                              "refresh continuous aggregates inside a transaction block")
    with map_errors():
        names = [s.name for s in rollup_status(conn)]
        with conn.cursor(row_factory=tuple_row) as cur:  # whatever row factory the caller's connection has
            one_pass = cur.execute(q("refresh_takes_options")).fetchone() == (True,)
    query = q("refresh_continuous_aggregate_one_pass" if one_pass else "refresh_continuous_aggregate")
    waited = 0.0  # in refused attempts and the pauses between them, over the whole call
    for n, name in enumerate(names):
        attempt = 0
        while True:
            began = time.monotonic()
            try:
                with map_errors():
                    conn.execute(query, {"name": name, "start": start, "end": end})
                break
            except RetryableConflict as exc:
                # Each CALL commits on its own: the aggregates before this one stay refreshed.
                waited += time.monotonic() - began
                if waited >= REFRESH_CONFLICT_WAIT:
                    cause = exc.__cause__
                    diag = cause.diag if isinstance(cause, psycopg.Error) else None
                    what = (diag.message_primary if diag else None) or f"could not refresh {name}"
                    detail = f" ({diag.message_detail})" if diag and diag.message_detail else ""
                    raise RetryableConflict(
                        f"{what}{detail}, after waiting {waited:.1f} s for other refreshes; refreshed: "
                        f"{', '.join(names[:n]) or 'none'}; not refreshed: {', '.join(names[n:])}: try again") from exc
                attempt += 1
                nap = min(backoff(attempt, base=0.05, cap=1.0), REFRESH_CONFLICT_WAIT - waited)
                time.sleep(nap)
                waited += nap
