"""ops-db demo: deterministic, consistent options, idempotent second run, objects gone after rollback."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from ops_db.cli import main
from ops_db.demo.market import black_scholes, generate
from ops_db.ops.migrations import Runner


def test_generation_is_deterministic_and_options_consistent() -> None:
    now = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    a = generate(seed=3, symbols=["AAPL", "ZZZ"], days=2, now=now)
    b = generate(seed=3, symbols=["AAPL", "ZZZ"], days=2, now=now)
    assert a == b
    assert a != generate(seed=4, symbols=["AAPL", "ZZZ"], days=2, now=now)
    assert all(q.bid_price is not None and q.ask_price is not None and q.bid_price <= q.ask_price for q in a.quotes)
    call = black_scholes(100, 100, 0.5, 0.04, 0.2, True)
    put = black_scholes(100, 100, 0.5, 0.04, 0.2, False)
    assert math.isclose(call.price - put.price, 100 - 100 * math.exp(-0.04 * 0.5), abs_tol=1e-9)  # parity
    assert math.isclose(call.delta - put.delta, 1.0, abs_tol=1e-12)
    assert call.price == pytest.approx(6.6271, abs=1e-4)  # textbook value
    # Every quote's delta is the Black-Scholes delta at the spot of its time.
    spot = {(t.symbol, t.timestamp): t.close_price for t in a.ticks}
    q = a.quotes[0]
    assert (q.underlying_symbol, q.timestamp) in spot
    assert q.delta is not None and Decimal(-1) <= q.delta <= Decimal(1)


def test_prices_in_cents_open_interest_daily_and_density_follows_the_arguments() -> None:
    after_close = datetime(2026, 3, 4, 22, 0, tzinfo=UTC)
    demo = generate(seed=3, symbols=["AAPL"], days=2, now=after_close)
    assert len(demo.ticks) == 2 * 780 and len(demo.quotes) == 2 * 7 * 28  # 30 s ticks, hourly chains
    prices = [t.close_price for t in demo.ticks]
    prices += [p for o in demo.quotes for p in (o.bid_price, o.ask_price, o.last_price, o.intrinsic_value,
                                                 o.time_value) if p is not None]
    assert all(p.as_tuple().exponent == -2 for p in prices)
    open_interest: dict[tuple[str, object], set[int]] = {}
    for o in demo.quotes:
        open_interest.setdefault((o.option_symbol, o.timestamp.date()), set()).add(o.open_interest)
    assert all(len(figures) == 1 for figures in open_interest.values())

    dense = generate(seed=3, symbols=["AAPL"], days=1, now=after_close, tick_seconds=10, chain_minutes=30)
    assert len(dense.ticks) == 390 * 6 and len(dense.quotes) == 13 * 28
    assert {t.timestamp.second % 10 for t in dense.ticks} == {0}
    with pytest.raises(ValueError, match="whole number of ticks"):
        generate(seed=3, symbols=["AAPL"], days=1, now=after_close, tick_seconds=7, chain_minutes=1)


def test_demo_loads_once_and_second_run_changes_nothing(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--url", fresh_db, "--seed", "5", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert "loaded" in out and "latest prices" in out and "put/call" in out
    with psycopg.connect(fresh_db) as conn:
        before = conn.execute("SELECT count(*), max(updated_at) FROM trading.stock_prices").fetchone()
        bars = conn.execute("SELECT count(*) FROM trading.stock_prices_5m").fetchone()
    assert before is not None and before[0] > 0 and bars is not None and bars[0] > 0
    assert main(["demo", "--url", fresh_db, "--seed", "5", "--days", "1"]) == 0
    assert "nothing changed" in capsys.readouterr().out
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*), max(updated_at) FROM trading.stock_prices").fetchone() == before


def test_market_objects_gone_after_rollback(fresh_db: str) -> None:
    names = ["trading.stock_prices", "trading.options_data", "trading.market_events", "trading.signals",
             "trading.system_events", "trading.stock_prices_1m", "trading.stock_prices_1d",
             "trading.options_volume_1h", "trading.signal_performance_1d", "trading.latest_prices",
             "ops_internal.system_events_critical", "ops_internal.rollup"]
    with psycopg.connect(fresh_db) as conn:
        assert all(conn.execute("SELECT to_regclass(%s)", (n,)).fetchone() != (None,) for n in names)
    runner = Runner(fresh_db)
    runner.rollback(to="0004_retention_settings")
    with psycopg.connect(fresh_db) as conn:
        assert [n for n in names if conn.execute("SELECT to_regclass(%s)", (n,)).fetchone() != (None,)] == []
        left = conn.execute("SELECT count(*) FROM ops_internal.retention WHERE hypertable LIKE ANY"
                            " (ARRAY['trading.stock_prices', 'trading.options_data', 'trading.signals',"
                            " 'ops_internal.system_events%'])").fetchone()
        assert left == (0,)
        fn = conn.execute("SELECT to_regprocedure('trading.calculate_rsi(text, integer, interval)')").fetchone()
        assert fn == (None,)
    runner.migrate()
