"""bars query: 1-minute bars of one symbol over 5 days from the rollup (ops_db.market.bars) ÷ the
same bars aggregated from raw prices, on the shared price database (>= 10 M rows by default).

Both sides return the same Bar rows through the same row factory; the benchmark checks they are
equal, that every minute of the 5 days has a bar of 60 ticks, before it reports queries/s.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from benchmarks.common import Result, Scratch, Side, alternate
from benchmarks.data import LIQUID, shared_prices, symbols
from ops_db import market, rollups

DAYS = 5
RAW_BARS = """
SELECT time_bucket(interval '1 minute', "timestamp") AS bucket, symbol,
       first(COALESCE(open_price, close_price), "timestamp") AS open,
       max(COALESCE(high_price, close_price)) AS high,
       min(COALESCE(low_price, close_price)) AS low,
       last(close_price, "timestamp") AS close,
       sum(volume)::bigint AS volume,
       round(sum(COALESCE(vwap, close_price) * volume) / NULLIF(sum(volume), 0), 6) AS vwap,
       count(*) AS trade_count
  FROM trading.stock_prices
 WHERE symbol = %(symbol)s AND "timestamp" >= %(start)s AND "timestamp" < %(end)s
 GROUP BY 1, 2
 ORDER BY 1
"""


def refresh(conninfo: str, edition: str) -> float:
    """Materialize the rollups over everything loaded; seconds taken."""
    start = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if edition == "timescale":
            rollups.refresh_continuous_aggregates(conn)
        else:
            rollups.refresh_rollups(conn)
    return time.perf_counter() - start


def raw_bars(conn: psycopg.Connection[Any], symbol: str, start: datetime, end: datetime) -> list[market.Bar]:
    with conn.cursor(row_factory=class_row(market.Bar)) as cur:
        return cur.execute(RAW_BARS, {"symbol": symbol, "start": start, "end": end}).fetchall()


def run(scratch: Scratch, rounds: int, *, bars_rows: int = 10_000_000, edition: str = "apache",
        shared: dict[str, Any] | None = None, bars_minutes: int | None = None, **_: object) -> list[Result]:
    shared = shared if shared is not None else {}
    state = shared_prices(scratch, shared, liquid_rows=bars_rows)
    conninfo = scratch.conninfo(state["db"])
    if not state.get("refreshed"):
        state["refresh_seconds"] = refresh(conninfo, edition)
        state["refreshed"] = True
    symbol = symbols(*LIQUID)[0]
    end: datetime = state["end"]
    # 5 days, or fewer when a small --bars-rows loaded less (every minute of the window has 60 ticks)
    bars_minutes = bars_minutes or min(DAYS * 24 * 60, state[LIQUID[0]] // (LIQUID[1] * 60))
    start = end - timedelta(minutes=bars_minutes)
    span = f"{bars_minutes // 1440} days" if bars_minutes % 1440 == 0 else f"{bars_minutes} minutes"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
        total = int(row[0]) if row else 0
        ours_bars = market.bars(conn, symbol, "1m", start, end)
        base_bars = raw_bars(conn, symbol, start, end)
        assert ours_bars == base_bars, "bars from the rollup differ from bars computed from raw prices"
        assert len(ours_bars) == bars_minutes, f"expected {bars_minutes} bars, got {len(ours_bars)}"
        assert all(b.trade_count == 60 for b in ours_bars), "a bar does not count its 60 ticks"

        def timed(fetch: Any) -> float:
            t0 = time.perf_counter()
            got = fetch(conn, symbol, start, end)
            seconds = time.perf_counter() - t0
            assert len(got) == len(ours_bars)
            return 1 / seconds

        ours, base = alternate(rounds, lambda: timed(lambda c, s, a, b: market.bars(c, s, "1m", a, b)),
                               lambda: timed(raw_bars))
    return [
        Result("bars query", f"1-minute bars of {symbol} over {span} ({len(ours_bars):,} bars, "
               f"{len(ours_bars) * 60:,} ticks) from the rollup ÷ from raw prices, {total:,} price rows",
               Side("rollup (ops_db.market.bars)", "queries/s", ours), Side("raw aggregation", "queries/s", base),
               ">= 50", extra={"price_rows": total, "refresh_seconds": state.get("refresh_seconds")}).finish(),
    ]
