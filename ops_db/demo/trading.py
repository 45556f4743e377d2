"""Demo trading: strategies, a stream of orders through the whole workflow, fills, positions,
marks, portfolio snapshots, alerts and health samples. Deterministic for a seed (timestamps
follow the database clock); prices come from trading.stock_prices when it has the symbol.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from ops_db import monitoring
from ops_db.core.error_map import map_errors
from ops_db.core.queries import q
from ops_db.ledger import alerts, orders, positions, strategies
from ops_db.model.ledger import Order, Side, Strategy

ORDERS_PER_SYMBOL = 8
# The live book: what a desk always has besides finished orders, one order per open state.
LIVE_STATES = ("staged", "pending_approval", "approved", "submitted", "partially_filled")
CASH = Decimal(1_000_000)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class _DemoStrategy:
    name: str
    strategy_type: str
    max_order_quantity: Decimal | None
    max_order_value: Decimal | None
    requires_approval: bool


_STRATEGIES = (
    _DemoStrategy("Demo Momentum", "momentum", Decimal(400), Decimal(150_000), False),
    _DemoStrategy("Demo Mean Reversion", "mean_reversion", Decimal(250), None, False),
    _DemoStrategy("Demo Manual", "manual", None, None, True),
)


def _money(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _prices(conn: psycopg.Connection[Any], symbols: list[str], rng: random.Random) -> dict[str, Decimal]:
    """Latest market price per symbol, else a deterministic one from the seed."""
    with map_errors():
        present = conn.execute(q("ledger_has_stock_prices")).fetchone()
        found: dict[str, Decimal] = {}
        for symbol in symbols:
            fallback = _money(rng.uniform(20, 500))
            row = None
            if present and present[0]:
                row = conn.execute(q("ledger_latest_price"), {"symbol": symbol}).fetchone()
            found[symbol] = _money(row[0]) if row and isinstance(row[0], Decimal) else fallback
    return found


def _strategies(conn: psycopg.Connection[Any]) -> list[Strategy]:
    made: list[Strategy] = []
    for spec in _STRATEGIES:
        existing = strategies.strategy_by_name(conn, spec.name)
        made.append(
            existing
            or strategies.create_strategy(
                conn,
                spec.name,
                strategy_type=spec.strategy_type,
                max_order_quantity=spec.max_order_quantity,
                max_order_value=spec.max_order_value,
                requires_approval=spec.requires_approval,
                description="created by ops-db demo",
            )
        )
    return made


def load(conn: psycopg.Connection[Any], *, seed: int, symbols: list[str], now: datetime) -> dict[str, int]:
    """Create strategies and push a stream of orders through the workflow; returns counts per table."""
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    prices = _prices(conn, symbols, rng)
    strategies = _strategies(conn)
    with map_errors():
        first = conn.execute(q("ledger_order_count")).fetchone()
    offset = int(str(first[0])) if first else 0
    made = {"orders": 0, "order events": 0, "fills": 0, "alerts": 0}
    rejected_by_broker: list[Order] = []

    for i in range(ORDERS_PER_SYMBOL * len(symbols)):
        symbol = symbols[i % len(symbols)]
        price = prices[symbol]
        strategy = strategies[rng.randrange(len(strategies))]
        # Mostly buys first, then a mix, so positions build up and some get reduced or flipped.
        side: Side = "buy" if i < len(symbols) * 3 or rng.random() < 0.55 else "sell"
        quantity = Decimal(rng.choice((10, 25, 50, 100, 150, 300, 500)))
        limit = rng.random() < 0.5
        limit_price = _money(price * Decimal("1.01" if side == "buy" else "0.99")) if limit else None
        risk_score = _money(rng.uniform(5, 95))
        order = orders.stage_order(
            conn,
            client_order_id=f"demo{seed}-{offset + i + 1}",
            strategy_id=strategy.id,
            symbol=symbol,
            side=side,
            order_type="limit" if limit else "market",
            quantity=quantity,
            limit_price=limit_price,
            created_by="demo-trader",
            risk_score=risk_score,
            compliance_flags={"position_limit_check": {"passed": rng.random() > 0.1}},
            market_data={"last_price": float(price)},
            tags=["demo", strategy.strategy_type],
        )
        made["orders"] += 1
        if rng.random() < 0.05:
            orders.cancel_order(conn, order.id, "demo-trader", "changed my mind")
            continue
        order = orders.screen_order(conn, order.id)
        if order.status == "pending_approval":
            if rng.random() < 0.3:
                orders.reject_order(conn, order.id, "risk-desk", "; ".join(order.approval_reasons))
                continue
            order = orders.approve_order(conn, order.id, "risk-desk")
        if rng.random() < 0.08:
            orders.cancel_order(conn, order.id, "demo-trader", "signal faded before submission")
            continue
        order = orders.submit_order(conn, order.id, f"DEMO{seed}-{offset + i + 1}", actor="oms")
        roll = rng.random()
        if roll < 0.08:
            rejected_by_broker.append(orders.reject_order(conn, order.id, "broker", "insufficient buying power"))
            continue
        fill_price = _money(price * Decimal(str(1 + rng.uniform(-0.004, 0.004))))
        commission = max(Decimal(1), _money(quantity * Decimal("0.005")))
        if roll < 0.25:  # partially filled, the rest cancelled
            orders.record_fill(conn, order.id, quantity / 2, fill_price, commission=commission, venue="DEMO",
                               broker_trade_id=f"DEMO{seed}-{offset + i + 1}-1")
            orders.cancel_order(conn, order.id, "oms", "rest cancelled at the close")
            made["fills"] += 1
            continue
        first_part = quantity if rng.random() < 0.5 else quantity / 2
        orders.record_fill(conn, order.id, first_part, fill_price, commission=commission, venue="DEMO",
                           broker_trade_id=f"DEMO{seed}-{offset + i + 1}-1")
        made["fills"] += 1
        if first_part < quantity:
            orders.record_fill(conn, order.id, quantity - first_part, _money(fill_price * Decimal("1.001")),
                               venue="DEMO", broker_trade_id=f"DEMO{seed}-{offset + i + 1}-2")
            made["fills"] += 1

    made["orders"] += _live_book(conn, seed=seed, first=offset + made["orders"] + 1, symbols=symbols, prices=prices,
                                 strategies=strategies, rng=rng)

    for position in positions.open_positions(conn):
        positions.mark_to_market(conn, position.symbol, prices.get(position.symbol, position.avg_cost))
    snapshots = 0
    for minutes_ago in (45, 30, 15, 0):
        positions.take_portfolio_snapshot(
            conn, CASH, at=now - timedelta(minutes=minutes_ago) if minutes_ago else None, details={"demo": seed}
        )
        snapshots += 1

    largest = max(positions.open_positions(conn), key=lambda p: abs(p.market_value or Decimal(0)), default=None)
    if largest is not None:
        alerts.raise_alert(conn, "concentration", "WARNING",
                           f"{largest.symbol} is the largest position ({largest.market_value} market value)",
                           source="demo", symbol=largest.symbol)
        made["alerts"] += 1
    for order in rejected_by_broker[:1]:
        alert = alerts.raise_alert(conn, "broker_reject", "CRITICAL",
                                   f"broker rejected order {order.client_order_id}: {order.rejection_reason}",
                                   source="demo", symbol=order.symbol)
        alerts.resolve_alert(conn, alert.id, "risk-desk", "buying power topped up")
        made["alerts"] += 1
    alerts.raise_alert(conn, "demo_loaded", "INFO", f"demo trading loaded with seed {seed}", source="demo")
    made["alerts"] += 1
    samples: tuple[tuple[str, monitoring.HealthStatus, int], ...] = (
        ("oms", "healthy", 98), ("broker-gw", "healthy", 95), ("market-data", "degraded", 72))
    for component, status, score in samples:
        monitoring.record_system_health(conn, component, status, health_score=Decimal(score), details={"demo": seed})
    positions.refresh_daily_stats(conn, now.date())

    return {
        "strategies": len(strategies),
        "orders": made["orders"],
        "fills": made["fills"],
        "open positions": len(positions.open_positions(conn)),
        "portfolio snapshots": snapshots,
        "alerts": made["alerts"],
    }


def _live_book(conn: psycopg.Connection[Any], *, seed: int, first: int, symbols: list[str],
               prices: dict[str, Decimal], strategies: list[Strategy], rng: random.Random) -> int:
    """Orders left open, one in each open state per symbol: staged, awaiting approval (the manual
    strategy's, which needs four eyes), approved, submitted, partially filled. Small, low-risk
    limit orders, so the screening rules approve the ones that should be approved."""
    automatic = next(s for s in strategies if not s.requires_approval)
    manual = next(s for s in strategies if s.requires_approval)
    made = 0
    for symbol in symbols:
        for state in LIVE_STATES:
            number = first + made
            price = prices[symbol]
            side: Side = "buy" if rng.random() < 0.6 else "sell"
            quantity = Decimal(rng.choice((10, 20, 25, 40)))
            order = orders.stage_order(
                conn,
                client_order_id=f"demo{seed}-{number}",
                strategy_id=(manual if state == "pending_approval" else automatic).id,
                symbol=symbol,
                side=side,
                order_type="limit",
                quantity=quantity,
                limit_price=_money(price * Decimal("0.995" if side == "buy" else "1.005")),
                time_in_force="gtc",
                created_by="demo-trader",
                risk_score=_money(rng.uniform(5, 40)),
                compliance_flags={"position_limit_check": {"passed": True}},
                market_data={"last_price": float(price)},
                tags=["demo", "live"],
            )
            made += 1
            if state == "staged":
                continue
            order = orders.screen_order(conn, order.id)
            if state == "pending_approval" or order.status != "approved":
                continue
            if state == "approved":
                continue
            order = orders.submit_order(conn, order.id, f"DEMO{seed}-{number}", actor="oms")
            if state == "partially_filled":
                orders.record_fill(conn, order.id, quantity / 2, _money(order.limit_price or price), venue="DEMO",
                                   commission=Decimal(1), broker_trade_id=f"DEMO{seed}-{number}-1")
    return made

