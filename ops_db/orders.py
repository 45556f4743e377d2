"""The order workflow: stage, screen, approve, reject, submit, cancel, expire, fill; read and follow.

The database holds every rule (migrations 0200 and 0201: state machine, approval rules,
kill switch, audit trail, fills moving order and position). These functions ask and report:
each runs in a savepoint of the caller's transaction (or its own transaction on an autocommit
connection), so a refusal leaves nothing written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import NotFound, OrderNotFound, ValidationError
from ops_db.core.queries import q

CHANNEL = "order_updates"
OPEN_STATUSES = ("staged", "pending_approval", "approved", "submitted", "partially_filled")
TERMINAL_STATUSES = ("filled", "cancelled", "rejected", "expired")

# Constraint names the messages below rely on (migrations 0200 and 0201).
CLIENT_ORDER_ID_KEY = "staged_orders_client_order_id_key"
BROKER_ORDER_ID_KEY = "staged_orders_broker_order_id_key"
STRATEGY_FKEY = "staged_orders_strategy_id_fkey"
CLIENT_ORDER_ID_VALID = "staged_orders_client_order_id_valid"
BROKER_ORDER_ID_VALID = "staged_orders_broker_order_id_valid"
SYMBOL_VALID = "staged_orders_symbol_valid"
SIDE_VALID = "staged_orders_side_valid"
ORDER_TYPE_VALID = "staged_orders_order_type_valid"
TIME_IN_FORCE_VALID = "staged_orders_time_in_force_valid"
STATUS_VALID = "staged_orders_status_valid"
QUANTITY_VALID = "staged_orders_quantity_valid"
PRICES_VALID = "staged_orders_prices_valid"
LIMIT_PRICE_MATCHES_TYPE = "staged_orders_limit_price_matches_type"
STOP_PRICE_MATCHES_TYPE = "staged_orders_stop_price_matches_type"
CREATED_BY_VALID = "staged_orders_created_by_valid"
APPROVED_BY_VALID = "staged_orders_approved_by_valid"
RISK_SCORE_VALID = "staged_orders_risk_score_valid"
REJECTION_REASON_VALID = "staged_orders_rejection_reason_valid"
JSON_OBJECTS = "staged_orders_json_objects"
TAGS_VALID = "staged_orders_tags_valid"
EXPIRES_AFTER_CREATION = "staged_orders_expires_after_creation"
FILL_BROKER_TRADE_ID_KEY = "executions_broker_trade_id_key"
FILL_ORDER_FKEY = "executions_order_id_fkey"
FILL_QUANTITY_VALID = "executions_quantity_valid"
FILL_PRICE_VALID = "executions_price_valid"
FILL_COSTS_VALID = "executions_costs_valid"
FILL_VENUE_VALID = "executions_venue_valid"
FILL_BROKER_TRADE_ID_VALID = "executions_broker_trade_id_valid"
FILL_RECORDED_BY_VALID = "executions_recorded_by_valid"
STATUS_REASON_VALID = "staged_orders_status_reason_valid"

_NAME_RULE = "1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
_ID_RULE = "1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
_LIMIT = "a positive number no larger than 1,000,000,000"


@dataclass(frozen=True)
class Order:
    id: int
    client_order_id: str
    strategy_id: int
    signal_id: int | None
    symbol: str
    side: str
    order_type: str
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    time_in_force: str
    status: str
    created_by: str
    risk_score: Decimal | None
    risk_factors: dict[str, Any]
    portfolio_impact: dict[str, Any]
    concentration_check: bool | None
    compliance_flags: dict[str, Any]
    approval_required: bool
    approval_reasons: list[str]
    approved_by: str | None
    approved_at: datetime | None
    rejection_reason: str | None
    status_reason: str | None
    broker_order_id: str | None
    filled_quantity: Decimal
    avg_fill_price: Decimal | None
    metadata: dict[str, Any]
    market_data: dict[str, Any]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    submitted_at: datetime | None
    executed_at: datetime | None
    closed_at: datetime | None

    @property
    def remaining_quantity(self) -> Decimal:
        return self.quantity - self.filled_quantity

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class OrderEvent:
    id: int
    order_id: int
    occurred_at: datetime
    event_type: str
    from_status: str | None
    to_status: str
    actor: str
    login_role: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Execution:
    id: int
    order_id: int
    position_id: int | None
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    commission: Decimal
    fees: Decimal
    realized_pnl: Decimal
    venue: str | None
    broker_trade_id: str | None
    executed_at: datetime
    created_at: datetime
    recorded_by: str
    sequenced_at: datetime | None


@dataclass(frozen=True)
class OrderCursor:
    """Where the next page starts: after this (created_at, id)."""

    created_at: datetime
    id: int


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[Order, ...]
    next_cursor: OrderCursor | None


@dataclass(frozen=True)
class OrderUpdate:
    """An order changed: its audit event and the order, both re-read from the tables. A
    notification is only a hint that order X changed (anyone may pg_notify the channel), so
    nothing of its payload is trusted beyond the ids it carries."""

    event: OrderEvent
    order: Order

    @property
    def order_id(self) -> int:
        return self.order.id


@contextmanager
def atomic(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """Errors as ops_db errors, and all-or-nothing: a savepoint inside the caller's transaction,
    a transaction of its own on an autocommit connection. On an idle connection that is not in
    autocommit mode the statements open the caller's transaction, which the caller commits."""
    with map_errors():
        if conn.autocommit or conn.info.transaction_status != TransactionStatus.IDLE:
            with conn.transaction():
                yield
        else:
            yield


@contextmanager
def _atomic(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """atomic(), with the database's "no such order" reported as OrderNotFound."""
    try:
        with atomic(conn):
            yield
    except NotFound as exc:
        if isinstance(exc, OrderNotFound):
            raise
        raise OrderNotFound(str(exc)) from exc.__cause__


def _one(conn: psycopg.Connection[Any], query: str, params: Mapping[str, Any], missing: str) -> Order:
    with conn.cursor(row_factory=class_row(Order)) as cur:
        row = cur.execute(q(query), params).fetchone()
    if row is None:
        raise OrderNotFound(missing)
    return row


def _json(value: Mapping[str, Any] | None) -> Jsonb:
    return Jsonb(dict(value) if value is not None else {})


@api
def stage_order(
    conn: psycopg.Connection[Any],
    *,
    client_order_id: str,
    strategy_id: int,
    symbol: str,
    side: str,
    order_type: str,
    quantity: Decimal,
    created_by: str,
    limit_price: Decimal | None = None,
    stop_price: Decimal | None = None,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
    time_in_force: str = "day",
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
    with _atomic(conn), conn.cursor(row_factory=class_row(Order)) as cur:
        row = cur.execute(q("stage_order"), params).fetchone()
    assert row is not None
    return row


@api
def screen_order(conn: psycopg.Connection[Any], order_id: int, actor: str = "system") -> Order:
    """Staged -> pending_approval when an approval rule applies, else -> approved."""
    with _atomic(conn), conn.cursor(row_factory=class_row(Order)) as cur:
        row = cur.execute(q("screen_order"), {"order_id": order_id, "actor": actor}).fetchone()
    assert row is not None
    return row


def _transition(
    conn: psycopg.Connection[Any],
    order_id: int,
    to_status: str,
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
    with _atomic(conn), conn.cursor(row_factory=class_row(Order)) as cur:
        row = cur.execute(q("transition_order"), params).fetchone()
    assert row is not None
    return row


@api
def approve_order(conn: psycopg.Connection[Any], order_id: int, approver: str) -> Order:
    """Approve an order awaiting approval (or a staged one that needs none)."""
    return _transition(conn, order_id, "approved", approver)


@api
def reject_order(conn: psycopg.Connection[Any], order_id: int, actor: str, reason: str) -> Order:
    """Reject a staged or pending order (the approver), or a submitted one (the broker refused it)."""
    return _transition(conn, order_id, "rejected", actor, reason=reason)


@api
def submit_order(
    conn: psycopg.Connection[Any], order_id: int, broker_order_id: str, actor: str = "system"
) -> Order:
    """Record that an approved order went to the broker under ``broker_order_id``."""
    return _transition(conn, order_id, "submitted", actor, broker_order_id=broker_order_id)


@api
def cancel_order(conn: psycopg.Connection[Any], order_id: int, actor: str, reason: str | None = None) -> Order:
    """Cancel an open order; what was filled stays filled."""
    return _transition(conn, order_id, "cancelled", actor, reason=reason)


@api
def expire_order(
    conn: psycopg.Connection[Any], order_id: int, actor: str = "system", reason: str | None = None
) -> Order:
    """Expire an open order (its time in force ran out)."""
    return _transition(conn, order_id, "expired", actor, reason=reason)


@api
def expire_due_orders(
    conn: psycopg.Connection[Any], now: datetime | None = None, actor: str = "system"
) -> list[Order]:
    """Expire every open order whose expires_at has passed; returns the orders expired."""
    with _atomic(conn), conn.cursor(row_factory=class_row(Order)) as cur:
        params = {"now": now or datetime.now().astimezone(), "actor": actor}
        return cur.execute(q("expire_due_orders"), params).fetchall()


@api
def record_fill(
    conn: psycopg.Connection[Any],
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
    with _atomic(conn), conn.cursor(row_factory=class_row(Execution)) as cur:
        row = cur.execute(q("record_fill"), params).fetchone()
    assert row is not None
    return row


@api
def get_order(conn: psycopg.Connection[Any], order_id: int) -> Order:
    with map_errors():
        return _one(conn, "order_by_id", {"order_id": order_id}, f"no order with id {order_id}")


@api
def get_order_by_client_id(conn: psycopg.Connection[Any], client_order_id: str) -> Order:
    with map_errors():
        return _one(
            conn,
            "order_by_client_id",
            {"client_order_id": client_order_id},
            f"no order with client order id {client_order_id}",
        )


@api
def get_order_by_broker_id(conn: psycopg.Connection[Any], broker_order_id: str) -> Order:
    with map_errors():
        return _one(
            conn,
            "order_by_broker_id",
            {"broker_order_id": broker_order_id},
            f"no order with broker order id {broker_order_id}",
        )


@api
def list_orders(
    conn: psycopg.Connection[Any],
    *,
    statuses: Sequence[str] | None = None,
    symbol: str | None = None,
    strategy_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: OrderCursor | None = None,
    limit: int = 100,
) -> OrderPage:
    """Orders newest first. Pass ``page.next_cursor`` as ``after`` for the next page."""
    if not 1 <= limit <= 1000:
        raise ValidationError("page size must be between 1 and 1000")
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
    with map_errors(), conn.cursor(row_factory=class_row(Order)) as cur:
        rows = cur.execute(q("list_orders"), params).fetchall()
    cursor = OrderCursor(rows[-1].created_at, rows[-1].id) if len(rows) == limit else None
    return OrderPage(tuple(rows), cursor)


@api
def order_events(conn: psycopg.Connection[Any], order_id: int) -> list[OrderEvent]:
    """The audit trail of one order, oldest first."""
    with map_errors(), conn.cursor(row_factory=class_row(OrderEvent)) as cur:
        return cur.execute(q("order_events"), {"order_id": order_id}).fetchall()


@api
def order_executions(conn: psycopg.Connection[Any], order_id: int) -> list[Execution]:
    """The fills of one order, oldest first."""
    with map_errors(), conn.cursor(row_factory=class_row(Execution)) as cur:
        return cur.execute(q("order_executions"), {"order_id": order_id}).fetchall()


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
def read_update(conn: psycopg.Connection[Any], order_id: int, event_id: int) -> OrderUpdate | None:
    """The event ``event_id`` of order ``order_id`` and the order as the tables hold them;
    None when the trail has no such event of that order (a forged or stale notification)."""
    with map_errors(), conn.cursor(row_factory=class_row(OrderEvent)) as cur:
        event = cur.execute(q("order_event_by_id"), {"order_id": order_id, "event_id": event_id}).fetchone()
    if event is None:
        return None
    with map_errors():
        order = _one(conn, "order_by_id", {"order_id": order_id}, f"no order with id {order_id}")
    return OrderUpdate(event=event, order=order)


@api
def order_updates(
    conn: psycopg.Connection[Any], *, timeout: float | None = None, stop_after: int | None = None
) -> Iterator[OrderUpdate]:
    """Subscribe now (LISTEN), then iterate live order updates without polling. ``conn`` must be
    in autocommit mode (notifications arrive between transactions). Each notification is only a
    hint: the event and the order are re-read from the tables, and a notification naming no
    event of that order is dropped. Iteration ends after ``timeout`` seconds, or after
    ``stop_after`` updates; it runs forever when both are None."""
    if not conn.autocommit:
        raise ValidationError("order updates need a connection in autocommit mode")
    with map_errors():
        conn.execute(q("listen_order_updates"))
    return _updates(conn, timeout, stop_after)


def _updates(conn: psycopg.Connection[Any], timeout: float | None, stop_after: int | None) -> Iterator[OrderUpdate]:
    deadline = None if timeout is None else time.monotonic() + timeout
    delivered = 0
    while stop_after is None or delivered < stop_after:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return
        with map_errors():
            batch = list(conn.notifies(timeout=wait, stop_after=1))
        for notify in batch:
            ids = order_ids_of(notify.payload) if notify.channel == CHANNEL else None
            update = read_update(conn, *ids) if ids is not None else None
            if update is not None:
                yield update
                delivered += 1
                if stop_after is not None and delivered >= stop_after:
                    return
