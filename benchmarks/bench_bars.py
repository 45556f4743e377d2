"""bars query: 1-minute bars of one symbol over 5 days from the rollup (ops_db.market.bars) ÷ the
same bars aggregated from raw prices, on the shared price database (>= 10 M rows by default).

Both sides return the same Bar rows through the same row factory; the benchmark checks they are
equal, that every minute of the 5 days has a bar of 60 ticks, before it reports queries/s. A round
runs each side back to back for at least ``bars_seconds`` (and 3 queries), so a figure is an average
over many rollup queries, not one query's luck; the sides alternate which goes first. The JSON
records the session TimeZone: psycopg reads timestamps faster under 'UTC' than under 'Etc/UTC'.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import psycopg

from benchmarks.common import Result, Scratch, Side, alternate, queries_per_second
from benchmarks.data import LIQUID, shared_prices, symbols
from ops_db import market
from ops_db.core.queries import q
from ops_db.core.rows import named_tuple_row
from ops_db.ops import rollups

DAYS = 5
MIN_QUERIES = 3  # per side and round, however slow the side
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


def settle(conninfo: str) -> float:
    """VACUUM (ANALYZE) the freshly loaded database; seconds taken.

    The state autovacuum and ``ops-db maintain`` reach minutes after a load; done here, no
    autovacuum of 10 M new rows runs during the rounds, on the same 2 cores as the queries.
    """
    start = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    return time.perf_counter() - start


def raw_bars(conn: psycopg.Connection[Any], symbol: str, start: datetime, end: datetime) -> list[market.Bar]:
    with conn.cursor(row_factory=named_tuple_row(market.Bar)) as cur:
        return cur.execute(RAW_BARS, {"symbol": symbol, "start": start, "end": end}).fetchall()


def server_ms(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> float:
    """Execution time the server reports for ``query`` (EXPLAIN ANALYZE: no planning, no transfer)."""
    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query, params).fetchone()
    assert plan is not None
    return float(plan[0][0]["Execution Time"])


def run(scratch: Scratch, rounds: int, *, bars_rows: int = 10_000_000, edition: str = "apache",
        shared: dict[str, Any] | None = None, bars_minutes: int | None = None, bars_seconds: float = 1.0,
        **_: object) -> list[Result]:
    shared = shared if shared is not None else {}
    state = shared_prices(scratch, shared, liquid_rows=bars_rows)
    conninfo = scratch.conninfo(state["db"])
    if not state.get("refreshed"):
        state["refresh_seconds"] = refresh(conninfo, edition)
        state["vacuum_seconds"] = settle(conninfo)
        state["refreshed"] = True
    symbol = symbols(*LIQUID)[0]
    end: datetime = state["end"]
    # 5 days, or fewer when a small --bars-rows loaded less (every minute of the window has 60 ticks)
    bars_minutes = bars_minutes or min(DAYS * 24 * 60, state[LIQUID[0]] // (LIQUID[1] * 60))
    start = end - timedelta(minutes=bars_minutes)
    span = f"{bars_minutes // 1440} days" if bars_minutes % 1440 == 0 else f"{bars_minutes} minutes"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT count(*), current_setting('TimeZone') FROM trading.stock_prices").fetchone()
        total, timezone = (int(row[0]), str(row[1])) if row else (0, "")
        ours_bars = market.bars(conn, symbol, "1m", start, end)
        base_bars = raw_bars(conn, symbol, start, end)
        assert ours_bars == base_bars, "bars from the rollup differ from bars computed from raw prices"
        assert len(ours_bars) == bars_minutes, f"expected {bars_minutes} bars, got {len(ours_bars)}"
        assert all(b.trade_count == 60 for b in ours_bars), "a bar does not count its 60 ticks"

        ours, base = alternate(
            rounds,
            lambda: queries_per_second(lambda: market.bars(conn, symbol, "1m", start, end), bars_minutes, bars_seconds,
                                       MIN_QUERIES),
            lambda: queries_per_second(lambda: raw_bars(conn, symbol, start, end), bars_minutes, bars_seconds,
                                       MIN_QUERIES),
        )
        params = {"symbol": symbol, "start": start, "end": end}
        server = {"rollup": server_ms(conn, q("bars_1m"), params),
                  "raw": server_ms(conn, RAW_BARS, params)}
    return [
        Result("bars query", f"1-minute bars of {symbol} over {span} ({len(ours_bars):,} bars, "
               f"{len(ours_bars) * 60:,} ticks) from the rollup ÷ from raw prices, {total:,} price rows, "
               f"each side back to back for >= {bars_seconds:g} s a round",
               Side("rollup (ops_db.market.bars)", "queries/s", ours), Side("raw aggregation", "queries/s", base),
               ">= 50", extra={"price_rows": total, "refresh_seconds": state.get("refresh_seconds"),
                      "vacuum_seconds": state.get("vacuum_seconds"),
                      "server_ms": server, "timezone": timezone}).finish(),
    ]
