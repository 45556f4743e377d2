"""latest prices: the newest price of 100 symbols through ops_db.market.latest_prices (the
trading.latest_prices view) ÷ the naive DISTINCT ON over raw prices, on the shared price database.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg.rows import class_row

from benchmarks.common import Result, Scratch, Side, alternate
from benchmarks.data import WIDE, shared_prices, symbols
from ops_db import market

NAIVE = """
SELECT DISTINCT ON (symbol) symbol, "timestamp", close_price, volume, vwap
  FROM trading.stock_prices
 WHERE symbol = ANY(%(symbols)s::text[])
 ORDER BY symbol, "timestamp" DESC
"""


def naive(conn: psycopg.Connection[Any], names: list[str]) -> list[market.LatestPrice]:
    with conn.cursor(row_factory=class_row(market.LatestPrice)) as cur:
        return cur.execute(NAIVE, {"symbols": names}).fetchall()


def run(scratch: Scratch, rounds: int, *, memory_rows: int = 10_000_000, shared: dict[str, Any] | None = None,
        **_: object) -> list[Result]:
    shared = shared if shared is not None else {}
    state = shared_prices(scratch, shared, wide_rows=max(memory_rows // 10, 1_000))
    names = symbols(*WIDE)
    with psycopg.connect(scratch.conninfo(state["db"]), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
        total = int(row[0]) if row else 0
        ours_rows = market.latest_prices(conn, names)
        assert ours_rows == naive(conn, names), "latest prices differ from DISTINCT ON over raw prices"
        assert len(ours_rows) == len(names), f"expected {len(names)} symbols, got {len(ours_rows)}"

        def timed(fetch: Any) -> float:
            t0 = time.perf_counter()
            got = fetch(conn, names)
            seconds = time.perf_counter() - t0
            assert len(got) == len(names)
            return 1 / seconds

        ours, base = alternate(rounds, lambda: timed(market.latest_prices), lambda: timed(naive))
    return [
        Result("latest prices", f"latest price of {len(names)} symbols (view) ÷ naive DISTINCT ON, "
               f"{total:,} price rows", Side("trading.latest_prices", "queries/s", ours),
               Side("DISTINCT ON over raw", "queries/s", base), "report", extra={"price_rows": total}).finish(),
    ]
