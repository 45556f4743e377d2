"""price ingest: ops_db's ingest (sync and async) vs asyncpg's COPY, `psql \\copy` and psycopg executemany.

Every side writes the same generated ticks into the same trading.stock_prices hypertable, with the
same indexes and triggers, of one scratch database; the table is truncated before every round, and
every round checks the row count before its figure counts. The sides rotate which goes first.

- ops_db: ``ops_db.market.ingest_prices`` (sync) and ``ops_db.aio.market.ingest_prices`` (async)
  of a list of ``PriceTick`` (every check included: that is what a caller gets).
- asyncpg: ``Connection.copy_records_to_table`` of the same rows as tuples (symbol, timestamp,
  close_price, volume), built beforehand (the driver one replaced system used).
- psql: ``\\copy ... FROM file CSV`` of the same rows (CSV written beforehand; the limit).
- executemany: plain INSERTs of the first ``naive_rows`` rows, through psycopg.
"""

from __future__ import annotations

import asyncio
import csv
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
from psycopg.conninfo import conninfo_to_dict

from benchmarks.common import Result, Scratch, Side, rotate
from benchmarks.data import price_ticks, symbols
from ops_db.aio import market as aio_market
from ops_db.market import PriceTick, ingest_prices

COLUMNS = ["symbol", "timestamp", "close_price", "volume"]
QUOTED = '(symbol, "timestamp", close_price, volume)'
INSERT = 'INSERT INTO trading.stock_prices (symbol, "timestamp", close_price, volume) VALUES (%s, %s, %s, %s)'


def _psql() -> str:
    return shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"


def _count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
    assert row is not None
    return int(row[0])


def _reset(conn: psycopg.Connection[Any]) -> None:
    conn.execute("TRUNCATE trading.stock_prices")
    conn.execute("DELETE FROM ops_internal.rollup_invalidation")


def asyncpg_params(conninfo: str) -> dict[str, Any]:
    """asyncpg's connect() keywords for a libpq connection string (host may be a socket directory)."""
    info = conninfo_to_dict(conninfo)
    params: dict[str, Any] = {"database": info.get("dbname"), "user": info.get("user"), "host": info.get("host")}
    if info.get("port"):
        params["port"] = int(info["port"])
    if info.get("password"):
        params["password"] = info["password"]
    return {k: v for k, v in params.items() if v is not None}


def run(scratch: Scratch, rounds: int, *, rows: int = 200_000, naive_rows: int = 20_000, **_: object) -> list[Result]:
    name = scratch.database()
    conninfo = scratch.conninfo(name)
    end = datetime.now(UTC).replace(microsecond=0)
    ticks = list(price_ticks(rows, symbols("ING", 10), end))
    records = [(t.symbol, t.timestamp, t.close_price, t.volume) for t in ticks]
    naive = ticks[: min(naive_rows, rows)]
    loop = asyncio.new_event_loop()
    with tempfile.TemporaryDirectory(prefix="ops-db-bench-") as tmp:
        path = Path(tmp) / "prices.csv"
        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            for t in ticks:
                writer.writerow((t.symbol, t.timestamp.isoformat(), t.close_price, t.volume))
        copy_cmd = [_psql(), conninfo, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "-c", f"\\copy trading.stock_prices {QUOTED} FROM '{path}' CSV"]
        aconn = loop.run_until_complete(psycopg.AsyncConnection.connect(conninfo, autocommit=True))
        try:
            apg = loop.run_until_complete(asyncpg.connect(**asyncpg_params(conninfo)))
        except BaseException:
            loop.run_until_complete(aconn.close())
            loop.close()
            raise
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:

                def timed(write: Any, expected: int, what: str) -> float:
                    _reset(conn)
                    start = time.perf_counter()
                    write()
                    seconds = time.perf_counter() - start
                    assert _count(conn) == expected, f"{what} lost rows"
                    return expected / seconds

                def ours(batch: list[PriceTick]) -> float:
                    def write() -> None:
                        with conn.transaction():
                            result = ingest_prices(conn, batch)
                        assert result.inserted == len(batch)

                    return timed(write, len(batch), "ops_db ingest_prices")

                def ours_async() -> float:
                    async def write() -> None:
                        async with aconn.transaction():
                            result = await aio_market.ingest_prices(aconn, ticks)
                        assert result.inserted == len(ticks)

                    return timed(lambda: loop.run_until_complete(write()), len(ticks), "ops_db async ingest_prices")

                def with_asyncpg() -> float:
                    async def write() -> None:
                        async with apg.transaction():
                            await apg.copy_records_to_table("stock_prices", schema_name="trading", columns=COLUMNS,
                                                            records=records)

                    return timed(lambda: loop.run_until_complete(write()), len(ticks), "asyncpg copy_records_to_table")

                def psql_copy() -> float:
                    return timed(lambda: subprocess.run(copy_cmd, check=True, capture_output=True), len(ticks),
                                 "psql \\copy")

                def executemany() -> float:
                    def write() -> None:
                        with conn.transaction(), conn.cursor() as cur:
                            cur.executemany(INSERT, [(t.symbol, t.timestamp, t.close_price, t.volume) for t in naive])

                    return timed(write, len(naive), "executemany")

                sync_rate, async_rate, apg_rate, psql_rate = rotate(
                    rounds, lambda: ours(ticks), ours_async, with_asyncpg, psql_copy)
                naive_ours, naive_base = rotate(rounds, lambda: ours(naive), executemany)
        finally:
            loop.run_until_complete(aconn.close())
            loop.run_until_complete(apg.close())
            loop.close()
    scratch.drop(name)
    sync_side = Side("ops_db ingest_prices (sync)", "rows/s", sync_rate)
    return [
        Result("ingest vs asyncpg (sync)", f"ops_db ingest_prices ÷ asyncpg copy_records_to_table, {rows:,} rows",
               sync_side, Side("asyncpg copy_records_to_table", "rows/s", apg_rate), ">= 1.0",
               extra={"rows": rows}).finish(),
        Result("ingest vs asyncpg (async)",
               f"ops_db.aio ingest_prices ÷ asyncpg copy_records_to_table, {rows:,} rows",
               Side("ops_db.aio ingest_prices", "rows/s", async_rate), Side("asyncpg copy_records_to_table", "rows/s",
                                                                         apg_rate), ">= 1.0",
               extra={"rows": rows}).finish(),
        Result("price ingest", f"ops_db ingest_prices ÷ psql \\copy, {rows:,} rows, rows/s",
               sync_side, Side("psql \\copy", "rows/s", psql_rate), ">= 1.0", extra={"rows": rows}).finish(),
        Result("price ingest, naive", f"ops_db ingest_prices ÷ psycopg executemany, {len(naive):,} rows, rows/s",
               Side("ops_db ingest_prices", "rows/s", naive_ours), Side("executemany", "rows/s", naive_base),
               ">= 10", extra={"rows": len(naive)}).finish(),
    ]
