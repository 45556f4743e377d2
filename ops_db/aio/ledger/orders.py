"""Orders and fills: stage, screen, approve, reject, submit, cancel, expire, fill; read and follow.

The database holds every rule (migrations 0200, 0201, 0500: state machine, approval rules, kill
switch, audit trail, fills moving order and position). These functions ask and report; each runs
inside ``atomic(conn)`` (``@api``): a savepoint in the caller's transaction, else a transaction of
its own that commits, so a refusal leaves nothing written.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import execute, fetch_all, fetch_one, fetch_optional, next_notifications
from ops_db.core.contract import api
from ops_db.core.errors import OrderNotFound, ValidationError
from ops_db.model.ledger import (
    CHANNEL,
    MAX_PAGE,
    Execution,
    Order,
    OrderCursor,
    OrderEvent,
    OrderPage,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    StatusCount,
    TimeInForce,
)

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "CHANNEL",
    "MAX_PAGE",
    "Execution",
    "Order",
    "OrderCursor",
    "OrderEvent",
    "OrderPage",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Side",
    "StatusCount",
    "TimeInForce",
    "approve_order",
    "cancel_order",
    "expire_due_orders",
    "expire_order",
    "get_order",
    "get_order_by_broker_id",
    "get_order_by_client_id",
    "list_orders",
    "order_events",
    "order_executions",
    "order_ids_of",
    "order_updates",
    "read_update",
    "record_fill",
    "reject_order",
    "screen_order",
    "stage_order",
    "submit_order",
    "today_status_counts",
]


def _json(value: Mapping[str, Any] | None) -> Jsonb:
    return Jsonb(dict(value) if value is not None else {})


async def _order(conn: psycopg.AsyncConnection[Any], query: str, params: Mapping[str, Any], missing: str) -> Order:
    """The order ``query`` returns; the database's "no order with id N" (OPS05) as OrderNotFound."""
    return await fetch_one(conn, Order, query, params, missing=missing, not_found=OrderNotFound)


@api
async def stage_order(
    conn: psycopg.AsyncConnection[Any],
    *,
    client_order_id: str,
    strategy_id: int,
    symbol: str,
    side: Side,
    order_type: OrderType,
    quantity: Decimal,
    created_by: str,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
    time_in_force: TimeInForce = "day",
    expires_at: datetime | None = None,
    signal_id: int | None = None,
    risk_score: Decimal | None = None,
    risk_factors: Mapping[str, Any] | None = None,
    portfolio_impact: Mapping[str, Any] | None = None,
    concentration_check: bool | None = None,
    compliance_flags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    market_data: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> Order:
    """Stage an order. Staging the same client order id again returns the first order when every
    term is the same (a retry), compared by the database; else DuplicateOrder naming the fields
    that differ."""
    params = {
        "client_order_id": client_order_id,
        "strategy_id": strategy_id,
        "signal_id": signal_id,
        "symbol": symbol,
        "side": side,
        "order_type": order_type,
        "quantity": quantity,
        "limit_price": limit_price,
        "stop_price": stop_price,
        "stop_loss": stop_loss,
        "take_profit": take_profit,
        "time_in_force": time_in_force,
        "created_by": created_by,
        "risk_score": risk_score,
        "risk_factors": _json(risk_factors),
        "portfolio_impact": _json(portfolio_impact),
        "concentration_check": concentration_check,
        "compliance_flags": _json(compliance_flags),
        "metadata": _json(metadata),
        "market_data": _json(market_data),
        "tags": list(tags),
        "expires_at": expires_at,
    }
    return await _order(conn, "stage_order", params, f"order {client_order_id} was not staged")


@api
async def screen_order(conn: psycopg.AsyncConnection[Any], order_id: int, actor: str = "system") -> Order:
    """Staged -> pending_approval when an approval rule applies, else -> approved."""
    return await _order(conn, "screen_order", {"order_id": order_id, "actor": actor}, f"no order with id {order_id}")


async def _transition(
    conn: psycopg.AsyncConnection[Any],
    order_id: int,
    to_status: OrderStatus,
    actor: str,
    reason: str | None = None,
    broker_order_id: str | None = None,
) -> Order:
    params = {
        "order_id": order_id,
        "to_status": to_status,
        "actor": actor,
        "reason": reason,
        "broker_order_id": broker_order_id,
    }
    return await _order(conn, "transition_order", params, f"no order with id {order_id}")


@api
async def approve_order(conn: psycopg.AsyncConnection[Any], order_id: int, approver: str) -> Order:
    """Approve an order awaiting approval (or a staged one that needs none)."""
    return await _transition(conn, order_id, "approved", approver)


@api
async def reject_order(conn: psycopg.AsyncConnection[Any], order_id: int, actor: str, reason: str) -> Order:
    """Reject a staged or pending order (the approver), or a submitted one (the broker refused it)."""
    return await _transition(conn, order_id, "rejected", actor, reason=reason)


@api
async def submit_order(
    conn: psycopg.AsyncConnection[Any], order_id: int, broker_order_id: str, actor: str = "system"
) -> Order:
    """Record that an approved order went to the broker under ``broker_order_id``."""
    return await _transition(conn, order_id, "submitted", actor, broker_order_id=broker_order_id)


@api
async def cancel_order(
    conn: psycopg.AsyncConnection[Any], order_id: int, actor: str, reason: str | None = None
) -> Order:
    """Cancel an open order; what was filled stays filled."""
    return await _transition(conn, order_id, "cancelled", actor, reason=reason)


@api
async def expire_order(
    conn: psycopg.AsyncConnection[Any], order_id: int, actor: str = "system", reason: str | None = None
) -> Order:
    """Expire an open order (its time in force ran out)."""
    return await _transition(conn, order_id, "expired", actor, reason=reason)


@api
async def expire_due_orders(
    conn: psycopg.AsyncConnection[Any], now: datetime | None = None, actor: str = "system"
) -> list[Order]:
    """Expire every open order whose expires_at has passed; returns the orders expired."""
    params = {"now": now or datetime.now().astimezone(), "actor": actor}
    return await fetch_all(conn, Order, "expire_due_orders", params)


@api
async def record_fill(
    conn: psycopg.AsyncConnection[Any],
    order_id: int,
    quantity: Decimal,
    price: Decimal,
    *,
    commission: Decimal = Decimal(0),
    fees: Decimal = Decimal(0),
    venue: str | None = None,
    broker_trade_id: str | None = None,
    executed_at: datetime | None = None,
    actor: str = "broker",
) -> Execution:
    """Record a fill: the order's fill state and the position move with it, or nothing does.
    ``actor`` (who records it) is stored on the fill and in the order's audit event."""
    params = {
        "order_id": order_id,
        "quantity": quantity,
        "price": price,
        "commission": commission,
        "fees": fees,
        "venue": venue,
        "broker_trade_id": broker_trade_id,
        "executed_at": executed_at,
        "recorded_by": actor,
    }
    missing = f"no order with id {order_id}"
    # the fill trigger's "no order with id N" (OPS05) arrives as OrderNotFound too
    return await fetch_one(conn, Execution, "record_fill", params, missing=missing, not_found=OrderNotFound)


@api
async def get_order(conn: psycopg.AsyncConnection[Any], order_id: int) -> Order:
    return await _order(conn, "order_by_id", {"order_id": order_id}, f"no order with id {order_id}")


@api
async def get_order_by_client_id(conn: psycopg.AsyncConnection[Any], client_order_id: str) -> Order:
    return await _order(
        conn,
        "order_by_client_id",
        {"client_order_id": client_order_id},
        f"no order with client order id {client_order_id}",
    )


@api
async def get_order_by_broker_id(conn: psycopg.AsyncConnection[Any], broker_order_id: str) -> Order:
    return await _order(
        conn,
        "order_by_broker_id",
        {"broker_order_id": broker_order_id},
        f"no order with broker order id {broker_order_id}",
    )


@api
async def list_orders(
    conn: psycopg.AsyncConnection[Any],
    *,
    statuses: Sequence[OrderStatus] | None = None,
    symbol: str | None = None,
    strategy_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: OrderCursor | None = None,
    limit: int = 100,
) -> OrderPage:
    """Orders newest first. Pass ``page.next_cursor`` as ``after`` for the next page."""
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"page size must be between 1 and {MAX_PAGE}")
    params = {
        "statuses": list(statuses) if statuses is not None else None,
        "symbol": symbol,
        "strategy_id": strategy_id,
        "since": since,
        "until": until,
        "after_created_at": after.created_at if after else None,
        "after_id": after.id if after else None,
        "limit": limit,
    }
    rows = await fetch_all(conn, Order, "list_orders", params)
    cursor = OrderCursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return OrderPage(tuple(rows), cursor)


@api
async def today_status_counts(conn: psycopg.AsyncConnection[Any]) -> list[StatusCount]:
    """Today's orders by status, most first."""
    return await fetch_all(conn, StatusCount, "orders_today_by_status")


@api
async def order_events(conn: psycopg.AsyncConnection[Any], order_id: int) -> list[OrderEvent]:
    """The audit trail of one order, oldest first."""
    return await fetch_all(conn, OrderEvent, "order_events", {"order_id": order_id})


@api
async def order_executions(conn: psycopg.AsyncConnection[Any], order_id: int) -> list[Execution]:
    """The fills of one order, oldest first."""
    return await fetch_all(conn, Execution, "order_executions", {"order_id": order_id})


@api
def order_ids_of(payload: str) -> tuple[int, int] | None:
    """(order id, event id) of a notification, or None when it does not carry two integer ids."""
    try:
        data = json.loads(payload)
        order_id, event_id = data["order_id"], data["event_id"]
    except (ValueError, TypeError, KeyError):
        return None
    if type(order_id) is not int or type(event_id) is not int:
        return None
    return order_id, event_id


@api
async def read_update(conn: psycopg.AsyncConnection[Any], order_id: int, event_id: int) -> OrderUpdate | None:
    """The event ``event_id`` of order ``order_id`` and the order as the tables hold them;
    None when the trail has no such event of that order (a forged or stale notification)."""
    event = await fetch_optional(conn, OrderEvent, "order_event_by_id", {"order_id": order_id, "event_id": event_id})
    if event is None:
        return None
    order = await _order(conn, "order_by_id", {"order_id": order_id}, f"no order with id {order_id}")
    return OrderUpdate(event=event, order=order)


@api(atomic=False)
async def order_updates(
    conn: psycopg.AsyncConnection[Any], *, timeout: float | None = None, stop_after: int | None = None
) -> AsyncIterator[OrderUpdate]:
    """Subscribe now (LISTEN), then iterate live order updates without polling. ``conn`` must be
    in autocommit mode (notifications arrive between transactions). Each notification is only a
    hint: the event and the order are re-read from the tables, and a notification naming no
    event of that order is dropped. Iteration ends after ``timeout`` seconds, or after
    ``stop_after`` updates; it runs forever when both are None."""
    if not conn.autocommit:
        raise ValidationError("order updates need a connection in autocommit mode")
    await execute(conn, "listen_order_updates")
    return _updates(conn, timeout, stop_after)


async def _updates(
    conn: psycopg.AsyncConnection[Any], timeout: float | None, stop_after: int | None
) -> AsyncIterator[OrderUpdate]:
    deadline = None if timeout is None else time.monotonic() + timeout
    delivered = 0
    while stop_after is None or delivered < stop_after:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return
        for notify in await next_notifications(conn, wait):
            ids = order_ids_of(notify.payload) if notify.channel == CHANNEL else None
            update = await read_update(conn, *ids) if ids is not None else None
            if update is not None:
                yield update
                delivered += 1
                if stop_after is not None and delivered >= stop_after:
                    return
