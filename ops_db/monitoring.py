"""System health, data quality, agent decisions and performance metrics: time series that
monitoring writes and dashboards read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.queries import q
from ops_db.orders import atomic

HEALTH_STATUSES = ("healthy", "degraded", "down", "unknown")

HEALTH_COMPONENT_VALID = "system_health_component_valid"
HEALTH_STATUS_VALID = "system_health_status_valid"
HEALTH_SCORE_VALID = "system_health_score_valid"
QUALITY_SOURCE_VALID = "data_quality_source_valid"
QUALITY_CHECK_NAME_VALID = "data_quality_check_name_valid"
QUALITY_SCORE_VALID = "data_quality_score_valid"
DECISION_AGENT_VALID = "agent_decisions_agent_valid"
DECISION_ACTION_VALID = "agent_decisions_action_valid"
DECISION_CONFIDENCE_VALID = "agent_decisions_confidence_valid"
METRIC_NAME_VALID = "performance_metrics_metric_valid"
METRIC_VALUE_FINITE = "performance_metrics_value_finite"


@dataclass(frozen=True)
class HealthSample:
    checked_at: datetime
    component: str
    status: str
    health_score: Decimal | None
    metrics: dict[str, Any]
    details: dict[str, Any]


@dataclass(frozen=True)
class DataQualityCheck:
    checked_at: datetime
    source: str
    check_name: str
    symbol: str | None
    passed: bool
    score: Decimal | None
    details: dict[str, Any]


@dataclass(frozen=True)
class AgentDecision:
    decided_at: datetime
    id: int
    agent: str
    action: str
    symbol: str | None
    order_id: int | None
    signal_id: int | None
    confidence: Decimal | None
    reasoning: str | None
    inputs: dict[str, Any]
    outcome: dict[str, Any]


@dataclass(frozen=True)
class PerformanceMetric:
    recorded_at: datetime
    strategy_id: int | None
    metric: str
    value: Decimal
    labels: dict[str, Any]


def _json(value: Mapping[str, Any] | None) -> Jsonb:
    return Jsonb(dict(value or {}))


@api
def record_system_health(
    conn: psycopg.Connection[Any],
    component: str,
    status: str,
    *,
    health_score: Decimal | None = None,
    metrics: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> HealthSample:
    values = {
        "component": component,
        "status": status,
        "health_score": health_score,
        "metrics": _json(metrics),
        "details": _json(details),
        "at": at,
    }
    with atomic(conn), conn.cursor(row_factory=class_row(HealthSample)) as cur:
        row = cur.execute(q("record_system_health"), values).fetchone()
    assert row is not None
    return row


@api
def latest_system_health(conn: psycopg.Connection[Any]) -> list[HealthSample]:
    """The newest sample per component (components silent for a day are left out)."""
    with map_errors(), conn.cursor(row_factory=class_row(HealthSample)) as cur:
        return cur.execute(q("latest_system_health")).fetchall()


@api
def record_data_quality(
    conn: psycopg.Connection[Any],
    source: str,
    check_name: str,
    passed: bool,
    *,
    symbol: str | None = None,
    score: Decimal | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> DataQualityCheck:
    values = {
        "source": source,
        "check_name": check_name,
        "passed": passed,
        "symbol": symbol,
        "score": score,
        "details": _json(details),
        "at": at,
    }
    with atomic(conn), conn.cursor(row_factory=class_row(DataQualityCheck)) as cur:
        row = cur.execute(q("record_data_quality"), values).fetchone()
    assert row is not None
    return row


@api
def record_agent_decision(
    conn: psycopg.Connection[Any],
    agent: str,
    action: str,
    *,
    symbol: str | None = None,
    order_id: int | None = None,
    signal_id: int | None = None,
    confidence: Decimal | None = None,
    reasoning: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    outcome: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AgentDecision:
    values = {
        "agent": agent,
        "action": action,
        "symbol": symbol,
        "order_id": order_id,
        "signal_id": signal_id,
        "confidence": confidence,
        "reasoning": reasoning,
        "inputs": _json(inputs),
        "outcome": _json(outcome),
        "at": at,
    }
    with atomic(conn), conn.cursor(row_factory=class_row(AgentDecision)) as cur:
        row = cur.execute(q("record_agent_decision"), values).fetchone()
    assert row is not None
    return row


@api
def record_performance_metric(
    conn: psycopg.Connection[Any],
    metric: str,
    value: Decimal,
    *,
    strategy_id: int | None = None,
    labels: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> PerformanceMetric:
    values = {"metric": metric, "value": value, "strategy_id": strategy_id, "labels": _json(labels), "at": at}
    with atomic(conn), conn.cursor(row_factory=class_row(PerformanceMetric)) as cur:
        row = cur.execute(q("record_performance_metric"), values).fetchone()
    assert row is not None
    return row
