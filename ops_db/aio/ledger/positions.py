"""Positions and P&L: open and closed positions, marks, closes without a fill, portfolio snapshots,
daily statistics, today's P&L and the order-to-trade ratio.

Positions are kept by the database at average cost: fills (``orders.record_fill``) and
``close_position`` move them; ``mark_to_market`` only sets the price they are valued at.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one, fetch_optional, fetch_value
from ops_db.core.contract import api
from ops_db.model.ledger import DailyStats, PortfolioSnapshot, Position, TodayPnl

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "DailyStats", "PortfolioSnapshot", "Position", "TodayPnl", "close_position", "closed_positions", "daily_stats",
    "latest_portfolio_snapshot", "mark_to_market", "open_positions", "order_to_trade_ratio", "portfolio_history",
    "position_by_symbol", "refresh_daily_stats", "take_portfolio_snapshot", "today_pnl",
]


def _until(until: datetime | None) -> datetime:
    return until or datetime.now().astimezone() + timedelta(seconds=1)


@api
async def open_positions(conn: psycopg.AsyncConnection[Any]) -> list[Position]:
    """Every open position, largest exposure first."""
    return await fetch_all(conn, Position, "open_positions")


@api
async def position_by_symbol(conn: psycopg.AsyncConnection[Any], symbol: str) -> Position | None:
    """The open position in ``symbol``, or None when flat."""
    return await fetch_optional(conn, Position, "position_by_symbol", {"symbol": symbol})


@api
async def closed_positions(
    conn: psycopg.AsyncConnection[Any], since: datetime, until: datetime | None = None
) -> list[Position]:
    """Positions closed in [since, until), newest first."""
    return await fetch_all(conn, Position, "closed_positions", {"since": since, "until": _until(until)})


@api
async def mark_to_market(
    conn: psycopg.AsyncConnection[Any], symbol: str, price: Decimal, at: datetime | None = None
) -> Position:
    """Value the open position in ``symbol`` at ``price``."""
    params = {"symbol": symbol, "price": price, "at": at}
    return await fetch_one(conn, Position, "mark_position", params, missing=f"no open position in {symbol}")


@api
async def close_position(conn: psycopg.AsyncConnection[Any], symbol: str, price: Decimal, reason: str) -> Position:
    """Close the rest of a position at ``price`` without a fill (expiry, assignment, write-off);
    the difference to average cost is realized."""
    params = {"symbol": symbol, "price": price, "reason": reason}
    return await fetch_one(conn, Position, "close_position", params, missing=f"no open position in {symbol}")


@api
async def take_portfolio_snapshot(
    conn: psycopg.AsyncConnection[Any],
    cash_balance: Decimal,
    at: datetime | None = None,
    details: Mapping[str, Any] | None = None,
) -> PortfolioSnapshot:
    """Record cash plus open positions at their marks (at cost when never marked)."""
    params = {"cash_balance": cash_balance, "at": at, "details": Jsonb(dict(details or {}))}
    return await fetch_one(conn, PortfolioSnapshot, "take_portfolio_snapshot", params, missing="no snapshot taken")


@api
async def portfolio_history(
    conn: psycopg.AsyncConnection[Any], since: datetime, until: datetime | None = None
) -> list[PortfolioSnapshot]:
    """Snapshots in [since, until), oldest first."""
    return await fetch_all(conn, PortfolioSnapshot, "portfolio_history", {"since": since, "until": _until(until)})


@api
async def latest_portfolio_snapshot(conn: psycopg.AsyncConnection[Any]) -> PortfolioSnapshot | None:
    return await fetch_optional(conn, PortfolioSnapshot, "latest_portfolio_snapshot")


@api
async def refresh_daily_stats(conn: psycopg.AsyncConnection[Any], day: date) -> DailyStats:
    """Recompute ``day``'s statistics (the day in the session's time zone) and return them."""
    return await fetch_one(conn, DailyStats, "refresh_daily_stats", {"day": day}, missing=f"no statistics for {day}")


@api
async def daily_stats(conn: psycopg.AsyncConnection[Any], day: date) -> DailyStats | None:
    """``day``'s statistics as last refreshed, or None."""
    return await fetch_optional(conn, DailyStats, "daily_stats", {"day": day})


@api
async def today_pnl(conn: psycopg.AsyncConnection[Any]) -> TodayPnl:
    """Today's realized P&L and costs of today's fills, and the unrealized P&L of open positions."""
    return await fetch_one(conn, TodayPnl, "today_pnl", missing="no P&L for today")


@api
async def order_to_trade_ratio(conn: psycopg.AsyncConnection[Any]) -> Decimal | None:
    """Orders staged today per fill recorded today; None while nothing traded."""
    value = await fetch_value(conn, "order_to_trade_ratio")
    return value if isinstance(value, Decimal) else None
