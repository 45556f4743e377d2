"""ops_db.demo.trading: the whole workflow as demo data, deterministic for a seed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from rich.console import Console

from ops_db.cli.ledger_cmds import print_positions
from ops_db.demo import trading
from ops_db.ledger import positions

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _picture(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT client_order_id, symbol, side, quantity, status, filled_quantity, avg_fill_price"
        " FROM trading.staged_orders ORDER BY client_order_id"
    ).fetchall()


def test_load_covers_the_workflow_and_is_deterministic(db: psycopg.Connection[Any]) -> None:
    with db.transaction(force_rollback=True):
        counts = trading.load(db, seed=11, symbols=["AAPL", "MSFT", "SPY"], now=NOW)
        first = _picture(db)
        statuses = {row[4] for row in first}
        approvals = db.execute(
            "SELECT count(*) FROM trading.order_events WHERE from_status = 'pending_approval'"
        ).fetchone()
    with db.transaction(force_rollback=True):
        again = trading.load(db, seed=11, symbols=["AAPL", "MSFT", "SPY"], now=NOW)
        second = _picture(db)
    assert counts == again and first == second
    assert counts["orders"] == 24 + 3 * len(trading.LIVE_STATES)
    assert counts["strategies"] == 3 and counts["portfolio snapshots"] == 4
    assert counts["fills"] > 0 and counts["open positions"] > 0 and counts["alerts"] >= 2
    assert {"filled", "rejected", "cancelled"} <= statuses
    assert set(trading.LIVE_STATES) <= statuses, "the live book has an order in every open state"
    assert approvals is not None and approvals[0] > 0
    with db.transaction(force_rollback=True):
        other = trading.load(db, seed=12, symbols=["AAPL", "MSFT", "SPY"], now=NOW)
        assert _picture(db) != first or other != counts


def test_fills_follow_market_prices_when_present(db: psycopg.Connection[Any]) -> None:
    db.execute(
        "INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price, volume)"
        " VALUES ('NVDA', now(), 123.45, 1)"
    )
    trading.load(db, seed=3, symbols=["NVDA"], now=NOW)
    prices = db.execute("SELECT min(price), max(price) FROM trading.executions WHERE symbol = 'NVDA'").fetchone()
    assert prices is not None
    assert Decimal("122") < prices[0] <= prices[1] < Decimal("125")


def test_show_prints_positions_and_todays_pnl(db: psycopg.Connection[Any]) -> None:
    trading.load(db, seed=5, symbols=["AAPL", "MSFT"], now=NOW)
    console = Console(record=True, width=140)
    print_positions(db, console)  # what `ops-db demo` and `ops-db positions` print
    text = console.export_text()
    assert "open positions" in text and "today's P&L" in text and "order-to-trade ratio" in text
    for p in positions.open_positions(db):
        assert p.symbol in text
