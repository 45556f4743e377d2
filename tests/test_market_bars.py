"""OHLCV bars: both editions equal an independent Python aggregation, late data included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import market
from ops_db.core.queries import q
from ops_db.core.rows import named_tuple_row
from ops_db.market import PriceTick
from ops_db.ops import rollups
from tests.conftest import Server
from tests.market_fixtures import (
    WIDTHS,
    bring_rollups_up_to_date,
    day_start,
    db_bars,
    make_ticks,
    reference_bars,
)

RESULTS_BY_EDITION: dict[str, Any] = {}


def assert_bars_match(conn: psycopg.Connection[Any], ticks: list[PriceTick]) -> dict[str, Any]:
    seen = {}
    for name, width in WIDTHS.items():
        expected = reference_bars(ticks, width)
        got = db_bars(conn, name)
        assert set(got) == set(expected), f"{name}: buckets differ"
        for key, want in expected.items():
            have = got[key]
            for col in ("open", "high", "low", "close", "volume", "trade_count"):
                assert have[col] == want[col], f"{name} {key} {col}: {have[col]} != {want[col]}"
            if want["vwap"] is None:
                assert have["vwap"] is None
            else:
                assert abs(have["vwap"] - want["vwap"]) <= Decimal("0.000001"), f"{name} {key} vwap"
        seen[name] = sorted((k, tuple(sorted(v.items()))) for k, v in got.items())
    return seen


def test_bars_equal_python_aggregation_and_late_data(db: psycopg.Connection[Any], server: Server) -> None:
    start = day_start(3) + timedelta(hours=13)
    ticks = make_ticks(11, ["AAA", "BBB.B"], start, seconds=30 * 3600, count=1500)
    on_time = [t for t in ticks if t.timestamp.minute % 7 != 3]
    late = [t for t in ticks if t.timestamp.minute % 7 == 3]
    market.ingest_prices(db, on_time)
    bring_rollups_up_to_date(db, server.edition)
    assert_bars_match(db, on_time)

    # Late, out-of-order ticks into buckets already materialized, then a correction and a delete.
    market.ingest_prices(db, late)
    corrected = PriceTick(ticks[5].symbol, ticks[5].timestamp, ticks[5].close_price + 1, ticks[5].volume + 7)
    market.ingest_prices(db, [corrected])
    db.execute("DELETE FROM trading.stock_prices WHERE symbol = %s AND \"timestamp\" = %s",
               (ticks[9].symbol, ticks[9].timestamp))
    final = [corrected if t is ticks[5] else t for t in ticks if t is not ticks[9]]
    bring_rollups_up_to_date(db, server.edition)
    digest = assert_bars_match(db, final)

    # Same data, same numbers on every edition this session runs.
    RESULTS_BY_EDITION[server.edition] = digest
    assert all(other == digest for other in RESULTS_BY_EDITION.values())


def test_materialized_aggregates_follow_late_data(fresh_db: str, server: Server) -> None:
    """The materialized path: timescale refreshes, apache maintain; late data re-aggregated."""
    start = day_start(2) + timedelta(hours=14)
    ticks = make_ticks(5, ["CCC"], start, seconds=4 * 3600, count=600)
    first, late = ticks[::2], ticks[1::2]
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with conn.transaction():
            market.ingest_prices(conn, first)
        refresh(conn, server.edition)
        with conn.transaction():
            assert_bars_match(conn, first)
            market.ingest_prices(conn, late)
        refresh(conn, server.edition)
        with conn.transaction():
            assert_bars_match(conn, ticks)
        status = {s.name: s for s in rollups.rollup_status(conn)}
        assert status["trading.stock_prices_1m"].refreshed_through is not None
        assert status["trading.stock_prices_1m"].lag is not None


def refresh(conn: psycopg.Connection[Any], edition: str) -> None:
    if edition == "timescale":
        rollups.refresh_continuous_aggregates(conn, None, datetime.now(UTC) + timedelta(days=1))
    else:
        rollups.refresh_rollups(conn)


def test_apache_refresh_touches_only_invalidated_buckets(db: psycopg.Connection[Any], server: Server) -> None:
    if server.edition != "apache":
        pytest.skip("incremental refresh of rollup tables is the apache edition's mechanism")
    start = day_start(4) + timedelta(hours=14)
    market.ingest_prices(db, make_ticks(3, ["DDD"], start, seconds=6 * 3600, count=300))
    rollups.refresh_rollups(db)
    assert rollups.refresh_rollups(db) == []  # nothing changed since
    late_at = start + timedelta(hours=2, minutes=7, seconds=1)
    market.ingest_prices(db, [PriceTick("DDD", late_at, Decimal("101.5"), 10)])
    dry = rollups.refresh_rollups(db, dry_run=True)
    assert [a.done for a in dry] == [False] * 4
    actions = rollups.refresh_rollups(db)
    assert [(a.target, a.done) for a in actions] == [
        ("trading.stock_prices_1m", True), ("trading.stock_prices_5m", True),
        ("trading.stock_prices_1h", True), ("trading.stock_prices_1d", True),
    ]
    assert actions[0].detail.endswith("(1 bucket)")
    assert actions[1].detail.endswith("(1 bucket)")
    assert "02:07" in actions[0].detail or late_at.strftime("%H:%M") in actions[0].detail


def plan(conn: psycopg.Connection[Any], query: str, params: dict[str, Any]) -> str:
    row = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()  # type: ignore[operator]
    assert row is not None
    return str(row[0])


def test_bar_queries_use_the_aggregates(fresh_db: str, server: Server) -> None:
    start = day_start(2)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        with conn.transaction():
            market.ingest_prices(conn, make_ticks(1, ["EEE"], start, seconds=3600, count=50))
        refresh(conn, server.edition)
        got = plan(conn, "SELECT * FROM trading.stock_prices_5m WHERE symbol = %(s)s AND bucket >= %(t)s",
                   {"s": "EEE", "t": start})
        if server.edition == "timescale":
            assert "_materialized_hypertable_" in got
        else:
            assert "'Relation Name': 'stock_prices_5m'" in got and "_hyper_" not in got
        assert len(market.bars(conn, "EEE", "5m", start, start + timedelta(hours=1))) == 12
        if server.edition == "apache":
            # The key covers every bar column: once vacuumed, no heap visit and no sort.
            conn.execute("VACUUM (ANALYZE) trading.stock_prices_5m")
            conn.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
            got = plan(conn, q("bars_5m"), {"symbol": "EEE", "start": start, "end": start + timedelta(hours=1)})
            assert "'Node Type': 'Index Only Scan'" in got and "'Index Name': 'stock_prices_5m_pkey'" in got, got
            assert "'Node Type': 'Sort'" not in got, got


def test_bars_are_typed_rows_of_the_rollup(db: psycopg.Connection[Any], server: Server) -> None:
    start = day_start(5) + timedelta(hours=14)
    market.ingest_prices(db, make_ticks(7, ["GGG", "HHH"], start, seconds=3600, count=400))
    bring_rollups_up_to_date(db, server.edition)
    stored = db_bars(db, "1m")
    got = market.bars(db, "GGG", "1m", start + timedelta(minutes=10), start + timedelta(minutes=50))
    expected = [market.Bar(bucket, symbol, **values) for (symbol, bucket), values in sorted(stored.items())
                if symbol == "GGG" and start + timedelta(minutes=10) <= bucket < start + timedelta(minutes=50)]
    assert len(expected) == 40 and got == expected
    assert all(type(b) is market.Bar and isinstance(b.close, Decimal) for b in got)


def test_named_tuple_rows_refuse_columns_that_are_not_the_fields(db: psycopg.Connection[Any]) -> None:
    swapped = ("SELECT now() AS bucket, 'X' AS symbol, 2.0 AS high, 1.0 AS open, 0.5 AS low, 1.5 AS close,"
               " 5 AS volume, NULL::numeric AS vwap, 1 AS trade_count")
    with db.cursor(row_factory=named_tuple_row(market.Bar)) as cur, pytest.raises(TypeError, match="'open'"):
        cur.execute(swapped).fetchall()


def test_raw_queries_with_a_time_filter_exclude_chunks(db: psycopg.Connection[Any]) -> None:
    start = day_start(6)
    ticks = [PriceTick("FFF", start + timedelta(days=d, hours=15), Decimal("10"), 1) for d in range(6)]
    market.ingest_prices(db, ticks)
    chunks = db.execute("SELECT count(*) FROM show_chunks('trading.stock_prices')").fetchone()
    assert chunks is not None and chunks[0] >= 6
    since = start + timedelta(days=5)
    got = plan(db, "SELECT * FROM trading.stock_prices WHERE symbol = %(s)s AND \"timestamp\" >= %(t)s",
               {"s": "FFF", "t": since})
    assert got.count("'Relation Name': '_hyper_") == 1, got  # one chunk of six scanned
    assert len(market.latest_prices(db, ["FFF"])) == 1
