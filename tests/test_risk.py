"""Strategies, alerts, reconciliation, daily stats, seed-004 views and functions, monitoring tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import monitoring
from ops_db.core.errors import NotFound, ValidationError
from ops_db.ledger import alerts, kill_switch, orders, positions, strategies
from tests.ledger_helpers import order_in, stage, strategy, trade

D = Decimal


def test_strategies(db: psycopg.Connection[Any]) -> None:
    s = strategies.create_strategy(db, "Mean Reversion", strategy_type="mean_reversion", mode="LIVE",
                                   max_order_quantity=D(500), max_order_value=D(100000), params={"lookback": 20})
    assert strategies.get_strategy(db, s.id) == s
    assert strategies.strategy_by_name(db, "Mean Reversion") == s
    assert s.params == {"lookback": 20} and s.mode == "LIVE"
    off = strategies.set_strategy_active(db, s.id, False)
    assert s not in strategies.list_strategies(db, active_only=True) and off in strategies.list_strategies(db)
    with pytest.raises(ValidationError, match="already exists"):
        strategies.create_strategy(db, "Mean Reversion")
    with pytest.raises(ValidationError, match="mode must be one of 'PAPER', 'LIVE'"):
        strategies.create_strategy(db, "x1", mode="REAL")
    with pytest.raises(ValidationError, match="max order quantity"):
        strategies.create_strategy(db, "x2", max_order_quantity=D("NaN"))
    with pytest.raises(ValidationError, match="strategy name"):
        strategies.create_strategy(db, "x'; DROP TABLE trading.strategies; --")
    with pytest.raises(NotFound):
        strategies.get_strategy(db, 99999999)


def test_alerts_raise_and_resolve(db: psycopg.Connection[Any]) -> None:
    info = alerts.raise_alert(db, "fill_latency", "INFO", "fills slower than usual", source="oms")
    emergency = alerts.raise_alert(db, "drawdown", "EMERGENCY", "daily loss limit hit", details={"loss": 6.1})
    assert [a.id for a in alerts.unresolved_alerts(db)][:2] == [emergency.id, info.id]
    done = alerts.resolve_alert(db, emergency.id, "risk-desk", "kill switch engaged; positions flattened")
    assert done.resolved_at is not None and done.resolved_by == "risk-desk"
    assert emergency.id not in [a.id for a in alerts.unresolved_alerts(db)]
    with pytest.raises(ValidationError, match="already resolved by risk-desk"):
        alerts.resolve_alert(db, emergency.id, "bob", "again")
    with pytest.raises(NotFound, match="no alert"):
        alerts.resolve_alert(db, 99999999, "bob", "x")
    with pytest.raises(ValidationError, match="severity must be"):
        alerts.raise_alert(db, "x", "PANIC", "m")
    with pytest.raises(ValidationError, match="resolution of 1 to 2000"):
        alerts.resolve_alert(db, info.id, "bob", "")


def test_reconciliation(db: psycopg.Connection[Any]) -> None:
    issue = alerts.log_reconciliation_issue(db, "AAPL", "quantity_mismatch", our_quantity=D(100),
                                            broker_quantity=D(90), details={"broker": "paper"})
    view = db.execute(
        "SELECT id, quantity_difference FROM trading.v_reconciliation_issues WHERE id = %s", (issue.id,)
    ).fetchone()
    assert view == (issue.id, -10)
    assert [i.id for i in alerts.unresolved_reconciliation_issues(db)] == [issue.id]
    done = alerts.resolve_reconciliation_issue(db, issue.id, "ops", "late fill booked")
    assert done.resolution == "late fill booked"
    assert alerts.unresolved_reconciliation_issues(db) == []
    with pytest.raises(ValidationError, match="already resolved"):
        alerts.resolve_reconciliation_issue(db, issue.id, "ops", "x")
    with pytest.raises(ValidationError, match="issue_type must be one of 'quantity_mismatch'"):
        alerts.log_reconciliation_issue(db, "AAPL", "vibes")


def test_today_views_and_functions(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    assert positions.order_to_trade_ratio(db) is None
    assert positions.today_pnl(db).net_realized_pnl == 0
    trade(db, s.id, "buy", D(10), D(100))
    trade(db, s.id, "sell", D(10), D(103), commission=D(1))
    stage(db, s.id)
    stage(db, s.id)
    assert db.execute("SELECT trading.get_today_pnl()").fetchone() == (D(29),)  # 10 * 3 - 1
    assert positions.order_to_trade_ratio(db) == 2  # 4 orders, 2 fills
    today = db.execute("SELECT count(*), count(*) FILTER (WHERE status = 'filled') FROM trading.v_today_orders")
    assert today.fetchone() == (4, 2)


def test_daily_stats(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    trade(db, s.id, "buy", D(10), D(100))
    trade(db, s.id, "sell", D(4), D(110), commission=D(2))
    order_in(db, s.id, "rejected")
    order_in(db, s.id, "cancelled")
    kill_switch.activate_kill_switch(db, "test", "risk-desk")
    day = db.execute("SELECT current_date").fetchone()[0]  # type: ignore[index]
    stats = positions.refresh_daily_stats(db, day)
    assert (stats.orders_placed, stats.orders_filled, stats.orders_rejected, stats.orders_cancelled) == (4, 2, 1, 1)
    assert (stats.trades_executed, stats.traded_value, stats.realized_pnl, stats.costs, stats.net_pnl) == (
        2, 1440, 40, 2, 38)
    assert stats.order_to_trade_ratio == 2 and stats.kill_switch_triggered
    assert positions.daily_stats(db, day) == stats
    assert positions.refresh_daily_stats(db, day).orders_placed == 4  # idempotent
    assert positions.daily_stats(db, date(2000, 1, 1)) is None


def test_kill_switch_state_history(db: psycopg.Connection[Any]) -> None:
    assert kill_switch.kill_switch_state(db).active is False
    on = kill_switch.activate_kill_switch(db, "broker outage", "alice")
    assert (on.active, on.reason, on.actor) == (True, "broker outage", "alice")
    assert kill_switch.kill_switch_state(db) == on
    off = kill_switch.deactivate_kill_switch(db, "broker back", "alice")
    assert kill_switch.kill_switch_state(db) == off and not off.active
    with pytest.raises(ValidationError, match="needs a reason"):
        kill_switch.activate_kill_switch(db, "", "alice")
    db.execute("SET ROLE ops_app")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
        db.execute("DELETE FROM trading.kill_switch_events")
    db.execute("RESET ROLE")


def test_monitoring_time_series(db: psycopg.Connection[Any]) -> None:
    now = datetime.now(UTC)
    monitoring.record_system_health(db, "oms", "healthy", health_score=D(99), at=now - timedelta(minutes=5))
    latest = monitoring.record_system_health(db, "oms", "degraded", health_score=D(70), metrics={"lag_ms": 900})
    monitoring.record_system_health(db, "broker-gw", "down", health_score=D(0))
    assert {(h.component, h.status) for h in monitoring.latest_system_health(db)} >= {
        ("oms", "degraded"), ("broker-gw", "down")}
    assert latest.metrics == {"lag_ms": 900}
    with pytest.raises(ValidationError, match="status must be one of 'healthy', 'degraded', 'down', 'unknown'"):
        monitoring.record_system_health(db, "oms", "fine")  # type: ignore[arg-type]
    dq = monitoring.record_data_quality(db, "polygon", "price_gap", False, symbol="AAPL", score=D(40))
    assert not dq.passed
    order = stage(db, strategy(db).id)
    decision = monitoring.record_agent_decision(db, "momentum-agent", "open_position", symbol="AAPL",
                                                order_id=order.id, confidence=D("0.8"), reasoning="breakout")
    assert decision.order_id == order.id
    with pytest.raises(ValidationError, match="confidence must be between 0 and 1"):
        monitoring.record_agent_decision(db, "a", "b", confidence=D("1.5"))
    metric = monitoring.record_performance_metric(db, "sharpe_ratio", D("1.7"), labels={"window": "30d"})
    assert metric.value == D("1.7")
    with pytest.raises(ValidationError, match="finite number"):
        monitoring.record_performance_metric(db, "sharpe_ratio", D("Infinity"))


def test_hypertables_and_retention(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        "SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'trading'"
    ).fetchall()
    names = {r[0] for r in rows}
    assert {"order_events", "portfolio_snapshots", "performance_metrics", "agent_decisions", "system_health",
            "data_quality"} <= names
    interval = db.execute(
        "SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = 'performance_metrics'"
    ).fetchone()
    assert interval == (timedelta(days=7),)
    retention = db.execute(
        "SELECT drop_after FROM ops_internal.retention WHERE hypertable = 'trading.performance_metrics'"
    ).fetchone()
    assert retention is not None and retention[0].days >= 730


def test_order_api_is_usable_as_ops_app(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    db.execute("SET ROLE ops_app")
    order = order_in(db, s.id, "filled")
    assert orders.order_events(db, order.id)[-1].to_status == "filled"
    positions.refresh_daily_stats(db, date.today())
    db.execute("RESET ROLE")


def test_timescale_edition_compresses_and_expires_monitoring_data(db: psycopg.Connection[Any], server: Any) -> None:
    if server.edition != "timescale":
        pytest.skip("columnstore and policies exist on the timescale edition only")
    jobs = db.execute(
        "SELECT hypertable_name, proc_name FROM timescaledb_information.jobs"
        " WHERE hypertable_schema = 'trading' AND hypertable_name IN"
        " ('performance_metrics', 'system_health', 'data_quality', 'agent_decisions') ORDER BY 1, 2"
    ).fetchall()
    assert jobs == [
        ("agent_decisions", "policy_compression"),
        ("data_quality", "policy_compression"),
        ("data_quality", "policy_retention"),
        ("performance_metrics", "policy_compression"),
        ("performance_metrics", "policy_retention"),
        ("system_health", "policy_compression"),
        ("system_health", "policy_retention"),
    ]
    old = datetime.now(UTC) - timedelta(days=30)
    monitoring.record_system_health(db, "oms", "healthy", health_score=D(99), at=old)
    db.execute("SELECT compress_chunk(c) FROM show_chunks('trading.system_health', older_than => interval '7 days') c")
    assert [h.status for h in monitoring.latest_system_health(db) if h.component == "oms"] in ([], ["healthy"])
    compressed = db.execute(
        "SELECT count(*) FROM timescaledb_information.chunks WHERE hypertable_name = 'system_health' AND is_compressed"
    ).fetchone()
    assert compressed == (1,)
