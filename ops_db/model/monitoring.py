"""Monitoring rows: system health samples, data quality checks, agent decisions, performance
metrics, and the health vocabulary (CHECK system_health_status_valid)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

HealthStatus = Literal["healthy", "degraded", "down", "unknown"]
HEALTH_STATUSES: tuple[HealthStatus, ...] = get_args(HealthStatus)


@dataclass(frozen=True)
class HealthSample:
    checked_at: datetime
    component: str
    status: HealthStatus
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
