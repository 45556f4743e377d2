"""compression: bytes of prices and options before ÷ after compressing every chunk (timescale
edition; the apache edition has no columnstore and reports n/a).

Two data sets from the demo generator (GBM ticks, Black-Scholes chains), each in a scratch database
of its own, every chunk compressed explicitly (compress_chunk), not by the policy:

- demo-sized: what `ops-db demo` makes, a tick every 30 s and a chain every hour, over
  ``compression_days`` days (780 ticks per symbol in each daily chunk);
- dense: a tick every ``compression_tick_seconds`` and a chain every ``compression_chain_minutes``
  (feed density), over ``compression_dense_days`` days. A chunk holds one day either way, so the
  ratio follows the density, not the number of days.

Both check that compression changes no row count and no sum. Besides the two sizes, each result
records the compressed bytes per row of every column and what is left per chunk outside the column
data (pages, TOAST and index overhead of the compressed chunk): where the space goes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from benchmarks.common import Result, Scratch, Side
from ops_db import market
from ops_db.demo.market import generate

SEED = 7
SYMBOLS = ["AAPL", "MSFT", "SPY", "NVDA", "TSLA", "QQQ"]
GOALS = {"prices": ">= 20", "options": ">= 12"}  # issue 15: dense prices, dense options
TABLES = {"prices": "trading.stock_prices", "options": "trading.options_data"}
SEGMENT_BY = {"prices": "symbol", "options": "underlying_symbol"}
CHECKSUMS = {
    "prices": "SELECT count(*), sum(close_price), sum(volume) FROM trading.stock_prices",
    "options": "SELECT count(*), sum(last_price), sum(delta), sum(open_interest) FROM trading.options_data",
}
COMPRESS = "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks(%s::regclass) c"
STATS = ("SELECT sum(before_compression_total_bytes), sum(after_compression_total_bytes)"
         " FROM hypertable_compression_stats(%s::regclass)")
COMPRESSED_CHUNKS = """
SELECT cc.schema_name, cc.table_name, format('%%I.%%I', cc.schema_name, cc.table_name)::regclass::oid
  FROM _timescaledb_catalog.chunk c
  JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
  JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
 WHERE format('%%I.%%I', h.schema_name, h.table_name)::regclass = %s::regclass
"""
COLUMNS = "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped ORDER BY attnum"


def _na(name: str, measured_as: str) -> Result:
    goal = GOALS["options" if "options" in name else "prices"]
    return Result(name, measured_as, Side(name, "bytes"), None, goal, note="n/a (apache edition)")


def run(scratch: Scratch, rounds: int, *, edition: str = "apache", compression_days: int = 20,
        compression_dense_days: int = 3, compression_tick_seconds: int = 1, compression_chain_minutes: int = 1,
        compression_symbols: int = 6, **_: object) -> list[Result]:
    names = SYMBOLS[:compression_symbols]
    sets = [("demo", compression_days, 30, 60)]
    if compression_dense_days > 0:
        sets.append(("dense", compression_dense_days, compression_tick_seconds, compression_chain_minutes))
    results: list[Result] = []
    for label, days, tick_seconds, chain_minutes in sets:
        density = f"{label}: a tick every {tick_seconds} s, a chain every {chain_minutes} min"
        if edition != "timescale":
            results += [_na(f"compression, {kind} ({density})", "bytes before ÷ after") for kind in TABLES]
            continue
        name = scratch.database()
        with psycopg.connect(scratch.conninfo(name), autocommit=True) as conn:
            _load(conn, names, days, tick_seconds, chain_minutes)
            results += [_measure(conn, kind, density) for kind in TABLES]
        scratch.drop(name)
    return results


def _load(conn: psycopg.Connection[Any], names: list[str], days: int, tick_seconds: int, chain_minutes: int) -> None:
    """One symbol at a time, so that dense data never sits in memory whole. Whole sessions only (they
    end at 21:00 UTC), whatever the time of the run, so every run compresses the same rows."""
    now = (datetime.now(UTC) - timedelta(days=1)).replace(hour=22, minute=0, second=0, microsecond=0)
    for n, symbol in enumerate(names):
        data = generate(seed=SEED + n, symbols=[symbol], days=days, now=now, tick_seconds=tick_seconds,
                        chain_minutes=chain_minutes)
        with conn.transaction():
            market.ingest_price_stream(conn, data.ticks)
            market.ingest_options(conn, data.quotes)


def _measure(conn: psycopg.Connection[Any], kind: str, density: str) -> Result:
    table = TABLES[kind]
    before_sums = conn.execute(CHECKSUMS[kind]).fetchone()
    chunks = _one(conn, COMPRESS, (table,))
    after_sums = conn.execute(CHECKSUMS[kind]).fetchone()
    assert before_sums == after_sums, f"{table}: rows or sums changed by compression"
    stats = conn.execute(STATS, (table,)).fetchone()
    assert stats is not None and stats[0] and stats[1], f"{table}: no compression statistics"
    rows = int(before_sums[0]) if before_sums else 0
    before, after = int(stats[0]), int(stats[1])
    segments = _one(conn, sql.SQL("SELECT count(DISTINCT {}) FROM {}").format(
        sql.Identifier(SEGMENT_BY[kind]), sql.Identifier(*table.split("."))))
    batches, column_bytes = _column_bytes(conn, table)
    in_columns = sum(column_bytes.values())
    return Result(
        f"compression, {kind} ({density})",
        f"{table}: bytes before ÷ after, {rows:,} rows in {chunks} daily chunks",
        Side("before", "bytes", [float(before)]), Side("after", "bytes", [float(after)]), GOALS[kind],
        extra={
            "rows": rows, "chunks": chunks, "segments": segments, "batches": batches,
            "rows_per_segment_chunk": round(rows / (chunks * segments)) if chunks and segments else 0,
            "rows_per_batch": round(rows / batches) if batches else 0,
            "before_bytes_per_row": round(before / rows, 1), "after_bytes_per_row": round(after / rows, 2),
            "after_column_data_bytes": in_columns,
            "after_overhead_bytes_per_chunk": round((after - in_columns) / chunks) if chunks else 0,
            "after_bytes_per_row_by_column": {
                column: round(size / rows, 2)
                for column, size in sorted(column_bytes.items(), key=lambda kv: -kv[1]) if size / rows >= 0.05
            },
        },
    ).finish()


def _column_bytes(conn: psycopg.Connection[Any], table: str) -> tuple[int, dict[str, int]]:
    """Compressed batches, and the bytes of each column of the compressed chunks (pg_column_size)."""
    batches = 0
    totals: dict[str, int] = {}
    for schema, name, relid in conn.execute(COMPRESSED_CHUNKS, (table,)).fetchall():
        columns = [r[0] for r in conn.execute(COLUMNS, (relid,))]
        sizes = sql.SQL(", ").join(
            sql.SQL("coalesce(sum(pg_column_size({})), 0)").format(sql.Identifier(c)) for c in columns)
        row = conn.execute(sql.SQL("SELECT count(*), {} FROM {}").format(sizes, sql.Identifier(schema, name)))
        counts = row.fetchone()
        assert counts is not None
        batches += int(counts[0])
        for column, size in zip(columns, counts[1:], strict=True):
            totals[column] = totals.get(column, 0) + int(size)
    return batches, totals


def _one(conn: psycopg.Connection[Any], query: str | sql.Composable, params: tuple[object, ...] | None = None) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])
