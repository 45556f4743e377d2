"""latest prices, two comparisons.

1. The newest price of 100 symbols through ops_db.market.latest_prices (one probe of the
   (symbol, timestamp) key a symbol) ÷ the naive DISTINCT ON over raw prices, on the shared
   price database (>= 10 M rows by default).
2. The same call with 10x the stored history ÷ without: two scratch databases holding the same
   100-symbol feed (a tick every ``latest_tick_minutes``), one over ``latest_history_days``, the
   other over 10 times as many days (10x the rows and the daily chunks; the newest day is the same).
   The feed is sparse so that the 10x side loads in seconds: what grows with history in a
   hypertable is the number of chunks a probe may visit, and chunks are per day whatever the density.

Each side of a round runs back to back for at least ``latest_seconds`` (and MIN_QUERIES queries);
the sides alternate which goes first. Every side is checked against DISTINCT ON first.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from benchmarks.common import Result, Scratch, Side, alternate, queries_per_second
from benchmarks.data import WIDE, price_ticks, shared_prices, symbols
from ops_db import market

MIN_QUERIES = 1  # per side and round: DISTINCT ON over 1 M rows takes over a second
HISTORY_FACTOR = 10
HISTORY = ("H", 100)  # the history databases' symbols
NAIVE = """
SELECT DISTINCT ON (symbol) symbol, "timestamp", close_price, volume, vwap
  FROM trading.stock_prices
 WHERE symbol = ANY(%(symbols)s::text[])
 ORDER BY symbol, "timestamp" DESC
"""


def naive(conn: psycopg.Connection[Any], names: list[str]) -> list[market.LatestPrice]:
    with conn.cursor(row_factory=class_row(market.LatestPrice)) as cur:
        return cur.execute(NAIVE, {"symbols": names}).fetchall()


def row_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
    return int(row[0]) if row else 0


def chunk_count(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM show_chunks('trading.stock_prices')").fetchone()
    return int(row[0]) if row else 0


def versus_distinct_on(scratch: Scratch, rounds: int, shared: dict[str, Any], memory_rows: int,
                       seconds: float) -> Result:
    state = shared_prices(scratch, shared, wide_rows=max(memory_rows // 10, 1_000))
    names = symbols(*WIDE)
    with psycopg.connect(scratch.conninfo(state["db"]), autocommit=True) as conn:
        total = row_count(conn)
        ours_rows = market.latest_prices(conn, names)
        assert ours_rows == naive(conn, names), "latest prices differ from DISTINCT ON over raw prices"
        assert len(ours_rows) == len(names), f"expected {len(names)} symbols, got {len(ours_rows)}"
        ours, base = alternate(
            rounds,
            lambda: queries_per_second(lambda: market.latest_prices(conn, names), len(names), seconds, MIN_QUERIES),
            lambda: queries_per_second(lambda: naive(conn, names), len(names), 0, MIN_QUERIES),
        )
    return Result("latest prices", f"latest price of {len(names)} symbols (one key probe a symbol) ÷ naive "
                  f"DISTINCT ON, {total:,} price rows", Side("ops_db.market.latest_prices", "queries/s", ours),
                  Side("DISTINCT ON over raw", "queries/s", base), ">= 100", extra={"price_rows": total}).finish()


def load_history(scratch: Scratch, days: int, step: timedelta, end: Any) -> str:
    """A scratch database with ``days`` days of the history feed ending at ``end``; its name."""
    names = symbols(*HISTORY)
    db = scratch.database(prefix="bench_latest")
    rows = days * int(timedelta(days=1) / step) * len(names)
    with psycopg.connect(scratch.conninfo(db), autocommit=True) as conn:
        result = market.ingest_price_stream(conn, price_ticks(rows, names, end, step), batch_size=50_000)
        assert result.inserted == rows, f"history load inserted {result.inserted} of {rows} rows"
        conn.execute("VACUUM (ANALYZE) trading.stock_prices")
    return db


def with_more_history(scratch: Scratch, rounds: int, end: Any, days: int, tick_minutes: int,
                      seconds: float) -> Result:
    step = timedelta(minutes=tick_minutes)
    names = symbols(*HISTORY)
    short_db = load_history(scratch, days, step, end)
    long_db = load_history(scratch, days * HISTORY_FACTOR, step, end)
    try:
        with psycopg.connect(scratch.conninfo(short_db), autocommit=True) as short, \
                psycopg.connect(scratch.conninfo(long_db), autocommit=True) as long:
            figures: dict[str, Any] = {}
            for label, conn in (("without", short), ("with", long)):
                got = market.latest_prices(conn, names)
                assert got == naive(conn, names), f"latest prices ({label} 10x history) differ from DISTINCT ON"
                assert len(got) == len(names)
                figures[label] = {"rows": row_count(conn), "chunks": chunk_count(conn),
                                  "newest": [(p.symbol, p.timestamp) for p in got]}
            assert figures["with"]["newest"] == figures["without"]["newest"], "the newest ticks differ"
            longer, shorter = alternate(
                rounds,
                lambda: queries_per_second(lambda: market.latest_prices(long, names), len(names), seconds,
                                           MIN_QUERIES),
                lambda: queries_per_second(lambda: market.latest_prices(short, names), len(names), seconds,
                                           MIN_QUERIES),
            )
    finally:
        scratch.drop(short_db)
        scratch.drop(long_db)
    rows = {label: f["rows"] for label, f in figures.items()}
    chunks = {label: f["chunks"] for label, f in figures.items()}
    return Result("latest prices, 10x history",
                  f"latest price of {len(names)} symbols with {days * HISTORY_FACTOR} days stored ÷ with {days} "
                  f"days (a tick every {tick_minutes} min: {rows['with']:,} rows in {chunks['with']} chunks "
                  f"vs {rows['without']:,} in {chunks['without']})",
                  Side(f"{days * HISTORY_FACTOR} days stored", "queries/s", longer),
                  Side(f"{days} days stored", "queries/s", shorter), ">= 0.8",
                  extra={"price_rows": rows, "chunks": chunks}).finish()


def run(scratch: Scratch, rounds: int, *, memory_rows: int = 10_000_000, shared: dict[str, Any] | None = None,
        latest_seconds: float = 0.5, latest_history_days: int = 7, latest_tick_minutes: int = 15,
        **_: object) -> list[Result]:
    shared = shared if shared is not None else {}
    first = versus_distinct_on(scratch, rounds, shared, memory_rows, latest_seconds)
    end = shared["prices"]["end"]
    second = with_more_history(scratch, rounds, end, latest_history_days, latest_tick_minutes, latest_seconds)
    return [first, second]
