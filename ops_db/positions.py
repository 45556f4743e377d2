"""Positions, marks and portfolio snapshots.

Positions are kept by the database at average cost: fills (ops_db.orders.record_fill) and
``close_position`` move them; ``mark_to_market`` only sets the price they are valued at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import NotFound
from ops_db.core.queries import q
from ops_db.orders import atomic

CURRENT_PRICE_VALID = "positions_current_price_valid"
SNAPSHOT_KEY = "portfolio_snapshots_pkey"
SNAPSHOT_CASH_VALID = "portfolio_snapshots_cash_valid"


@dataclass(frozen=True)
class Position:
    id: int
    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    realized_pnl: Decimal
    fees: Decimal
    status: str
    current_price: Decimal | None
    market_value: Decimal | None
    unrealized_pnl: Decimal | None
    opened_at: datetime
    closed_at: datetime | None
    close_price: Decimal | None
    close_reason: str | None
    last_marked_at: datetime | None
    updated_at: datetime

    @property
    def direction(self) -> str:
        return "long" if self.quantity > 0 else "short" if self.quantity < 0 else "flat"


@dataclass(frozen=True)
class PortfolioSnapshot:
    snapshot_at: datetime
    cash_balance: Decimal
    positions_value: Decimal
    total_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl_today: Decimal
    open_positions: int
    details: dict[str, Any]


@api
def open_positions(conn: psycopg.Connection[Any]) -> list[Position]:
    with map_errors(), conn.cursor(row_factory=class_row(Position)) as cur:
        return cur.execute(q("open_positions")).fetchall()


@api
def position_by_symbol(conn: psycopg.Connection[Any], symbol: str) -> Position | None:
    """The open position in ``symbol``, or None when flat."""
    with map_errors(), conn.cursor(row_factory=class_row(Position)) as cur:
        return cur.execute(q("position_by_symbol"), {"symbol": symbol}).fetchone()


@api
def closed_positions(conn: psycopg.Connection[Any], since: datetime, until: datetime | None = None) -> list[Position]:
    until = until or datetime.now().astimezone() + timedelta(seconds=1)
    with map_errors(), conn.cursor(row_factory=class_row(Position)) as cur:
        return cur.execute(q("closed_positions"), {"since": since, "until": until}).fetchall()


@api
def mark_to_market(
    conn: psycopg.Connection[Any], symbol: str, price: Decimal, at: datetime | None = None
) -> Position:
    """Value the open position in ``symbol`` at ``price``."""
    with atomic(conn), conn.cursor(row_factory=class_row(Position)) as cur:
        row = cur.execute(q("mark_position"), {"symbol": symbol, "price": price, "at": at}).fetchone()
    if row is None:
        raise NotFound(f"no open position in {symbol}")
    return row


@api
def close_position(conn: psycopg.Connection[Any], symbol: str, price: Decimal, reason: str) -> Position:
    """Close the rest of a position at ``price`` without a fill (expiry, assignment, write-off);
    the difference to average cost is realized."""
    with atomic(conn), conn.cursor(row_factory=class_row(Position)) as cur:
        row = cur.execute(q("close_position"), {"symbol": symbol, "price": price, "reason": reason}).fetchone()
    assert row is not None
    return row


@api
def take_portfolio_snapshot(
    conn: psycopg.Connection[Any],
    cash_balance: Decimal,
    at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> PortfolioSnapshot:
    """Record cash plus open positions at their marks (at cost when never marked)."""
    params = {"cash_balance": cash_balance, "at": at, "details": Jsonb(dict(details or {}))}
    with atomic(conn), conn.cursor(row_factory=class_row(PortfolioSnapshot)) as cur:
        row = cur.execute(q("take_portfolio_snapshot"), params).fetchone()
    assert row is not None
    return row


@api
def portfolio_history(
    conn: psycopg.Connection[Any], since: datetime, until: datetime | None = None
) -> list[PortfolioSnapshot]:
    until = until or datetime.now().astimezone() + timedelta(seconds=1)
    with map_errors(), conn.cursor(row_factory=class_row(PortfolioSnapshot)) as cur:
        return cur.execute(q("portfolio_history"), {"since": since, "until": until}).fetchall()


@api
def latest_portfolio_snapshot(conn: psycopg.Connection[Any]) -> PortfolioSnapshot | None:
    with map_errors(), conn.cursor(row_factory=class_row(PortfolioSnapshot)) as cur:
        return cur.execute(q("latest_portfolio_snapshot")).fetchone()
