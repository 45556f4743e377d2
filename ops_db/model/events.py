"""System event rows and the severity vocabulary (the routing trigger of trading.system_events,
migration 0101: CRITICAL and EMERGENCY go to the table kept 2 years, the others to the one kept
3 months)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

Severity = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "EMERGENCY"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # lowest first
CRITICAL_SEVERITIES: tuple[Severity, ...] = ("CRITICAL", "EMERGENCY")


@dataclass(frozen=True)
class SystemEvent:
    id: int
    timestamp: datetime
    severity: Severity
    component: str
    event_type: str
    message: str
    details: dict[str, Any]
