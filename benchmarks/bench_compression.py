"""compression: bytes of the demo prices and options before ÷ after compressing every chunk
(timescale edition; the apache edition has no columnstore and reports n/a).

The data is ops-db demo data (GBM ticks, Black-Scholes chains) over a span of days; every chunk is
compressed explicitly (compress_chunk), not by the policy, so no background job is involved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from benchmarks.common import Result, Scratch, Side
from ops_db import market
from ops_db.demo.market import generate

TABLES = ("trading.stock_prices", "trading.options_data")
CHECKSUMS = {
    "trading.stock_prices": "SELECT count(*), sum(close_price), sum(volume) FROM trading.stock_prices",
    "trading.options_data": "SELECT count(*), sum(last_price), sum(delta) FROM trading.options_data",
}
SIZE = "SELECT hypertable_size(%s::regclass)"
COMPRESS = "SELECT count(compress_chunk(c, if_not_compressed => true)) FROM show_chunks(%s::regclass) c"
STATS = ("SELECT sum(before_compression_total_bytes), sum(after_compression_total_bytes)"
         " FROM hypertable_compression_stats(%s::regclass)")


def _na(name: str, measured_as: str) -> Result:
    return Result(name, measured_as, Side(name, "bytes"), None, ">= 10", note="n/a (apache edition)")


def run(scratch: Scratch, rounds: int, *, edition: str = "apache", compression_days: int = 20,
        compression_symbols: int = 6, **_: object) -> list[Result]:
    measured_as = "bytes before ÷ after compressing every chunk"
    if edition != "timescale":
        return [_na("compression (prices)", measured_as), _na("compression (options)", measured_as)]
    name = scratch.database()
    conninfo = scratch.conninfo(name)
    names = ["AAPL", "MSFT", "SPY", "NVDA", "TSLA", "QQQ"][:compression_symbols]
    data = generate(seed=7, symbols=names, days=compression_days, now=datetime.now(UTC) - timedelta(days=1))
    results: list[Result] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        with conn.transaction():
            market.ingest_prices(conn, data.ticks)
            market.ingest_options(conn, data.quotes)
        for table in TABLES:
            before_sum = conn.execute(CHECKSUMS[table]).fetchone()
            size_before = _one(conn, SIZE, table)
            chunks = _one(conn, COMPRESS, table)
            after_sum = conn.execute(CHECKSUMS[table]).fetchone()
            assert before_sum == after_sum, f"{table}: rows or sums changed by compression"
            stats = conn.execute(STATS, (table,)).fetchone()
            assert stats is not None and stats[0] and stats[1], f"{table}: no compression statistics"
            size_after = _one(conn, SIZE, table)
            rows = before_sum[0] if before_sum else 0
            results.append(Result(
                f"compression ({'prices' if 'stock' in table else 'options'})",
                f"{table}: bytes before ÷ after, {rows:,} demo rows in {chunks} chunks",
                Side("before", "bytes", [float(stats[0])]), Side("after", "bytes", [float(stats[1])]), ">= 10",
                extra={"rows": rows, "chunks": chunks, "hypertable_size_before": size_before,
                       "hypertable_size_after": size_after},
            ).finish())
    scratch.drop(name)
    return results


def _one(conn: psycopg.Connection[Any], query: str, table: str) -> int:
    row = conn.execute(query, (table,)).fetchone()
    assert row is not None
    return int(row[0])
