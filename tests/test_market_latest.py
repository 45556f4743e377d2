"""latest_prices for named symbols: recent prices from recent chunks, stale ones from all of history,
through the (symbol, timestamp) key on every chunk."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import psycopg

from ops_db import market
from ops_db.core.queries import q
from ops_db.market import PriceTick
from tests.market_fixtures import day_start

NAIVE = """
SELECT DISTINCT ON (symbol) symbol, "timestamp", close_price, volume, vwap
  FROM trading.stock_prices WHERE symbol = ANY(%(symbols)s::text[])
 ORDER BY symbol, "timestamp" DESC
"""


def load(conn: psycopg.Connection[Any]) -> None:
    """Ten days of a busy symbol (a chunk a day), a symbol last traded 8 days ago, one traded today."""
    start = day_start(10)
    busy = [PriceTick("BUSY", start + timedelta(minutes=10 * i), Decimal(100 + i % 7), 10) for i in range(10 * 144)]
    stale = [PriceTick("STALE", start + timedelta(days=2, hours=h), Decimal(50 + h), 5) for h in range(3)]
    fresh = [PriceTick("FRESH", day_start(0) + timedelta(minutes=m), Decimal(20 + m), 1) for m in range(3)]
    market.ingest_prices(conn, busy + stale + fresh)
    conn.execute("ANALYZE trading.stock_prices")


def naive(conn: psycopg.Connection[Any], symbols: list[str]) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(NAIVE, {"symbols": symbols}).fetchall()]


def as_tuples(prices: list[market.LatestPrice]) -> list[tuple[Any, ...]]:
    return [(p.symbol, p.timestamp, p.close_price, p.volume, p.vwap) for p in prices]


def test_latest_prices_equal_distinct_on_whether_recent_stale_unknown_or_repeated(
        db: psycopg.Connection[Any]) -> None:
    load(db)
    for symbols in (["FRESH", "BUSY"], ["STALE"], ["STALE", "FRESH", "NONE", "BUSY"], ["BUSY", "BUSY", "NONE"]):
        got = market.latest_prices(db, symbols)
        assert as_tuples(got) == naive(db, sorted(set(symbols))), symbols
    assert [p.close_price for p in market.latest_prices(db, ["STALE"])] == [Decimal(52)]
    assert [p.symbol for p in market.latest_prices(db, ["NONE"])] == []


def plan(conn: psycopg.Connection[Any], query: str, symbols: list[str]) -> list[dict[str, Any]]:
    """Every scan of a chunk in the plan of ``query``."""
    row = conn.execute("EXPLAIN (FORMAT JSON) " + query, {"symbols": symbols}).fetchone()  # type: ignore[operator]
    assert row is not None
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        if str(node.get("Relation Name", "")).startswith("_hyper_"):
            found.append(node)
        for child in node.get("Plans", []):
            walk(child)

    walk(row[0][0]["Plan"])
    return found


def test_every_chunk_is_probed_through_the_key_and_recent_reads_skip_old_chunks(db: psycopg.Connection[Any]) -> None:
    load(db)
    chunks = db.execute("SELECT count(*) FROM show_chunks('trading.stock_prices')").fetchone()
    assert chunks is not None and chunks[0] >= 10
    every = plan(db, q("latest_prices_of"), ["STALE"])
    assert len(every) == chunks[0]
    # The timestamp index would filter every row of a chunk where the symbol has none.
    assert all(s["Index Name"].endswith("stock_prices_pkey") for s in every), json.dumps(every)
    recent = plan(db, q("latest_recent_prices_of"), ["BUSY"])
    assert 1 <= len(recent) <= 6  # the last 4 days' chunks (and one for a tick ahead of now)
    assert all(s["Index Name"].endswith("stock_prices_pkey") for s in recent)
