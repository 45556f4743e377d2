"""price ingest: ops_db.market.ingest_prices vs `psql \\copy` and vs psycopg executemany (rows/s).

All three write the same generated ticks into the same trading.stock_prices hypertable, with the
same indexes and triggers, of one scratch database; the table is truncated before every round.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import Result, Scratch, Side, alternate
from benchmarks.data import price_ticks, symbols
from ops_db.market import PriceTick, ingest_prices

COLUMNS = '(symbol, "timestamp", close_price, volume)'
INSERT = 'INSERT INTO trading.stock_prices (symbol, "timestamp", close_price, volume) VALUES (%s, %s, %s, %s)'


def _psql() -> str:
    found = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    return found


def _count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
    assert row is not None
    return int(row[0])


def _reset(conn: psycopg.Connection[Any]) -> None:
    conn.execute("TRUNCATE trading.stock_prices")
    conn.execute("DELETE FROM ops_internal.rollup_invalidation")


def run(scratch: Scratch, rounds: int, *, rows: int = 200_000, naive_rows: int = 20_000, **_: object) -> list[Result]:
    name = scratch.database()
    conninfo = scratch.conninfo(name)
    end = datetime.now(UTC).replace(microsecond=0)
    ticks = list(price_ticks(rows, symbols("ING", 10), end))
    naive = ticks[: min(naive_rows, rows)]
    with tempfile.TemporaryDirectory(prefix="ops-db-bench-") as tmp:
        path = Path(tmp) / "prices.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            for t in ticks:
                writer.writerow((t.symbol, t.timestamp.isoformat(), t.close_price, t.volume))
        copy_cmd = [_psql(), conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-c", f"\\copy trading.stock_prices {COLUMNS} FROM '{path}' CSV"]
        with psycopg.connect(conninfo, autocommit=True) as conn:

            def ours(batch: list[PriceTick]) -> float:
                _reset(conn)
                start = time.perf_counter()
                with conn.transaction():
                    result = ingest_prices(conn, batch)
                seconds = time.perf_counter() - start
                assert result.inserted == len(batch) and _count(conn) == len(batch), "ops_db ingest lost rows"
                return len(batch) / seconds

            def psql_copy() -> float:
                import subprocess

                _reset(conn)
                start = time.perf_counter()
                subprocess.run(copy_cmd, check=True, capture_output=True)
                seconds = time.perf_counter() - start
                assert _count(conn) == len(ticks), "psql \\copy lost rows"
                return len(ticks) / seconds

            def executemany() -> float:
                _reset(conn)
                start = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(INSERT, [(t.symbol, t.timestamp, t.close_price, t.volume) for t in naive])
                seconds = time.perf_counter() - start
                assert _count(conn) == len(naive), "executemany lost rows"
                return len(naive) / seconds

            copy_ours, copy_base = alternate(rounds, lambda: ours(ticks), psql_copy)
            naive_ours, naive_base = alternate(rounds, lambda: ours(naive), executemany)
    scratch.drop(name)
    return [
        Result("price ingest", f"ops_db ingest_prices ÷ psql \\copy, {rows:,} rows, rows/s",
               Side("ops_db ingest_prices", "rows/s", copy_ours), Side("psql \\copy", "rows/s", copy_base),
               ">= 0.9", extra={"rows": rows}).finish(),
        Result("price ingest, naive", f"ops_db ingest_prices ÷ psycopg executemany, {len(naive):,} rows, rows/s",
               Side("ops_db ingest_prices", "rows/s", naive_ours), Side("executemany", "rows/s", naive_base),
               ">= 10", extra={"rows": len(naive)}).finish(),
    ]
