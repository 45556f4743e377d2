"""Helpers for the trading ledger tests: strategies and orders brought to any status."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import psycopg

from ops_db.ledger import orders, strategies
from ops_db.model import ledger as model

_ids = itertools.count(1)

LEGAL = {
    ("staged", "pending_approval"),
    ("staged", "approved"),
    ("staged", "rejected"),
    ("staged", "cancelled"),
    ("staged", "expired"),
    ("pending_approval", "approved"),
    ("pending_approval", "rejected"),
    ("pending_approval", "cancelled"),
    ("pending_approval", "expired"),
    ("approved", "submitted"),
    ("approved", "cancelled"),
    ("approved", "expired"),
    ("submitted", "partially_filled"),
    ("submitted", "filled"),
    ("submitted", "rejected"),
    ("submitted", "cancelled"),
    ("submitted", "expired"),
    ("partially_filled", "filled"),
    ("partially_filled", "cancelled"),
    ("partially_filled", "expired"),
}
STATUSES = (
    "staged", "pending_approval", "approved", "submitted", "partially_filled",
    "filled", "cancelled", "rejected", "expired",
)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def strategy(conn: psycopg.Connection[Any], **kwargs: Any) -> model.Strategy:
    kwargs.setdefault("max_order_quantity", Decimal(1000))
    return strategies.create_strategy(conn, unique("strategy"), **kwargs)


def stage(conn: psycopg.Connection[Any], strategy_id: int, **kwargs: Any) -> model.Order:
    kwargs.setdefault("client_order_id", unique("c"))
    kwargs.setdefault("symbol", "AAPL")
    kwargs.setdefault("side", "buy")
    kwargs.setdefault("order_type", "limit")
    kwargs.setdefault("quantity", Decimal(100))
    if kwargs["order_type"] in ("limit", "stop_limit"):
        kwargs.setdefault("limit_price", Decimal(10))
    if kwargs["order_type"] in ("stop", "stop_limit"):
        kwargs.setdefault("stop_price", Decimal(9))
    kwargs.setdefault("created_by", "alice")
    return orders.stage_order(conn, strategy_id=strategy_id, **kwargs)


def order_in(conn: psycopg.Connection[Any], strategy_id: int, status: str, **kwargs: Any) -> model.Order:
    """An order brought to ``status`` through the public functions."""
    if status == "pending_approval":
        kwargs.setdefault("risk_score", Decimal(90))
    order = stage(conn, strategy_id, **kwargs)
    if status == "staged":
        return order
    if status in ("cancelled", "rejected", "expired"):
        if status == "cancelled":
            return orders.cancel_order(conn, order.id, "alice")
        if status == "rejected":
            return orders.reject_order(conn, order.id, "bob", "too big")
        return orders.expire_order(conn, order.id)
    order = orders.screen_order(conn, order.id)
    if status == "pending_approval":
        assert order.status == "pending_approval"
        return order
    if order.status == "pending_approval":
        order = orders.approve_order(conn, order.id, "bob")
    if status == "approved":
        return order
    order = orders.submit_order(conn, order.id, unique("B"))
    if status == "submitted":
        return order
    if status == "partially_filled":
        orders.record_fill(conn, order.id, order.quantity / 2, order.limit_price or Decimal(10))
    else:
        orders.record_fill(conn, order.id, order.quantity, order.limit_price or Decimal(10))
    return orders.get_order(conn, order.id)


def trade(
    conn: psycopg.Connection[Any], strategy_id: int, side: str, quantity: Decimal, price: Decimal, **kwargs: Any
) -> model.Execution:
    """Stage, screen, submit and fill one order completely at ``price``."""
    kwargs.setdefault("symbol", "AAPL")
    commission = kwargs.pop("commission", Decimal(0))
    order = stage(conn, strategy_id, side=side, quantity=quantity, order_type="market", **kwargs)
    order = orders.screen_order(conn, order.id)
    if order.status == "pending_approval":
        order = orders.approve_order(conn, order.id, "bob")
    order = orders.submit_order(conn, order.id, unique("B"))
    return orders.record_fill(conn, order.id, quantity, price, commission=commission)


def count(conn: psycopg.Connection[Any], table: str) -> int:
    tables = {
        "staged_orders": "SELECT count(*) FROM trading.staged_orders",
        "order_events": "SELECT count(*) FROM trading.order_events",
        "executions": "SELECT count(*) FROM trading.executions",
        "positions": "SELECT count(*) FROM trading.positions",
    }
    row = conn.execute(tables[table]).fetchone()  # type: ignore[call-overload]
    assert row is not None
    return int(row[0])
