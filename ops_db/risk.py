"""Strategies and their limits, alerts, reconciliation, daily statistics, P&L and the kill switch.

Kill switch: while active the database refuses new orders, approvals and submissions; cancels,
rejections, expiries and fills of orders already at the broker still go through, so risk can be
taken off and the books keep matching the broker (docs/trading-ledger.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import NotFound, ValidationError
from ops_db.core.queries import q
from ops_db.orders import atomic

SEVERITIES = ("INFO", "WARNING", "CRITICAL", "EMERGENCY")

STRATEGY_NAME_KEY = "strategies_name_key"
STRATEGY_NAME_VALID = "strategies_name_valid"
STRATEGY_TYPE_VALID = "strategies_type_valid"
STRATEGY_MODE_VALID = "strategies_mode_valid"
STRATEGY_MAX_QUANTITY_VALID = "strategies_max_order_quantity_valid"
STRATEGY_MAX_VALUE_VALID = "strategies_max_order_value_valid"
ALERT_TYPE_VALID = "alerts_alert_type_valid"
ALERT_SEVERITY_VALID = "alerts_severity_valid"
ALERT_MESSAGE_VALID = "alerts_message_valid"
ALERT_SOURCE_VALID = "alerts_source_valid"
ALERT_RESOLUTION_COMPLETE = "alerts_resolution_complete"
RECON_SYMBOL_VALID = "reconciliation_log_symbol_valid"
RECON_ISSUE_TYPE_VALID = "reconciliation_log_issue_type_valid"
RECON_RESOLUTION_COMPLETE = "reconciliation_log_resolution_complete"
RECON_NUMBERS_VALID = "reconciliation_log_numbers_valid"
KILL_SWITCH_REASON_VALID = "kill_switch_events_reason_valid"
KILL_SWITCH_ACTOR_VALID = "kill_switch_events_actor_valid"


@dataclass(frozen=True)
class Strategy:
    id: int
    name: str
    strategy_type: str
    mode: str
    active: bool
    requires_approval: bool
    max_order_quantity: Decimal | None
    max_order_value: Decimal | None
    description: str | None
    params: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Alert:
    id: int
    alert_type: str
    severity: str
    message: str
    source: str | None
    symbol: str | None
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


@dataclass(frozen=True)
class ReconciliationIssue:
    id: int
    symbol: str
    issue_type: str
    our_quantity: Decimal | None
    broker_quantity: Decimal | None
    our_price: Decimal | None
    broker_price: Decimal | None
    order_id: int | None
    details: dict[str, Any]
    detected_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


@dataclass(frozen=True)
class DailyStats:
    trading_date: date
    orders_placed: int
    orders_filled: int
    orders_rejected: int
    orders_cancelled: int
    trades_executed: int
    traded_value: Decimal
    realized_pnl: Decimal
    costs: Decimal
    net_pnl: Decimal
    order_to_trade_ratio: Decimal | None
    kill_switch_triggered: bool
    updated_at: datetime


@dataclass(frozen=True)
class TodayPnl:
    realized_pnl: Decimal
    costs: Decimal
    net_realized_pnl: Decimal  # trading.get_today_pnl()
    unrealized_pnl: Decimal
    fills: int

    @property
    def total(self) -> Decimal:
        return self.net_realized_pnl + self.unrealized_pnl


@dataclass(frozen=True)
class KillSwitchState:
    active: bool
    reason: str | None
    actor: str | None
    changed_at: datetime | None


# -- strategies -------------------------------------------------------------------------
@api
def create_strategy(
    conn: psycopg.Connection[Any],
    name: str,
    *,
    strategy_type: str = "manual",
    mode: str = "PAPER",
    active: bool = True,
    requires_approval: bool = False,
    max_order_quantity: Decimal | None = None,
    max_order_value: Decimal | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Strategy:
    values = {
        "name": name,
        "strategy_type": strategy_type,
        "mode": mode,
        "active": active,
        "requires_approval": requires_approval,
        "max_order_quantity": max_order_quantity,
        "max_order_value": max_order_value,
        "description": description,
        "params": Jsonb(dict(params or {})),
    }
    with atomic(conn), conn.cursor(row_factory=class_row(Strategy)) as cur:
        row = cur.execute(q("create_strategy"), values).fetchone()
    assert row is not None
    return row


@api
def get_strategy(conn: psycopg.Connection[Any], strategy_id: int) -> Strategy:
    with map_errors(), conn.cursor(row_factory=class_row(Strategy)) as cur:
        row = cur.execute(q("strategy_by_id"), {"strategy_id": strategy_id}).fetchone()
    if row is None:
        raise NotFound(f"no strategy with id {strategy_id}")
    return row


@api
def strategy_by_name(conn: psycopg.Connection[Any], name: str) -> Strategy | None:
    with map_errors(), conn.cursor(row_factory=class_row(Strategy)) as cur:
        return cur.execute(q("strategy_by_name"), {"name": name}).fetchone()


@api
def list_strategies(conn: psycopg.Connection[Any], *, active_only: bool = False) -> list[Strategy]:
    with map_errors(), conn.cursor(row_factory=class_row(Strategy)) as cur:
        return cur.execute(q("list_strategies"), {"active_only": active_only}).fetchall()


@api
def set_strategy_active(conn: psycopg.Connection[Any], strategy_id: int, active: bool) -> Strategy:
    with atomic(conn), conn.cursor(row_factory=class_row(Strategy)) as cur:
        row = cur.execute(q("set_strategy_active"), {"strategy_id": strategy_id, "active": active}).fetchone()
    if row is None:
        raise NotFound(f"no strategy with id {strategy_id}")
    return row


# -- alerts -----------------------------------------------------------------------------
@api
def raise_alert(
    conn: psycopg.Connection[Any],
    alert_type: str,
    severity: str,
    message: str,
    *,
    source: str | None = None,
    symbol: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Alert:
    values = {
        "alert_type": alert_type,
        "severity": severity,
        "message": message,
        "source": source,
        "symbol": symbol,
        "details": Jsonb(dict(details or {})),
    }
    with atomic(conn), conn.cursor(row_factory=class_row(Alert)) as cur:
        row = cur.execute(q("raise_alert"), values).fetchone()
    assert row is not None
    return row


@api
def resolve_alert(conn: psycopg.Connection[Any], alert_id: int, resolved_by: str, resolution: str) -> Alert:
    values = {"alert_id": alert_id, "resolved_by": resolved_by, "resolution": resolution}
    with atomic(conn), conn.cursor(row_factory=class_row(Alert)) as cur:
        row = cur.execute(q("resolve_alert"), values).fetchone()
        if row is not None:
            return row
        existing = cur.execute(q("alert_by_id"), values).fetchone()
    if existing is None:
        raise NotFound(f"no alert with id {alert_id}")
    raise ValidationError(f"alert {alert_id} was already resolved by {existing.resolved_by}")


@api
def unresolved_alerts(conn: psycopg.Connection[Any]) -> list[Alert]:
    with map_errors(), conn.cursor(row_factory=class_row(Alert)) as cur:
        return cur.execute(q("unresolved_alerts")).fetchall()


# -- reconciliation ---------------------------------------------------------------------
@api
def log_reconciliation_issue(
    conn: psycopg.Connection[Any],
    symbol: str,
    issue_type: str,
    *,
    our_quantity: Decimal | None = None,
    broker_quantity: Decimal | None = None,
    our_price: Decimal | None = None,
    broker_price: Decimal | None = None,
    order_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> ReconciliationIssue:
    values = {
        "symbol": symbol,
        "issue_type": issue_type,
        "our_quantity": our_quantity,
        "broker_quantity": broker_quantity,
        "our_price": our_price,
        "broker_price": broker_price,
        "order_id": order_id,
        "details": Jsonb(dict(details or {})),
    }
    with atomic(conn), conn.cursor(row_factory=class_row(ReconciliationIssue)) as cur:
        row = cur.execute(q("log_reconciliation_issue"), values).fetchone()
    assert row is not None
    return row


@api
def resolve_reconciliation_issue(
    conn: psycopg.Connection[Any], issue_id: int, resolved_by: str, resolution: str
) -> ReconciliationIssue:
    values = {"issue_id": issue_id, "resolved_by": resolved_by, "resolution": resolution}
    with atomic(conn), conn.cursor(row_factory=class_row(ReconciliationIssue)) as cur:
        row = cur.execute(q("resolve_reconciliation_issue"), values).fetchone()
        if row is not None:
            return row
        existing = cur.execute(q("reconciliation_issue_by_id"), values).fetchone()
    if existing is None:
        raise NotFound(f"no reconciliation issue with id {issue_id}")
    raise ValidationError(f"reconciliation issue {issue_id} was already resolved by {existing.resolved_by}")


@api
def unresolved_reconciliation_issues(conn: psycopg.Connection[Any]) -> list[ReconciliationIssue]:
    with map_errors(), conn.cursor(row_factory=class_row(ReconciliationIssue)) as cur:
        return cur.execute(q("unresolved_reconciliation_issues")).fetchall()


# -- statistics and P&L -----------------------------------------------------------------
@api
def refresh_daily_stats(conn: psycopg.Connection[Any], day: date) -> DailyStats:
    """Recompute ``day``'s statistics (the day in the session's time zone) and return them."""
    with atomic(conn), conn.cursor(row_factory=class_row(DailyStats)) as cur:
        row = cur.execute(q("refresh_daily_stats"), {"day": day}).fetchone()
    assert row is not None
    return row


@api
def daily_stats(conn: psycopg.Connection[Any], day: date) -> DailyStats | None:
    with map_errors(), conn.cursor(row_factory=class_row(DailyStats)) as cur:
        return cur.execute(q("daily_stats"), {"day": day}).fetchone()


@api
def today_pnl(conn: psycopg.Connection[Any]) -> TodayPnl:
    with map_errors(), conn.cursor(row_factory=class_row(TodayPnl)) as cur:
        row = cur.execute(q("today_pnl")).fetchone()
    assert row is not None
    return row


@api
def order_to_trade_ratio(conn: psycopg.Connection[Any]) -> Decimal | None:
    with map_errors():
        row = conn.execute(q("order_to_trade_ratio")).fetchone()
    assert row is not None
    value = row[0]
    return value if isinstance(value, Decimal) else None


# -- kill switch ------------------------------------------------------------------------
def _set_kill_switch(conn: psycopg.Connection[Any], active: bool, reason: str, actor: str) -> KillSwitchState:
    values = {"active": active, "reason": reason, "actor": actor}
    with atomic(conn), conn.cursor(row_factory=class_row(KillSwitchState)) as cur:
        row = cur.execute(q("set_kill_switch"), values).fetchone()
    assert row is not None
    return row


@api
def activate_kill_switch(conn: psycopg.Connection[Any], reason: str, actor: str) -> KillSwitchState:
    """Halt trading: no new orders, approvals or submissions until deactivated."""
    return _set_kill_switch(conn, True, reason, actor)


@api
def deactivate_kill_switch(conn: psycopg.Connection[Any], reason: str, actor: str) -> KillSwitchState:
    return _set_kill_switch(conn, False, reason, actor)


@dataclass(frozen=True)
class KillSwitchBlocker:
    """A session a halt waits for: it staged, approved or submitted under the old state, still open."""

    pid: int
    login_role: str | None
    application_name: str | None
    state: str | None
    transaction_seconds: float | None


@api
def kill_switch_blockers(conn: psycopg.Connection[Any]) -> list[KillSwitchBlocker]:
    """The sessions a halt is waiting for, oldest transaction first."""
    with map_errors(), conn.cursor(row_factory=class_row(KillSwitchBlocker)) as cur:
        return cur.execute(q("kill_switch_blockers")).fetchall()


@api
def terminate_session(conn: psycopg.Connection[Any], pid: int) -> bool:
    """End a session (its transaction rolls back); needs superuser or pg_signal_backend."""
    with map_errors():
        row = conn.execute(q("terminate_session"), {"pid": pid}).fetchone()
    return bool(row and row[0])


@api
def kill_switch_state(conn: psycopg.Connection[Any]) -> KillSwitchState:
    with map_errors(), conn.cursor(row_factory=class_row(KillSwitchState)) as cur:
        row = cur.execute(q("kill_switch_state")).fetchone()
    return row or KillSwitchState(active=False, reason=None, actor=None, changed_at=None)
