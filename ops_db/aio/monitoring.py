"""System health, data quality, agent decisions and performance metrics: time series that
monitoring writes and dashboards read.

Written once, async; ``ops_db/monitoring.py`` is generated from it (tools/async_to_sync.py). The
row types and the health vocabulary live in ``ops_db.model.monitoring`` and are re-exported here;
what a refused value means is in the one error map (``ops_db.core.error_map``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one
from ops_db.core.contract import api
from ops_db.model.monitoring import (
    HEALTH_STATUSES,
    AgentDecision,
    DataQualityCheck,
    HealthSample,
    HealthStatus,
    PerformanceMetric,
)

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "HEALTH_STATUSES", "AgentDecision", "DataQualityCheck", "HealthSample", "HealthStatus", "PerformanceMetric",
    "latest_system_health", "record_agent_decision", "record_data_quality", "record_performance_metric",
    "record_system_health",
]


def _json(value: Mapping[str, Any] | None) -> Jsonb:
    return Jsonb(dict(value or {}))


@api
async def record_system_health(
    conn: psycopg.AsyncConnection[Any],
    component: str,
    status: HealthStatus,
    *,
    health_score: Decimal | None = None,
    metrics: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> HealthSample:
    """One health sample of ``component`` (``at`` defaults to now)."""
    values = {
        "component": component,
        "status": status,
        "health_score": health_score,
        "metrics": _json(metrics),
        "details": _json(details),
        "at": at,
    }
    return await fetch_one(conn, HealthSample, "record_system_health", values,
                           missing="record_system_health returned no row")


@api
async def latest_system_health(conn: psycopg.AsyncConnection[Any]) -> list[HealthSample]:
    """The newest sample per component (components silent for a day are left out)."""
    return await fetch_all(conn, HealthSample, "latest_system_health")


@api
async def record_data_quality(
    conn: psycopg.AsyncConnection[Any],
    source: str,
    check_name: str,
    passed: bool,
    *,
    symbol: str | None = None,
    score: Decimal | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> DataQualityCheck:
    """One data quality check result."""
    values = {
        "source": source,
        "check_name": check_name,
        "passed": passed,
        "symbol": symbol,
        "score": score,
        "details": _json(details),
        "at": at,
    }
    return await fetch_one(conn, DataQualityCheck, "record_data_quality", values,
                           missing="record_data_quality returned no row")


@api
async def record_agent_decision(
    conn: psycopg.AsyncConnection[Any],
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
    """What an agent decided, on what, and why."""
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
    return await fetch_one(conn, AgentDecision, "record_agent_decision", values,
                           missing="record_agent_decision returned no row")


@api
async def record_performance_metric(
    conn: psycopg.AsyncConnection[Any],
    metric: str,
    value: Decimal,
    *,
    strategy_id: int | None = None,
    labels: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> PerformanceMetric:
    """One value of a performance metric."""
    values = {"metric": metric, "value": value, "strategy_id": strategy_id, "labels": _json(labels), "at": at}
    return await fetch_one(conn, PerformanceMetric, "record_performance_metric", values,
                           missing="record_performance_metric returned no row")
