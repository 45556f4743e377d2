"""Positions at average cost against hand-computed cases; marks, closes and portfolio snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db.core.errors import NotFound, ValidationError
from ops_db.ledger import orders, positions
from tests.ledger_helpers import order_in, strategy, trade

D = Decimal


def test_partial_fills_average_into_order_and_position(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")  # buy 100 AAPL
    orders.record_fill(db, order.id, D(40), D(10), commission=D(1))
    after_first = orders.get_order(db, order.id)
    assert (after_first.status, after_first.filled_quantity, after_first.avg_fill_price) == (
        "partially_filled", 40, 10)
    orders.record_fill(db, order.id, D(60), D(13), commission=D("0.5"))
    done = orders.get_order(db, order.id)
    # (40*10 + 60*13) / 100 = 11.8
    assert (done.status, done.filled_quantity, done.avg_fill_price) == ("filled", 100, D("11.8"))
    assert done.executed_at is not None and done.closed_at is not None
    pos = positions.position_by_symbol(db, "AAPL")
    assert pos is not None
    assert (pos.quantity, pos.avg_cost, pos.realized_pnl, pos.fees) == (100, D("11.8"), 0, D("1.5"))


def test_adds_reductions_flip_and_close(db: psycopg.Connection[Any]) -> None:
    s = strategy(db, max_order_quantity=None)
    trade(db, s.id, "buy", D(100), D(10))
    trade(db, s.id, "buy", D(50), D(13))
    pos = positions.position_by_symbol(db, "AAPL")
    assert pos is not None and (pos.quantity, pos.avg_cost) == (150, 11)  # (1000 + 650) / 150

    sell = trade(db, s.id, "sell", D(60), D(12))
    assert sell.realized_pnl == 60  # 60 * (12 - 11)
    pos = positions.position_by_symbol(db, "AAPL")
    assert pos is not None and (pos.quantity, pos.avg_cost, pos.realized_pnl) == (90, 11, 60)

    flip = trade(db, s.id, "sell", D(120), D(9))
    assert flip.realized_pnl == -180  # 90 closed at 9 against 11
    short = positions.position_by_symbol(db, "AAPL")
    assert short is not None
    assert (short.quantity, short.avg_cost, short.realized_pnl, short.direction) == (-30, 9, 0, "short")
    closed = positions.closed_positions(db, datetime.now(UTC) - timedelta(hours=1))
    assert len(closed) == 1
    assert (closed[0].quantity, closed[0].realized_pnl, closed[0].close_reason, closed[0].close_price) == (
        0, -120, "flipped", 9)

    add_short = trade(db, s.id, "sell", D(10), D(11))
    assert add_short.realized_pnl == 0
    short = positions.position_by_symbol(db, "AAPL")
    assert short is not None and (short.quantity, short.avg_cost) == (-40, D("9.5"))  # (30*9 + 10*11) / 40

    cover = trade(db, s.id, "buy", D(40), D(8))
    assert cover.realized_pnl == 60  # short 40 at 9.5 bought back at 8
    assert positions.position_by_symbol(db, "AAPL") is None
    closed = positions.closed_positions(db, datetime.now(UTC) - timedelta(hours=1))
    assert [(p.realized_pnl, p.close_reason) for p in closed] == [(60, "flat"), (-120, "flipped")] or [
        (p.realized_pnl, p.close_reason) for p in closed] == [(-120, "flipped"), (60, "flat")]
    # Today's P&L: 60 - 180 + 60 of realized P&L, no costs.
    pnl = positions.today_pnl(db)
    assert (pnl.realized_pnl, pnl.costs, pnl.net_realized_pnl, pnl.fills) == (-60, 0, -60, 6)


def test_sell_from_flat_opens_a_short(db: psycopg.Connection[Any]) -> None:
    fill = trade(db, strategy(db).id, "sell", D(25), D(20), symbol="TSLA")
    pos = positions.position_by_symbol(db, "TSLA")
    assert pos is not None and (pos.quantity, pos.avg_cost) == (-25, 20)
    assert fill.position_id == pos.id and fill.symbol == "TSLA" and fill.side == "sell"


def test_fractional_quantities_stay_exact(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    trade(db, s.id, "buy", D("0.5"), D("100.10"))
    trade(db, s.id, "buy", D("0.25"), D("100.40"))
    pos = positions.position_by_symbol(db, "AAPL")
    assert pos is not None and pos.quantity == D("0.75") and pos.avg_cost == D("100.2")
    fill = trade(db, s.id, "sell", D("0.75"), D("101"))
    assert fill.realized_pnl == D("0.6")  # 0.75 * (101 - 100.2)


def test_mark_to_market(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    trade(db, s.id, "buy", D(100), D(10))
    trade(db, s.id, "sell", D(30), D(20), symbol="MSFT")
    aapl = positions.mark_to_market(db, "AAPL", D("12.5"))
    assert (aapl.market_value, aapl.unrealized_pnl) == (1250, 250)
    msft = positions.mark_to_market(db, "MSFT", D(25))
    assert (msft.market_value, msft.unrealized_pnl) == (-750, -150)
    assert [p.symbol for p in positions.open_positions(db)] == ["AAPL", "MSFT"]
    view = db.execute(
        "SELECT symbol, direction, unrealized_pnl, unrealized_pnl_pct FROM trading.v_active_positions ORDER BY 1"
    ).fetchall()
    assert view == [("AAPL", "long", 250, D("25")), ("MSFT", "short", -150, D("-25"))]
    assert positions.today_pnl(db).unrealized_pnl == 100
    with pytest.raises(NotFound, match="no open position in NVDA"):
        positions.mark_to_market(db, "NVDA", D(1))
    with pytest.raises(ValidationError, match="mark price"):
        positions.mark_to_market(db, "AAPL", D("NaN"))


def test_ops_app_may_mark_but_not_move_positions(db: psycopg.Connection[Any]) -> None:
    trade(db, strategy(db).id, "buy", D(10), D(10))
    db.execute("SET ROLE ops_app")
    marked = positions.mark_to_market(db, "AAPL", D(11))
    assert marked.unrealized_pnl == 10
    closed = positions.close_position(db, "AAPL", D(12), "expired worthless? no: test close")
    db.execute("RESET ROLE")
    assert (closed.status, closed.quantity, closed.realized_pnl, closed.close_price) == ("closed", 0, 20, 12)


def test_close_position_refusals(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(NotFound, match="no open position in AAPL"):
        positions.close_position(db, "AAPL", D(1), "gone")
    trade(db, strategy(db).id, "buy", D(10), D(10))
    with pytest.raises(ValidationError, match="closing price"):
        positions.close_position(db, "AAPL", D(0), "x")
    with pytest.raises(ValidationError, match="needs a reason"):
        positions.close_position(db, "AAPL", D(1), "  ")


def test_portfolio_snapshots_and_history(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    trade(db, s.id, "buy", D(100), D(10), commission=D(2))
    trade(db, s.id, "sell", D(50), D(12))
    positions.mark_to_market(db, "AAPL", D(11))
    start = datetime.now(UTC) - timedelta(minutes=1)
    snap = positions.take_portfolio_snapshot(db, D(10000), details={"source": "test"})
    # 50 left at cost 10 marked at 11; realized 50 * 2 = 100 minus 2 commission
    assert (snap.positions_value, snap.total_value, snap.unrealized_pnl, snap.realized_pnl_today) == (
        550, 10550, 50, 98)
    assert snap.open_positions == 1 and snap.details == {"source": "test"}
    later = positions.take_portfolio_snapshot(db, D(10000), at=snap.snapshot_at + timedelta(minutes=5))
    assert positions.portfolio_history(db, start, later.snapshot_at + timedelta(seconds=1)) == [snap, later]
    assert positions.latest_portfolio_snapshot(db) == later
    with pytest.raises(ValidationError, match="already exists"):
        positions.take_portfolio_snapshot(db, D(1), at=later.snapshot_at)
    with pytest.raises(ValidationError, match="cash balance"):
        positions.take_portfolio_snapshot(db, D("NaN"), at=later.snapshot_at + timedelta(minutes=1))
