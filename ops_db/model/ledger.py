"""The trading ledger's row types and vocabularies, shared by ``ops_db.ledger`` and
``ops_db.aio.ledger``.

Each vocabulary is a ``Literal`` type holding exactly the values its CHECK constraint allows
(migrations 0200, 0201, 0202, 0540), so a type checker refuses ``side="BUY"`` at the call site
and ``@api`` refuses it at run time before anything is sent. Free-form keys the database checks
with a pattern (an alert type, a strategy type) stay ``str``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, TypeAlias

# -- vocabularies (CHECK constraints) ----------------------------------------------------------

Side: TypeAlias = Literal["buy", "sell"]  # staged_orders_side_valid, executions_side_valid
OrderType: TypeAlias = Literal["market", "limit", "stop", "stop_limit"]  # staged_orders_order_type_valid
TimeInForce: TypeAlias = Literal["day", "gtc", "ioc", "fok", "opg", "cls"]  # staged_orders_time_in_force_valid
OrderStatus: TypeAlias = Literal[  # staged_orders_status_valid, order_events_{from,to}_status_valid
    "staged", "pending_approval", "approved", "submitted", "partially_filled",
    "filled", "cancelled", "rejected", "expired",
]
OpenStatus: TypeAlias = Literal["staged", "pending_approval", "approved", "submitted", "partially_filled"]
TerminalStatus: TypeAlias = Literal["filled", "cancelled", "rejected", "expired"]
OrderEventType: TypeAlias = Literal["created", "transition", "fill", "changed"]  # order_events_type_valid
PositionStatus: TypeAlias = Literal["open", "closed"]  # positions_status_valid
Direction: TypeAlias = Literal["long", "short", "flat"]
StrategyMode: TypeAlias = Literal["PAPER", "LIVE"]  # strategies_mode_valid
Severity: TypeAlias = Literal["INFO", "WARNING", "CRITICAL", "EMERGENCY"]  # alerts_severity_valid
ReconciliationIssueType: TypeAlias = Literal[  # reconciliation_log_issue_type_valid
    "quantity_mismatch", "price_mismatch", "missing_at_broker", "unknown_at_broker", "order_status_mismatch",
    "other",
]
# alerts_alert_type_valid is a pattern (a lower-case key such as 'drawdown'), not a list: any key
# the database accepts is an alert type, so the type is text.
AlertType: TypeAlias = str
# strategies_type_valid is a pattern too ('manual', 'momentum', 'mean_reversion'...).
StrategyType: TypeAlias = str

# -- constants ---------------------------------------------------------------------------------

CHANNEL = "order_updates"  # the audit trigger's NOTIFY channel
OPEN_STATUSES: tuple[OpenStatus, ...] = ("staged", "pending_approval", "approved", "submitted", "partially_filled")
TERMINAL_STATUSES: tuple[TerminalStatus, ...] = ("filled", "cancelled", "rejected", "expired")
STATUSES: tuple[OrderStatus, ...] = (*OPEN_STATUSES, *TERMINAL_STATUSES)
SIDES: tuple[Side, ...] = ("buy", "sell")
ORDER_TYPES: tuple[OrderType, ...] = ("market", "limit", "stop", "stop_limit")
TIMES_IN_FORCE: tuple[TimeInForce, ...] = ("day", "gtc", "ioc", "fok", "opg", "cls")
SEVERITIES: tuple[Severity, ...] = ("INFO", "WARNING", "CRITICAL", "EMERGENCY")
STRATEGY_MODES: tuple[StrategyMode, ...] = ("PAPER", "LIVE")
RECONCILIATION_ISSUE_TYPES: tuple[ReconciliationIssueType, ...] = (
    "quantity_mismatch", "price_mismatch", "missing_at_broker", "unknown_at_broker", "order_status_mismatch",
    "other",
)
MAX_PAGE = 1000  # list_orders: the largest page

# -- orders and fills --------------------------------------------------------------------------


@dataclass(frozen=True)
class Order:
    id: int
    client_order_id: str
    strategy_id: int
    signal_id: int | None
    symbol: str
    side: Side
    order_type: OrderType
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    time_in_force: TimeInForce
    status: OrderStatus
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
    event_type: OrderEventType
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor: str
    login_role: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Execution:
    id: int
    order_id: int
    position_id: int | None
    symbol: str
    side: Side
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


@dataclass(frozen=True)
class StatusCount:
    """How many of today's orders are in one status."""

    status: OrderStatus
    orders: int


# -- positions and P&L -------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    id: int
    symbol: str
    quantity: Decimal
    avg_cost: Decimal
    realized_pnl: Decimal
    fees: Decimal
    status: PositionStatus
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
    def direction(self) -> Direction:
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


# -- strategies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Strategy:
    id: int
    name: str
    strategy_type: StrategyType
    mode: StrategyMode
    active: bool
    requires_approval: bool
    max_order_quantity: Decimal | None
    max_order_value: Decimal | None
    description: str | None
    params: dict[str, Any]
    created_at: datetime
    updated_at: datetime


# -- alerts and reconciliation -----------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    id: int
    alert_type: AlertType
    severity: Severity
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
    issue_type: ReconciliationIssueType
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


# -- the kill switch ---------------------------------------------------------------------------


@dataclass(frozen=True)
class KillSwitchState:
    active: bool
    reason: str | None
    actor: str | None
    changed_at: datetime | None


@dataclass(frozen=True)
class KillSwitchBlocker:
    """A session a halt waits for: it staged, approved or submitted under the old state, still open."""

    pid: int
    login_role: str | None
    application_name: str | None
    state: str | None
    transaction_seconds: float | None
